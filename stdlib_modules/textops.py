"""textops: text operations on the message (SER modules/textops).

Regex search/replace on the received message buffer, header append/
remove, sed-like `subst` on the message, R-URI or its user. Regexes are
POSIX extended and case-insensitive; subst is case-sensitive unless the
`i` flag is given. 2.0 adds header-value editing functions, xlog formats
in arguments and `search` in onsend_route.

As in SER, everything works on bytes and on the message as received: the
regexes see the received buffer (edits made earlier in the script are not
visible to them), and the edits are splices applied when the message is
sent. SER's quirks kept here:

* `search` looks at the whole message; `search_append`, `replace`,
  `replace_all` and `subst` start after the first line (so they cannot
  touch the Request-URI), and regexec() stops at a NUL byte of the body.
* The regexes are compiled like regcomp(REG_EXTENDED|REG_ICASE|REG_NEWLINE)
  in the C locale: byte-wise, ASCII case folding, `.` and `[^...]` do not
  cross a line end, `^`/`$` match at line ends. A script's non-ASCII text
  stands for its UTF-8 bytes, as SER would have read them from the file.
* `remove_hf`/`is_present_hf` compare the name as written (any case): a
  compact form is another name, as SER's code does it.
* `append_urihf` writes the Request-URI as received, not a rewritten one
  (SER's REQ_LINE(msg).uri).
* Two edits of the same bytes: SER keeps the lump that starts first and
  silently ignores an overlapping one when it builds the message; here the
  later edit is dropped with a warning (the same result unless the later
  edit starts before the earlier one). The function still returns what
  SER returns, since SER only notices when sending.
* `^` matches at the start of the searched text and after each newline;
  SER 0.8's replace_all also matched it where the previous match ended
  (no REG_NOTBOL), which is not kept.
* Where SER would loop forever (replace_all on a regex that matches the
  empty string) the function logs an error and returns -1 without edits,
  which is what SER's subst and later textops versions do.

Not done: 2.0's xlog formats in string arguments (`"%$avp"`) are taken
literally, since xlog has no formatter yet; 2.0's `search` in
onsend_route searches the received message, not the bytes being sent.

Local replies: `append_to_reply` and `append_time` store header text that
SER keeps as reply lumps; `reply_headers(ctx)` gives it in the form
`Sender.reply(extra_headers=...)` takes, for every module that replies
locally (sl, tm's t_reply) to add.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.utils import formatdate

from ser_runtime import core_actions
from ser_runtime.sip import SipParseError
from ser_runtime.sip.names import header_key
from ser_script.posix_regex import RegexError, compile_ere
from stdlib_modules.exports import B, F, INT, O, R, S, V08_09, V09_20, V20, FixupError, Module, fn, param

LOG = logging.getLogger("ser.textops")

_ROF = R | O | F
_ROFB = R | O | F | B

# Where append_to_reply/append_time keep the header text for the local reply
# (SER's reply lumps). A colon is never part of a script AVP name.
REPLY_HEADERS = "textops:reply_headers"

# SER's subst_parser limits and the 2.0 hf_value index stack.
_MAX_REPLACE_WITH = 100
_MAX_HF_VALUE_STACK = 10
_SPACE = b" \t\r\n"


# --- helpers shared by the fixups --------------------------------------------------------

def script_bytes(text, position: int | None = 0) -> bytes:
    """A script string as the bytes SER would have (the file's UTF-8; \\xHH escapes as chars)."""
    try:
        return str(text).encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise FixupError(f"cannot encode {text!r}: {exc.reason}", position) from None


def compile_regex(pattern, *, icase: bool = True, newline: bool = True,
                  position: int | None = 0) -> re.Pattern[bytes]:
    """Compile like SER's regcomp(REG_EXTENDED [|REG_ICASE] [|REG_NEWLINE]), for bytes.

    FixupError names a pattern regcomp would refuse.
    """
    source = script_bytes(pattern, position).decode("latin-1")
    try:
        translated = compile_ere(source, icase, newline).pattern
        flags = (re.IGNORECASE if icase else 0) | (re.MULTILINE if newline else re.DOTALL)
        return re.compile(_posix_lines(translated, newline).encode("latin-1"), flags)
    except (RegexError, re.error, OverflowError, RecursionError) as exc:
        raise FixupError(f"bad regular expression '{pattern}': {exc}", position) from None


def _posix_lines(pattern: str, newline: bool) -> str:
    """POSIX line rules Python lacks: with REG_NEWLINE `[^...]` stops at a newline,
    without it `$` is only the end of the text (Python's also matches before a final LF)."""
    out = []
    i, n = 0, len(pattern)
    in_bracket = False
    while i < n:
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_bracket:
            in_bracket = char != "]"
            out.append(char)
        elif char == "[":
            in_bracket = True
            if newline and pattern.startswith("[^", i):
                out.append("[^\\n")
                i += 1
            else:
                out.append(char)
        elif char == "$" and not newline:
            out.append(r"\Z")
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _regex_fixup(args: tuple, state) -> tuple:
    return (compile_regex(args[0]),)


def _regex_text_fixup(args: tuple, state) -> tuple:
    return compile_regex(args[0]), script_bytes(args[1], 1)


def _name_fixup(args: tuple, state) -> tuple:
    # SER compares length and bytes (strncasecmp): no trimming, and "" never matches.
    return (script_bytes(args[0]).lower(),)


def _text_fixup(args: tuple, state) -> tuple:
    return tuple(str(arg) for arg in args)


def _two_texts_fixup(args: tuple, state) -> tuple:
    return script_bytes(args[0], 0), script_bytes(args[1], 1)


# --- the message text ------------------------------------------------------------------

def _text(msg, after_first_line: bool) -> tuple[bytes, int]:
    """The bytes regexec() sees, and their offset in msg.data: the whole message, or
    from the first header on; a NUL ends the C string early."""
    start = msg.start
    if after_first_line:
        start = msg.data.find(b"\n", start, msg.body_end) + 1 or msg.body_end
    text = msg.data[start:msg.body_end]
    nul = text.find(b"\0")
    return (text if nul < 0 else text[:nul]), start


def _edit(msg, start: int, end: int, data: bytes, who: str) -> bool:
    """Record one edit; an edit overlapping an earlier one is dropped (see the module doc)."""
    try:
        msg.replace(start, end, data)
    except SipParseError as exc:
        LOG.warning("%s: edit of bytes %d-%d dropped: %s", who, start, end, exc.what)
        return False
    return True


# --- search and replace ----------------------------------------------------------------

def search(ctx, regex: re.Pattern[bytes]) -> int:
    """The regex matches somewhere in the received message (first line, headers, body)."""
    text, _ = _text(ctx.msg, False)
    return 1 if regex.search(text) else -1


def _first_match(msg, regex: re.Pattern[bytes]) -> tuple[int, int] | None:
    """The message offsets of the first match from the first header on, or None."""
    text, base = _text(msg, True)
    match = regex.search(text)
    return None if match is None else (base + match.start(), base + match.end())


def search_append(ctx, regex: re.Pattern[bytes], data: bytes) -> int:
    """Insert `data` after the first match (searched from the first header on)."""
    span = _first_match(ctx.msg, regex)
    if span is None:
        return -1
    _edit(ctx.msg, span[1], span[1], data, "search_append")
    return 1


def replace(ctx, regex: re.Pattern[bytes], data: bytes) -> int:
    """Replace the first match (searched from the first header on) with `data`."""
    span = _first_match(ctx.msg, regex)
    if span is None:
        return -1
    _edit(ctx.msg, span[0], span[1], data, "replace")
    return 1


def replace_all(ctx, regex: re.Pattern[bytes], data: bytes) -> int:
    """Replace every match (from the first header on) with `data`."""
    text, base = _text(ctx.msg, True)
    spans = []
    for match in regex.finditer(text):
        if match.start() == match.end():
            LOG.error("replace_all: the regex matches an empty string (SER would loop forever)")
            return -1
        spans.append(match.span())
    for start, end in spans:
        _edit(ctx.msg, base + start, base + end, data, "replace_all")
    return 1 if spans else -1


# --- subst: sed-like /re/replacement/flags -----------------------------------------------

_URI = object()     # `\u` in a replacement: the current Request-URI


@dataclass(frozen=True)
class Subst:
    """A parsed subst expression (SER's struct subst_expr)."""

    regex: re.Pattern[bytes]
    parts: tuple            # bytes literals, group numbers, _URI
    replace_all: bool

    def matches(self, text: bytes, uri: bytes | None) -> list[tuple[int, int, bytes]] | None:
        """(start, end, replacement) of the first match or, with `g`, every match.

        None when a match is empty: SER's subst_run then fails and replaces nothing.
        """
        found = []
        pos = 0
        while True:
            match = self.regex.search(text, pos)
            if match is None:
                return found
            if match.start() == match.end():
                LOG.error("subst: matched string is empty, invalid regexp?")
                return None
            found.append((match.start(), match.end(), self._replacement(match, uri)))
            pos = match.end()
            if not self.replace_all:
                return found

    def substitute(self, text: bytes, uri: bytes | None) -> bytes | None:
        """`text` with the replacements made (SER's subst_str); None when nothing matched."""
        found = self.matches(text, uri)
        if not found:
            return None
        out = []
        pos = 0
        for start, end, replacement in found:
            out += [text[pos:start], replacement]
            pos = end
        out.append(text[pos:])
        return b"".join(out)

    def _replacement(self, match: re.Match, uri: bytes | None) -> bytes:
        out = []
        for part in self.parts:
            if part is _URI:
                # SER logs a bug and leaves it out for a reply.
                out.append(uri or b"")
            elif isinstance(part, int):
                out.append(match.group(part) or b"")
            else:
                out.append(part)
        return b"".join(out)


_ESCAPED = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def parse_subst(expr) -> Subst:
    """Parse `/re/repl/flags` as SER's subst_parser does; FixupError says what is wrong."""
    expr = str(expr)
    if len(expr) < 3:
        raise FixupError(f"subst expression '{expr}' is too short")
    sep = expr[0]
    if sep == "\\":
        raise FixupError(f"invalid separator '\\' in '{expr}'")
    # The regex runs to the first separator not preceded by a backslash; it is
    # compiled with that backslash, which escapes the character for regcomp too.
    re_end = next((i for i in range(1, len(expr)) if expr[i] == sep and expr[i - 1] != "\\"), None)
    if re_end is None:
        raise FixupError(f"no separator found in '{expr}'")
    parts: list = []
    literal: list[str] = []
    escapes = 0
    max_group = 0
    i = re_end + 1
    while True:
        if i >= len(expr):
            raise FixupError(f"missing separator at the end of the replacement in '{expr}'")
        char = expr[i]
        if char == sep:
            break
        i += 1
        if char != "\\":
            literal.append(char)
            continue
        if i >= len(expr):
            raise FixupError(f"missing separator at the end of the replacement in '{expr}'")
        char = expr[i]
        i += 1
        escapes += 1
        if escapes >= _MAX_REPLACE_WITH:
            raise FixupError(f"too many escapes in the replacement of '{expr}'")
        if char in _ESCAPED:
            literal.append(_ESCAPED[char])
            continue
        if char == "u" or char.isdigit() and char.isascii():
            if literal:
                parts.append(script_bytes("".join(literal)))
                literal = []
            if char == "u":
                parts.append(_URI)
            else:
                parts.append(int(char))
                max_group = max(max_group, int(char))
            continue
        if char != sep:
            LOG.warning("subst: \\%s is an unknown escape in '%s'", char, expr)
        literal.append(char)
    if literal:
        parts.append(script_bytes("".join(literal)))
    flags = expr[i + 1:]
    for flag in flags:
        if flag not in "isg":
            raise FixupError(f"unknown flag '{flag}' in '{expr}'")
    try:
        regex = compile_regex(expr[1:re_end], icase="i" in flags, newline="s" not in flags)
    except FixupError as exc:
        raise FixupError(f"{exc} in '{expr}'") from None
    if max_group > regex.groups:
        raise FixupError(f"too many back references ({max_group}) in '{expr}': "
                         f"there are only {regex.groups} subexpressions")
    return Subst(regex, tuple(parts), "g" in flags)


def _subst_fixup(args: tuple, state) -> tuple:
    return (parse_subst(args[0]),)


def _uri_bytes(ctx) -> bytes | None:
    uri = ctx.uri
    return None if uri is None else uri.encode("utf-8", "surrogateescape")


def subst(ctx, expr: Subst) -> int:
    """sed-like substitution on the message from the first header on."""
    msg = ctx.msg
    text, base = _text(msg, True)
    found = expr.matches(text, _uri_bytes(ctx))
    if not found:
        return -1
    for start, end, replacement in found:
        _edit(msg, base + start, base + end, replacement, "subst")
    return 1


def subst_uri(ctx, expr: Subst) -> int:
    """sed-like substitution on the current Request-URI; the result becomes the Request-URI."""
    uri = _uri_bytes(ctx)
    if uri is None:
        return -1
    result = expr.substitute(uri, uri)
    if result is None:
        return -1
    return core_actions.rewriteuri(ctx, result.decode("utf-8", "surrogateescape"))


def subst_user(ctx, expr: Subst) -> int:
    """sed-like substitution on the user part of the current Request-URI (SER's SET_USER)."""
    if ctx.uri is None:
        return -1
    try:
        user = ctx.parsed_uri().user or ""
    except SipParseError as exc:
        LOG.error("subst_user: bad Request-URI %r: %s", ctx.uri, exc.what)
        return -1
    result = expr.substitute(user.encode("utf-8", "surrogateescape"), _uri_bytes(ctx))
    if result is None:
        return -1
    return core_actions.rewriteuser(ctx, result.decode("utf-8", "surrogateescape"))


# --- headers ----------------------------------------------------------------------------

def _bytes_fixup(args: tuple, state) -> tuple:
    return (script_bytes(args[0]),)


def append_hf(ctx, text: bytes) -> int:
    """Add `text` (a whole header line, CRLF included, as SER wants it) after the last header."""
    msg = ctx.msg
    _edit(msg, msg.headers_end, msg.headers_end, text, "append_hf")
    return 1


def append_urihf(ctx, prefix: bytes, suffix: bytes) -> int:
    """Add prefix + Request-URI as received + suffix after the last header."""
    msg = ctx.msg
    if msg.ruri is None:
        return -1
    _edit(msg, msg.headers_end, msg.headers_end,
          prefix + msg.ruri.encode("utf-8", "surrogateescape") + suffix, "append_urihf")
    return 1


def _name(msg, field) -> bytes:
    return msg.data[field.start:field.colon].rstrip(b" \t").lower()


def remove_hf(ctx, name: bytes) -> int:
    """Remove every header called `name` (as written, any case); -1 when there was none."""
    msg = ctx.msg
    count = 0
    for field in msg.headers:
        if _name(msg, field) == name:
            _edit(msg, field.start, field.end, b"", "remove_hf")
            count += 1
    return 1 if count else -1


def remove_hf_re(ctx, regex: re.Pattern[bytes]) -> int:
    """2.0: remove every header whose name the regex matches."""
    msg = ctx.msg
    count = 0
    for field in msg.headers:
        if regex.search(msg.data[field.start:field.colon].rstrip(b" \t")):
            _edit(msg, field.start, field.end, b"", "remove_hf_re")
            count += 1
    return 1 if count else -1


def is_present_hf(ctx, name: bytes) -> int:
    """A header called `name` (as written, any case) is present."""
    msg = ctx.msg
    return 1 if any(_name(msg, field) == name for field in msg.headers) else -1


# --- text for the local reply -----------------------------------------------------------

def add_reply_text(ctx, text: str) -> None:
    """Keep header text (lines with CRLF) for the next reply made locally to this request."""
    ctx.avps.setdefault(REPLY_HEADERS, []).append(text)


def reply_headers(ctx) -> list[str]:
    """The header lines append_to_reply/append_time stored, for Sender.reply(extra_headers=...).

    One item per line, without line ends; empty lines are left out, since they
    would end the reply's header.
    """
    lines = []
    for text in ctx.avps.get(REPLY_HEADERS, ()):
        lines += [line for line in text.replace("\r\n", "\n").split("\n") if line.strip("\r")]
    return lines


def append_to_reply(ctx, text: str) -> int:
    """Add `text` (header lines with CRLF) to any reply generated locally for this request."""
    add_reply_text(ctx, text)
    return 1


def append_time(ctx) -> int:
    """Add `Date:` (RFC 1123, GMT, English names whatever the locale) to the local reply."""
    add_reply_text(ctx, f"Date: {formatdate(usegmt=True)}\r\n")
    return 1


# --- 2.0 header values: append_hf_value & co -----------------------------------------------

_APPEND, _INSERT, _REMOVE, _ASSIGN, _REMOVE2, _ASSIGN2, _INCLUDE, _EXCLUDE, _EXISTS = range(9)
_STRTOL = re.compile(r"[ \t\n\r\f\v]*[+-]?[0-9]+")


@dataclass(frozen=True)
class HeaderName:
    """SER 2.0's hname_data: `name [ [] | [*] | [n] ] [ .param ]`, fixed up for one operation."""

    oper: int
    name: str
    key: str
    all: bool
    indexed: bool
    idx: int
    param: bytes


def _parse_hname(text) -> tuple[str, bool, bool, int, str]:
    """SER's fixup_hname_param: (name, [*], [...] given, index, param name)."""
    text = str(text)
    n = len(text)

    def spaces(i: int) -> int:
        while i < n and text[i] in " \t\r\n":
            i += 1
        return i

    def word(i: int) -> int:
        while i < n and (text[i].isascii() and text[i].isalnum() or text[i] in "_-"):
            i += 1
        return i

    def error(at: int) -> FixupError:
        return FixupError(f"cannot parse header near '{text[at:]}' in '{text}'")

    start = spaces(0)
    i = word(start)
    name = text[start:i]
    if not name:
        raise error(start)
    i = spaces(i)
    indexed = everything = False
    idx = 0
    if i < n and text[i] == "[":
        indexed = True
        i = spaces(i + 1)
        if i < n and text[i] == "*":
            everything = True
            i += 1
        elif i < n and text[i] != "]":
            number = _STRTOL.match(text, i)
            if number is None:
                raise error(i)
            idx = int(number.group().strip())
            i = number.end()
        i = spaces(i)
        if i >= n or text[i] != "]":
            raise error(i)
        i = spaces(i + 1)
    param_name = ""
    if i < n and text[i] == ".":
        start = spaces(i + 1)
        i = word(start)
        param_name = text[start:i]
        if not param_name:
            raise error(start)
    if i != n:
        raise error(i)
    return name, everything, indexed, idx, param_name


def _hvalue_fixup(oper: int):
    """The fixups of the hf_value functions: what each accepts, and its default index."""
    def fixup(args: tuple, state) -> tuple:
        name, everything, indexed, idx, param_name = _parse_hname(args[0])
        if oper in (_INCLUDE, _EXCLUDE, _EXISTS):
            if indexed or param_name:
                raise FixupError(f"neither index nor param may be specified in '{args[0]}'")
        else:
            if oper in (_APPEND, _INSERT):
                if everything:
                    raise FixupError("asterisk not supported")
                if not indexed or idx == 0:
                    idx = -1 if oper == _APPEND else 1
            else:
                if everything and not param_name and oper in (_ASSIGN, _ASSIGN2):
                    raise FixupError("asterisk not supported without param")
                if not indexed or idx == 0:
                    idx, indexed = 1, True
            if idx < -_MAX_HF_VALUE_STACK:
                raise FixupError(f"index cannot be lower than {-_MAX_HF_VALUE_STACK}")
            if param_name and oper in (_APPEND, _INSERT):
                raise FixupError("param not supported")
        hname = HeaderName(oper, name, header_key(name), everything, indexed, idx, param_name.encode())
        return hname, (script_bytes(args[1], 1) if len(args) > 1 else None)
    return fixup


def _fields(msg, hname: HeaderName):
    return [field for field in msg.headers if field.key == hname.key]


def _next_value(data: bytes, pos: int, end: int) -> tuple[int, int, int, int, bool]:
    """SER's find_next_value: (value start, value end, span start, span end, more follow)."""
    span_start = pos
    while pos < end and data[pos] in _SPACE:
        pos += 1
    value_start = pos
    quoted = False
    while pos < end and (data[pos] != 0x2C or quoted):
        if data[pos] == 0x22 and (not quoted or data[pos - 1] != 0x5C):
            quoted = not quoted
        pos += 1
    value_end = pos
    while value_end > value_start and data[value_end - 1] in _SPACE:
        value_end -= 1
    if pos < end:
        pos += 1
    return value_start, value_end, span_start, pos, pos < end


def _values(data: bytes, field):
    pos, end = field.value_start, field.value_end
    while True:
        value_start, value_end, span_start, pos, more = _next_value(data, pos, end)
        yield (value_start, value_end), (span_start, pos)
        if not more:
            return


def _find_indexed(msg, hname: HeaderName, with_values: bool):
    """SER's find_hf_value_idx: (field, value span, lump span) of the idx-th value
    (or header, without values), negative counting from the end; None when there is none."""
    entries = []
    for field in _fields(msg, hname):
        if with_values:
            entries += [(field, value, span) for value, span in _values(msg.data, field)]
        else:
            entries.append((field, None, None))
        if 0 < hname.idx <= len(entries):
            return entries[hname.idx - 1]
    if hname.idx < 0 and -hname.idx <= min(len(entries), _MAX_HF_VALUE_STACK):
        return entries[hname.idx]
    return None


def _insert_header(msg, pos: int, hname: HeaderName, value: bytes) -> int:
    _edit(msg, pos, pos, hname.name.encode() + b": " + value + b"\r\n", "hf_value")
    return 1


def _insert_value(msg, field, pos: int, value: bytes) -> int:
    if field is None:
        text = value
    elif pos == field.value_end:
        text = b"," + value
    else:
        text = value + b","
    _edit(msg, pos, pos, text, "hf_value")
    return 1


def _delete_value(msg, field, span: tuple[int, int]) -> int:
    if field is not None and span == (field.value_start, field.value_end):
        _edit(msg, field.start, field.end, b"", "hf_value")
    else:
        _edit(msg, span[0], span[1], b"", "hf_value")
    return 1


def _for_delete(field, span: tuple[int, int]) -> tuple[int, int]:
    # The last value takes the comma before it along.
    if span[1] == field.value_end and span[0] > field.value_start:
        return span[0] - 1, span[1]
    return span


def _params_start(data: bytes, start: int, end: int) -> int:
    """SER's get_uri_and_skip_until_params: past `[name] <uri>` or a bare URI to the first ';'."""
    i = start
    while i < end and data[i] != 0x3B:
        quoted = False
        while i < end:
            c = data[i]
            if not quoted:
                if c == 0x22:
                    quoted = True
                elif c in b"<;" or c in _SPACE:
                    break
            elif c == 0x22 and data[i - 1] != 0x5C:
                quoted = False
            i += 1
        while i < end and data[i] in _SPACE:
            i += 1
        if i < end and data[i] == 0x3C:
            quoted = False
            while i < end:
                c = data[i]
                if not quoted:
                    if c == 0x22:
                        quoted = True
                    elif c == 0x3E:
                        break
                elif c == 0x22 and data[i - 1] != 0x5C:
                    quoted = False
                i += 1
    return i


def _param_value_end(data: bytes, i: int, end: int, stops: bytes) -> int:
    if i < end and data[i] == 0x22:
        i += 1
        while i < end:
            i += 1
            if data[i - 1] == 0x22:
                break
        return i
    while i < end and data[i] not in _SPACE and data[i] not in stops:
        i += 1
    return i


def _find_param(data: bytes, start: int, end: int, name: bytes):
    """SER's find_hf_value_param over `;name=value` lists: (found, update span, delete span);
    not found, the delete span is the empty span where a new parameter goes."""
    i = start
    while True:
        del_start = i
        while i < end and data[i] in _SPACE:
            i += 1
        if not (i < end and data[i] == 0x3B):
            return False, None, (del_start, del_start)
        i += 1
        while i < end and data[i] in _SPACE:
            i += 1
        j = i
        while i < end and data[i] not in _SPACE and data[i] not in b"=;":
            i += 1
        found = data[j:i].lower() == name.lower()
        upd_start = i
        while i < end and data[i] in _SPACE:
            i += 1
        if i < end and data[i] == 0x3D:
            i += 1
            while i < end and data[i] in _SPACE:
                i += 1
            i = _param_value_end(data, i, end, b";")
        if found:
            return True, (upd_start, i), (del_start, i)


def _is_alnum(c: int) -> bool:
    return 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A or c in b"_-"


def _find_param2(data: bytes, start: int, end: int, name: bytes):
    """SER's find_hf_value2_param over `a=1, b="2"` lists: (found, update span, delete span, delimiter)."""
    i = start
    delim = b""
    while i < end:
        del_start = i
        while i < end and data[i] in _SPACE:
            i += 1
        comma = i < end and data[i] == 0x2C
        if comma:
            i += 1
        while i < end and data[i] in _SPACE:
            i += 1
        if i < end and _is_alnum(data[i]):
            j = i
            delim = delim or b" "
            while i < end and _is_alnum(data[i]):
                i += 1
            k = i
            while i < end and data[i] in _SPACE:
                i += 1
            upd_start = i
            if i < end and data[i] == 0x3D:
                delim = b","
                i += 1
                found = data[j:k].lower() == name.lower()
                while i < end and data[i] in _SPACE:
                    i += 1
                i = _param_value_end(data, i, end, b",")
                if found:
                    upd = (upd_start, i)
                    del_end = i
                    while i < end and data[i] in _SPACE:
                        i += 1
                    if not comma and i < end and data[i] == 0x2C:
                        del_end = i + 1
                    return True, upd, (del_start, del_end), delim
            while i < end and data[i] in _SPACE:
                i += 1
        else:
            # SER's test here is always true: it skips to the next space.
            while i < end and data[i] not in _SPACE:
                i += 1
    return False, None, (i, i), delim


def _assign_param(msg, hname: HeaderName, value: bytes | None, found: bool, upd, delete,
                  delim: bytes) -> int:
    """SER's assign_hf_do_lumping."""
    if found:
        span = upd if value is not None else delete
        if span[1] > span[0]:
            _edit(msg, span[0], span[1], b"", "hf_value")
        if value:
            _edit(msg, upd[0], upd[0], b"=" + value, "hf_value")
        return 1
    if value is None:
        return -1
    text = delim + hname.param + (b"=" + value if value else b"")
    _edit(msg, delete[0], delete[0], text, "hf_value")
    return 1


def _process_params(msg, hname: HeaderName, value: bytes | None, start: int, end: int) -> int:
    data = msg.data
    start = _params_start(data, start, end)
    result = 0
    while True:
        found, upd, delete = _find_param(data, start, end, hname.param)
        outcome = _assign_param(msg, hname, value, found, upd, delete, b";")
        result = result or outcome
        if value is not None or not found:
            return result
        start = delete[1]


def _process_params2(msg, hname: HeaderName, value: bytes | None, field) -> int:
    data = msg.data
    start, end = field.value_start, field.value_end
    result = 0
    while True:
        found, upd, delete, delim = _find_param2(data, start, end, hname.param)
        outcome = _assign_param(msg, hname, value, found, upd, delete, delim)
        result = result or outcome
        if value is not None or not found:
            return result
        start = delete[1]


def hf_value(ctx, hname: HeaderName, value: bytes | None) -> int:
    """2.0's append/insert/remove/assign_hf_value[2] (SER's insupddel_hf_value_f)."""
    msg = ctx.msg
    oper = hname.oper
    if oper == _APPEND:
        if not hname.indexed:
            return _insert_header(msg, msg.headers_end, hname, value)
        found = _find_indexed(msg, hname, True)
        if found is None:
            return _insert_header(msg, msg.headers_end, hname, value)
        field, _, span = found
        return _insert_value(msg, field, span[1], value)
    if oper == _INSERT:
        found = _find_indexed(msg, hname, True)
        if found is not None and not hname.indexed:
            return _insert_header(msg, found[0].start, hname, value)
        if found is None:
            return _insert_header(msg, msg.headers_end, hname, value) if hname.idx == 1 else -1
        field, _, span = found
        return _insert_value(msg, field, span[0], value)
    two = oper in (_REMOVE2, _ASSIGN2)
    if hname.all:
        result = -1
        for field in _fields(msg, hname):
            if not hname.param:
                result = 1
                _delete_value(msg, field, (field.value_start, field.value_end))
            elif two:
                if _process_params2(msg, hname, value, field) > 0:
                    result = 1
            else:
                for span, _ in _values(msg.data, field):
                    if _process_params(msg, hname, value, *span) > 0:
                        result = 1
        return result
    if hname.idx == 0:
        return -1
    found = _find_indexed(msg, hname, not two)
    if found is None:
        return -1
    field, value_span, span = found
    if two:
        value_span = span = (field.value_start, field.value_end)
    if hname.param:
        if two:
            return _process_params2(msg, hname, value, field)
        return _process_params(msg, hname, value, *value_span)
    if oper in (_REMOVE, _REMOVE2):
        return _delete_value(msg, field, span if two else _for_delete(field, span))
    _delete_value(msg, None, value_span)
    if value:
        return _insert_value(msg, None, value_span[0], value)
    return 1


def hf_value_set(ctx, hname: HeaderName, value: bytes) -> int:
    """2.0's include_hf_value/exclude_hf_value/hf_value_exists (SER's incexc_hf_value_f)."""
    msg = ctx.msg
    if not value:
        return -1
    wanted = value.lower()
    first = None
    for field in _fields(msg, hname):
        for (start, end), span in _values(msg.data, field):
            if end > start and msg.data[start:end].lower() == wanted:
                if hname.oper in (_INCLUDE, _EXISTS):
                    return 1
                _delete_value(msg, field, _for_delete(field, span))
        if first is None:
            first = field
    if hname.oper == _EXISTS:
        return -1
    if hname.oper == _INCLUDE:
        if first is not None:
            return _insert_value(msg, first, first.value_end, value)
        return _insert_header(msg, msg.headers_end, hname, value)
    return 1


EXPORTS = Module(
    name="textops",
    doc="message text operations",
    functions=(
        fn("search", 1, _ROF, dialects=V08_09, doc="regex found anywhere in the message",
           impl=search, fixup=_regex_fixup),
        fn("search", 1, _ROF | S, dialects=V20, doc="regex found anywhere in the message (also onsend)",
           impl=search, fixup=_regex_fixup),
        fn("search_append", 2, _ROF, doc="insert text after the first match: regex, text",
           impl=search_append, fixup=_regex_text_fixup),
        fn("replace", 2, _ROF, doc="replace the first match: regex, text",
           impl=replace, fixup=_regex_text_fixup),
        fn("replace_all", 2, _ROF, doc="replace all matches: regex, text",
           impl=replace_all, fixup=_regex_text_fixup),
        fn("subst", 1, _ROF, doc="sed-like /re/repl/flags on the message", impl=subst, fixup=_subst_fixup),
        fn("subst_uri", 1, _ROF, doc="sed-like /re/repl/flags on the R-URI",
           impl=subst_uri, fixup=_subst_fixup),
        fn("subst_user", 1, _ROF, dialects=V09_20, doc="sed-like /re/repl/flags on the R-URI user",
           impl=subst_user, fixup=_subst_fixup),
        fn("append_to_reply", 1, R, doc="add header text to locally generated replies",
           impl=append_to_reply, fixup=_text_fixup),
        fn("append_hf", 1, _ROF, dialects=V08_09, doc="append a header (text incl. CRLF)",
           impl=append_hf, fixup=_bytes_fixup),
        fn("append_hf", 1, _ROFB, dialects=V20, doc="append a header (text incl. CRLF)",
           impl=append_hf, fixup=_bytes_fixup),
        fn("append_urihf", 2, R | F, doc="append prefix + R-URI + suffix as a header",
           impl=append_urihf, fixup=_two_texts_fixup),
        fn("remove_hf", 1, _ROF, doc="remove all headers with the name", impl=remove_hf, fixup=_name_fixup),
        fn("remove_hf_re", 1, _ROF, dialects=V20, doc="remove all headers whose name matches the regex",
           impl=remove_hf_re, fixup=_regex_fixup),
        fn("is_present_hf", 1, _ROF, doc="a header with the name is present",
           impl=is_present_hf, fixup=_name_fixup),
        fn("append_time", 0, R, dialects=V09_20, doc="add Date: to the reply of this request",
           impl=append_time),
        fn("append_hf_value", 2, _ROFB, dialects=V20, doc="append a value to a header: header, value",
           impl=hf_value, fixup=_hvalue_fixup(_APPEND)),
        fn("insert_hf_value", 2, _ROFB, dialects=V20, doc="insert a value into a header",
           impl=hf_value, fixup=_hvalue_fixup(_INSERT)),
        fn("remove_hf_value", 1, _ROFB, dialects=V20, doc="remove a header value",
           impl=hf_value, fixup=_hvalue_fixup(_REMOVE)),
        fn("assign_hf_value", 2, _ROFB, dialects=V20, doc="set a header value",
           impl=hf_value, fixup=_hvalue_fixup(_ASSIGN)),
        fn("remove_hf_value2", 1, _ROFB, dialects=V20, doc="remove a header value (all occurrences)",
           impl=hf_value, fixup=_hvalue_fixup(_REMOVE2)),
        fn("assign_hf_value2", 2, _ROFB, dialects=V20, doc="set a header value (all occurrences)",
           impl=hf_value, fixup=_hvalue_fixup(_ASSIGN2)),
        fn("include_hf_value", 2, _ROFB, dialects=V20, doc="add a value to a header unless present",
           impl=hf_value_set, fixup=_hvalue_fixup(_INCLUDE)),
        fn("exclude_hf_value", 2, _ROFB, dialects=V20, doc="remove a value from a header",
           impl=hf_value_set, fixup=_hvalue_fixup(_EXCLUDE)),
        fn("hf_value_exists", 2, _ROFB, dialects=V20, doc="header contains the value",
           impl=hf_value_set, fixup=_hvalue_fixup(_EXISTS)),
    ),
    params=(
        param("xlbuf_size", INT, 4096, V20, doc="buffer for xlog-formatted arguments"),
    ),
)
