"""The elements of `if` conditions, evaluated on a message (language reference §7; SER's route.c).

Each element answers 1 (true), 0 (false) or -1 (error: a missing or
unparsable From/To, a Request-URI that is not a URI). The compiler chooses
and fixes an element per comparison once, at start-up; the generated code
then calls `evaluate(ctx)`. `fallible` says whether -1 is possible, so the
compiler can use plain booleans where it is not.

String operands compare case-insensitively (ASCII only, like strcasecmp).
SER 0.8/0.9 compare only as many characters as the message value has, so
`method=="INVITEX"` is true for an INVITE; SER 2.0 needs equal lengths.
"""

from __future__ import annotations

import ipaddress
import operator
import re
import socket
from functools import lru_cache
from typing import Callable

from ser_runtime.context import RouteContext
from ser_runtime.myself import Myself
from ser_runtime.sip import SipParseError, SipUri

ERROR = -1
MAX_LEN = 65535     # SER's BUF_SIZE, the `max_len` of `msg:len >= max_len`

INT_OPERATORS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
                 "<=": operator.le, ">=": operator.ge}

_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def ascii_lower(text: str) -> str:
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


# --- operand readers: ctx -> value, None on error ------------------------------------------

def read_method(ctx: RouteContext) -> str:
    msg = ctx.msg
    return msg.method if msg.is_request else msg.version


def read_uri(ctx: RouteContext) -> str:
    msg = ctx.msg
    return msg.current_ruri if msg.is_request else str(msg.status)


def _address_uri(ctx: RouteContext, name: str) -> str | None:
    try:
        address = ctx.msg.from_ if name == "from" else ctx.msg.to
    except SipParseError:
        return None
    return None if address is None else address.uri


def read_from_uri(ctx: RouteContext) -> str | None:
    return _address_uri(ctx, "from")


def read_to_uri(ctx: RouteContext) -> str | None:
    return _address_uri(ctx, "to")


STRING_READERS: dict[str, Callable[[RouteContext], str | None]] = {
    "method": read_method, "uri": read_uri, "status": read_uri,
    "from_uri": read_from_uri, "to_uri": read_to_uri,
}


def _parsed_uri(ctx: RouteContext) -> SipUri | None:
    try:
        return ctx.parsed_uri()
    except SipParseError:
        return None


def _parsed_address_uri(ctx: RouteContext, name: str) -> SipUri | None:
    try:
        address = ctx.msg.from_ if name == "from" else ctx.msg.to
        return None if address is None else address.parsed_uri
    except SipParseError:
        return None


URI_PARSERS: dict[str, Callable[[RouteContext], SipUri | None]] = {
    "uri": _parsed_uri, "status": _parsed_uri,
    "from_uri": lambda ctx: _parsed_address_uri(ctx, "from"),
    "to_uri": lambda ctx: _parsed_address_uri(ctx, "to"),
}

IP_READERS: dict[str, Callable[[RouteContext], str]] = {
    "src_ip": lambda ctx: ctx.rcv.src_ip, "dst_ip": lambda ctx: ctx.rcv.dst_ip,
    "snd_ip": lambda ctx: ctx.onsend.src_ip, "to_ip": lambda ctx: ctx.onsend.dst_ip,
}

INT_READERS: dict[str, Callable[[RouteContext], int]] = {
    "src_port": lambda ctx: ctx.rcv.src_port, "dst_port": lambda ctx: ctx.rcv.dst_port,
    "proto": lambda ctx: ctx.rcv.proto, "af": lambda ctx: ctx.rcv.af,
    "msg:len": lambda ctx: len(ctx.msg), "$?": lambda ctx: ctx.retcode,
    "snd_port": lambda ctx: ctx.onsend.src_port, "to_port": lambda ctx: ctx.onsend.dst_port,
    "snd_proto": lambda ctx: ctx.onsend.proto, "to_proto": lambda ctx: ctx.onsend.proto,
    "snd_af": lambda ctx: ctx.onsend.af, "to_af": lambda ctx: ctx.onsend.af,
}


# --- elements ------------------------------------------------------------------------------

class Element:
    fallible = False

    def evaluate(self, ctx: RouteContext) -> int:
        raise NotImplementedError


class Constant(Element):
    def __init__(self, value: int):
        self.value = 1 if value else 0

    def evaluate(self, ctx: RouteContext) -> int:
        return self.value


class StrEquals(Element):
    """`op == "text"` / `!=`, with the dialect's length rule."""

    def __init__(self, reader, literal: str, negate: bool, prefix_quirk: bool):
        self.reader = reader
        self.literal = ascii_lower(literal)
        self.negate = negate
        self.prefix_quirk = prefix_quirk
        self.fallible = reader not in (read_method, read_uri)

    def evaluate(self, ctx: RouteContext) -> int:
        value = self.reader(ctx)
        if value is None:
            return ERROR
        value = ascii_lower(value)
        equal = self.literal.startswith(value) if self.prefix_quirk else value == self.literal
        return 1 if equal is not self.negate else 0


