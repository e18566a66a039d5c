"""Digest arithmetic and credential parsing (RFC 2617 sections 3.2.1-3.2.2; SER auth/rfc2617.c, nonce.c).

Pure functions, no SIP and no database: the auth modules use them, and
the tests check them against RFC 2617's worked example.

The nonce is SER 0.9's: 8 lower-case hex digits of the expiry time (Unix
seconds) followed by the MD5 hex of those 8 digits and the secret. Every
server that shares the secret accepts it; no server state is needed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, fields

NONCE_LEN = 40
_EXPIRY_DIGITS = 8
_HEX8 = re.compile(r"[0-9a-f]{8}")
_TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_SPACE = " \t\r\n"
# RFC 2616's quoted-string, unrolled so that an unterminated one fails in linear time.
_QUOTED = re.compile(r'"([^"\\]*(?:\\[\s\S][^"\\]*)*)"')
_QUOTED_PAIR = re.compile(r"\\([\s\S])")


class CredentialsError(ValueError):
    """A credentials header that is not well-formed; SER answers 400."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """The parameters of one `Digest` credentials value (RFC 2617 section 3.2.2); None when absent.

    `user` and `domain` are SER's split of the username at its first '@'
    (`domain` is "" without one); `username` is the whole value.
    """

    username: str | None = None
    realm: str | None = None
    nonce: str | None = None
    uri: str | None = None
    response: str | None = None
    algorithm: str | None = None
    cnonce: str | None = None
    opaque: str | None = None
    qop: str | None = None
    nc: str | None = None

    @property
    def user(self) -> str:
        return (self.username or "").partition("@")[0]

    @property
    def domain(self) -> str:
        return (self.username or "").partition("@")[2]

    @property
    def qop_value(self) -> str | None:
        return None if self.qop is None else self.qop.lower()

    def missing(self) -> list[str]:
        """The parameters a verifiable response needs but these credentials lack (SER's check_dig_cred)."""
        needed = ["username", "realm", "nonce", "uri", "response"]
        if self.qop_value in ("auth", "auth-int"):
            needed += ["cnonce", "nc"]
        return [name for name in needed if getattr(self, name) is None]


_FIELDS = frozenset(f.name for f in fields(Credentials))


def md5_hex(text: str | bytes) -> str:
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    return hashlib.md5(data).hexdigest()


def ha1(username: str, realm: str, password: str) -> str:
    """H(A1) = MD5(username:realm:password), what subscriber.ha1/ha1b hold."""
    return md5_hex(f"{username}:{realm}:{password}")


def response(ha1_hex: str, nonce: str, method: str, uri: str, qop: str | None = None,
             nc: str = "", cnonce: str = "", body: bytes = b"") -> str:
    """request-digest of RFC 2617 section 3.2.2.1; `body` counts only for qop=auth-int."""
    a2 = f"{method}:{uri}"
    if qop is not None and qop.lower() == "auth-int":
        a2 += ":" + md5_hex(body)
    ha2 = md5_hex(a2)
    if qop is None:
        return md5_hex(f"{ha1_hex}:{nonce}:{ha2}")
    return md5_hex(f"{ha1_hex}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def same_digest(expected: str, received: str | None) -> bool:
    """Constant-time comparison of two hex digests, as lower-case hex (RFC 2617's LHEX)."""
    if received is None or len(received) != len(expected):
        return False
    return hmac.compare_digest(expected.encode(), received.lower().encode("utf-8", "surrogateescape"))


# --- the nonce ------------------------------------------------------------------------------

def make_nonce(expires: int, secret: str) -> str:
    prefix = f"{expires & 0xFFFFFFFF:08x}"
    return prefix + md5_hex(prefix + secret)


def nonce_expires(nonce: str) -> int | None:
    """The expiry time a nonce of ours carries, or None when it is not shaped like one."""
    if len(nonce) != NONCE_LEN or not _HEX8.fullmatch(nonce[:_EXPIRY_DIGITS]):
        return None
    return int(nonce[:_EXPIRY_DIGITS], 16)


def nonce_is_ours(nonce: str, secret: str) -> bool:
    """The nonce was made with `secret` (SER's check_nonce); says nothing about its age."""
    expires = nonce_expires(nonce)
    return expires is not None and hmac.compare_digest(make_nonce(expires, secret).encode(),
                                                       nonce.encode("utf-8", "surrogateescape"))


# --- parsing Authorization / Proxy-Authorization ----------------------------------------------

def parse_credentials(value: str) -> Credentials | None:
    """The Digest credentials in a header value; None for another scheme; CredentialsError when malformed."""
    text = value.strip(_SPACE)
    scheme = _TOKEN.match(text)
    if scheme is None:
        raise CredentialsError("no authentication scheme")
    if scheme.group().lower() != "digest":
        return None
    params: dict[str, str] = {}
    pos = scheme.end()
    if pos < len(text) and text[pos] not in _SPACE:
        raise CredentialsError("no space after the scheme")
    while True:
        pos = _skip(text, pos)
        name, value_text, pos = _auth_param(text, pos)
        params.setdefault(name.lower(), value_text)
        pos = _skip(text, pos)
        if pos == len(text):
            return Credentials(**{k: v for k, v in params.items() if k in _FIELDS})
        if text[pos] != ",":
            raise CredentialsError(f"expected ',' at {pos}")
        pos += 1


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    return pos


def _auth_param(text: str, pos: int) -> tuple[str, str, int]:
    name = _TOKEN.match(text, pos)
    if name is None:
        raise CredentialsError(f"expected a parameter name at {pos}")
    pos = _skip(text, name.end())
    if pos == len(text) or text[pos] != "=":
        raise CredentialsError(f"expected '=' after {name.group()}")
    pos = _skip(text, pos + 1)
    if pos < len(text) and text[pos] == '"':
        return name.group(), *_quoted(text, pos)
    token = _TOKEN.match(text, pos)
    if token is None:
        raise CredentialsError(f"expected a value for {name.group()}")
    return name.group(), token.group(), token.end()


def _quoted(text: str, pos: int) -> tuple[str, int]:
    quoted = _QUOTED.match(text, pos)
    if quoted is None:
        raise CredentialsError("unterminated quoted string")
    value = quoted.group(1)
    if "\\" in value:
        value = _QUOTED_PAIR.sub(r"\1", value)
    return value, quoted.end()
