"""SipUri: parsing, printing back, decoding and SER's rewrite helpers."""

import pytest

from ser_runtime.sip import SipParseError, SipUri

ROUND_TRIP = [
    "sip:alice@example.com",
    "sip:example.com",
    "sips:bob:secret@example.org:5061;transport=tcp;lr",
    "sip:+1-212-555-1212:1234@gateway.example.com;user=phone",
    "sip:%61lice@example.com",
    "sip:user;par=u%40example.net@example.com",
    "sip:[2001:db8::10]:5070;maddr=[2001:db8::1]",
    "sip:alice@192.0.2.4;LR;Transport=UDP",
    "sip:bob@example.com?subject=project%20x&priority=urgent",
    "sip:carol@chicago.example.com;method=REGISTER?to=sip:bob%40biloxi.com",
    "SIP:Alice@Example.COM",
    "sip:host.example.com.",
    "sip:a_b@my_host.example.com",
    "tel:+1-201-555-0123",
    "tel:7042;phone-context=example.com",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_round_trip(text):
    assert str(SipUri.parse(text)) == text


def test_parts_of_a_full_uri():
    uri = SipUri.parse("sips:bob:se%20cret@example.org:5061;transport=TCP;lr?h=1&x=%41")
    assert uri.scheme == "sips" and uri.is_secure
    assert (uri.user, uri.password, uri.password_decoded) == ("bob", "se%20cret", "se cret")
    assert (uri.host, uri.port, uri.port_text, uri.hostport) == ("example.org", 5061, "5061",
                                                                  "example.org:5061")
    assert uri.transport == "tcp"
    assert uri.param("LR") is None and "lr" in uri.params and "Lr" in uri.params
    assert list(uri.params) == [("transport", "TCP"), ("lr", None)]
    assert uri.headers == (("h", "1"), ("x", "%41"))
    assert uri.header("X") == "%41"


def test_escaped_user_is_kept_and_decoded():
    uri = SipUri.parse("sip:%61lice%20b@example.com")
    assert uri.user == "%61lice%20b"
    assert uri.user_decoded == "alice b"


def test_user_may_hold_semicolons_and_escaped_at():
    uri = SipUri.parse("sip:user;par=u%40example.net@example.com")
    assert uri.user == "user;par=u%40example.net"
    assert uri.user_decoded == "user;par=u@example.net"
    assert uri.host == "example.com" and len(uri.params) == 0


def test_ipv6_reference():
    uri = SipUri.parse("sip:alice@[2001:db8::10]:5070;lr")
    assert (uri.host, uri.port) == ("[2001:db8::10]", 5070)
    assert SipUri.parse("sip:[::ffff:192.0.2.1]").host == "[::ffff:192.0.2.1]"


def test_tel_uri_puts_the_number_in_user():
    uri = SipUri.parse("tel:+1-201-555-0123;phone-context=example.com")
    assert uri.is_tel
    assert (uri.user, uri.host, uri.port) == ("+1-201-555-0123", "", None)
    assert uri.param("phone-context") == "example.com"


@pytest.mark.parametrize("text, what", [
    ("http://example.com", "unsupported URI scheme"),
    ("alice@example.com", "unsupported URI scheme"),
    ("sip:", "bad host in URI"),
    ("sip:alice@", "bad host in URI"),
    ("sip:@example.com", "bad user part in URI"),
    ("sip:al ice@example.com", "bad user part in URI"),
    ("sip:a:b:c@example.com", "bad password in URI"),
    ("sip:alice@exa mple.com", "bad host in URI"),
    ("sip:alice@example..com", "bad host in URI"),
    ("sip:alice@1.2.3.256", "bad IPv4 address"),
    ("sip:alice@1.2.3", "bad IPv4 address"),
    ("sip:alice@[2001:db8::10", "unterminated IPv6 reference"),
    ("sip:alice@[2001:db8::zz]", "bad IPv6 reference"),
    ("sip:alice@example.com:", "bad port in URI"),
    ("sip:alice@example.com:65536", "bad port in URI"),
    ("sip:alice@example.com:50x", "bad port in URI"),
    ("sip:alice@example.com;", "bad URI parameter"),
    ("sip:alice@example.com;a=b c", "bad URI parameter value"),
    ("sip:alice@example.com;a=", "bad URI parameter value"),
    ("sip:alice@example.com?subject", "bad URI header"),
    ("sip:alice@example.com?a=b&", "bad URI header"),
    ("sip:%6@example.com", "bad user part in URI"),
    ("tel:", "bad telephone number"),
    ("tel:+1-555;", "bad URI parameter"),
])
def test_invalid(text, what):
    with pytest.raises(SipParseError) as info:
        SipUri.parse(text)
    assert info.value.what == what


def test_escapes_that_are_not_utf8_fail_only_when_decoded():
    uri = SipUri.parse("sip:%ff@example.com")
    assert uri.user == "%ff"
    with pytest.raises(SipParseError) as info:
        uri.user_decoded
    assert info.value.what == "escaped bytes are not UTF-8"


# SER's rewrite actions on sip:12345@foo.bar:6060 (ser-cfg-language.md §8).
REWRITES = [
    (lambda u: u.with_host("192.168.0.10"), "sip:12345@192.168.0.10:6060"),
    (lambda u: u.with_hostport("192.168.0.10:3040"), "sip:12345@192.168.0.10:3040"),
    (lambda u: u.with_user("alice"), "sip:alice@foo.bar:6060"),
    (lambda u: u.with_userpass("alice:pw"), "sip:alice:pw@foo.bar:6060"),
    (lambda u: u.with_port("1234"), "sip:12345@foo.bar:1234"),
    (lambda u: u.with_user_prefix("9"), "sip:912345@foo.bar:6060"),
    (lambda u: u.with_user_stripped(2), "sip:345@foo.bar:6060"),
    (lambda u: u.with_hostport("192.168.0.10"), "sip:12345@192.168.0.10"),
]


@pytest.mark.parametrize("rewrite, expected", REWRITES)
def test_rewrite_table(rewrite, expected):
    assert str(rewrite(SipUri.parse("sip:12345@foo.bar:6060"))) == expected


def test_rewrites_keep_params_headers_and_password():
    uri = SipUri.parse("sip:bob:pw@example.com;transport=tcp?subject=hi")
    assert str(uri.with_host("10.0.0.1")) == "sip:bob:pw@10.0.0.1;transport=tcp?subject=hi"
    assert str(uri.with_user("carol")) == "sip:carol:pw@example.com;transport=tcp?subject=hi"
    assert str(uri.with_userpass("carol")) == "sip:carol@example.com;transport=tcp?subject=hi"


def test_rewrites_always_produce_sip_scheme():
    assert str(SipUri.parse("sips:bob@example.com").with_port("5060")) == "sip:bob@example.com:5060"
    tel = SipUri.parse("tel:+4930123;phone-context=example.com")
    assert str(tel.with_host("gw.example.com")) == (
        "sip:+4930123@gw.example.com;phone-context=example.com")


def test_user_edits_at_the_edges():
    uri = SipUri.parse("sip:12345@foo.bar:6060")
    assert str(uri.with_user_stripped(9)) == "sip:foo.bar:6060"
    assert str(uri.with_user_tail_stripped(2)) == "sip:123@foo.bar:6060"
    assert str(uri.with_user_tail_stripped(7)) == "sip:foo.bar:6060"
    assert str(uri.with_port("")) == "sip:12345@foo.bar"
    no_user = SipUri.parse("sip:foo.bar")
    assert str(no_user.with_user_prefix("9")) == "sip:9@foo.bar"
    assert str(no_user.with_hostport("[2001:db8::1]:5080")) == "sip:[2001:db8::1]:5080"


@pytest.mark.parametrize("rewrite, what", [
    (lambda u: u.with_host("bad host"), "bad host in URI"),
    (lambda u: u.with_hostport("host:x"), "bad port in URI"),
    (lambda u: u.with_port("99999"), "bad port in URI"),
    (lambda u: u.with_user("a@b"), "bad user part in URI"),
    (lambda u: u.with_userpass("a:p@ss"), "bad password in URI"),
])
def test_rewrite_rejects_text_that_would_break_the_uri(rewrite, what):
    with pytest.raises(SipParseError) as info:
        rewrite(SipUri.parse("sip:12345@foo.bar:6060"))
    assert info.value.what == what


def test_original_is_not_modified_by_rewrites():
    uri = SipUri.parse("sip:12345@foo.bar:6060")
    uri.with_host("x.example.com")
    uri.with_user_stripped(3)
    assert str(uri) == "sip:12345@foo.bar:6060"


def test_equality_is_textual():
    assert SipUri.parse("sip:a@b.c;lr") == SipUri.parse("sip:a@b.c;lr")
    assert SipUri.parse("sip:a@b.c;lr") != SipUri.parse("sip:a@B.c;lr")
    assert len({SipUri.parse("sip:a@b.c"), SipUri.parse("sip:a@b.c")}) == 1
