"""Real SIP messages for the transaction table tests (after RFC 3665's examples)."""

from ser_runtime.sip import SipMessage

BRANCH = "z9hG4bKnashds8"
CALL_ID = "a84b4c76e66710@pc33.atlanta.example.com"


def request(method="INVITE", *, branch=BRANCH, sent_by="pc33.atlanta.example.com",
            transport="UDP", ruri="sip:bob@biloxi.example.com", call_id=CALL_ID,
            from_tag="1928301774", to_tag=None, cseq=314159) -> SipMessage:
    via = f"SIP/2.0/{transport} {sent_by}" + (f";branch={branch}" if branch else "")
    to = "Bob <sip:bob@biloxi.example.com>" + (f";tag={to_tag}" if to_tag else "")
    return SipMessage.parse(_lines(
        f"{method} {ruri} SIP/2.0",
        f"Via: {via}",
        "Max-Forwards: 70",
        f"To: {to}",
        f"From: Alice <sip:alice@atlanta.example.com>;tag={from_tag}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
        "Contact: <sip:alice@pc33.atlanta.example.com>",
    ))


def response(status, *, branch=BRANCH, cseq_method="INVITE", to_tag="a6c85cf") -> SipMessage:
    """A response as it comes back to us: our Via on top, the caller's below."""
    return SipMessage.parse(_lines(
        f"SIP/2.0 {status} Whatever",
        f"Via: SIP/2.0/UDP proxy.example.com:5060;branch={branch}",
        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKcaller1",
        f"To: Bob <sip:bob@biloxi.example.com>;tag={to_tag}",
        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
        f"Call-ID: {CALL_ID}",
        f"CSeq: 314159 {cseq_method}",
    ))


def _lines(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()
