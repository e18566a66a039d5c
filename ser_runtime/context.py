"""What a route script works on: one received message and the state around it.

SER's `struct sip_msg` carries, besides the parsed message, where it came
from (`rcv`), the 32 script flags, the rewritten Request-URI, the
destination URI and the destination set; 2.0 adds AVPs and `run_act_ctx`
(the run flags and `$?`). `RouteContext` is all of that for one message,
created by the receiving worker and handed to the compiled routes.
"""

from __future__ import annotations

import socket
from typing import NamedTuple

from ser_runtime.sip import SipMessage, SipUri

# SER's protocol numbers (ip_addr.h); `proto==udp` compares against them.
PROTO_NONE, PROTO_UDP, PROTO_TCP, PROTO_TLS, PROTO_SCTP = range(5)
PROTO_NUMBERS = {"udp": PROTO_UDP, "tcp": PROTO_TCP, "tls": PROTO_TLS, "sctp": PROTO_SCTP}

# SER's MAX_BRANCHES: the Request-URI plus 11 appended branches.
MAX_BRANCHES = {"0.8": 4, "0.9": 12, "2.0": 12}


class Branch(NamedTuple):
    """One entry of the destination set (SER's dset): a URI, its q, and where to send it
    when that is not the URI itself (the received address of a NATed contact)."""

    uri: str
    q: str | None = None
    dst_uri: str | None = None


class ReceiveInfo(NamedTuple):
    """Where a message came from and which local socket took it (SER's receive_info).

    A named tuple, because one is made for every datagram received.
    """

    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    proto: int = PROTO_UDP

    @property
    def af(self) -> int:
        return socket.AF_INET6 if ":" in self.src_ip else socket.AF_INET


class RouteContext:
    """One message on its way through the script.

    `flags` is SER's 32-bit flag word; `branches` the destination set
    appended with append_branch (uri, q); `exit` and `retcode` are SER 2.0's
    EXIT run flag and `$?`; `depth` counts nested route() calls. In SER
    2.0's onsend_route, `onsend` is the send about to happen: its src is
    our socket (snd_ip), its dst the destination (to_ip). `sender` is the
    worker's Sender (sender.py), through which modules reply and send; it
    is None where nothing can be sent (the checker, unit tests).
    """

    __slots__ = ("msg", "rcv", "flags", "dst_uri", "branches", "avps", "retcode", "exit", "depth",
                 "force_rport", "advertised_address", "advertised_port", "send_socket", "onsend", "sender",
                 "_new_uri_text", "_new_uri")

    def __init__(self, msg: SipMessage, rcv: ReceiveInfo, sender=None):
        self.msg = msg
        self.sender = sender
        self.rcv = rcv
        self.flags = 0
        self.dst_uri: str | None = None
        self.branches: list[Branch] = []
        self.avps: dict[str, object] = {}
        self.retcode = 0
        self.exit = False
        self.depth = 0
        self.force_rport = False
        self.advertised_address: str | None = None
        self.advertised_port: int | None = None
        self.send_socket: tuple[int, str, int] | None = None
        self.onsend: ReceiveInfo | None = None
        self._new_uri_text: str | None = None
        self._new_uri: SipUri | None = None

    @property
    def uri(self) -> str:
        """The Request-URI the script sees: rewritten if a rewrite happened."""
        return self.msg.current_ruri

    def parsed_uri(self) -> SipUri:
        """The current Request-URI parsed; SipParseError when it is not a valid URI."""
        new = self.msg.new_ruri
        if new is None:
            return self.msg.parsed_ruri
        if new is not self._new_uri_text:
            self._new_uri = SipUri.parse(new)
            self._new_uri_text = new
        return self._new_uri

    def set_uri(self, uri: str) -> None:
        """Rewrite the Request-URI (SER's new_uri); raises SipParseError for unsendable text."""
        self.msg.set_ruri(uri)

