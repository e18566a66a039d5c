"""Addresses of From, To, Contact, Route and Record-Route (RFC 3261 §20.10, §20.20, §20.39, §25.1).

A value is `name-addr` (optional display name, then `<uri>`) or a bare
`addr-spec`.  In the bare form every `;param` belongs to the header, not to
the URI, which is why the URI text ends at the first ';' there.
"""

import re

from .errors import SipParseError
from .lexer import LWS, byte_offset, end_of_quoted, split_outside_quotes, trim, unquote
from .params import Params, parse_header_params
from .uri import SipUri

# A URI here needs a scheme and no characters that would end it early.
_URI_SHAPE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"]*")


class NameAddr:
    """One address: display name (unquoted), URI text and header parameters."""

    __slots__ = ("display", "uri", "params", "uri_offset", "_parsed_uri")

    def __init__(self, display: str | None, uri: str, params: Params, uri_offset: int = 0):
        self.display = display
        self.uri = uri
        self.params = params
        self.uri_offset = uri_offset
        self._parsed_uri = None

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    @property
    def q(self) -> str | None:
        return self.params.get("q")

    @property
    def expires(self) -> int | None:
        value = self.params.get("expires")
        if value is None:
            return None
        if not (value.isascii() and value.isdigit()):
            raise SipParseError("bad expires parameter", self.uri_offset)
        return int(value)

    @property
    def parsed_uri(self) -> SipUri:
        """The URI parsed on first use; errors point into the message."""
        if self._parsed_uri is None:
            try:
                self._parsed_uri = SipUri.parse(self.uri)
            except SipParseError as err:
                offset = self.uri_offset + byte_offset(self.uri, err.offset or 0)
                raise SipParseError(err.what, offset) from None
        return self._parsed_uri

    def __str__(self) -> str:
        display = "" if self.display is None else f'"{_quote(self.display)}" '
        return f"{display}<{self.uri}>{self.params}"

    def __repr__(self) -> str:
        return f"NameAddr({str(self)!r})"


def parse_address(text: str, base: int = 0) -> NameAddr:
    """Parse a single-address value (From, To); `base` is its byte offset in the message."""
    return _address(text, 0, len(text), base)


def parse_address_list(text: str, base: int = 0) -> tuple[NameAddr, ...]:
    """Parse a comma-separated address list (Route, Record-Route, Contact)."""
    addresses = []
    for start, end in split_outside_quotes(text, ",", angles=True):
        start, end = trim(text, start, end)
        if start < end:
            addresses.append(_address(text, start, end, base))
    if not addresses:
        raise SipParseError("empty address list", 0)
    return tuple(addresses)


def parse_contacts(text: str, base: int = 0) -> tuple[NameAddr, ...]:
    """Parse a Contact value; the wildcard `*` gives an empty tuple."""
    if is_star(text):
        return ()
    return parse_address_list(text, base)


def is_star(text: str) -> bool:
    """True for the Contact wildcard value `*` of REGISTER (RFC 3261 §10.2.2)."""
    return text.strip(LWS) == "*"


def _address(text: str, start: int, end: int, base: int) -> NameAddr:
    start, end = trim(text, start, end)
    if start == end:
        raise SipParseError("empty address", start)
    display = None
    if text[start] == '"':
        quote_end = end_of_quoted(text, start)
        display = unquote(text[start:quote_end])
        lt = trim(text, quote_end, end)[0]
        if lt == end or text[lt] != "<":
            raise SipParseError("missing '<' after display name", lt)
    else:
        lt = _unquoted_lt(text, start, end)
        if lt > start:
            display = text[start:lt].strip(LWS) or None
    if lt < 0:
        return _addr_spec(text, start, end, base)
    gt = text.find(">", lt, end)
    if gt < 0:
        raise SipParseError("missing '>'", lt)
    uri_start, uri_end = trim(text, lt + 1, gt)
    uri = _checked_uri(text, uri_start, uri_end)
    return NameAddr(display, uri, _trailing_params(text, gt + 1, end),
                    base + byte_offset(text, uri_start))


def _unquoted_lt(text: str, start: int, end: int) -> int:
    """Where `<uri>` opens, or -1 for an addr-spec (whose quoted params may hold a '<')."""
    lt = text.find("<", start, end)
    quote = text.find('"', start, end)
    return -1 if 0 <= quote < lt else lt


def _addr_spec(text: str, start: int, end: int, base: int) -> NameAddr:
    semi = text.find(";", start, end)
    uri_end = end if semi < 0 else trim(text, start, semi)[1]
    uri = _checked_uri(text, start, uri_end)
    params = parse_header_params(text, semi + 1, end) if semi >= 0 else Params()
    return NameAddr(None, uri, params, base + byte_offset(text, start))


def _trailing_params(text: str, start: int, end: int) -> Params:
    start = trim(text, start, end)[0]
    if start == end:
        return Params()
    if text[start] != ";":
        raise SipParseError("unexpected text after '>'", start)
    return parse_header_params(text, start + 1, end)


def _checked_uri(text: str, start: int, end: int) -> str:
    uri = text[start:end]
    if _URI_SHAPE.fullmatch(uri) is None:
        raise SipParseError("bad URI in address", start)
    return uri


def _quote(display: str) -> str:
    return display.replace("\\", "\\\\").replace('"', '\\"')
