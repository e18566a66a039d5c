"""SIP, SIPS and tel URIs (RFC 3261 §19.1, grammar in §25.1; RFC 3966 for tel).

Every part is kept exactly as written, escapes included, so that
`str(SipUri.parse(s)) == s`; the `*_decoded` properties give the unescaped
text.  The `with_*` helpers implement SER's R-URI rewrite actions, which
rebuild the URI from its parts under the `sip:` scheme whatever the original
scheme was, keeping parameters and headers.
"""

import ipaddress
import re
from urllib.parse import unquote

from .errors import SipParseError
from .params import Params

_ESC = r"%[0-9A-Fa-f]{2}"
_UNRESERVED = r"A-Za-z0-9\-_.!~*'()"
_USER = re.compile(rf"(?:[{_UNRESERVED}&=+$,;?/]|{_ESC})+")
_PASSWORD = re.compile(rf"(?:[{_UNRESERVED}&=+$,]|{_ESC})*")
_PARAM_CHARS = re.compile(rf"(?:[{_UNRESERVED}\[\]/:&+$]|{_ESC})+")
_HNAME = re.compile(rf"(?:[{_UNRESERVED}\[\]/?:+$]|{_ESC})+")
_HVALUE = re.compile(rf"(?:[{_UNRESERVED}\[\]/?:+$]|{_ESC})*")
# Underscores are not in the RFC's hostname grammar but real DNS names carry
# them.  The lookarounds keep '-' off the ends of a label without backtracking.
_LABEL = r"(?!-)[A-Za-z0-9_-]+(?<!-)"
_HOSTNAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|[01]?[0-9]?[0-9])"
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")
_NUMERIC = re.compile(r"[0-9.]+")
_TEL_NUMBER = re.compile(r"\+?[0-9A-Fa-f*#().\-]*[0-9A-Fa-f*#][0-9A-Fa-f*#().\-]*")
_PORT = re.compile(r"[0-9]{1,5}")


_PARSED: dict[str, "SipUri"] = {}
_PARSED_MAX = 4096


