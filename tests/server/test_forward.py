"""Stateless forwarding on bytes alone: Via, branch, received/rport, reply routing (RFC 3261 §16.11, RFC 3581)."""

from __future__ import annotations

import pytest

from ser_runtime import forward
from ser_runtime.context import PROTO_TCP, PROTO_TLS, PROTO_UDP, ReceiveInfo
from ser_runtime.replies import build_reply, reason_text, to_tag
from ser_runtime.sip import SipMessage, SipParseError

RCV = ReceiveInfo("192.0.2.7", 40000, "127.0.0.1", 5060)


def request(via="SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKabc", method="INVITE",
            ruri="sip:bob@example.com", extra="", body=""):
    text = (f"{method} {ruri} SIP/2.0\r\nVia: {via}\r\nFrom: <sip:alice@example.com>;tag=f1\r\n"
            f"To: <sip:bob@example.com>\r\nCall-ID: c1@x\r\nCSeq: 1 {method}\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n{body}")
    return SipMessage.parse(text.encode())


def test_branch_is_stable_and_shared_by_cancel_and_non_2xx_ack():
    invite = forward.branch_id(request())
    assert invite.startswith("z9hG4bK")
    assert forward.branch_id(request()) == invite
    assert forward.branch_id(request(method="CANCEL")) == invite
    assert forward.branch_id(request(method="ACK")) == invite
    assert forward.branch_id(request(via="SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKother")) != invite
    assert forward.branch_id(request(ruri="sip:carol@example.com")) != invite


def test_rfc2543_branch_uses_the_dialog_fields():
    old = request(via="SIP/2.0/UDP 192.0.2.7:5062")
    assert forward.branch_id(old) == forward.branch_id(request(via="SIP/2.0/UDP 192.0.2.7:5062"))
    assert forward.branch_id(old).startswith("z9hG4bK")


def test_forwarded_request_gets_our_via_on_top_and_received():
    msg = request(via="SIP/2.0/UDP 203.0.113.5:5062;branch=z9hG4bKabc")
    via = forward.via_value(PROTO_UDP, "127.0.0.1", 5060, "z9hG4bKx")
    out = forward.request_bytes(msg, via, RCV, force_rport=False, stream=False).decode()
    lines = out.split("\r\n")
    assert lines[1] == "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx"
    assert lines[2] == "Via: SIP/2.0/UDP 203.0.113.5:5062;branch=z9hG4bKabc;received=192.0.2.7"
    # The edits belong to that copy only: the message itself is unchanged.
    assert msg.serialize() == msg.data


def test_no_received_when_the_via_host_is_the_source():
    msg = request(via="SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKabc")
    rcv = ReceiveInfo("192.0.2.7", 5062, "127.0.0.1", 5060)
    assert forward.received_edits(msg, rcv, force_rport=False) == []


def test_rport_is_filled_in_with_received():
    msg = request(via="SIP/2.0/UDP 192.0.2.7:5062;rport;branch=z9hG4bKabc")
    out = forward.request_bytes(msg, "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx", RCV, False, False)
    assert b"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKabc;received=192.0.2.7;rport=40000\r\n" in out


def test_force_rport_adds_rport_and_keeps_a_given_value():
    out = forward.request_bytes(request(), "SIP/2.0/UDP h;branch=z9hG4bKx", RCV, True, False)
    assert b";branch=z9hG4bKabc;received=192.0.2.7;rport=40000\r\n" in out
    given = request(via="SIP/2.0/UDP 192.0.2.7:5062;rport=1234;branch=z9hG4bKabc")
    out = forward.request_bytes(given, "SIP/2.0/UDP h;branch=z9hG4bKx", RCV, True, False)
    assert b";rport=1234;branch=z9hG4bKabc;received=192.0.2.7\r\n" in out


def test_ipv6_via_and_received():
    rcv = ReceiveInfo("2001:db8::7", 40000, "::1", 5060)
    assert forward.via_value(PROTO_TCP, "::1", 5060, "z9hG4bKx") == "SIP/2.0/TCP [::1]:5060;branch=z9hG4bKx"
    msg = request(via="SIP/2.0/UDP [2001:db8::7]:5062;branch=z9hG4bKabc")
    assert forward.received_edits(msg, rcv, False) == []
    assert forward.needs_received(msg.via1, "2001:db8::8")


def test_stream_copy_gets_a_content_length():
    text = (b"MESSAGE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n"
            b"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n\r\nhello")
    out = forward.request_bytes(SipMessage.parse(text), "SIP/2.0/TCP h;branch=z9hG4bKx", RCV, False, True)
    assert out.endswith(b"Content-Length: 5\r\n\r\nhello")


