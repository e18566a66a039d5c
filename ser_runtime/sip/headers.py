"""Header fields of a parsed message and the parsers of their values (RFC 3261 §7.3, §20).

A `HeaderField` is what the indexer found: offsets into the received bytes.
Its value is decoded and parsed only when asked for, and a parse error is
raised again on every later access, so a broken header nobody reads costs
nothing and breaks nothing.  Values keep folded lines as written; the
parsers treat a fold as whitespace.
"""

import re

from .errors import SipParseError
from .lexer import LWS, is_token, rebased, split_outside_quotes, trim
from .names import canonical_name
from .nameaddr import parse_address, parse_address_list, parse_contacts
from .params import Params, parse_header_params
from .via import parse_via

_WORD = r"[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+"
_CALL_ID = re.compile(rf"{_WORD}(?:@{_WORD})?")
_FOLD = re.compile(rb"\r?\n[ \t]+")
_UINT_MAX_DIGITS = 10
_EXPIRES_MAX = 2**32 - 1
_UNPARSED = object()


class CSeq:
    """The CSeq header: sequence number and method (RFC 3261 §20.16)."""

    __slots__ = ("number", "method")

    def __init__(self, number: int, method: str):
        self.number = number
        self.method = method

    def __repr__(self) -> str:
        return f"CSeq({self.number} {self.method})"


class ContentType:
    """A media type with parameters (RFC 3261 §20.15)."""

    __slots__ = ("type", "subtype", "params")

    def __init__(self, type_: str, subtype: str, params: Params):
        self.type = type_
        self.subtype = subtype
        self.params = params

    @property
    def mime(self) -> str:
        """"type/subtype" in lower case, for comparisons."""
        return f"{self.type}/{self.subtype}".lower()

    def __repr__(self) -> str:
        return f"ContentType({self.type}/{self.subtype}{self.params})"


def parse_cseq(text: str, base: int = 0) -> CSeq:
    parts = text.split()
    if len(parts) != 2:
        raise SipParseError("bad CSeq", 0)
    number = _decimal(parts[0], "bad CSeq")
    if number >= 2**31:
        raise SipParseError("CSeq number too large", 0)
    if not is_token(parts[1]):
        raise SipParseError("bad CSeq method", text.find(parts[1]))
    return CSeq(number, parts[1])


def parse_uint(text: str, what: str = "bad number") -> int:
    """A decimal number surrounded by optional LWS; `what` names the error."""
    return _decimal(text.strip(LWS), what)


def parse_content_length(text: str, base: int = 0) -> int:
    return parse_uint(text, "bad Content-Length")


def parse_max_forwards(text: str, base: int = 0) -> int:
    hops = parse_uint(text, "bad Max-Forwards")
    if hops > 255:
        raise SipParseError("bad Max-Forwards", 0)
    return hops


def parse_expires(text: str, base: int = 0) -> int:
    """delta-seconds; values past 2**32-1 are clamped (RFC 3261 §20.19, §25.1)."""
    digits = text.strip(LWS)
    if digits.isascii() and digits.isdigit() and len(digits.lstrip("0")) > _UINT_MAX_DIGITS:
        return _EXPIRES_MAX
    return min(_decimal(digits, "bad Expires"), _EXPIRES_MAX)


def _decimal(digits: str, what: str) -> int:
    # The length bound also keeps int() clear of its limit on huge digit strings.
    if not (digits.isascii() and digits.isdigit()) or len(digits.lstrip("0")) > _UINT_MAX_DIGITS:
        raise SipParseError(what, 0)
    return int(digits)


def parse_call_id(text: str, base: int = 0) -> str:
    call_id = text.strip(LWS)
    if _CALL_ID.fullmatch(call_id) is None:
        raise SipParseError("bad Call-ID", 0)
    return call_id


def parse_content_type(text: str, base: int = 0) -> ContentType:
    semi = text.find(";")
    head_end = len(text) if semi < 0 else semi
    type_, slash, subtype = text[:head_end].partition("/")
    type_ = type_.strip(LWS)
    subtype = subtype.strip(LWS)
    if not (slash and is_token(type_) and is_token(subtype)):
        raise SipParseError("bad Content-Type", 0)
    params = parse_header_params(text, semi + 1, len(text)) if semi >= 0 else Params()
    return ContentType(type_, subtype, params)


def split_values(text: str) -> tuple[str, ...]:
    """The comma-separated elements of a list header, trimmed, empty ones dropped.

    Commas inside quoted strings and <...> do not separate elements.
    """
    values = []
    for start, end in split_outside_quotes(text, ",", angles=True):
        start, end = trim(text, start, end)
        if start < end:
            values.append(text[start:end])
    return tuple(values)


PARSERS = {
    "via": parse_via,
    "from": parse_address,
    "to": parse_address,
    "contact": parse_contacts,
    "route": parse_address_list,
    "record-route": parse_address_list,
    "cseq": parse_cseq,
    "call-id": parse_call_id,
    "content-length": parse_content_length,
    "content-type": parse_content_type,
    "max-forwards": parse_max_forwards,
    "expires": parse_expires,
}


class HeaderField:
    """One header field of a received message, possibly spanning folded lines.

    Offsets are into the message bytes: `start` is the first byte of the
    name, `end` the first byte after the line terminator, and the value lies
    in [value_start, value_end) without surrounding whitespace.
    """

    __slots__ = ("key", "start", "colon", "end", "value_start", "value_end", "_data", "_value",
                 "_parsed")

    def __init__(self, data: bytes, key: str, start: int, colon: int, end: int):
        self._data = data
        self.key = key
        self.start = start
        self.colon = colon
        self.end = end
        value = data[colon + 1:end]
        stripped = value.lstrip(b" \t\r\n")
        self.value_start = end - len(stripped)
        self.value_end = self.value_start + len(stripped.rstrip(b" \t\r\n"))
        self._value = None
        self._parsed = _UNPARSED

    @property
    def name(self) -> str:
        """The name as written (possibly compact, any case)."""
        return self._data[self.start:self.colon].rstrip(b" \t").decode("latin-1")

    @property
    def canonical_name(self) -> str:
        return canonical_name(self.name)

    @property
    def raw(self) -> bytes:
        return self._data[self.value_start:self.value_end]

    @property
    def value(self) -> str:
        """The value text, folds kept; bytes that are not UTF-8 survive as surrogates."""
        if self._value is None:
            self._value = self.raw.decode("utf-8", "surrogateescape")
        return self._value

    @property
    def unfolded(self) -> str:
        """The value with each fold replaced by one space (RFC 3261 §7.3.1)."""
        raw = self.raw
        if b"\n" in raw:
            raw = _FOLD.sub(b" ", raw)
        return raw.decode("utf-8", "surrogateescape")

    @property
    def values(self) -> tuple[str, ...]:
        """The comma-separated elements of the value."""
        try:
            return split_values(self.value)
        except SipParseError as err:
            raise rebased(err, self.value, self.value_start) from None

    @property
    def parsed(self):
        """The typed value (see PARSERS), or the text for headers without a parser."""
        if self._parsed is _UNPARSED:
            text = self.value
            parser = PARSERS.get(self.key)
            if parser is None:
                self._parsed = text
            else:
                try:
                    self._parsed = parser(text, self.value_start)
                except SipParseError as err:
                    raise rebased(err, text, self.value_start) from None
        return self._parsed

    def __repr__(self) -> str:
        return f"HeaderField({self.name!r}: {self.value!r})"
