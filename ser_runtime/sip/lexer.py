"""Lexical helpers shared by the header and URI parsers (RFC 3261 §25.1).

Header values are scanned as text in which CR and LF only occur as part of a
folded line, so linear whitespace (LWS) here is SP, HTAB, CR or LF; treating
a fold as plain whitespace keeps value offsets equal to message offsets.
"""

import re

from .errors import SipParseError

LWS = " \t\r\n"
# Pattern texts for building larger expressions: RFC 3261 token, optional LWS.
TOKEN_PATTERN = r"[A-Za-z0-9.!%*_+`'~\-]+"
LWS_PATTERN = r"[ \t\r\n]*"

_TOKEN = re.compile(TOKEN_PATTERN)


def is_token(text: str) -> bool:
    """True when `text` is a non-empty RFC 3261 token."""
    return _TOKEN.fullmatch(text) is not None


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink the span [start, end) of `text` past leading and trailing LWS."""
    while start < end and text[start] in LWS:
        start += 1
    while end > start and text[end - 1] in LWS:
        end -= 1
    return start, end


def split_outside_quotes(text: str, sep: str, angles: bool = False) -> list[tuple[int, int]]:
    """Spans of the pieces of `text` between separators `sep`.

    Separators inside quoted strings do not count, nor, when `angles` is set,
    inside <...> (a URI in a name-addr may carry commas in its headers part).
    """
    if '"' not in text and not (angles and "<" in text):
        return _split_plain(text, sep)
    spans = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = end_of_quoted(text, i)
            continue
        if c == "<" and angles:
            close = text.find(">", i)
            if close < 0:
                raise SipParseError("missing '>'", i)
            i = close + 1
            continue
        if c == sep:
            spans.append((start, i))
            start = i + 1
        i += 1
    spans.append((start, n))
    return spans


def _split_plain(text: str, sep: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    find = text.find
    while True:
        i = find(sep, start)
        if i < 0:
            spans.append((start, len(text)))
            return spans
        spans.append((start, i))
        start = i + 1


def end_of_quoted(text: str, start: int) -> int:
    """Index just past the quoted string opening at `text[start]` (a '"')."""
    i = start + 1
    while True:
        close = text.find('"', i)
        if close < 0:
            raise SipParseError("unterminated quoted string", start)
        backslash = text.find("\\", i, close)
        if backslash < 0:
            return close + 1
        # A backslash escapes the next character, which may be a quote.
        i = backslash + 2


def unquote(quoted: str) -> str:
    """The content of a complete quoted string, with backslash escapes undone."""
    inner = quoted[1:-1]
    if "\\" not in inner:
        return inner
    out = []
    i = 0
    while i < len(inner):
        if inner[i] == "\\" and i + 1 < len(inner):
            i += 1
        out.append(inner[i])
        i += 1
    return "".join(out)


def byte_offset(text: str, index: int) -> int:
    """The UTF-8 byte offset of `text[index]`, text being decoded with surrogateescape."""
    if text.isascii():
        return index
    return len(text[:index].encode("utf-8", "surrogateescape"))


def rebased(err: SipParseError, text: str, base: int) -> SipParseError:
    """`err`, raised with an index into `text`, moved to a message byte offset."""
    if err.offset is None:
        return SipParseError(err.what, base)
    return SipParseError(err.what, base + byte_offset(text, err.offset))
