"""Edits recorded as splices and applied by serialize()."""

import pytest

from sipdata import BYE, INVITE, OK_WITH_RECORD_ROUTE, wire
from ser_runtime.sip import SipMessage, SipParseError


def test_several_edits_serialize_and_reparse():
    original = bytes(INVITE)
    msg = SipMessage.parse(INVITE)
    msg.add_header("Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKprx", on_top=True)
    msg.insert(msg.via1.end_offset, b";received=203.0.113.7")
    msg.add_header("Record-Route", "<sip:proxy.example.com;lr>", before=msg.header("via"))
    msg.remove_header(msg.header("user-agent"))
    msg.replace_header_value(msg.header("max-forwards"), "69")
    msg.add_header("X-Trace", "on")
    msg.set_ruri("sip:erin@192.0.2.99:5080")
    msg.set_body(b"v=0\r\n")

    out = msg.serialize()
    again = SipMessage.parse(out)
    assert again.ruri == "sip:erin@192.0.2.99:5080"
    assert [v.host for v in again.vias] == ["proxy.example.com", "198.51.100.7"]
    assert again.vias[1].received == "203.0.113.7" and again.vias[1].has_rport
    assert again.record_routes[0].uri == "sip:proxy.example.com;lr"
    # Both insertions sit before the received Via: they come out in the order made.
    assert [h.name for h in again.headers][:3] == ["Via", "Record-Route", "Via"]
    assert again.header("user-agent") is None
    assert again.max_forwards == 69
    assert again.headers[-1].name == "X-Trace"
    assert again.body == b"v=0\r\n" and again.content_length == 5
    assert INVITE == original
    assert msg.via1.host == "198.51.100.7" and msg.ruri == "sip:erin@example.net"


def test_accessors_still_describe_the_received_message():
    msg = SipMessage.parse(BYE)
    msg.set_ruri("sip:new@example.com")
    msg.set_body(b"abc")
    assert msg.ruri == "sip:erin@203.0.113.99:5062;transport=udp"
    assert msg.current_ruri == msg.new_ruri == "sip:new@example.com"
    assert msg.body == b"" and msg.content_length == 0


def test_set_ruri_twice_and_revert():
    msg = SipMessage.parse(BYE)
    msg.set_ruri("sip:first@example.com")
    msg.set_ruri("sip:second@example.com")
    assert SipMessage.parse(msg.serialize()).ruri == "sip:second@example.com"
    msg.revert_ruri()
    assert msg.serialize() == BYE and msg.current_ruri == msg.ruri


def test_set_body_twice_adds_content_length_when_missing():
    data = b"MESSAGE sip:a@example.com SIP/2.0\r\nTo: <sip:a@example.com>\r\n\r\nold body"
    msg = SipMessage.parse(data)
    msg.set_body(b"first")
    msg.set_body(b"second body")
    out = msg.serialize()
    assert out.endswith(b"Content-Length: 11\r\n\r\nsecond body")
    assert SipMessage.parse(out).body == b"second body"


def test_set_body_fixes_compact_content_length():
    msg = SipMessage.parse(wire("MESSAGE sip:a@example.com SIP/2.0\nl: {length}\n\nhello"))
    msg.set_body(b"")
    assert msg.serialize() == b"MESSAGE sip:a@example.com SIP/2.0\r\nl: 0\r\n\r\n"


def test_add_header_on_top_without_that_header_goes_first():
    msg = SipMessage.parse(BYE)
    msg.add_header("Record-Route", "<sip:p.example.com;lr>", on_top=True)
    assert SipMessage.parse(msg.serialize()).headers[0].name == "Record-Route"


def test_insertions_at_one_place_keep_their_order():
    msg = SipMessage.parse(BYE)
    msg.add_header("X-A", "1")
    msg.add_header("X-B", "2")
    assert [h.name for h in SipMessage.parse(msg.serialize()).headers][-2:] == ["X-A", "X-B"]


