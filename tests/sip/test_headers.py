"""Header names and the parsers of header values, used on their own."""

import pytest

from ser_runtime.sip import SipParseError, canonical_name, header_key, split_values
from ser_runtime.sip.headers import (parse_call_id, parse_content_type, parse_cseq,
                                     parse_expires, parse_max_forwards)
from ser_runtime.sip.nameaddr import parse_address, parse_address_list, parse_contacts
from ser_runtime.sip.via import parse_via

COMPACT = {
    "i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
    "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To", "v": "Via",
    "u": "Allow-Events", "o": "Event", "r": "Refer-To", "b": "Referred-By",
    "x": "Session-Expires", "y": "Identity", "a": "Accept-Contact", "j": "Reject-Contact",
    "d": "Request-Disposition",
}


@pytest.mark.parametrize("short, long", COMPACT.items())
def test_compact_forms(short, long):
    assert header_key(short) == header_key(short.upper()) == long.lower()
    assert canonical_name(short) == long


def test_names_are_case_insensitive():
    assert header_key("cALL-iD") == "call-id"
    assert canonical_name("CSEQ") == "CSeq"
    assert canonical_name("X-Custom") == "X-Custom"


def parse_one_via(text):
    (via,) = parse_via(text)
    return via


def test_via_with_rport_without_value():
    via = parse_one_via("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9;rport")
    assert (via.protocol, via.version, via.transport) == ("SIP", "2.0", "UDP")
    assert (via.host, via.port, via.sent_by) == ("192.0.2.1", 5060, "192.0.2.1:5060")
    assert via.branch == "z9hG4bK74bf9"
    assert via.has_rport and via.rport is None
    assert via.received is None


def test_via_with_rport_value_received_and_other_params():
    via = parse_one_via("SIP/2.0/TCP host.example.com;received=203.0.113.5;rport=40123;"
                        "ttl=16;maddr=224.2.0.1;x-custom;BRANCH=z9hG4bKabc")
    assert via.port is None and via.sent_by == "host.example.com"
    assert (via.received, via.rport) == ("203.0.113.5", 40123)
    assert (via.ttl, via.maddr) == ("16", "224.2.0.1")
    assert via.branch == "z9hG4bKabc"
    assert "x-custom" in via.params and via.params.get("x-custom") is None


def test_via_with_whitespace_everywhere_the_grammar_allows():
    via = parse_one_via("SIP / 2.0 / UDP\t host.example.com : 5070 ;branch = z9hG4bKx ;\r\n rport")
    assert (via.transport, via.host, via.port, via.branch, via.has_rport) == (
        "UDP", "host.example.com", 5070, "z9hG4bKx", True)


def test_several_vias_in_one_line():
    vias = parse_via("SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP [2001:db8::1]:5061"
                     ";branch=z9hG4bK2;received=[2001:db8::2] ,SIP/2.0/TLS c.example.com")
    assert [v.host for v in vias] == ["a.example.com", "[2001:db8::1]", "c.example.com"]
    assert vias[1].port == 5061 and vias[1].received == "[2001:db8::2]"


def test_via_end_offset_is_where_received_goes():
    text = "SIP/2.0/UDP a;branch=z9hG4bK1 , SIP/2.0/UDP b"
    first, second = parse_via(text, base=100)
    assert first.end_offset == 100 + text.index(" ,")
    assert second.end_offset == 100 + len(text)


@pytest.mark.parametrize("text, what", [
    ("", "empty Via"),
    ("SIP/2.0 host", "bad Via sent-protocol or sent-by"),
    ("SIP/2.0/UDP", "bad Via sent-protocol or sent-by"),
    ("SIP/2.0/UDP host:port", "bad Via sent-protocol or sent-by"),
    ("SIP/2.0/UDP bad..host", "bad host in URI"),
    ("SIP/2.0/UDP host:70000", "bad port in URI"),
    ("SIP/2.0/UDP host;branch=a b", "bad parameter value"),
    ("SIP/2.0/UDP host;=x", "bad parameter name"),
    ("SIP/2.0/UDP host;branch=\"open", "unterminated quoted string"),
])
def test_bad_via(text, what):
    with pytest.raises(SipParseError) as info:
        parse_via(text)
    assert info.value.what == what


def test_bad_rport_value_fails_when_read():
    via = parse_one_via("SIP/2.0/UDP host;rport=abc")
    with pytest.raises(SipParseError):
        via.rport


