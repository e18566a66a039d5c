"""Ordered `;name=value` parameter lists of SIP headers and URIs (RFC 3261 §7.3.1, §19.1.1, §25.1).

Names compare case-insensitively but are kept as written, and so are values
(a quoted value keeps its quotes), so that a parsed list prints back exactly.
A parameter without '=' has the value None; `name=` has the value "".
"""

import re

from .errors import SipParseError
from .lexer import TOKEN_PATTERN, end_of_quoted, is_token, split_outside_quotes, trim

# gen-value = token / host / quoted-string; the quoted form is checked apart.
_VALUE = r"[A-Za-z0-9.!%*_+`'~\-\[\]:]*"
_HEADER_VALUE = re.compile(_VALUE)
# The usual case, no whitespace and no quotes, validated in one match.
_PLAIN_PARAMS = re.compile(rf"{TOKEN_PATTERN}(?:={_VALUE})?(?:;{TOKEN_PATTERN}(?:={_VALUE})?)*")


class Params:
    """An immutable, ordered list of (name, value) pairs."""

    __slots__ = ("_items",)

    def __init__(self, items=()):
        self._items = tuple(items)

    def get(self, name: str, default=None):
        """The value of the first parameter called `name`, or `default` when absent."""
        name = name.lower()
        for key, value in self._items:
            if key.lower() == name:
                return value
        return default

    def __contains__(self, name: str) -> bool:
        name = name.lower()
        return any(key.lower() == name for key, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def __eq__(self, other) -> bool:
        return isinstance(other, Params) and self._items == other._items

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"Params({list(self._items)!r})"

    def __str__(self) -> str:
        return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self._items)


def parse_header_params(text: str, start: int, end: int) -> Params:
    """Parse `text[start:end]`, the parameters after a header value's first ';'.

    LWS is allowed around ';' and '=' (SEMI and EQUAL of RFC 3261 §25.1).
    Error offsets are indexes into `text`.
    """
    chunk = text[start:end]
    items = []
    if _PLAIN_PARAMS.fullmatch(chunk) is not None:
        for piece in chunk.split(";"):
            name, sep, value = piece.partition("=")
            items.append((name, value if sep else None))
        return Params(items)
    for piece_start, piece_end in split_outside_quotes(chunk, ";"):
        items.append(_header_param(text, start + piece_start, start + piece_end))
    return Params(items)


def _header_param(text: str, start: int, end: int) -> tuple[str, str | None]:
    start, end = trim(text, start, end)
    if start == end:
        raise SipParseError("empty parameter", start)
    eq = text.find("=", start, end)
    if eq < 0:
        name_end = end
    else:
        name_end = trim(text, start, eq)[1]
    name = text[start:name_end]
    if not is_token(name):
        raise SipParseError("bad parameter name", start)
    if eq < 0:
        return name, None
    value_start, value_end = trim(text, eq + 1, end)
    value = text[value_start:value_end]
    if value.startswith('"'):
        if end_of_quoted(text, value_start) != value_end:
            raise SipParseError("text after quoted parameter value", value_start)
    elif _HEADER_VALUE.fullmatch(value) is None:
        raise SipParseError("bad parameter value", value_start)
    return name, value
