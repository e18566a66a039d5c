"""Replies the server makes itself, statelessly (RFC 3261 §8.2.6; SER's build_res_buf_from_sip_req).

A local reply copies the request's Via headers (the top one with
`received=`/`rport=` as a forwarded request would get them), From, To
(with our tag on anything but 100), Call-ID and CSeq; adds SER's `Server:`
and `Warning:` headers when `server_signature` and `sip_warning` are on;
and carries no body. The to-tag is derived from the request, so a
retransmitted request gets the same reply. The runtime uses this for 400
on a malformed request and 500 when the script fails; the sl module for
the script's own replies.
"""

from __future__ import annotations

import hashlib
import os

from ser_runtime.context import ReceiveInfo
from ser_runtime.forward import host_text, received_edits
from ser_runtime.sip import SipMessage, SipParseError

SERVER = "Sip EXpress router (0.1.0 (Python))"


def to_tag(msg: SipMessage) -> str:
    """A tag stable across retransmissions of one request (SER's sl uses a CRC likewise).

    It is made from the raw Call-ID, From and top Via, so a request whose
    headers do not parse still gets one for its 400, and the ACK of a
    negative reply, which repeats all three, maps to the same tag.
    """
    digest = hashlib.md5(usedforsecurity=False)
    for name in ("call-id", "from", "via"):
        field = msg.header(name)
        digest.update(field.raw if field is not None else b"")
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def reason_text(reason: str) -> str:
    """A reason phrase safe on a status line: no CR, LF or NUL can inject headers."""
    return " ".join(reason.replace("\0", " ").split())


def build_reply(msg: SipMessage, code: int, reason: str, rcv: ReceiveInfo, *, force_rport: bool = False,
                server_signature: bool = True, warning: str | None = None,
                extra_headers: list[str] = (), names_source=None) -> bytes:
    """The reply `code reason` to the request `msg`, as bytes ready to send."""
    lines = [f"SIP/2.0 {code} {reason_text(reason)}".encode()]
    lines += _via_lines(msg, rcv, force_rport, names_source)
    for name in ("from", "to", "call-id", "cseq"):
        field = msg.header(name)
        if field is None:
            continue
        line = msg.data[field.start:field.end].rstrip(b"\r\n")
        if name == "to" and code > 100 and _tagless(msg):
            line = msg.data[field.start:field.value_end] + f";tag={to_tag(msg)}".encode()
        lines.append(line)
    if server_signature:
        lines.append(f"Server: {SERVER}".encode())
    if warning is not None:
        lines.append(f'Warning: 392 {warning}'.encode("utf-8", "surrogateescape"))
    lines += [header.encode("utf-8", "surrogateescape") for header in extra_headers]
    lines.append(b"Content-Length: 0")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _tagless(msg: SipMessage) -> bool:
    try:
        return msg.to is not None and msg.to.tag is None
    except SipParseError:
        return False


def _via_lines(msg: SipMessage, rcv: ReceiveInfo, force_rport: bool, names_source) -> list[bytes]:
    fields = msg.headers_named("via")
    if not fields:
        return []
    edits = received_edits(msg, rcv, force_rport, names_source)
    first = fields[0]
    top = bytearray(msg.data[first.start:first.end])
    for start, end, data in sorted(edits, reverse=True):
        top[start - first.start:end - first.start] = data
    rest = [msg.data[field.start:field.end] for field in fields[1:]]
    return [bytes(line).rstrip(b"\r\n") for line in [top, *rest]]


def warning_text(msg: SipMessage, rcv: ReceiveInfo, listen: tuple[str, int]) -> str:
    """SER's sip_warning text: the debugging facts it puts in local replies."""
    host, port = listen
    vias = len(msg.headers_named("via"))
    facts = (f"Noisy feedback tells: pid={os.getpid()} req_src_ip={rcv.src_ip} "
             f"req_src_port={rcv.src_port} in_uri={msg.ruri} out_uri={msg.current_ruri} via_cnt=={vias}")
    # The facts go inside a quoted string, which a quote or backslash would end early.
    return f'{host_text(host)}:{port} "{facts.replace(chr(34), "").replace(chr(92), "")}"'

