"""Well-formed messages: real-world captures and torture-style edge cases."""

import pytest

from sipdata import (BYE, CANCEL, CAPTURES, INVITE, MESSAGE, NOTIFY, OK_WITH_RECORD_ROUTE,
                     OPTIONS, REGISTER, SDP_OFFER, wire)
from ser_runtime.sip import SipMessage


@pytest.mark.parametrize("name", CAPTURES)
def test_every_capture_serializes_to_itself(name):
    msg = SipMessage.parse(CAPTURES[name])
    assert msg.serialize() == CAPTURES[name]
    assert len(msg) == len(CAPTURES[name])


def test_register_with_auth():
    msg = SipMessage.parse(REGISTER)
    assert msg.is_request and msg.method == "REGISTER" and msg.version == "SIP/2.0"
    assert msg.ruri == "sip:registrar.example.org"
    assert msg.parsed_ruri.host == "registrar.example.org"
    assert msg.via1.has_rport and msg.via1.branch == "z9hG4bKreg7781"
    assert msg.from_.display == "Carol" and msg.from_.tag == "a73kszlfl"
    assert msg.to.tag is None and msg.to.parsed_uri.user == "carol"
    assert (msg.cseq.number, msg.cseq.method) == (2, "REGISTER")
    (contact,) = msg.contacts
    assert contact.expires == 3600 and contact.q == "0.8"
    assert contact.parsed_uri.transport == "udp" and not msg.contact_star
    assert msg.expires == 3600 and msg.content_length == 0 and msg.body == b""
    auth = msg.header("authorization")
    assert auth.value.startswith('Digest username="carol", realm="example.org"')
    assert 'response="6629fae49393a05397450978507c4ef1"' in auth.values


def test_invite_with_sdp():
    msg = SipMessage.parse(INVITE)
    assert msg.method == "INVITE" and msg.ruri == "sip:erin@example.net"
    assert msg.via1.sent_by == "198.51.100.7:5060" and msg.via2 is None
    assert msg.from_.display == "Dave Miller" and msg.to.display is None
    assert msg.call_id == "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@198.51.100.7"
    assert msg.max_forwards == 70 and msg.content_type.mime == "application/sdp"
    assert msg.body == SDP_OFFER.replace("\n", "\r\n").encode()
    assert msg.content_length == len(msg.body)
    assert msg.header("Allow").values == ("INVITE", "ACK", "CANCEL", "BYE", "OPTIONS",
                                          "MESSAGE", "NOTIFY")
    assert msg.header("k").values == ("replaces", "timer")
    assert msg.header("user-agent").parsed == "DeskPhone/7.2"
    assert msg.routes == () and msg.record_routes == () and msg.expires is None


def test_reply_with_record_route():
    msg = SipMessage.parse(OK_WITH_RECORD_ROUTE)
    assert not msg.is_request and msg.method is None and msg.ruri is None
    assert (msg.version, msg.status, msg.reason) == ("SIP/2.0", 200, "OK")
    assert msg.parsed_ruri is None
    assert [v.host for v in msg.vias] == ["proxy2.example.net", "proxy1.example.org",
                                         "198.51.100.7"]
    assert msg.via2.host == "proxy1.example.org"
    assert msg.vias[2].rport == 5060 and msg.vias[2].received == "198.51.100.7"
    assert [r.uri for r in msg.record_routes] == [
        "sip:proxy2.example.net;lr", "sip:proxy1.example.org;lr;ftag=88sja8x",
        "sip:edge.example.org;lr"]
    assert msg.record_routes[1].parsed_uri.param("ftag") == "88sja8x"
    assert msg.to.tag == "314159"
    assert len(msg.headers_named("Record-Route")) == 2


