"""A worker process: receive, check, run the script, pass replies on (SER's receive_msg).

Each worker runs one selector loop over its own sockets: its share of
every UDP listener (SO_REUSEPORT spreads datagrams over the workers), its
own port (replies to what it forwarded), and in the worker that owns them
the TCP/TLS connections and the relay socket the other workers send stream
messages through. Nothing here blocks on a peer. A message that cannot be
parsed is logged and dropped; a request with a broken header gets 400; a
failure inside the script gets 500, so no request vanishes because of a
bug, and the worker stays up.
"""

from __future__ import annotations

import logging
import selectors
import signal
import socket
import time
from functools import partial

from ser_runtime.context import PROTO_UDP, ReceiveInfo, RouteContext
from ser_runtime.myself import Myself
from ser_runtime.replies import to_tag
from ser_runtime.sender import Sender, decode_relay
from ser_runtime.settings import Listener, Settings
from ser_runtime.sip import SipMessage, SipParseError
from ser_runtime.sip.framing import MAX_MESSAGE
from ser_runtime.transaction.manager import TransactionManager

LOG = logging.getLogger("ser.core")
_READS_PER_WAKEUP = 64


class Worker:
    """Handles messages for one process; `handle` is also what the stream transport calls."""

    def __init__(self, settings: Settings, script, sender: Sender, myself: Myself):
        self.settings = settings
        self.script = script
        self.sender = sender
        self.myself = myself
        self.main_route = script.route("route", "")
        self.reply_route = script.route("onreply_route", "") if script.dialect == "2.0" else None
        self.stopping = False
        # One transaction table per worker; tm's functions reach it as ctx.sender.transactions.
        # failure_route blocks are run by the transactions: they get the script's route lookup.
        self.transactions = sender.transactions = TransactionManager(sender, find_route=script.route)

    # --- one message ------------------------------------------------------------------------

    def handle(self, data: bytes, rcv: ReceiveInfo) -> None:
        try:
            msg = SipMessage.parse(data)
        except SipParseError as exc:
            LOG.warning("dropped %d bytes from %s:%d: %s", len(data), rcv.src_ip, rcv.src_port, exc)
            return
        if msg.is_request:
            self._request(msg, rcv)
        else:
            self._reply(msg, rcv)

    def _request(self, msg: SipMessage, rcv: ReceiveInfo) -> None:
        problem = request_problem(msg)
        if problem is not None:
            self._refuse(msg, rcv, 400, problem)
            return
        if self.transactions.absorb(msg, rcv):
            return
        if msg.method == "ACK" and acknowledges_local_reply(msg):
            LOG.debug("absorbed the ACK to our own reply (Call-ID %s)", msg.call_id)
            return
        if rcv.proto != PROTO_UDP:
            # Replies to a stream client go to its Via port; make that reach its connection.
            self.sender.alias_connection(rcv, msg.via1.port)
        ctx = RouteContext(msg, rcv, self.sender)
        try:
            if self.main_route is not None:
                self.main_route(ctx)
        except SipParseError as exc:
            LOG.warning("%s from %s:%d: %s", msg.method, rcv.src_ip, rcv.src_port, exc)
            self.sender.reply(msg, rcv, 400, "Bad Request", force_rport=ctx.force_rport)
        except Exception as exc:  # a bug must cost one 500, not the worker
            LOG.error("internal error running the script on %s from %s:%d: %s: %s",
                      msg.method, rcv.src_ip, rcv.src_port, type(exc).__name__, exc)
            LOG.debug("traceback", exc_info=True)
            self.sender.reply(msg, rcv, 500, "Server Internal Error", force_rport=ctx.force_rport)

    def _refuse(self, msg: SipMessage, rcv: ReceiveInfo, code: int, reason: str) -> None:
        LOG.warning("%s from %s:%d refused: %s", msg.method, rcv.src_ip, rcv.src_port, reason)
        try:
            via_ok = msg.via1 is not None
        except SipParseError:
            via_ok = False
        if via_ok:
            self.sender.reply(msg, rcv, code, reason)

    def _reply(self, msg: SipMessage, rcv: ReceiveInfo) -> None:
        try:
            via = msg.via1
        except SipParseError as exc:
            LOG.warning("dropped reply from %s:%d: bad Via: %s", rcv.src_ip, rcv.src_port, exc)
            return
        if via is None:
            LOG.warning("dropped reply from %s:%d: no Via", rcv.src_ip, rcv.src_port)
            return
        if self.settings.check_via and not self.myself.host_port(via.host, via.port):
            LOG.warning("dropped reply from %s:%d: its top Via %s is not ours", rcv.src_ip, rcv.src_port,
                        via.sent_by)
            return
        if self.reply_route is not None and not self._reply_route_allows(msg, rcv):
            return
        if self.transactions.on_reply(msg, rcv):
            return
        self.sender.forward_reply(msg, rcv)

    def _reply_route_allows(self, msg: SipMessage, rcv: ReceiveInfo) -> bool:
        """SER 2.0 runs the unnamed onreply_route on every reply it forwards; drop stops it."""
        ctx = RouteContext(msg, rcv, self.sender)
        try:
            code = self.reply_route(ctx)
        except Exception as exc:
            LOG.error("internal error in onreply_route: %s: %s", type(exc).__name__, exc)
            return False
        return code != 0 and not ctx.exit

    # --- the loop ---------------------------------------------------------------------------

    def serve(self, selector: selectors.BaseSelector, udp: list[tuple[socket.socket, Listener]],
              relay: socket.socket | None = None, streams=None, timers=None) -> None:
        """Run until SIGTERM: read every registered socket as it becomes readable."""
        for sock, listener in udp:
            sock.setblocking(False)
            where = (listener.ip, sock.getsockname()[1])
            selector.register(sock, selectors.EVENT_READ, partial(self._read_udp, sock, where))
        if relay is not None:
            relay.setblocking(False)
            selector.register(relay, selectors.EVENT_READ, partial(self._read_relay, relay))
        wakeup = self._stop_on_sigterm(selector)
        try:
            while not self.stopping:
                dues = [self.transactions.next_deadline(), timers and timers.next_deadline()]
                due = min((d for d in dues if d is not None), default=None)
                timeout = 1.0 if due is None else min(1.0, max(0.0, due - time.monotonic()))
                for key, events in selector.select(timeout):
                    key.data(events)
                self.transactions.tick(time.monotonic())
                if streams is not None:
                    streams.tick(time.monotonic())
                if timers is not None:
                    timers.tick(time.monotonic())
        finally:
            if streams is not None:
                streams.close()
            signal.set_wakeup_fd(-1)
            for sock in wakeup:
                sock.close()

    def _read_udp(self, sock: socket.socket, where: tuple[str, int], events: int) -> None:
        dst_ip, dst_port = where
        for _ in range(_READS_PER_WAKEUP):
            try:
                data, address = sock.recvfrom(MAX_MESSAGE)
            except BlockingIOError:
                return
            except OSError as exc:
                LOG.warning("recvfrom on %s:%d: %s", dst_ip, dst_port, exc.strerror or exc)
                return
            self.handle(data, ReceiveInfo(address[0], address[1], dst_ip, dst_port, PROTO_UDP))

    def _read_relay(self, relay: socket.socket, events: int) -> None:
        for _ in range(_READS_PER_WAKEUP):
            try:
                packet = relay.recv(MAX_MESSAGE + 256)
            except BlockingIOError:
                return
            try:
                target, local_ip, data = decode_relay(packet)
            except (ValueError, UnicodeDecodeError):
                LOG.error("bad packet on the relay socket (%d bytes)", len(packet))
                continue
            LOG.debug("sending %d bytes to %s:%d for another worker", len(data), target.ip, target.port)
            listener = Listener(target.proto, local_ip, 0, local_ip)
            self.sender.send(target, data, listener, private=False)

    def _stop_on_sigterm(self, selector: selectors.BaseSelector) -> tuple[socket.socket, socket.socket]:
        # The handler only sets a flag; the wake-up socket makes select() return at once.
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        selector.register(reader, selectors.EVENT_READ, lambda events: _drain(reader))

        def stop(signum, frame):
            self.stopping = True
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        return reader, writer


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(512):
            pass
    except BlockingIOError:
        pass


def acknowledges_local_reply(msg: SipMessage) -> bool:
    """An ACK to a negative reply we made ourselves ends here (SER's sl ACK filter)."""
    try:
        return msg.to.tag == to_tag(msg)
    except SipParseError:
        return False


def request_problem(msg: SipMessage) -> str | None:
    """Why a request cannot be processed (a reason phrase for 400), or None.

    Every request must carry Via, From, To, Call-ID and CSeq (RFC 3261
    §8.1.1). What forwarding and transactions use must parse: the top Via,
    Call-ID, CSeq (whose method must be the request's), Max-Forwards and
    the Request-URI. From and To are parsed when the script or a module
    reads them (a broken one then gets 400); otherwise they pass unchanged,
    as RFC 3261 §16.3 asks of a proxy.
    """
    for name in _REQUIRED:
        if not msg.has_header(name):
            return f"Missing {name}"
    try:
        if msg.cseq.method != msg.method:
            return "CSeq method does not match"
        msg.via1, msg.call_id, msg.max_forwards, msg.parsed_ruri
    except SipParseError as exc:
        return f"Bad Request ({exc.what})"[:100]
    return None


_REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")
