"""Lazy parsing: a broken header fails only the code that reads it."""

import pytest

from sipdata import wire
from ser_runtime.sip import SipMessage, SipParseError

BROKEN = wire("""\
INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKok
Via: this is not a via
From: <sip:alice@example.com>;tag=f
To: <sip:bob@bad..host>
CSeq: one INVITE
Call-ID: lazy-1@192.0.2.1
Contact: <sip:alice@192.0.2.1>, garbage <
Max-Forwards: seventy
Content-Length: 0

""")


def error_of(read) -> SipParseError:
    with pytest.raises(SipParseError) as info:
        read()
    return info.value


def test_message_with_broken_headers_parses_and_good_headers_read_fine():
    msg = SipMessage.parse(BROKEN)
    assert msg.method == "INVITE" and msg.content_length == 0
    assert msg.via1.branch == "z9hG4bKok"
    assert msg.from_.tag == "f"
    assert msg.call_id == "lazy-1@192.0.2.1"
    assert msg.to.uri == "sip:bob@bad..host"


def test_reading_a_broken_header_raises_with_its_offset():
    msg = SipMessage.parse(BROKEN)
    err = error_of(lambda: msg.cseq)
    assert err.what == "bad CSeq"
    assert err.offset == BROKEN.index(b"one INVITE")
    assert error_of(lambda: msg.max_forwards).what == "bad Max-Forwards"
    assert error_of(lambda: msg.contacts).what == "missing '>'"
    assert error_of(lambda: msg.vias).what == "bad Via sent-protocol or sent-by"


def test_via2_needs_the_broken_second_header():
    msg = SipMessage.parse(BROKEN)
    err = error_of(lambda: msg.via2)
    assert err.offset == BROKEN.index(b"this is not a via")


def test_bad_uri_inside_a_good_header_fails_only_when_parsed():
    msg = SipMessage.parse(BROKEN)
    err = error_of(lambda: msg.to.parsed_uri)
    assert err.what == "bad host in URI"
    assert err.offset == BROKEN.index(b"bad..host")


def test_errors_repeat_on_every_read_and_raw_text_stays_available():
    msg = SipMessage.parse(BROKEN)
    for _ in range(2):
        assert error_of(lambda: msg.cseq).what == "bad CSeq"
    assert msg.header("cseq").value == "one INVITE"
    assert [h.value for h in msg.headers_named("via")] == ["SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKok",
                                                          "this is not a via"]


def test_bad_request_uri_fails_only_when_parsed():
    msg = SipMessage.parse(b"OPTIONS sip:a@b:bad SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n")
    assert msg.ruri == "sip:a@b:bad" and msg.cseq.number == 1
    err = error_of(lambda: msg.parsed_ruri)
    assert (err.what, err.offset) == ("bad port in URI", len(b"OPTIONS sip:a@b:"))


def test_parsed_values_are_cached():
    msg = SipMessage.parse(BROKEN)
    assert msg.from_ is msg.from_
    assert msg.header("from") is msg.header("f")
    assert msg.from_.parsed_uri is msg.from_.parsed_uri


def test_absent_headers_read_as_none_or_empty():
    msg = SipMessage.parse(b"SIP/2.0 100 Trying\r\n\r\n")
    assert (msg.via1, msg.from_, msg.to, msg.cseq, msg.call_id, msg.expires) == (None,) * 6
    assert (msg.vias, msg.contacts, msg.routes, msg.record_routes) == ((), (), (), ())
    assert msg.header("via") is None and msg.headers_named("via") == ()
    assert not msg.contact_star
