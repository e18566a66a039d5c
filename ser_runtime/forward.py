"""Stateless forwarding, without sockets (RFC 3261 §16.11, §18.2.1, §18.2.2; RFC 3581).

What SER's forward_request and forward_reply do to the bytes: a forwarded
request gets our Via on top, with a branch computed from the request so
that a retransmission, its CANCEL and its non-2xx ACK get the same one;
the top Via of what we received gets `received=` (and `rport=` when asked)
so replies can find their way back through NATs; a reply loses its top Via
and goes where the next Via says. The Sender (sender.py) does the I/O.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re

from ser_runtime.context import PROTO_NUMBERS, PROTO_TCP, PROTO_TLS, PROTO_UDP, ReceiveInfo
from ser_runtime.sip import SipMessage, SipParseError, Via
from ser_runtime.settings import PROTO_NAMES

COOKIE = "z9hG4bK"
SIP_PORT, SIPS_PORT = 5060, 5061
_VALUELESS_RPORT = re.compile(rb";[ \t]*rport(?=[ \t]*(?:;|$))", re.IGNORECASE)


def branch_id(msg: SipMessage, index: int = 0) -> str:
    """The branch of our Via, the same for every retransmission of one request (RFC 3261 §16.11).

    With an RFC 3261 branch upstream, its branch and sent-by identify the
    transaction (a CANCEL and a non-2xx ACK carry the INVITE's); otherwise
    the RFC 2543 fields do. The received Request-URI makes the branch differ
    per forking target of the upstream proxy.
    """
    via = msg.via1
    branch = via.branch
    if branch and branch.startswith(COOKIE):
        key = f"{branch}\0{via.sent_by}\0{msg.ruri}"
    else:
        from_tag = msg.from_.tag if msg.from_ else None
        cseq = msg.cseq.number if msg.cseq else None
        key = f"{msg.call_id}\0{from_tag}\0{cseq}\0{via.sent_by}\0{msg.ruri}"
    digest = hashlib.md5(key.encode("utf-8", "surrogateescape"), usedforsecurity=False)
    return f"{COOKIE}sl{digest.hexdigest()[:20]}.{index}"


def host_text(host: str) -> str:
    """An address as written in a Via or URI: IPv6 in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def via_value(proto: int, host: str, port: int, branch: str) -> str:
    return f"SIP/2.0/{PROTO_NAMES[proto].upper()} {host_text(host)}:{port};branch={branch}"


def needs_received(via: Via, src_ip: str, names_source=None) -> bool:
    """RFC 3261 §18.2.1: the sent-by host is not the address the request came from.

    A sent-by name counts as different unless `names_source(host, ip)` says
    it names that address (SER's `dns`/`rev_dns` options).
    """
    host = via.host.strip("[]")
    if host == src_ip:
        return False
    address = _ip_address(host)
    if address is None:
        return names_source is None or not names_source(via.host, src_ip)
    return address != _ip_address(src_ip)


@functools.lru_cache(maxsize=4096)
def _ip_address(text: str):
    """The address a text names, or None for a host name (cached: the same few peers recur)."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def received_edits(msg: SipMessage, rcv: ReceiveInfo, force_rport: bool,
                   names_source=None) -> list[tuple[int, int, bytes]]:
    """Edits adding `;received=` and, with rport asked for, `;rport=` to the top Via."""
    via = msg.via1
    add_rport = force_rport or via.has_rport
    if not add_rport and not needs_received(via, rcv.src_ip, names_source):
        return []
    edits = []
    params = b";received=" + rcv.src_ip.encode()
    if add_rport:
        field = msg.header("via")
        span = _VALUELESS_RPORT.search(msg.data, field.value_start, via.end_offset)
        if via.rport is not None:
            add_rport = False
        elif span is not None:
            edits.append((span.start(), span.end(), b""))
    if add_rport:
        params += b";rport=" + str(rcv.src_port).encode()
    if via.received is None:
        edits.append((via.end_offset, via.end_offset, params))
    return edits


def request_bytes(msg: SipMessage, via: str, rcv: ReceiveInfo, force_rport: bool, stream: bool,
                  names_source=None, sending: tuple | None = None) -> bytes:
    """The request as forwarded: pending script edits, received=/rport=, our Via on top.

    `sending` is the (ip, port, proto) it leaves from (SipMessage.set_send_edits).
    """
    first_via = msg.header("via")
    edits = received_edits(msg, rcv, force_rport, names_source)
    line = f"Via: {via}\r\n".encode()
    edits.append((first_via.start, first_via.start, line))
    if stream and msg.content_length is None:
        length = f"Content-Length: {msg.body_end - msg.body_start}\r\n".encode()
        edits.append((msg.headers_end, msg.headers_end, length))
    return msg.serialize(edits, sending)


def reply_bytes(msg: SipMessage, stream: bool) -> bytes:
    """A reply passed on: its top via-parm removed (the whole line when it is alone)."""
    field = msg.header("via")
    vias = field.parsed
    if len(vias) == 1:
        edits = [(field.start, field.end, b"")]
    else:
        next_parm = _skip_separator(msg.data, vias[0].end_offset)
        edits = [(field.value_start, next_parm, b"")]
    if stream and msg.content_length is None:
        length = f"Content-Length: {msg.body_end - msg.body_start}\r\n".encode()
        edits.append((msg.headers_end, msg.headers_end, length))
    return msg.serialize(edits)


def _skip_separator(data: bytes, pos: int) -> int:
    while data[pos:pos + 1] in (b" ", b"\t", b"\r", b"\n", b","):
        pos += 1
    return pos


def via_proto(via: Via) -> int:
    """The transport a Via names; SipParseError for one we cannot send on."""
    proto = PROTO_NUMBERS.get(via.transport.lower())
    if proto not in (PROTO_UDP, PROTO_TCP, PROTO_TLS):
        raise SipParseError(f"unsupported Via transport {via.transport}")
    return proto


def via_destination(via: Via) -> tuple[int, str, int]:
    """Where a reply goes by this Via (RFC 3261 §18.2.2, RFC 3581 §4): proto, host, port."""
    proto = via_proto(via)
    default_port = SIPS_PORT if proto == PROTO_TLS else SIP_PORT
    if via.maddr:
        return proto, via.maddr.strip("[]"), via.port or default_port
    host = (via.received or via.host).strip("[]")
    return proto, host, via.rport or via.port or default_port


def local_reply_destination(via: Via, rcv: ReceiveInfo, force_rport: bool,
                            reply_to_via: bool) -> tuple[int, str, int]:
    """Where our own reply to a received request goes.

    Over TCP/TLS back on the connection it came on; over UDP to the source
    address (SER's default, which also works behind NATs), at the source
    port when rport asks for it, else the Via port; `reply_to_via` trusts
    the Via host instead.
    """
    if rcv.proto in (PROTO_TCP, PROTO_TLS):
        return rcv.proto, rcv.src_ip, rcv.src_port
    if via.has_rport or force_rport:
        return PROTO_UDP, rcv.src_ip, rcv.src_port
    if reply_to_via:
        return via_destination(via)
    return PROTO_UDP, via.maddr.strip("[]") if via.maddr else rcv.src_ip, via.port or SIP_PORT
