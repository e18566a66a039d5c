"""The transaction layer of one worker: SER tm's t_relay, t_reply and t_newtran on real sockets.

The machines (machines.py) say what to do; this module keeps the bytes and
does it through the worker's Sender.  One `TransactionManager` per worker
process, created by the Worker and reachable by the tm module as
`ctx.sender.transactions`.  Replies to what a worker forwards come back to
that worker's own port (sender.py), so each worker's table is complete.

Per transaction it keeps a `ServerTx` (the upstream request, where its
responses go, the last response sent upstream, its branches) and per
branch a `ClientBranch` (target, the bytes sent, the final response).

What the worker calls:

- `absorb` before the script: retransmissions of a request with a server
  transaction are answered with the last response, the ACK of a non-2xx
  final response ends here;
- `on_reply` before stateless reply forwarding: a response to one of our
  branches is passed up per RFC 3261 §16.7 (1xx but 100 and every 2xx at
  once, the best final one when every branch has one) and a non-2xx final
  is ACKed downstream (§17.1.1.3);
- `tick` on every loop iteration, `next_deadline` to bound its select().

Not yet (later slices): parallel forking to `ctx.branches` (only the
Request-URI is relayed), CANCEL of pending branches when Timer C fires or
a branch answers 2xx (a CANCEL received is relayed as a transaction of its
own to the same target, which reaches the downstream INVITE since the
branch is derived alike), failure_route/onreply_route, and SER's
`fr_timer` (the machines use 64*T1 for Timers B and F, as the RFC does).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from dataclasses import dataclass, field

from ser_runtime import forward
from ser_runtime.context import PROTO_NONE, PROTO_UDP, ReceiveInfo, RouteContext
from ser_runtime.net.resolver import ResolveError, Target
from ser_runtime.replies import build_reply, to_tag
from ser_runtime.settings import Listener
from ser_runtime.sip import SipMessage, SipParseError

from .machines import (
    InviteClient, InviteServer, Kind, NonInviteClient, NonInviteServer, PassUp, Timeout, Transmit,
)
from .table import DuplicateTransaction, Entry, TableFull, TransactionTable
from .timers import TimerConfig

LOG = logging.getLogger("ser.tm")
TRYING = "trying -- your call is important to us"   # SER tm's 100 reason phrase
LOCAL_TIMEOUT = 408


@dataclass(eq=False)
class ServerTx:
    """The upstream side of a transaction."""

    request: SipMessage
    rcv: ReceiveInfo
    force_rport: bool
    machine: InviteServer | NonInviteServer
    target: Target
    listener: Listener
    config: TimerConfig
    entry: Entry | None = None
    response: bytes | None = None       # the last response sent upstream, for retransmissions
    final_sent: bool = False
    branches: list["ClientBranch"] = field(default_factory=list)


@dataclass(eq=False)
class ClientBranch:
    """One downstream branch: a client transaction."""

    server: ServerTx
    target: Target
    listener: Listener
    request: bytes                       # the bytes sent, for retransmissions and the ACK
    machine: InviteClient | NonInviteClient
    final: int | None = None             # final status (408 for a local timeout)
    final_reply: bytes | None = None     # the final response as passed up (None: local)


def tm_branch(msg: SipMessage, index: int) -> str:
    """Our Via branch for a branch of a transaction: stable across retransmissions of the request."""
    stateless = forward.branch_id(msg, index)
    return forward.COOKIE + "tm" + stateless[len(forward.COOKIE) + 2:]


class TransactionManager:
    """The transactions of one worker; see the module text."""

    def __init__(self, sender, config: TimerConfig = TimerConfig(), clock=time.monotonic):
        self.sender = sender
        self.config = config
        self.clock = clock
        self.table = TransactionTable(config)
        self._heap: list[tuple[float, int, Entry]] = []
        self._seq = itertools.count()
        self._next_sweep: float | None = None

    def use_config(self, config: TimerConfig) -> None:
        """The tm module's timer parameters (the first tm function called passes them)."""
        if config != self.config:
            self.config = config
            self.table.config = config

    # --- requests ---------------------------------------------------------------------------

    def absorb(self, msg: SipMessage, rcv: ReceiveInfo, now: float | None = None) -> bool:
        """True when the request belongs to an existing server transaction and was dealt with."""
        if not len(self.table):
            return False  # a stateless proxy pays nothing for tm
        try:
            entry = self.table.lookup_request(msg)
        except (ValueError, SipParseError):
            return False
        if entry is None or not isinstance(entry.data, ServerTx):
            return False
        now = self.clock() if now is None else now
        method = "INVITE" if isinstance(entry.machine, InviteServer) and msg.method != "ACK" else msg.method
        try:
            actions = entry.machine.receive_request(method, now)
        except ValueError:
            return False
        LOG.debug("absorbed %s retransmission/ACK (Call-ID %s)", msg.method, msg.call_id)
        self._server_actions(entry.data, actions)
        self._schedule(entry)
        return True

    def lookup(self, msg: SipMessage) -> ServerTx | None:
        try:
            entry = self.table.lookup_request(msg)
        except (ValueError, SipParseError):
            return None
        return entry.data if entry is not None and isinstance(entry.data, ServerTx) else None

    def new_server(self, ctx: RouteContext, now: float | None = None) -> tuple[ServerTx | None, bool]:
        """The server transaction of ctx.msg: (tx, created); (None, False) if none can be made."""
        msg = ctx.msg
        existing = self.lookup(msg)
        if existing is not None:
            return existing, False
        now = self.clock() if now is None else now
        try:
            proto, host, port = forward.local_reply_destination(
                msg.via1, ctx.rcv, ctx.force_rport, self.sender.settings.reply_to_via)
            target = self.sender._reply_target(proto, host, port)
            listener = self.sender._listener_for(ctx.rcv, target)
        except Exception as exc:  # ResolveError, SipParseError, SendError
            LOG.error("no transaction for %s: cannot reply to it: %s", msg.method, exc)
            return None, False
        config = self.config.for_transport(ctx.rcv.proto != PROTO_UDP)
        machine = InviteServer(config) if msg.method == "INVITE" else NonInviteServer(config)
        tx = ServerTx(msg, ctx.rcv, ctx.force_rport, machine, target, listener, config)
        try:
            tx.entry = self.table.add_server(msg, machine, tx)
        except (DuplicateTransaction, TableFull, ValueError) as exc:
            LOG.error("no transaction for %s: %s", msg.method, exc)
            return None, False
        return tx, True

    def reply(self, ctx: RouteContext, code: int, reason: str, extra_headers: list[str] = (),
              now: float | None = None) -> int:
        """t_reply: answer statefully, creating the server transaction if needed."""
        if ctx.msg.method == "ACK":
            return -1
        tx, _ = self.new_server(ctx, now)
        if tx is None:
            return -1
        return 1 if self._local_reply(tx, code, reason, extra_headers, now) else -1

    def relay(self, ctx: RouteContext, proto: int = PROTO_NONE, host: str | None = None,
              port: int | None = None, now: float | None = None) -> int:
        """t_relay: forward statefully to host:port or the Request-URI (see tm's return codes)."""
        msg = ctx.msg
        if msg.method == "ACK":
            # An ACK reaching the script acknowledges a 2xx: end to end, no transaction.
            return self.sender.forward(ctx, proto, host, port)
        now = self.clock() if now is None else now
        tx, created = self.new_server(ctx, now)
        if tx is None:
            return -1
        if tx.branches:
            return 1  # a retransmission the worker did not absorb: nothing more to do
        if created and msg.method == "INVITE":
            self._local_reply(tx, 100, TRYING, (), now)
        if ctx.branches:
            LOG.warning("t_relay: forking to the destination set is not implemented; "
                        "relaying to the Request-URI only")
        branch = tm_branch(msg, len(tx.branches))
        try:
            target, listener, data = self.sender.request_for(ctx, proto, host, port, branch)
        except ResolveError as exc:
            LOG.error("t_relay: %s", exc)
            self._local_reply(tx, 478, "Unresolvable destination", (), now)
            return 0
        except Exception as exc:  # SipParseError, SendError
            LOG.error("t_relay: %s", exc)
            self._local_reply(tx, 500, "Server Internal Error", (), now)
            return 0
        if not self.sender._onsend_allows(ctx, listener, target):
            return 1
        config = tx.config.for_transport(target.proto != PROTO_UDP)
        machine = InviteClient(config) if msg.method == "INVITE" else NonInviteClient(config)
        client = ClientBranch(tx, target, listener, data, machine)
        try:
            entry = self.table.add_client(branch, msg.method, machine, client)
        except (DuplicateTransaction, TableFull) as exc:
            LOG.error("t_relay: %s", exc)
            self._local_reply(tx, 500, "Server Internal Error", (), now)
            return 0
        tx.branches.append(client)
        for action in machine.start(now):
            if isinstance(action, Transmit) and not self._send(target, data, listener, True):
                self.table.remove(entry)
                tx.branches.remove(client)
                self._local_reply(tx, 500, "Server Internal Error", (), now)
                return 0
        self._schedule(entry)
        return 1

    def _local_reply(self, tx: ServerTx, code: int, reason: str, extra_headers, now) -> bool:
        now = self.clock() if now is None else now
        s = self.sender.settings
        try:
            data = build_reply(tx.request, code, reason, tx.rcv, force_rport=tx.force_rport,
                               server_signature=s.server_signature, extra_headers=list(extra_headers),
                               names_source=self.sender.names_source)
        except SipParseError as exc:
            LOG.error("cannot build reply %d: %s", code, exc)
            return False
        if code >= 200 and tx.entry is not None:
            tx.entry.reply_to_tag = tx.request.to.tag if tx.request.to.tag else to_tag(tx.request)
        return self._respond(tx, code, data, now)

    def _respond(self, tx: ServerTx, status: int, data: bytes, now: float) -> bool:
        """Hand a response to the server machine; send it if the machine lets it out."""
        actions = tx.machine.send_response(status, now)
        if not actions:
            return False
        if status >= 200:
            tx.final_sent = True
        tx.response = data
        self._server_actions(tx, actions)
        if tx.entry is not None:
            self._schedule(tx.entry)
        return True

    def _server_actions(self, tx: ServerTx, actions) -> None:
        for action in actions:
            if action == Transmit(Kind.RESPONSE) and tx.response is not None:
                self._send(tx.target, tx.response, tx.listener, False)

    # --- responses --------------------------------------------------------------------------

    def on_reply(self, msg: SipMessage, rcv: ReceiveInfo, now: float | None = None) -> bool:
        """True when a response matched one of our client transactions (and was dealt with)."""
        if not len(self.table):
            return False
        try:
            entry = self.table.lookup_response(msg)
        except SipParseError:
            return False
        if entry is None or not isinstance(entry.data, ClientBranch):
            return False
        now = self.clock() if now is None else now
        try:
            actions = entry.machine.receive_response(msg.status, now)
        except ValueError:
            return True
        branch = entry.data
        for action in actions:
            if isinstance(action, PassUp):
                self._branch_reply(branch, msg, action.status, now)
            elif action == Transmit(Kind.ACK):
                self._send_ack(branch, msg)
        self._schedule(entry)
        return True

    def _branch_reply(self, branch: ClientBranch, msg: SipMessage, status: int, now: float) -> None:
        tx = branch.server
        if status == 100:
            return
        try:
            data = forward.reply_bytes(msg, tx.target.proto != PROTO_UDP)
        except SipParseError as exc:
            LOG.warning("dropped reply %d: %s", status, exc)
            return
        if status < 200:
            self._respond(tx, status, data, now)
            return
        if status < 300:
            # RFC 3261 §16.7 step 5: every 2xx goes upstream at once, retransmissions too.
            branch.final = branch.final or status
            if not self._respond(tx, status, data, now):
                self._send(tx.target, data, tx.listener, False)
            if tx.entry is not None and msg.to is not None and msg.to.tag:
                tx.entry.reply_to_tag = msg.to.tag
            return
        if branch.final is not None:
            return  # this branch has timed out already; its late answer changes nothing
        branch.final, branch.final_reply = status, data
        if tx.entry is not None and msg.to is not None and msg.to.tag:
            tx.entry.reply_to_tag = msg.to.tag
        self._maybe_final(tx, now)

    def _maybe_final(self, tx: ServerTx, now: float) -> None:
        """When every branch has a final response, send the best upstream (RFC 3261 §16.7 step 6).

        Best: a 6xx if any, else the lowest status; SER's class ordering and
        401/407 aggregation are not done.
        """
        if tx.final_sent or any(b.final is None for b in tx.branches):
            return
        six = [b for b in tx.branches if b.final >= 600]
        best = six[0] if six else min(tx.branches, key=lambda b: b.final)
        if best.final_reply is None:
            self._local_reply(tx, best.final, "Request Timeout", (), now)
        else:
            self._respond(tx, best.final, best.final_reply, now)

    def _send_ack(self, branch: ClientBranch, response: SipMessage) -> None:
        try:
            data = ack_for(SipMessage.parse(branch.request), response)
        except SipParseError as exc:
            LOG.error("cannot build the ACK for %s: %s", response.status, exc)
            return
        self._send(branch.target, data, branch.listener, True)

    # --- time -------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When `tick` has work next, or None."""
        due = self._heap[0][0] if self._heap else None
        if len(self.table) and self._next_sweep is not None:
            due = self._next_sweep if due is None else min(due, self._next_sweep)
        return due

    def tick(self, now: float | None = None) -> None:
        """Fire the due timers, then drop the transactions whose wait time is over."""
        now = self.clock() if now is None else now
        while self._heap and self._heap[0][0] <= now:
            _, _, entry = heapq.heappop(self._heap)
            due = entry.machine.next_deadline
            if due is None or due > now:
                continue  # a stale heap item: the machine's timers moved on
            actions = entry.machine.tick(now)
            if isinstance(entry.data, ServerTx):
                self._server_actions(entry.data, actions)
            else:
                self._client_timer_actions(entry.data, actions, now)
            self._schedule(entry)
        if self._next_sweep is None or now >= self._next_sweep:
            self.table.expire(now)
            self._next_sweep = now + max(self.config.delete_timer, 0.05)

    def _client_timer_actions(self, branch: ClientBranch, actions, now: float) -> None:
        for action in actions:
            if action == Transmit(Kind.REQUEST):
                self._send(branch.target, branch.request, branch.listener, True)
            elif isinstance(action, Timeout) and branch.final is None:
                # B/F: no final response; C: none after a provisional (no CANCEL sent yet).
                LOG.info("branch timed out (Timer %s): 408", action.timer)
                branch.final = LOCAL_TIMEOUT
                self._maybe_final(branch.server, now)

    def _schedule(self, entry: Entry) -> None:
        due = entry.machine.next_deadline
        if due is not None:
            heapq.heappush(self._heap, (due, next(self._seq), entry))
        if self._next_sweep is None:
            self._next_sweep = self.clock() + max(self.config.delete_timer, 0.05)

    def _send(self, target: Target, data: bytes, listener: Listener, private: bool) -> bool:
        return self.sender.send(target, data, listener, private=private)


def ack_for(request: SipMessage, response: SipMessage) -> bytes:
    """The ACK for a 3xx-6xx response to `request` as we sent it (RFC 3261 §17.1.1.3)."""
    def raw(msg: SipMessage, name: str) -> list[bytes]:
        return [msg.data[f.start:f.end].rstrip(b"\r\n") for f in msg.headers_named(name)]
    # Our Via is a line of its own (forward.request_bytes), so its first line is just the top Via.
    lines = [f"ACK {request.ruri} SIP/2.0".encode(), raw(request, "via")[0]]
    lines += raw(request, "route")
    lines += raw(request, "from") + raw(response, "to") + raw(request, "call-id")
    lines.append(f"CSeq: {request.cseq.number} ACK".encode())
    lines.append(b"Max-Forwards: 70")
    lines.append(b"Content-Length: 0")
    return b"\r\n".join(lines) + b"\r\n\r\n"
