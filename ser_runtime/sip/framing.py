"""Finding the parts of a SIP message in its bytes (RFC 3261 §7.1-§7.5, §18.3).

`index_message` is the hot path run on every received datagram: one search
finds the empty line, one split yields the lines, and a short loop records
each header's name and offsets, enforcing the size limits on the way.
Header values are left untouched; `headers.HeaderField` parses them on
demand.

Leniency for real user agents: LF-only line ends, CRLFs before the start
line (keep-alives), whitespace before ':', names in any case and compact
form, methods in any case (kept as written).
"""

import re

from .errors import SipParseError
from .lexer import TOKEN_PATTERN, is_token
from .names import KEYS_BY_BYTES

MAX_MESSAGE = 65535
MAX_HEADERS = 256
MAX_LINE = 8192

EMPTY_LINE = re.compile(rb"\n\r?\n")
_KEEPALIVES = re.compile(rb"[\r\n]*")
_VERSION = re.compile(r"SIP/[0-9]+\.[0-9]+", re.IGNORECASE)
_TOKEN_BYTES = re.compile(TOKEN_PATTERN.encode())
_CONTENT_LENGTH = "content-length"


class Layout:
    """Where everything is in one message; offsets are into the original bytes.

    Header entries are tuples (key, start, colon, end): the offsets of the
    name, of the ':' and just past the line terminator (of the last line
    when folded).  `headers_end` is the offset of the empty line,
    `body_start` the offset after it.
    """

    __slots__ = ("start", "is_request", "method", "ruri", "version", "status", "reason",
                 "entries", "headers_end", "body_start", "content_length")


def skip_keepalives(data: bytes) -> int:
    """The offset of the first byte that is not part of a leading CR/LF run."""
    return _KEEPALIVES.match(data).end()


def index_message(data: bytes, pos: int, layout: Layout) -> None:
    """Fill `layout` for the message starting at `pos` (after any keep-alive CRLFs)."""
    empty = EMPTY_LINE.search(data, pos)
    if empty is None:
        if data.find(b"\n", pos) < 0:
            raise SipParseError("no end of start line", len(data))
        raise SipParseError("no empty line after the headers", len(data))
    last_nl = empty.start()
    # One split yields every line; each may still end in the CR of its CRLF.
    block = data[pos:last_nl]
    _check_bytes(block, pos)
    lines = block.split(b"\n")
    layout.start = pos
    _start_line(lines[0], pos, layout)
    entries, lengths = _header_lines(lines, pos + len(lines[0]) + 1)
    layout.entries = entries
    layout.headers_end = last_nl + 1
    layout.body_start = empty.end()
    layout.content_length = _content_length(data, lengths)


def _check_bytes(block: bytes, pos: int) -> None:
    # A lone CR would let a value smuggle in what another parser reads as a
    # line break; NUL truncates C strings downstream.  The block's last CR
    # belongs to a CRLF whose LF lies just past the block.
    crs = block.count(b"\r")
    if crs and crs != block.count(b"\r\n") + (block[-1] == 13):
        raise SipParseError("bare CR in header", pos + _first_bare_cr(block))
    nul = block.find(b"\0")
    if nul >= 0:
        raise SipParseError("NUL byte in header", pos + nul)


def _first_bare_cr(block: bytes) -> int:
    cr = block.find(b"\r")
    while block[cr + 1:cr + 2] == b"\n":
        cr = block.find(b"\r", cr + 1)
    return cr


def _start_line(line: bytes, pos: int, layout: Layout) -> None:
    if line[-1:] == b"\r":
        line = line[:-1]
    if len(line) > MAX_LINE:
        raise SipParseError("start line too long", pos)
    try:
        text = line.decode()
    except UnicodeDecodeError as err:
        raise SipParseError("start line is not UTF-8", pos + err.start) from None
    if text[:4].upper() == "SIP/":
        _status_line(text, pos, layout)
    else:
        _request_line(text, pos, layout)


def _is_version(text: str) -> bool:
    return text == "SIP/2.0" or _VERSION.fullmatch(text) is not None


def _request_line(line: str, pos: int, layout: Layout) -> None:
    parts = line.split()
    if len(parts) != 3:
        raise SipParseError("bad request line", pos)
    method, ruri, version = parts
    if not ((method.isalpha() and method.isascii()) or is_token(method)):
        raise SipParseError("bad method", pos)
    if not _is_version(version):
        raise SipParseError("bad SIP version", pos + line.rfind(version))
    layout.is_request = True
    layout.method = method
    layout.ruri = ruri
    layout.version = version
    layout.status = None
    layout.reason = None


def _status_line(line: str, pos: int, layout: Layout) -> None:
    parts = line.split(None, 2)
    if not _is_version(parts[0]):
        raise SipParseError("bad SIP version", pos)
    code = parts[1] if len(parts) > 1 else ""
    if not (len(code) == 3 and code.isascii() and code.isdigit() and "100" <= code <= "699"):
        raise SipParseError("bad status code", pos + len(parts[0]))
    layout.is_request = False
    layout.method = None
    layout.ruri = None
    layout.version = parts[0]
    layout.status = int(code)
    layout.reason = parts[2].rstrip() if len(parts) > 2 else ""


def _header_lines(lines: list[bytes], pos: int) -> tuple[list, list]:
    """Index the header lines (lines[1:]; lines[0] is the start line) starting at `pos`.

    Returns the entries and those naming Content-Length.
    """
    entries = []
    lengths = []
    keys = KEYS_BY_BYTES
    rest = iter(lines)
    next(rest)
    for line in rest:
        size = len(line)
        if size > MAX_LINE and len(line.rstrip(b"\r")) > MAX_LINE:
            raise SipParseError("header line too long", pos)
        first = line[0]
        if first == 32 or first == 9:
            _fold_into_last(entries, pos, line)
        else:
            colon = line.find(b":")
            if colon < 0:
                raise SipParseError("header line without ':'", pos)
            key = keys.get(line[:colon]) or _unlisted_key(line, colon, pos)
            entry = (key, pos, pos + colon, pos + size + 1)
            entries.append(entry)
            if key == _CONTENT_LENGTH:
                lengths.append(entry)
        pos += size + 1
    if len(entries) > MAX_HEADERS:
        raise SipParseError("too many header lines", entries[MAX_HEADERS][1])
    return entries, lengths


def _fold_into_last(entries: list, pos: int, line: bytes) -> None:
    # A line starting with whitespace continues the previous header (§7.3.1);
    # the length limit applies to the whole field, folds included.
    if not entries:
        raise SipParseError("folded line without a header", pos)
    key, start, colon, _ = entries[-1]
    if pos + len(line.rstrip(b"\r")) - start > MAX_LINE:
        raise SipParseError("header line too long", start)
    entries[-1] = (key, start, colon, pos + len(line) + 1)


def _unlisted_key(line: bytes, colon: int, pos: int) -> str:
    name = line[:colon].rstrip(b" \t")
    key = KEYS_BY_BYTES.get(name) or KEYS_BY_BYTES.get(name.lower())
    if key is not None:
        return key
    if _TOKEN_BYTES.fullmatch(name) is None:
        raise SipParseError("bad header name", pos)
    return name.lower().decode("ascii")


def _content_length(data: bytes, entries: list) -> int | None:
    length = None
    for _, start, colon, end in entries:
        digits = data[colon + 1:end].strip(b" \t\r\n")
        if not digits.isdigit() or len(digits.lstrip(b"0")) > 5:
            raise SipParseError("bad Content-Length", start)
        value = int(digits)
        if length is not None and value != length:
            raise SipParseError("conflicting Content-Length", start)
        length = value
    return length
