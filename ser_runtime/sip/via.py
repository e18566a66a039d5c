"""The Via header (RFC 3261 §20.42 and §18.2, rport from RFC 3581).

One Via header line may carry several via-parms separated by commas; each
becomes a `Via`.  `end_offset` is the message byte offset just past a
via-parm's last parameter, where a proxy appends `;received=` and `;rport=`.
"""

import re

from .errors import SipParseError
from .lexer import LWS_PATTERN, TOKEN_PATTERN, byte_offset, split_outside_quotes, trim
from .params import Params, parse_header_params
from .uri import validate_host, validate_port

# sent-protocol LWS sent-by, with the optional LWS around '/' and ':' of §25.1;
# the host is checked apart to tell a bad host from a bad layout.
_SENT = re.compile(
    rf"""
    ({TOKEN_PATTERN}) {LWS_PATTERN} / {LWS_PATTERN} ({TOKEN_PATTERN})   # protocol / version
    {LWS_PATTERN} / {LWS_PATTERN} ({TOKEN_PATTERN})                     # / transport
    [ \t\r\n]+
    (\[[^\]]*\] | [^ \t\r\n:\[\]]+)                                     # host or [IPv6]
    (?: {LWS_PATTERN} : {LWS_PATTERN} ([0-9]+) )?                       # : port
    {LWS_PATTERN}
    """,
    re.VERBOSE,
)


class Via:
    """One via-parm: sent-protocol, sent-by and parameters."""

    __slots__ = ("protocol", "version", "transport", "host", "port", "params", "end_offset")

    def __init__(self, protocol: str, version: str, transport: str, host: str,
                 port: int | None, params: Params, end_offset: int):
        self.protocol = protocol
        self.version = version
        self.transport = transport
        self.host = host
        self.port = port
        self.params = params
        self.end_offset = end_offset

    @property
    def sent_by(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def maddr(self) -> str | None:
        return self.params.get("maddr")

    @property
    def ttl(self) -> str | None:
        return self.params.get("ttl")

    @property
    def has_rport(self) -> bool:
        """True when `rport` is present, with or without a value (RFC 3581)."""
        return "rport" in self.params

    @property
    def rport(self) -> int | None:
        """The rport value, or None when absent or valueless."""
        value = self.params.get("rport")
        if not value:
            return None
        if not (value.isascii() and value.isdigit()):
            raise SipParseError("bad rport value")
        return int(value)

    def __repr__(self) -> str:
        return (f"Via({self.protocol}/{self.version}/{self.transport} {self.sent_by}"
                f"{self.params})")


# The Via nearly every message carries: one via-parm, no LWS inside, so one
# match finds its parts; anything else takes the general path below.
_USUAL = re.compile(r"SIP/2\.0/([A-Za-z]+) ([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]+))?(;[^,\"\s]*)?")


def parse_via(text: str, base: int = 0) -> tuple[Via, ...]:
    """Parse a Via header value; `base` is its byte offset in the message."""
    usual = _USUAL.fullmatch(text)
    if usual is not None:
        return (_usual_via(text, usual, base),)
    vias = []
    for start, end in split_outside_quotes(text, ","):
        start, end = trim(text, start, end)
        if start < end:
            usual = _USUAL.fullmatch(text, start, end)
            vias.append(_via_parm(text, start, end, base) if usual is None else _usual_via(text, usual, base))
    if not vias:
        raise SipParseError("empty Via", 0)
    return tuple(vias)


def _usual_via(text: str, match: re.Match, base: int) -> Via:
    transport, host, port, params = match.groups()
    validate_host(host, match.start(2))
    if port is not None:
        validate_port(port, match.start(3))
    end = match.end()
    params = parse_header_params(text, match.start(4) + 1, end) if params else Params()
    return Via("SIP", "2.0", transport, host, None if port is None else int(port), params,
               base + byte_offset(text, end))


def _via_parm(text: str, start: int, end: int, base: int) -> Via:
    semi = text.find(";", start, end)
    head = _SENT.fullmatch(text, start, end if semi < 0 else semi)
    if head is None:
        raise SipParseError("bad Via sent-protocol or sent-by", start)
    protocol, version, transport, host, port = head.groups()
    validate_host(host, head.start(4))
    if port is not None:
        validate_port(port, head.start(5))
    params = parse_header_params(text, semi + 1, end) if semi >= 0 else Params()
    return Via(protocol, version, transport, host, None if port is None else int(port), params,
               base + byte_offset(text, end))
