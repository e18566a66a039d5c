"""Values of SER's lexical tokens: numbers, strings, IP addresses (cfg.lex).

SER reads `0644` as octal and IPv4 octets as separate numbers, so an octet with
a leading zero is octal too: `192.168.010.1` is 192.168.8.1. String escapes
grew between versions: 0.8 knew only `\\n \\r \\a \\t \\\\`; 0.9 added `\\"`,
`\\xHH`, two- or three-digit octal and backslash-newline. An unknown escape is
kept with its backslash, so `"\\1"` reaches subst() unchanged.
"""

from __future__ import annotations

import ipaddress
import re

BOOL_WORDS = {
    "yes": 1, "true": 1, "on": 1, "enable": 1,
    "no": 0, "false": 0, "off": 0, "disable": 0,
}
# AF_INET / AF_INET6 as Linux numbers them.
FAMILY_WORDS = {"inet": 2, "INET": 2, "inet6": 10, "INET6": 10}

_SIMPLE_ESCAPES_08 = {"n": "\n", "r": "\r", "a": "\a", "t": "\t", "\\": "\\"}
_ESCAPE_09 = re.compile(r'\\(?:x([0-9A-Fa-f]{1,2})|([0-7]{2,3})|([nrat\\"])|(\n)|([\s\S]))')


def number_value(text: str) -> int | None:
    """The value of a NUMBER token, or None if it is not a valid SER number."""
    if text.lower().startswith("0x"):
        return int(text, 16)
    if text.endswith("b"):
        return int(text[:-1], 2)
    digits = text.lstrip("-")
    if len(digits) > 1 and digits.startswith("0"):
        if any(c in "89" for c in digits):
            return None
        value = int(digits, 8)
        return -value if text.startswith("-") else value
    return int(text)


def decode_string(token: str, dialect: str) -> tuple[str, str]:
    """(value, quote) of a STRING token, decoded with the dialect's escapes."""
    quote, body = token[0], token[1:-1]
    if quote == "'":
        return body, quote
    if dialect == "0.8":
        return re.sub(r"\\([nrat\\])", lambda m: _SIMPLE_ESCAPES_08[m.group(1)], body), quote
    return _ESCAPE_09.sub(_escape_09, body), quote


def _escape_09(match: re.Match[str]) -> str:
    hex_digits, octal, simple, newline, other = match.groups()
    if hex_digits is not None:
        return chr(int(hex_digits, 16))
    if octal is not None:
        return chr(int(octal, 8) & 0xFF)
    if simple is not None:
        return _SIMPLE_ESCAPES_08.get(simple, simple)
    if newline is not None:
        return ""
    return "\\" + other


def ipv4_value(text: str) -> ipaddress.IPv4Address | None:
    """The address of a dotted IPv4 token, octets read as SER numbers; None if invalid."""
    octets = [number_value(part) for part in text.split(".")]
    if any(o is None or not 0 <= o <= 255 for o in octets):
        return None
    return ipaddress.IPv4Address(".".join(str(o) for o in octets))


def has_octal_octet(text: str) -> bool:
    return any(len(p) > 1 and p.startswith("0") for p in text.split("."))


def ipv6_value(text: str) -> ipaddress.IPv6Address | None:
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        return None