def test_name_addr_with_quoted_display_and_tag():
    addr = parse_address('"Smith, \\"J\\" \\\\ Bob" <sip:bob@example.com;transport=tcp>;tag=a1;x=y')
    assert addr.display == 'Smith, "J" \\ Bob'
    assert addr.uri == "sip:bob@example.com;transport=tcp"
    assert addr.tag == "a1" and addr.params.get("X") == "y"
    assert addr.parsed_uri.transport == "tcp"


def test_name_addr_with_token_display():
    addr = parse_address("Alice Smith\t<sip:alice@example.com>")
    assert addr.display == "Alice Smith" and addr.uri == "sip:alice@example.com"
    assert parse_address("<sip:a@example.com>").display is None


def test_addr_spec_params_belong_to_the_header():
    addr = parse_address("sip:bob@example.com;tag=xyz;lr")
    assert addr.uri == "sip:bob@example.com"
    assert addr.tag == "xyz" and "lr" in addr.params


def test_address_list_with_commas_inside_quotes_and_angles():
    text = ('"Doe, John" <sip:j@a.example.com?h=1,2>, <sip:p.example.com;lr>;q=0.5 ,'
            ' sip:x@y.example.com')
    addrs = parse_address_list(text)
    assert [a.uri for a in addrs] == ["sip:j@a.example.com?h=1,2", "sip:p.example.com;lr",
                                      "sip:x@y.example.com"]
    assert addrs[0].display == "Doe, John" and addrs[1].q == "0.5"


def test_contact_star_and_expires():
    assert parse_contacts(" * ") == ()
    (contact,) = parse_contacts("<sip:c@192.0.2.1>;expires=60;+sip.instance=\"<urn:uuid:1>\"")
    assert contact.expires == 60
    assert contact.params.get("+sip.instance") == '"<urn:uuid:1>"'


@pytest.mark.parametrize("text, what", [
    ("", "empty address"),
    ('"Bob <sip:bob@example.com>', "unterminated quoted string"),
    ('"Bob" sip:bob@example.com', "missing '<' after display name"),
    ("Bob <sip:bob@example.com", "missing '>'"),
    ("<sip:bob@example.com> junk", "unexpected text after '>'"),
    ("<bob at example>", "bad URI in address"),
    ("Bob", "bad URI in address"),
    ("<sip:a@b>;tag", None),
])
def test_bad_address(text, what):
    if what is None:
        assert parse_address(text).tag is None
        return
    with pytest.raises(SipParseError) as info:
        parse_address(text)
    assert info.value.what == what


def test_bad_uri_inside_a_good_address_fails_only_when_parsed():
    addr = parse_address("<sip:bob@bad..host>;tag=1", base=40)
    assert addr.tag == "1"
    with pytest.raises(SipParseError) as info:
        addr.parsed_uri
    assert info.value.what == "bad host in URI"
    assert info.value.offset == 40 + 1 + len("sip:bob@")


def test_cseq():
    cseq = parse_cseq("  4711\tINVITE ")
    assert (cseq.number, cseq.method) == (4711, "INVITE")
    for bad in ("", "1", "x INVITE", "1 INVITE extra", "-1 INVITE", "1 INV@ITE"):
        with pytest.raises(SipParseError):
            parse_cseq(bad)
    with pytest.raises(SipParseError) as info:
        parse_cseq("2147483648 INVITE")
    assert info.value.what == "CSeq number too large"
    assert parse_cseq("2147483647 ACK").number == 2**31 - 1


def test_numbers():
    assert parse_max_forwards(" 70 ") == 70
    assert parse_expires("3600") == 3600
    assert parse_expires("99999999999999999999") == 2**32 - 1
    for bad in ("256", "-1", "7O", "", "1 2"):
        with pytest.raises(SipParseError) as info:
            parse_max_forwards(bad)
        assert info.value.what == "bad Max-Forwards"
    with pytest.raises(SipParseError):
        parse_expires("1" * 5000 + "x")


def test_call_id():
    assert parse_call_id(" a84b4c76e66710@pc33.example.com ") == "a84b4c76e66710@pc33.example.com"
    assert parse_call_id("just-a-word") == "just-a-word"
    for bad in ("", "two words", "a@b@c"):
        with pytest.raises(SipParseError):
            parse_call_id(bad)


def test_content_type():
    ctype = parse_content_type("Application/SDP ; charset = \"utf-8\"")
    assert (ctype.type, ctype.subtype, ctype.mime) == ("Application", "SDP", "application/sdp")
    assert ctype.params.get("charset") == '"utf-8"'
    with pytest.raises(SipParseError):
        parse_content_type("text")


def test_generic_split():
    assert split_values(' INVITE, ACK ,,BYE , "a,b" , <sip:x,y> ') == (
        "INVITE", "ACK", "BYE", '"a,b"', "<sip:x,y>")
    assert split_values("") == ()
