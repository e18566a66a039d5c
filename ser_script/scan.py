"""Comment removal for ser.cfg, ahead of the Lark parser.

SER's lexer (cfg.lex) lets `/* */` comments nest, which no regular expression
can follow, so comments are blanked here instead: every comment character
except newlines becomes a space, keeping every line and column of the text the
parser sees identical to the file. Strings are skipped over so that `#` or
`/*` inside them stay literal. A backslash before a newline outside a string is
SER's line continuation; it is blanked too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The characters that can start something the scanner must look at.
_INTERESTING = re.compile(r"""["'#/\\]""")
_DQ_STRING = re.compile(r'"(?:[^"\\]|\\[\s\S])*"')
_SQ_STRING = re.compile(r"'[^']*'")
_BLOCK_EDGE = re.compile(r"/\*|\*/")


@dataclass(frozen=True, slots=True)
class ScanIssue:
    offset: int
    message: str
    is_error: bool


def blank(text: str, start: int, end: int) -> str:
    """The slice text[start:end] with everything but newlines turned into spaces."""
    return re.sub(r"[^\n]", " ", text[start:end])


def strip_comments(text: str) -> tuple[str, list[ScanIssue]]:
    """Return the text with comments blanked, and what was wrong with them."""
    out: list[str] = []
    issues: list[ScanIssue] = []
    pos = 0
    while True:
        match = _INTERESTING.search(text, pos)
        if match is None:
            out.append(text[pos:])
            break
        start = match.start()
        out.append(text[pos:start])
        char = text[start]
        if char == '"' or char == "'":
            # An unterminated string is left for the parser to report.
            string = (_DQ_STRING if char == '"' else _SQ_STRING).match(text, start)
            end = string.end() if string else len(text)
            out.append(text[start:end])
        elif char == "#":
            end = _hash_comment_end(text, start, issues)
            out.append(blank(text, start, end))
        elif text.startswith("/*", start):
            end = _block_comment_end(text, start, issues)
            out.append(blank(text, start, end))
        elif char == "\\" and text.startswith("\n", start + 1):
            end = start + 1
            out.append(" ")
        else:
            end = start + 1
            out.append(char)
        pos = end
    return "".join(out), issues


def _hash_comment_end(text: str, start: int, issues: list[ScanIssue]) -> int:
    newline = text.find("\n", start)
    if newline >= 0:
        return newline
    issues.append(ScanIssue(
        start,
        "a '#' comment on the last line needs a newline after it; SER reads it as code",
        is_error=False,
    ))
    return len(text)


def _block_comment_end(text: str, start: int, issues: list[ScanIssue]) -> int:
    depth = 0
    pos = start
    while True:
        edge = _BLOCK_EDGE.search(text, pos)
        if edge is None:
            issues.append(ScanIssue(start, "unterminated /* comment", is_error=True))
            return len(text)
        depth += 1 if edge.group() == "/*" else -1
        pos = edge.end()
        if depth == 0:
            return pos