class SipUri:
    """A parsed sip:, sips: or tel: URI.

    For tel: URIs the number is held in `user` and `host` is empty, which is
    how SER's rewrite actions see them.  Instances are not modified after
    construction; the `with_*` methods return new ones.
    """

    __slots__ = ("scheme", "user", "password", "host", "port_text", "params", "headers")

    def __init__(self, scheme: str = "sip", user: str | None = None, password: str | None = None,
                 host: str = "", port: int | str | None = None, params: Params = Params(),
                 headers: tuple[tuple[str, str], ...] = ()):
        self.scheme = scheme
        self.user = user
        self.password = password
        self.host = host
        self.port_text = None if port is None else str(port)
        self.params = params
        self.headers = tuple(headers)

    @classmethod
    def parse(cls, text: str) -> "SipUri":
        """Parse `text`; error offsets are character indexes into it.

        Parsed URIs are immutable, and a proxy sees the same few again and
        again (its own Record-Route, its domain, a dialog's Contacts in every
        message), so they are kept; the store is emptied when full.
        """
        uri = _PARSED.get(text)
        if uri is None:
            uri = cls._parse(text)
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[text] = uri
        return uri

    @classmethod
    def _parse(cls, text: str) -> "SipUri":
        colon = text.find(":")
        scheme = text[:colon] if colon > 0 else ""
        lowered = scheme.lower()
        if lowered in ("sip", "sips"):
            return _parse_sip(text, scheme, colon + 1)
        if lowered == "tel":
            return _parse_tel(text, scheme, colon + 1)
        raise SipParseError("unsupported URI scheme", 0)

    @property
    def port(self) -> int | None:
        return None if self.port_text is None else int(self.port_text)

    @property
    def is_tel(self) -> bool:
        return self.scheme.lower() == "tel"

    @property
    def is_secure(self) -> bool:
        return self.scheme.lower() == "sips"

    @property
    def hostport(self) -> str:
        return self.host if self.port_text is None else f"{self.host}:{self.port_text}"

    @property
    def user_decoded(self) -> str | None:
        return None if self.user is None else unescape(self.user)

    @property
    def password_decoded(self) -> str | None:
        return None if self.password is None else unescape(self.password)

    @property
    def transport(self) -> str | None:
        """The transport= parameter, lower-cased, or None."""
        value = self.params.get("transport")
        return value.lower() if value else None

    def param(self, name: str, default=None):
        return self.params.get(name, default)

    def header(self, name: str) -> str | None:
        """The value of the first `?name=value` URI header, matched case-insensitively."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def __str__(self) -> str:
        if self.is_tel:
            return f"{self.scheme}:{self.user}{self.params}"
        parts = [self.scheme, ":"]
        if self.user is not None:
            parts.append(self.user)
            if self.password is not None:
                parts += [":", self.password]
            parts.append("@")
        parts.append(self.hostport)
        parts.append(str(self.params))
        if self.headers:
            parts += ["?", "&".join(f"{k}={v}" for k, v in self.headers)]
        return "".join(parts)

    def __repr__(self) -> str:
        return f"SipUri({str(self)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, SipUri) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def _fields(self) -> tuple:
        return (self.scheme, self.user, self.password, self.host, self.port_text,
                self.params, self.headers)

    # SER's rewrite actions (rewritehost, rewriteuser, prefix, strip, ...).

    def with_host(self, host: str) -> "SipUri":
        validate_host(host)
        return self._rebuilt(host=host)

    def with_hostport(self, hostport: str) -> "SipUri":
        """Replace host and port from "host[:port]"; no port drops the old one."""
        host, port = split_hostport(hostport)
        return self._rebuilt(host=host, port=port)

    def with_port(self, port: str) -> "SipUri":
        """Replace the port; an empty string removes it."""
        if port == "":
            return self._rebuilt(port=None)
        validate_port(port)
        return self._rebuilt(port=port)

    def with_user(self, user: str) -> "SipUri":
        """Replace the user part, keeping the password."""
        _check_user(user)
        return self._rebuilt(user=user or None)

    def with_userpass(self, userpass: str) -> "SipUri":
        """Replace user and password from "user[:password]"."""
        user, sep, password = userpass.partition(":")
        _check_user(user)
        if _PASSWORD.fullmatch(password) is None:
            raise SipParseError("bad password in URI", len(user) + 1)
        return self._rebuilt(user=user or None, password=password if sep else None)

    def with_user_prefix(self, prefix: str) -> "SipUri":
        """Prepend `prefix` to the user part, creating one if there is none."""
        return self.with_user(prefix + (self.user or ""))

    def with_user_stripped(self, count: int) -> "SipUri":
        """Remove the first `count` characters of the user part (as written)."""
        return self._rebuilt(user=(self.user or "")[count:] or None)

    def with_user_tail_stripped(self, count: int) -> "SipUri":
        """Remove the last `count` characters of the user part (as written)."""
        user = self.user or ""
        return self._rebuilt(user=user[:max(len(user) - count, 0)] or None)

    def _rebuilt(self, **changes) -> "SipUri":
        fields = {"user": self.user, "password": self.password, "host": self.host,
                  "port": self.port_text}
        fields.update(changes)
        if fields["user"] is None:
            fields["password"] = None
        return SipUri("sip", fields["user"], fields["password"], fields["host"], fields["port"],
                      self.params, self.headers)


def unescape(text: str) -> str:
    """Decode %XX escapes; the decoded bytes must be UTF-8."""
    if "%" not in text:
        return text
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise SipParseError("escaped bytes are not UTF-8") from None


def _parse_sip(text: str, scheme: str, pos: int) -> SipUri:
    # The grammar allows '@' nowhere but as the end of the userinfo, and
    # allows '?' and ';' inside the user part, so the first '@' decides.
    user = password = None
    at = text.find("@", pos)
    if at >= 0:
        user, password = _split_userinfo(text, pos, at)
        pos = at + 1
    end = len(text)
    qmark = text.find("?", pos)
    params_end = end if qmark < 0 else qmark
    hostport_end = _hostport_end(text, pos, params_end)
    host, port = split_hostport(text[pos:hostport_end], pos)
    params = _parse_uri_params(text, hostport_end, params_end)
    headers = _parse_uri_headers(text, qmark + 1, end) if qmark >= 0 else ()
    return SipUri(scheme, user, password, host, port, params, headers)


def _split_userinfo(text: str, start: int, at: int) -> tuple[str, str | None]:
    colon = text.find(":", start, at)
    user_end = at if colon < 0 else colon
    user = text[start:user_end]
    if _USER.fullmatch(user) is None:
        raise SipParseError("bad user part in URI", start)
    if colon < 0:
        return user, None
    password = text[colon + 1:at]
    if _PASSWORD.fullmatch(password) is None:
        raise SipParseError("bad password in URI", colon + 1)
    return user, password


def _hostport_end(text: str, start: int, end: int) -> int:
    search_from = start
    if text.startswith("[", start):
        close = text.find("]", start, end)
        if close < 0:
            raise SipParseError("unterminated IPv6 reference", start)
        search_from = close
    semi = text.find(";", search_from, end)
    return end if semi < 0 else semi


def split_hostport(hostport: str, base: int = 0) -> tuple[str, str | None]:
    """Split "host[:port]" (host possibly an [IPv6] reference) and check both.

    Error offsets are `base` plus the index in `hostport`.
    """
    if hostport.startswith("["):
        close = hostport.find("]")
        host_end = close + 1 if close >= 0 else len(hostport)
    else:
        colon = hostport.find(":")
        host_end = len(hostport) if colon < 0 else colon
    host = hostport[:host_end]
    validate_host(host, base)
    if host_end == len(hostport):
        return host, None
    if hostport[host_end] != ":":
        raise SipParseError("bad host in URI", base + host_end)
    port = hostport[host_end + 1:]
    validate_port(port, base + host_end + 1)
    return host, port


def validate_host(host: str, offset: int = 0) -> None:
    """Raise SipParseError (at `offset`) unless `host` is a hostname, IPv4 or [IPv6] reference."""
    if host.startswith("["):
        if not host.endswith("]") or not _is_ipv6(host[1:-1]):
            raise SipParseError("bad IPv6 reference", offset)
    elif _IPV4.fullmatch(host) is None:
        # A top label cannot be all digits, so a numeric host must be an address.
        if _NUMERIC.fullmatch(host) is not None:
            raise SipParseError("bad IPv4 address", offset)
        if _HOSTNAME.fullmatch(host) is None:
            raise SipParseError("bad host in URI", offset)


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return "%" not in text


def validate_port(port: str, offset: int = 0) -> None:
    """Raise SipParseError (at `offset`) unless `port` is a decimal port number."""
    if _PORT.fullmatch(port) is None or int(port) > 65535:
        raise SipParseError("bad port in URI", offset)


def _check_user(user: str) -> None:
    if user and _USER.fullmatch(user) is None:
        raise SipParseError("bad user part in URI", 0)


def _parse_uri_params(text: str, start: int, end: int) -> Params:
    """Parse `text[start:end]`, empty or starting with ';'."""
    if start == end:
        return Params()
    items = []
    pos = start + 1
    for piece in text[pos:end].split(";"):
        name, sep, value = piece.partition("=")
        if _PARAM_CHARS.fullmatch(name) is None:
            raise SipParseError("bad URI parameter", pos)
        if sep and _PARAM_CHARS.fullmatch(value) is None:
            raise SipParseError("bad URI parameter value", pos + len(name) + 1)
        items.append((name, value if sep else None))
        pos += len(piece) + 1
    return Params(items)


def _parse_uri_headers(text: str, start: int, end: int) -> tuple[tuple[str, str], ...]:
    headers = []
    pos = start
    for piece in text[start:end].split("&"):
        name, sep, value = piece.partition("=")
        if not sep or _HNAME.fullmatch(name) is None or _HVALUE.fullmatch(value) is None:
            raise SipParseError("bad URI header", pos)
        headers.append((name, value))
        pos += len(piece) + 1
    return tuple(headers)


def _parse_tel(text: str, scheme: str, pos: int) -> SipUri:
    semi = text.find(";", pos)
    number_end = len(text) if semi < 0 else semi
    number = text[pos:number_end]
    if _TEL_NUMBER.fullmatch(number) is None:
        raise SipParseError("bad telephone number", pos)
    return SipUri(scheme, number, None, "", None, _parse_uri_params(text, number_end, len(text)))