def test_bye_with_routes():
    msg = SipMessage.parse(BYE)
    assert msg.parsed_ruri.port == 5062 and msg.parsed_ruri.transport == "udp"
    assert [r.parsed_uri.host for r in msg.routes] == ["proxy1.example.org", "edge.example.org",
                                                      "proxy2.example.net"]
    assert all("lr" in r.parsed_uri.params for r in msg.routes)


def test_cancel_options_message_notify():
    cancel = SipMessage.parse(CANCEL)
    assert cancel.cseq.method == "CANCEL" and cancel.content_length == 0
    options = SipMessage.parse(OPTIONS)
    assert options.max_forwards == 0 and options.via1.transport == "TCP"
    assert "alias" in options.via1.params
    message = SipMessage.parse(MESSAGE)
    assert message.from_.display == "Grüße Anna" and message.from_.parsed_uri.is_secure
    assert message.body.decode() == "Hallo Frank, schöne Grüße!"
    assert message.content_type.params.get("charset") == "UTF-8"
    notify = SipMessage.parse(NOTIFY)
    assert notify.header("event").value == "presence"
    assert notify.header("subscription-state").value == "active;expires=599"
    assert notify.body.endswith(b"</presence>\r\n")


COMPACT = wire("""\
INVITE sip:bob@example.com SIP/2.0
v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc1
f: <sip:alice@example.com>;tag=f1
t: sip:bob@example.com
i: compact-1@192.0.2.1
CSeq: 1 INVITE
m: <sip:alice@192.0.2.1>
s: just compact
k: 100rel
c: application/sdp
l: {length}

v=0
""")


def test_compact_forms():
    msg = SipMessage.parse(COMPACT)
    assert msg.via1.branch == "z9hG4bKc1" and msg.from_.tag == "f1"
    assert msg.to.uri == "sip:bob@example.com" and msg.call_id == "compact-1@192.0.2.1"
    assert msg.contacts[0].uri == "sip:alice@192.0.2.1"
    assert msg.header("Subject").value == "just compact"
    assert msg.header("supported").name == "k"
    assert msg.header("supported").canonical_name == "Supported"
    assert msg.content_type.mime == "application/sdp" and msg.body == b"v=0\r\n"


FOLDED = wire("""\
OPTIONS sip:host.example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1
 ;branch=z9hG4bKfold
Subject: first part
\t second part
  third part
From: <sip:a@example.com>;
 tag=t1
To: <sip:host.example.com>
Call-ID: fold@192.0.2.1
CSeq: 7 OPTIONS
Content-Length: 0

""")


def test_folded_lines_belong_to_the_value():
    msg = SipMessage.parse(FOLDED)
    assert msg.via1.branch == "z9hG4bKfold"
    subject = msg.header("subject")
    assert subject.value == "first part\r\n\t second part\r\n  third part"
    assert subject.unfolded == "first part second part third part"
    assert msg.from_.tag == "t1" and msg.cseq.number == 7
    assert [h.name for h in msg.headers] == ["Via", "Subject", "From", "To", "Call-ID", "CSeq",
                                             "Content-Length"]


ODD = (b"\r\n\r\n"
       b"invite sip:%61lice@[2001:db8::10]:5070;transport=udp SIP/2.0\n"
       b"Via   :   SIP/2.0/UDP [2001:db8::9:1]:5060 ;received=[2001:db8::9:255] ;branch=z9hG4bKv6\n"
       b"cALL-iD:call-odd\n"
       b"from :\t\"Al\\\"ice\" <sip:alice@example.com>;TAG=ft\n"
       b"TO:sip:bob@example.com\n"
       b"Max-Forwards:    10   \n"
       b"CSEQ: 9   invite\n"
       b"X-Unknown-Header: with; strange = value, and, commas\n"
       b"NewFangledHeader:   newfangled value\n continued newfangled value\n"
       b"Subject:\n"
       b"\n")


