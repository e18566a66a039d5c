"""POSIX extended regular expressions (as SER's regcomp() reads them) in Python's `re`.

SER compiles `=~` operands and module regexes with regcomp(REG_EXTENDED |
REG_ICASE): bracket expressions know `[:alpha:]` classes, a backslash inside
brackets is literal, `]` first in a bracket is literal, and GNU adds `\\<`,
`\\>`, `\\w`, `\\s`, `\\b`. Python's syntax differs on each of these, so the
pattern is translated before compiling.
"""

from __future__ import annotations

import re

_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z",
    "lower": "a-z", "space": r" \t\n\r\f\v", "blank": r" \t", "punct": r"!-/:-@\[-`{-~",
    "xdigit": "0-9A-Fa-f", "cntrl": r"\x00-\x1f\x7f", "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
}
_GNU_ESCAPES = {"<": r"\b(?=\w)", ">": r"\b(?<=\w)", "w": r"\w", "W": r"\W",
                "s": r"\s", "S": r"\S", "b": r"\b", "B": r"\B", "`": r"\A", "'": r"\Z"}


class RegexError(ValueError):
    """The pattern is not a valid extended regular expression."""


def translate(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "[":
            text, i = _bracket(pattern, i)
            out.append(text)
            continue
        if char == "\\":
            if i + 1 >= len(pattern):
                raise RegexError("trailing backslash")
            nxt = pattern[i + 1]
            out.append(_GNU_ESCAPES.get(nxt) or (re.escape(nxt) if not nxt.isdigit() else "\\" + nxt))
            i += 2
            continue
        if char == "(" and pattern.startswith("(?", i):
            raise RegexError("'?' cannot follow '('")
        out.append(char)
        i += 1
    return "".join(out)


def _bracket(pattern: str, start: int) -> tuple[str, int]:
    i = start + 1
    parts = ["["]
    if i < len(pattern) and pattern[i] == "^":
        parts.append("^")
        i += 1
    first = True
    while i < len(pattern):
        char = pattern[i]
        if char == "]" and not first:
            parts.append("]")
            return "".join(parts), i + 1
        if pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            name = pattern[i + 2:end] if end >= 0 else ""
            if name not in _CLASSES:
                raise RegexError(f"unknown character class '[:{name}:]'")
            parts.append(_CLASSES[name])
            i = end + 2
        else:
            parts.append("\\" + char if char in "\\[]^" else char)
            i += 1
        first = False
    raise RegexError("unmatched '['")


def compile_ere(pattern: str, icase: bool = True, newline: bool = False) -> re.Pattern[str]:
    """Compile like regcomp(REG_EXTENDED [| REG_ICASE] [| REG_NEWLINE])."""
    flags = re.IGNORECASE if icase else 0
    if newline:
        flags |= re.MULTILINE
    else:
        flags |= re.DOTALL
    try:
        return re.compile(translate(pattern), flags)
    except re.error as exc:
        raise RegexError(str(exc)) from None
    except OverflowError:
        raise RegexError("repetition count too large") from None