class StrMatch(Element):
    """`op =~ "regex"`: case-insensitive, unanchored POSIX ERE on the raw text."""

    def __init__(self, reader, regex: re.Pattern, negate: bool = False):
        self.reader = reader
        self.search = regex.search
        self.negate = negate
        self.fallible = reader not in (read_method, read_uri)

    def evaluate(self, ctx: RouteContext) -> int:
        value = self.reader(ctx)
        if value is None:
            return ERROR
        return 1 if (self.search(value) is not None) is not self.negate else 0


class UriIsMyself(Element):
    """`uri==myself`, `from_uri!=myself`, ...: the URI's host and port are ours."""

    fallible = True

    def __init__(self, parser, myself: Myself, negate: bool):
        self.parser = parser
        self.myself = myself
        self.negate = negate

    def evaluate(self, ctx: RouteContext) -> int:
        uri = self.parser(ctx)
        if uri is None:
            return ERROR
        ours = bool(uri.host) and self.myself.host_port(uri.host, uri.port)
        return 1 if ours is not self.negate else 0


class IpIsMyself(Element):
    def __init__(self, reader, myself: Myself, negate: bool):
        self.reader = reader
        self.myself = myself
        self.negate = negate

    def evaluate(self, ctx: RouteContext) -> int:
        return 1 if self.myself.address(self.reader(ctx)) is not self.negate else 0


@lru_cache(maxsize=1024)
def ip_value(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


class IpInNetwork(Element):
    """`src_ip == 10.0.0.0/8` (a bare address is a /32 or /128 network)."""

    def __init__(self, reader, network: ipaddress.IPv4Network | ipaddress.IPv6Network, negate: bool):
        self.reader = reader
        self.network = network
        self.negate = negate

    def evaluate(self, ctx: RouteContext) -> int:
        ip = ip_value(self.reader(ctx))
        inside = ip is not None and ip.version == self.network.version and ip in self.network
        return 1 if inside is not self.negate else 0


def _reverse_names(ip: str) -> list[str]:
    try:
        name, aliases, _ = socket.gethostbyaddr(ip)
    except (OSError, UnicodeError):
        return []
    return [name, *aliases]


def _forward_addresses(name: str) -> set[str]:
    try:
        infos = socket.getaddrinfo(name, None)
    except (OSError, UnicodeError):
        return set()
    return {info[4][0] for info in infos}


class IpIsNamed(Element):
    """`src_ip == host.example.com`: the text, then forward DNS, then reverse DNS (SER's comp_ip)."""

    def __init__(self, reader, name: str, negate: bool):
        self.reader = reader
        self.name = ascii_lower(name)
        self.negate = negate

    def evaluate(self, ctx: RouteContext) -> int:
        ip = self.reader(ctx)
        same = (ip == self.name or ip in _forward_addresses(self.name)
                or any(ascii_lower(n) == self.name for n in _reverse_names(ip)))
        return 1 if same is not self.negate else 0


class IpMatches(Element):
    """`src_ip =~ "regex"`: the textual address, then its reverse DNS names."""

    def __init__(self, reader, regex: re.Pattern, negate: bool = False):
        self.reader = reader
        self.search = regex.search
        self.negate = negate

    def evaluate(self, ctx: RouteContext) -> int:
        ip = self.reader(ctx)
        found = self.search(ip) is not None or any(self.search(n) for n in _reverse_names(ip))
        return 1 if found is not self.negate else 0


class IntCompare(Element):
    """src_port, dst_port, proto, af, msg:len and 2.0's $? against a number."""

    def __init__(self, reader, op: str, value: int):
        self.reader = reader
        self.compare = INT_OPERATORS[op]
        self.value = value

    def evaluate(self, ctx: RouteContext) -> int:
        return 1 if self.compare(self.reader(ctx), self.value) else 0


class ValueCompare(Element):
    """SER 2.0: an attribute or select against a value (numbers as numbers, else text)."""

    fallible = True

    def __init__(self, reader, op: str, right):
        self.reader = reader
        self.op = op
        self.right = right          # a constant, a compiled regex, or a reader

    def evaluate(self, ctx: RouteContext) -> int:
        left = self.reader(ctx)
        right = self.right(ctx) if callable(self.right) else self.right
        if left is None or right is None:
            return ERROR if self.op != "!=" else 1
        if self.op == "=~":
            return 1 if right.search(str(left)) else 0
        if isinstance(left, int) or isinstance(right, int):
            try:
                left, right = int(left), int(right)
            except ValueError:
                return ERROR
        else:
            left, right = ascii_lower(left), ascii_lower(right)
        return 1 if INT_OPERATORS[self.op](left, right) else 0


class ValueIsSet(Element):
    """SER 2.0: an attribute or select alone is true when it exists and is not empty or 0."""

    def __init__(self, reader):
        self.reader = reader

    def evaluate(self, ctx: RouteContext) -> int:
        value = self.reader(ctx)
        return 1 if value not in (None, "", 0) else 0