def test_odd_whitespace_case_ipv6_escapes_and_lf_only():
    msg = SipMessage.parse(ODD)
    assert msg.start == 4 and msg.method == "invite"
    assert msg.ruri == "sip:%61lice@[2001:db8::10]:5070;transport=udp"
    uri = msg.parsed_ruri
    assert (uri.user, uri.user_decoded, uri.host, uri.port) == ("%61lice", "alice",
                                                                "[2001:db8::10]", 5070)
    assert msg.via1.host == "[2001:db8::9:1]" and msg.via1.received == "[2001:db8::9:255]"
    assert msg.call_id == "call-odd"
    assert msg.from_.display == 'Al"ice' and msg.from_.tag == "ft"
    assert msg.to.uri == "sip:bob@example.com"
    assert msg.max_forwards == 10
    assert (msg.cseq.number, msg.cseq.method) == (9, "invite")
    assert msg.header("x-unknown-header").values == ("with; strange = value", "and", "commas")
    assert msg.header("NEWFANGLEDHEADER").unfolded == "newfangled value continued newfangled value"
    assert msg.header("subject").value == ""
    assert msg.content_length is None and msg.body == b""


def test_long_values_and_many_headers_within_limits():
    long_value = "x" * 8000
    extra = "".join(f"X-H{i}: {i}\n" for i in range(240))
    data = wire(f"MESSAGE sip:a@example.com SIP/2.0\nSubject: {long_value}\n{extra}"
                "Content-Length: {length}\n\nhi")
    msg = SipMessage.parse(data)
    assert msg.header("subject").value == long_value
    assert len(msg.headers) == 242 and msg.header("x-h239").value == "239"
    assert msg.body == b"hi"


def test_missing_content_length_on_a_datagram_means_the_rest_is_body():
    msg = SipMessage.parse(b"MESSAGE sip:a@example.com SIP/2.0\r\nTo: <sip:a@example.com>\r\n\r\n"
                           b"the body\r\n")
    assert msg.content_length is None and msg.body == b"the body\r\n"


def test_bytes_after_the_body_are_ignored():
    data = INVITE + b"trailing garbage"
    msg = SipMessage.parse(data)
    assert msg.body_end == len(INVITE) and msg.serialize() == INVITE


def test_reply_variants():
    bare = SipMessage.parse(b"SIP/2.0 180\r\n\r\n")
    assert (bare.status, bare.reason) == (180, "")
    text = SipMessage.parse("SIP/2.0 486 Besetzt – bitte später\r\n\r\n".encode())
    assert text.reason == "Besetzt – bitte später"
    assert SipMessage.parse(b"SIP/3.0 699 Whatever\r\n\r\n").version == "SIP/3.0"


def test_unknown_method_and_duplicate_equal_content_lengths():
    msg = SipMessage.parse(b"FROBNICATE sip:x@example.com SIP/2.0\r\nContent-Length: 2\r\n"
                           b"l: 2\r\n\r\nok")
    assert msg.method == "FROBNICATE" and msg.body == b"ok"


def test_non_utf8_value_is_kept_byte_for_byte():
    msg = SipMessage.parse(b"OPTIONS sip:x@example.com SIP/2.0\r\n"
                           b"From: \"M\xfcller\" <sip:m@example.com>;tag=1\r\n\r\n")
    assert msg.from_.tag == "1"
    assert msg.from_.display.encode("utf-8", "surrogateescape") == b"M\xfcller"
    assert msg.header("from").raw == b"\"M\xfcller\" <sip:m@example.com>;tag=1"


def test_header_offsets_point_into_the_data():
    msg = SipMessage.parse(INVITE)
    field = msg.header("cseq")
    assert INVITE[field.start:field.end] == b"CSeq: 101 INVITE\r\n"
    assert INVITE[field.value_start:field.value_end] == b"101 INVITE"


def test_parse_accepts_bytearray_and_memoryview():
    assert SipMessage.parse(bytearray(BYE)).cseq.number == 102
    assert SipMessage.parse(memoryview(BYE)).cseq.number == 102
