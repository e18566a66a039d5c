"""digest.py: RFC 2617's worked example, SER's nonce, and the credentials parser."""

from __future__ import annotations

import hashlib

import pytest

from stdlib_modules.digest import (
    CredentialsError, ha1, make_nonce, nonce_expires, nonce_is_ours, parse_credentials, response, same_digest,
)

# RFC 2617 section 3.5.
RFC_EXAMPLE = ('Digest username="Mufasa", realm="testrealm@host.com", '
               'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, '
               'cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", '
               'opaque="5ccc069c403ebaf9f0171e9517f40e41"')


def test_rfc_2617_example_response():
    c = parse_credentials(RFC_EXAMPLE)
    secret = ha1(c.username, c.realm, "Circle Of Life")
    assert secret == "939e7578ed9e3c518a452acee763bce9"
    assert response(secret, c.nonce, "GET", c.uri, c.qop, c.nc, c.cnonce) == c.response


def test_response_without_qop_is_rfc_2069s():
    expected = hashlib.md5(b"h:n:" + hashlib.md5(b"REGISTER:sip:example.com").hexdigest().encode()).hexdigest()
    assert response("h", "n", "REGISTER", "sip:example.com") == expected


def test_auth_int_covers_the_body():
    with_body = response("h", "n", "INVITE", "sip:b@x", "auth-int", "00000001", "c", b"v=0\r\n")
    assert with_body != response("h", "n", "INVITE", "sip:b@x", "auth-int", "00000001", "c", b"")
    assert response("h", "n", "INVITE", "sip:b@x", "auth", "00000001", "c", b"v=0\r\n") == \
        response("h", "n", "INVITE", "sip:b@x", "auth", "00000001", "c", b"")


def test_same_digest_accepts_upper_case_hex_and_refuses_other_lengths():
    digest = "6629fae49393a05397450978507c4ef1"
    assert same_digest(digest, digest.upper())
    assert not same_digest(digest, digest[:-1])
    assert not same_digest(digest, None)


def test_the_nonce_is_sers_expiry_and_md5_of_it_with_the_secret():
    nonce = make_nonce(0x5f5e1000, "s")
    assert nonce == "5f5e1000" + hashlib.md5(b"5f5e1000s").hexdigest()
    assert nonce_expires(nonce) == 0x5f5e1000
    assert nonce_is_ours(nonce, "s") and not nonce_is_ours(nonce, "t")


@pytest.mark.parametrize("nonce", ["", "short", "5F5E1000" + "0" * 32, "5f5e100g" + "0" * 32, "é" * 40])
def test_nonces_of_another_shape_are_not_ours(nonce):
    assert not nonce_is_ours(nonce, "s")


def test_parse_keeps_the_first_of_repeated_parameters_and_ignores_unknown_ones():
    c = parse_credentials('digest  USERNAME = "a\\"b@example.com" ,realm=x,realm=y,foo="bar, baz"')
    assert (c.username, c.user, c.domain, c.realm) == ('a"b@example.com', 'a"b', "example.com", "x")
    assert c.missing() == ["nonce", "uri", "response"]


def test_qop_auth_needs_cnonce_and_nc():
    c = parse_credentials('Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth')
    assert c.missing() == ["cnonce", "nc"]


def test_another_scheme_is_not_digest():
    assert parse_credentials("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==") is None
    assert parse_credentials('Digestusername="a"') is None


@pytest.mark.parametrize("value", [
    "", "Digest", "Digest username", 'Digest username="a', "Digest username=a realm=b", 'Digest ,', "Digest=x",
 "Digest username=", 'Digest username="a",',
])
def test_malformed_credentials(value):
    with pytest.raises(CredentialsError):
        parse_credentials(value)
