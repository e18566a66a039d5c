"""Sending: the script's forward/send actions, stateless replies and reply forwarding (SER's forward.c).

One `Sender` lives in each worker process and owns that worker's sending
sockets: per UDP listener the shared public socket (replies leave from the
port the request came to) and the worker's own port (forwarded requests
leave from it and name it in their Via, so the replies come back to this
worker). TCP and TLS connections all belong to the worker that runs the
stream transport; the other workers hand it what they send on a stream
through a local datagram socket (the relay).
"""

from __future__ import annotations

import logging
import socket

from ser_runtime import forward
from ser_runtime.context import PROTO_NONE, PROTO_TCP, PROTO_TLS, PROTO_UDP, ReceiveInfo, RouteContext
from ser_runtime.net.resolver import ResolveError, Resolver, Target
from ser_runtime.replies import build_reply, warning_text
from ser_runtime.settings import PROTO_NAMES, Listener, Settings
from ser_runtime.sip import SipMessage, SipParseError, SipUri
from ser_runtime.sip.framing import MAX_MESSAGE

LOG = logging.getLogger("ser.core")
STREAMS = (PROTO_TCP, PROTO_TLS)


class Sender:
    """What one worker sends from, and how the script's sending actions reach it."""

    def __init__(self, settings: Settings, listeners: list[Listener], resolver: Resolver):
        self.settings = settings
        self.listeners = listeners
        self.resolver = resolver
        self.public: dict[Listener, socket.socket] = {}
        self.private: dict[Listener, socket.socket] = {}
        self.streams = None
        self.relay: socket.socket | None = None
        self.onsend = None
        # The worker's TransactionManager (transaction/manager.py); tm's functions reach it here.
        self.transactions = None
        self._own_ports: dict[Listener, int] = {}
        self._by_kind: dict[tuple[int, int], list[Listener]] = {}

    def attach(self, public: dict, private: dict, streams=None, relay: socket.socket | None = None) -> None:
        """Give this worker's sockets to the sender (after fork)."""
        self.public, self.private, self.streams, self.relay = public, private, streams, relay
        self._own_ports = {listener: sock.getsockname()[1] for listener, sock in private.items()}

    # --- the script's actions ---------------------------------------------------------------

    def actions(self) -> dict:
        """The sending core actions by script name, for the fix-up pass."""
        def forward_as(proto):
            return lambda ctx, host, port: self.forward(ctx, proto, host, port)

        def send_as(proto):
            return lambda ctx, host, port=None: self.send_unchanged(ctx, proto, host, port)
        return {"forward": forward_as(PROTO_NONE), "forward_udp": forward_as(PROTO_UDP),
                "forward_tcp": forward_as(PROTO_TCP), "forward_tls": forward_as(PROTO_TLS),
                "send": send_as(PROTO_UDP), "send_tcp": send_as(PROTO_TCP),
                "force_tcp_alias": self.tcp_alias, "add_tcp_alias": self.tcp_alias}

    def tcp_alias(self, ctx: RouteContext, port: int | None = None) -> int:
        """force_tcp_alias(): the Via port (or `port`) of this TCP/TLS peer reaches its connection."""
        self.alias_connection(ctx.rcv, port or ctx.msg.via1.port)
        return 1

    def alias_connection(self, rcv: ReceiveInfo, port: int | None) -> None:
        """Make (peer address, port or 5060) reach the TCP/TLS connection `rcv` came on."""
        if rcv.proto in STREAMS and self.streams is not None:
            self.streams.add_alias(rcv.proto, rcv.src_ip, port or forward.SIP_PORT, rcv)

    def forward(self, ctx: RouteContext, proto: int, host: str | None, port: int | None) -> int:
        """forward(): to a fixed host, or with host None to the destination URI or Request-URI."""
        try:
            target, listener, data = self.request_for(ctx, proto, host, port)
        except (ResolveError, SipParseError, SendError) as exc:
            LOG.error("forward: %s", exc)
            return -1
        if not self.onsend_allows(ctx, listener, target):
            return 1
        return 1 if self.send(target, data, listener, private=True) else -1

    def request_for(self, ctx: RouteContext, proto: int, host: str | None, port: int | None,
                    branch: str | None = None) -> tuple[Target, Listener, bytes]:
        """Where a forwarded request goes, from which listener, and its bytes with our Via.

        `branch` is the Via branch (tm passes its transaction's); by default
        the stateless one derived from the request. Raises ResolveError,
        SipParseError or SendError.
        """
        target = self._targets(ctx, proto, host, port)[0]
        listener = self._listener(ctx, target)
        via = self._via(ctx, listener, target.proto, branch)
        data = forward.request_bytes(ctx.msg, via, ctx.rcv, ctx.force_rport, target.proto in STREAMS,
                                     self.names_source, (listener.ip, listener.port, target.proto))
        return target, listener, data

    def local_request(self, uri: str, branch: str) -> tuple[Target, Listener, str]:
        """Where a request we make ourselves (tm's t_uac) goes: its target, the listener it leaves
        from and the Via it carries, naming this worker's own port so the replies come back here.
        Raises ResolveError, SipParseError or SendError."""
        target = self.resolver.resolve_uri(SipUri.parse(uri), None)[0]
        listener = self._listener_for(ReceiveInfo("", 0, "", 0, target.proto), target)
        host = self.settings.advertised_address or listener.ip
        port = self.settings.advertised_port or self._own_port(listener)
        return target, listener, forward.via_value(target.proto, host, port, branch)

    def send_unchanged(self, ctx: RouteContext, proto: int, host: str, port: int | None) -> int:
        """send()/send_tcp(): the received bytes as they are, to host:port."""
        try:
            target = self.resolver.resolve_host(host, port or forward.SIP_PORT, proto)[0]
            listener = self._listener(ctx, target)
        except (ResolveError, SendError) as exc:
            LOG.error("send: %s", exc)
            return -1
        data = ctx.msg.data[ctx.msg.start:ctx.msg.body_end]
        return 1 if self.send(target, data, listener, private=False) else -1

    def _targets(self, ctx: RouteContext, proto: int, host: str | None, port: int | None) -> list[Target]:
        if host is not None:
            return self.resolver.resolve_host(host, port, proto or ctx.rcv.proto)
        uri = SipUri.parse(ctx.dst_uri) if ctx.dst_uri else ctx.parsed_uri()
        if uri.is_tel:
            raise SendError(f"cannot forward to {uri}: not a SIP URI")
        if port is not None:
            uri = uri.with_port(str(port))
        return self.resolver.resolve_uri(uri, proto or None)

    def _via(self, ctx: RouteContext, listener: Listener, proto: int, branch: str | None = None) -> str:
        host = ctx.advertised_address or self.settings.advertised_address or listener.ip
        port = ctx.advertised_port or self.settings.advertised_port or self._own_port(listener)
        return forward.via_value(proto, host, port, branch or forward.branch_id(ctx.msg))

    def _own_port(self, listener: Listener) -> int:
        return self._own_ports.get(listener, listener.port)

    def onsend_allows(self, ctx: RouteContext, listener: Listener, target: Target) -> bool:
        """SER 2.0's onsend_route sees each forwarded request; dropping there stops the send."""
        if self.onsend is None:
            return True
        ctx.onsend = ReceiveInfo(listener.ip, self._own_port(listener), target.ip, target.port, target.proto)
        try:
            code = self.onsend(ctx)
        finally:
            ctx.onsend = None
        return code != 0 and not ctx.exit

    @property
    def names_source(self):
        """SER's `dns`/`rev_dns`: a Via name may stand for the source address, so no received=."""
        return self._names_source if self.settings.dns or self.settings.rev_dns else None

    def _names_source(self, host: str, ip: str) -> bool:
        if self.settings.dns:
            try:
                if any(t.ip == ip for t in self.resolver.resolve_host(host, forward.SIP_PORT, PROTO_UDP)):
                    return True
            except ResolveError:
                pass
        if self.settings.rev_dns:
            try:
                return socket.gethostbyaddr(ip)[0].lower() == host.lower()
            except OSError:
                pass
        return False

    # --- replies --------------------------------------------------------------------------

    def reply(self, msg: SipMessage, rcv: ReceiveInfo, code: int, reason: str, *,
              force_rport: bool = False, extra_headers: list[str] = ()) -> bool:
        """Send our own stateless reply to a received request (never to an ACK)."""
        if msg.method == "ACK":
            return False
        try:
            target, listener = self.reply_destination(msg, rcv, force_rport)
            warning = warning_text(msg, rcv, (listener.ip, listener.port)) if self.settings.sip_warning else None
            data = build_reply(msg, code, reason, rcv, force_rport=force_rport,
                               server_signature=self.settings.server_signature, warning=warning,
                               extra_headers=extra_headers, names_source=self.names_source)
        except (ResolveError, SipParseError, SendError) as exc:
            LOG.error("cannot reply %d to %s:%d: %s", code, rcv.src_ip, rcv.src_port, exc)
            return False
        return self.send(target, data, listener, private=False)

    def reply_destination(self, msg: SipMessage, rcv: ReceiveInfo, force_rport: bool) -> tuple[Target, Listener]:
        """Where our replies to a received request go, and from which listener.

        Raises ResolveError, SipParseError or SendError.
        """
        proto, host, port = forward.local_reply_destination(msg.via1, rcv, force_rport,
                                                            self.settings.reply_to_via)
        target = self._reply_target(proto, host, port)
        return target, self._listener_for(rcv, target)

    def forward_reply(self, msg: SipMessage, rcv: ReceiveInfo) -> bool:
        """Pass a reply on by its second Via (SER's forward_reply)."""
        try:
            vias = msg.vias
            if len(vias) < 2:
                LOG.debug("reply %s has no second Via: it was for us", msg.status)
                return False
            target = self._reply_target(*forward.via_destination(vias[1]))
            listener = self._listener_for(rcv, target)
            data = forward.reply_bytes(msg, target.proto in STREAMS)
        except (ResolveError, SipParseError, SendError) as exc:
            LOG.warning("dropped reply %s from %s:%d: %s", msg.status, rcv.src_ip, rcv.src_port, exc)
            return False
        return self.send(target, data, listener, private=False)

    def _reply_target(self, proto: int, host: str, port: int) -> Target:
        return self.resolver.resolve_host(host, port, proto)[0]

    # --- choosing the socket and sending ----------------------------------------------------

    def _listener(self, ctx: RouteContext, target: Target) -> Listener:
        if ctx.send_socket is not None:
            proto, address, port = ctx.send_socket
            for listener in self.listeners:
                if port == listener.port and address in (listener.ip, listener.name) \
                        and proto in (PROTO_NONE, listener.proto):
                    return listener
        return self._listener_for(ctx.rcv, target)

    def _listener_for(self, rcv: ReceiveInfo, target: Target) -> Listener:
        """The listener of the target's protocol and family, preferring the one the message came to."""
        family = socket.AF_INET6 if ":" in target.ip else socket.AF_INET
        candidates = self._by_kind.get((target.proto, family))
        if candidates is None:
            candidates = self._by_kind[target.proto, family] = [
                l for l in self.listeners if l.proto == target.proto and l.family == family]
        if not candidates:
            kind = _proto_name(target.proto)
            raise SendError(f"no {kind} listen socket of the family of {target.ip} (listen={kind}:...)")
        if self.settings.mhomed:
            local = _kernel_source(target)
            candidates = [l for l in candidates if l.ip == local] or candidates
        for listener in candidates:
            if listener.ip == rcv.dst_ip:
                return listener
        return candidates[0]

    def send(self, target: Target, data: bytes, listener: Listener, *, private: bool) -> bool:
        """Send bytes to a target from a listener; a failure is logged and returns False."""
        if target.proto == PROTO_UDP:
            return self._send_udp(target, data, listener, private)
        if self.streams is not None:
            return self.streams.send(target.proto, target.ip, target.port, data, local=(listener.ip, 0))
        if self.relay is None:
            LOG.error("cannot send over %s: no stream transport", _proto_name(target.proto))
            return False
        try:
            self.relay.send(encode_relay(target, listener.ip, data))
        except OSError as exc:
            LOG.error("cannot hand a message to the TCP worker: %s", exc.strerror or exc)
            return False
        return True

    def _send_udp(self, target: Target, data: bytes, listener: Listener, private: bool) -> bool:
        if len(data) > MAX_MESSAGE:
            LOG.error("not sending %d bytes over UDP to %s:%d: too large", len(data), target.ip, target.port)
            return False
        sock = (self.private if private else self.public).get(listener) or self.public.get(listener)
        if sock is None:
            LOG.error("no UDP socket for %s", listener)
            return False
        try:
            sock.sendto(data, (target.ip, target.port))
        except OSError as exc:
            LOG.error("sendto %s:%d failed: %s", target.ip, target.port, exc.strerror or exc)
            return False
        return True


class SendError(Exception):
    """No way to send where the script asked (no socket of that kind, not a SIP URI)."""


def encode_relay(target: Target, local_ip: str, data: bytes) -> bytes:
    """A stream send handed to the TCP worker: one header line, then the message."""
    return f"{target.proto} {target.ip} {target.port} {local_ip}\n".encode() + data


def decode_relay(packet: bytes) -> tuple[Target, str, bytes]:
    head, _, data = packet.partition(b"\n")
    proto, ip, port, local_ip = head.decode().split()
    return Target(int(proto), ip, int(port)), local_ip, data


def _proto_name(proto: int) -> str:
    return PROTO_NAMES.get(proto, str(proto))


def _kernel_source(target: Target) -> str | None:
    """The local address the kernel would send from (SER's mhomed)."""
    family = socket.AF_INET6 if ":" in target.ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((target.ip, target.port))
        except OSError:
            return None
        return probe.getsockname()[0]