def test_script_edits_are_kept_in_the_forwarded_copy():
    msg = request(extra="Max-Forwards: 70\r\n")
    msg.set_ruri("sip:bob@192.0.2.9:5080")
    msg.replace_header_value(msg.header("max-forwards"), "69")
    out = forward.request_bytes(msg, "SIP/2.0/UDP h;branch=z9hG4bKx", RCV, False, False)
    assert out.startswith(b"INVITE sip:bob@192.0.2.9:5080 SIP/2.0\r\n")
    assert b"Max-Forwards: 69\r\n" in out


def reply(vias: list[str]) -> SipMessage:
    lines = "".join(f"Via: {v}\r\n" for v in vias)
    return SipMessage.parse((f"SIP/2.0 200 OK\r\n{lines}From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\n"
                             f"Call-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode())


def test_reply_loses_its_top_via_line():
    msg = reply(["SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx", "SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKa"])
    out = forward.reply_bytes(msg, stream=False)
    assert out.count(b"Via:") == 1 and b"z9hG4bKx" not in out


def test_reply_loses_only_the_first_via_parm_of_a_combined_line():
    msg = reply(["SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx , SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKa"])
    out = forward.reply_bytes(msg, stream=False)
    assert b"Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKa\r\n" in out


@pytest.mark.parametrize("via,expected", [
    ("SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKa", (PROTO_UDP, "192.0.2.7", 5062)),
    ("SIP/2.0/UDP host.example;received=192.0.2.8", (PROTO_UDP, "192.0.2.8", 5060)),
    ("SIP/2.0/UDP 192.0.2.7:5062;received=192.0.2.8;rport=4000", (PROTO_UDP, "192.0.2.8", 4000)),
    ("SIP/2.0/UDP 192.0.2.7;maddr=239.1.1.1;received=192.0.2.8", (PROTO_UDP, "239.1.1.1", 5060)),
    ("SIP/2.0/TLS host.example", (PROTO_TLS, "host.example", 5061)),
    ("SIP/2.0/TCP [2001:db8::1]:5070", (PROTO_TCP, "2001:db8::1", 5070)),
])
def test_reply_destination_by_via(via, expected):
    assert forward.via_destination(reply([via]).via1) == expected


def test_unknown_via_transport_cannot_be_routed():
    with pytest.raises(SipParseError):
        forward.via_destination(reply(["SIP/2.0/WS 192.0.2.7"]).via1)


def test_local_reply_destination():
    via = request().via1
    assert forward.local_reply_destination(via, RCV, False, False) == (PROTO_UDP, "192.0.2.7", 5062)
    assert forward.local_reply_destination(via, RCV, True, False) == (PROTO_UDP, "192.0.2.7", 40000)
    tcp = ReceiveInfo("192.0.2.7", 40000, "127.0.0.1", 5060, PROTO_TCP)
    assert forward.local_reply_destination(via, tcp, False, False) == (PROTO_TCP, "192.0.2.7", 40000)


def test_local_reply_copies_the_request_and_tags_to():
    msg = request(via="SIP/2.0/UDP 192.0.2.7:5062;rport;branch=z9hG4bKabc")
    out = build_reply(msg, 404, "Not\r\nX-Injected: 1", RCV, server_signature=False).decode()
    lines = out.split("\r\n")
    assert lines[0] == "SIP/2.0 404 Not X-Injected: 1"
    assert lines[1] == "Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKabc;received=192.0.2.7;rport=40000"
    assert f"To: <sip:bob@example.com>;tag={to_tag(msg)}" in lines
    assert "Content-Length: 0" in lines and out.endswith("\r\n\r\n")
    assert "Server:" not in out
    provisional = build_reply(msg, 100, "Trying", RCV).decode()
    assert "To: <sip:bob@example.com>\r\n" in provisional and "Server: " in provisional


def test_reason_text_is_one_line():
    assert reason_text("a\r\nb\0c") == "a b c"


def test_dns_option_lets_a_via_name_stand_for_its_address():
    msg = request(via="SIP/2.0/UDP localhost:5062;branch=z9hG4bKabc")
    rcv = ReceiveInfo("127.0.0.1", 5062, "127.0.0.1", 5060)
    assert forward.received_edits(msg, rcv, False) != []
    assert forward.received_edits(msg, rcv, False, lambda host, ip: host == "localhost") == []


def test_sender_dns_option_resolves_the_via_name():
    from ser_runtime.net.resolver import Resolver
    from ser_runtime.sender import Sender
    from ser_runtime.settings import Settings
    sender = Sender(Settings(dns=True), [], Resolver(timeout=0.5))
    assert sender.names_source("localhost", "127.0.0.1")
    assert not sender.names_source("localhost", "192.0.2.1")
    assert Sender(Settings(), [], Resolver()).names_source is None