def test_removing_a_header_twice_is_one_removal_and_overlaps_are_refused():
    msg = SipMessage.parse(OK_WITH_RECORD_ROUTE)
    field = msg.header("record-route")
    msg.remove_header(field)
    msg.remove_header(field)
    with pytest.raises(SipParseError) as info:
        msg.replace_header_value(field, "<sip:x.example.com;lr>")
    assert info.value.what == "overlapping edits"
    msg.add_header("Record-Route", "<sip:y.example.com;lr>", before=field)
    again = SipMessage.parse(msg.serialize())
    assert [r.uri for r in again.record_routes][0] == "sip:y.example.com;lr"
    assert len(again.record_routes) == 3


def test_raw_byte_edits_and_their_bounds():
    msg = SipMessage.parse(BYE)
    cseq = msg.header("cseq")
    msg.replace(cseq.value_start, cseq.value_start + 3, b"103")
    msg.delete(cseq.value_end - 1, cseq.value_end)
    msg.insert(cseq.value_end, b"E")
    assert SipMessage.parse(msg.serialize()).cseq.number == 103
    for start, end in ((-1, 0), (0, len(BYE) + 1), (10, 5)):
        with pytest.raises(SipParseError) as info:
            msg.replace(start, end, b"")
        assert info.value.what == "edit outside the message"


@pytest.mark.parametrize("edit, what", [
    (lambda m: m.add_header("X-Evil", "a\r\nInjected: 1"), "CR, LF or NUL in header value"),
    (lambda m: m.add_header("X-Evil", "a\nb"), "CR, LF or NUL in header value"),
    (lambda m: m.add_header("Bad Name", "v"), "bad header name"),
    (lambda m: m.replace_header_value(m.header("to"), "x\r\n"), "CR, LF or NUL in header value"),
    (lambda m: m.set_ruri("sip:a@b SIP/2.0\r\nX: y"), "bad Request-URI"),
    (lambda m: m.set_ruri(""), "bad Request-URI"),
    (lambda m: m.remove_header(SipMessage.parse(INVITE).header("to")),
     "header field of another message"),
])
def test_edits_refuse_header_injection(edit, what):
    msg = SipMessage.parse(BYE)
    with pytest.raises(SipParseError) as info:
        edit(msg)
    assert info.value.what == what
    assert msg.serialize() == BYE


def test_reply_has_no_request_uri_to_set():
    with pytest.raises(SipParseError):
        SipMessage.parse(OK_WITH_RECORD_ROUTE).set_ruri("sip:x@example.com")


def test_serialize_drops_keepalives_and_trailing_bytes():
    msg = SipMessage.parse(b"\r\n\r\n" + BYE + b"junk")
    assert msg.serialize() == BYE


def test_a_refused_set_body_changes_nothing():
    msg = SipMessage.parse(INVITE)
    msg.remove_header(msg.header("content-length"))
    before = msg.serialize()
    with pytest.raises(SipParseError) as info:
        msg.set_body(b"refused")
    assert info.value.what == "overlapping edits"
    assert msg.serialize() == before


def test_text_that_cannot_be_encoded_is_refused():
    msg = SipMessage.parse(BYE)
    with pytest.raises(SipParseError) as info:
        msg.add_header("X-Bad", "\ud800")
    assert info.value.what == "text is not encodable as UTF-8"


def test_received_bytes_that_are_not_utf8_survive_a_value_round_trip():
    msg = SipMessage.parse(b"OPTIONS sip:x@example.com SIP/2.0\r\nSubject: caf\xe9\r\n\r\n")
    subject = msg.header("subject")
    msg.replace_header_value(subject, subject.value + "!")
    assert msg.serialize().endswith(b"Subject: caf\xe9!\r\n\r\n")


def test_extra_edits_belong_to_one_serialization_only():
    msg = SipMessage.parse(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                           b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    field = msg.header("max-forwards")
    msg.replace_header_value(field, "69")
    via = msg.header("via")
    copy = msg.serialize([(via.start, via.start, b"Via: SIP/2.0/UDP p;branch=z9hG4bK2\r\n")])
    assert copy.startswith(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP p;branch=z9hG4bK2\r\nVia: SIP/2.0/UDP h")
    assert b"Max-Forwards: 69\r\n" in copy
    assert b"branch=z9hG4bK2" not in msg.serialize()
    with pytest.raises(SipParseError):
        msg.serialize([(field.value_start, field.value_end, b"1")])
