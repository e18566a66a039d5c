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

Forking and CANCEL (RFC 3261 §16.6, §16.7, §16.10, §9.1):

- `relay` sends to the Request-URI (branch .0) and to every URI of
  `ctx.branches` (.1, .2, ...), each a client transaction of its own, and
  empties the destination set as SER's t_forward_nonack does;
- a CANCEL whose INVITE server transaction is here (`lookup_cancel_target`)
  is answered 200 by the proxy (a NonInviteServer of its own) and a CANCEL
  (`cancel_for`) goes to every branch with a provisional and no final
  response, as a client non-INVITE transaction; a branch that has no
  provisional yet is cancelled when its first one arrives.  The 487s come
  back as the branches' finals and the best goes upstream.  A CANCEL with
  no transaction here is relayed as a transaction of its own to the same
  target, with the branch derived like the INVITE's (so it still reaches
  the downstream INVITE when another worker holds it);
- when Timer C fires the branch gets a local 408 and is cancelled; when a
  branch answers 2xx, the other pending branches are cancelled;
- the best final response (`best_branch`): a 6xx if any, else the lowest
  class, then the lowest code (SER's t_pick_branch without its special
  cases), the local 408 of a timeout counting as a 4xx.

failure_route: `arm_failure` (t_on_failure) stores the label on the
transaction (or, before t_relay made it, for the message being routed).
When every branch has a final >= 300 and a label is armed, the failure
route runs first (found through `find_route`, the compiled script's
`route(kind, label)`, which the Worker passes) on a RouteContext for the
original request with the Request-URI as first relayed; a t_relay in it
adds branches to the same transaction (serial forking), and the best
response waits for them.  The label is disarmed before the route runs, so
the route must call t_on_failure again to be run again.  A cancelled
transaction does not run it.

onreply_route: `arm_reply` (t_on_reply) stores the label like
t_on_failure's, but it stays armed.  Every reply a branch passes up (100
included, before it is relayed or counted) runs onreply_route[label] on a
RouteContext for the reply; as in SER 2.0, a `drop` there (return 0 or
exit) stops a provisional from being relayed, and is ignored for a final
one.  Replies to our own CANCELs do not run it.

Timers: Timers B and F are SER's `fr_timer`, bounded by the RFC's 64*T1
(timers.py); after a provisional an INVITE branch runs `fr_inv_timer`
(Timer C).  So `modparam("tm", "fr_timer", 2)` gives a 408 after 2 s.

Also: `status_for` (t_check_status: the reply in onreply_route, the best
final so far in failure_route), `retransmit_reply`, `current`, `stats`
(the table's size and high-water mark, logged at debug level by `tick`
when it changes, at most once a second).

Timer C and noisy_ctimer: as SER's final_response_handler, an INVITE with
a single branch that rang, no failure_route armed and `noisy_ctimer` 0
(the default) is put on the wait timer silently when Timer C fires: no
CANCEL, no 408, and the callee's answer still reaches the caller.  Any
other timeout gives the branch a local 408 and CANCELs it.

The rest of tm's table: `relay(nonack=True)` is t_forward_nonack (a
transaction t_newtran made, no 100); `release` is t_release (SER's
put_on_wait); `replicate` is t_replicate (a client transaction of its
own, answers end here); `arm` stores t_on_failure/t_on_reply/t_on_branch
labels and `set_fr` t_set_fr's timeouts, on the transaction or, before
t_relay made it, in `Armed` for the message.  branch_route (2.0) runs
before each branch is sent; what it changes is rolled back afterwards
(`SipMessage.checkpoint`), and `drop` there drops that branch only.  A
401/407 going upstream carries the challenges of every branch (§16.7
step 7).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Callable

from ser_runtime import forward
from ser_runtime.control import stats as shared_stats
from ser_runtime.context import PROTO_NONE, PROTO_UDP, ReceiveInfo, RouteContext
from ser_runtime.net.resolver import ResolveError, Target
from ser_runtime.replies import build_reply, to_tag
from ser_runtime.sender import SendError
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
DROPPED = "dropped"   # a branch branch_route or onsend_route dropped


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
    canceled: bool = False               # CANCEL received or a 2xx came: cancel what rings
    failure_route: str | None = None     # t_on_failure's label, armed
    reply_route: str | None = None       # t_on_reply's label, armed
    branch_route: str | None = None      # t_on_branch's label (2.0), armed
    relayed_ruri: str | None = None      # the Request-URI as first relayed, for failure_route
    flags: int = 0                       # the message flags at t_relay, for failure_route


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
    provisional: bool = False            # a 1xx has arrived
    replied: bool = False                # any response has arrived (100 included)
    timed_out: bool = False              # Timer B, C or F gave it its final 408
    cancel_sent: bool = False


@dataclass
class Armed:
    """What the script set for a request's transaction before t_relay made it."""

    msg: SipMessage
    failure_route: str | None = None
    reply_route: str | None = None
    branch_route: str | None = None
    timers: dict = field(default_factory=dict)   # t_set_fr: TimerConfig fields to override


@dataclass(eq=False)
class OwnRequest:
    """A request of ours that no upstream waits for: the CANCEL of a branch, a t_replicate copy,
    a t_uac request.  Its answers end here; `on_final(status, reply)` hears the final one
    (reply None for a local 408)."""

    target: Target
    listener: Listener
    request: bytes
    machine: InviteClient | NonInviteClient
    on_final: Callable[[int, SipMessage | None], None] | None = None
    final: int | None = None


class UacError(Exception):
    """Why t_uac cannot send a request: one line."""


def tm_branch(msg: SipMessage, index: int) -> str:
    """Our Via branch for a branch of a transaction: stable across retransmissions of the request."""
    stateless = forward.branch_id(msg, index)
    return forward.COOKIE + "tm" + stateless[len(forward.COOKIE) + 2:]


class TransactionManager:
    """The transactions of one worker; see the module text."""

    def __init__(self, sender, config: TimerConfig = TimerConfig(), clock=time.monotonic,
                 find_route=None):
        self.sender = sender
        # find_route(kind, label) -> compiled route function or None (CompiledScript.route).
        self.find_route = find_route
        self._armed: Armed | None = None                    # t_on_* and t_set_fr before the transaction
        self._failure_tx: ServerTx | None = None            # whose failure_route is running
        self.config = config
        self.clock = clock
        self.table = TransactionTable(config)
        self._heap: list[tuple[float, int, Entry]] = []
        self._seq = itertools.count()
        self._next_sweep: float | None = None
        self._reported: dict[str, int] | None = None   # the stats last logged, and when next
        self._next_report = 0.0
        # t_stats' counters of this process (shared memory in `ser`, see control/stats.py).
        self.counters = shared_stats.counters
        self._next_gauges = 0.0

    def stats(self) -> dict[str, int]:
        """The transactions held now and the most ever held at once (SER's t_stats, in part)."""
        return {"transactions": len(self.table), "peak": self.table.peak}

    def use_config(self, config: TimerConfig) -> None:
        """The tm module's timer parameters (the first tm function called passes them)."""
        if config != self.config:
            self.config = config
            self.table.config = config

    # --- requests ---------------------------------------------------------------------------

    def absorb(self, msg: SipMessage, rcv: ReceiveInfo, now: float | None = None) -> bool:
        """True when the request belongs to an existing server transaction and was dealt with."""
        self._armed = None  # what the script armed for the previous message never outlives it
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
            target, listener = self.sender.reply_destination(msg, ctx.rcv, ctx.force_rport)
        except (ResolveError, SipParseError, SendError) as exc:
            LOG.error("no transaction for %s: cannot reply to it: %s", msg.method, exc)
            return None, False
        armed = self._armed if self._armed is not None and self._armed.msg is msg else Armed(msg)
        self._armed = None
        config = self.config.for_transport(ctx.rcv.proto != PROTO_UDP)
        if armed.timers:
            config = replace(config, **armed.timers)
        machine = InviteServer(config) if msg.method == "INVITE" else NonInviteServer(config)
        tx = ServerTx(msg, ctx.rcv, ctx.force_rport, machine, target, listener, config,
                      failure_route=armed.failure_route, reply_route=armed.reply_route,
                      branch_route=armed.branch_route)
        try:
            tx.entry = self.table.add_server(msg, machine, tx)
        except (DuplicateTransaction, TableFull, ValueError) as exc:
            LOG.error("no transaction for %s: %s", msg.method, exc)
            return None, False
        self.counters[shared_stats.TM_TOTAL] += 1
        return tx, True

    def arm(self, ctx: RouteContext, route: str, label: str | None) -> int:
        """t_on_failure, t_on_reply, t_on_branch: arm the `route` ("failure_route", ...) of the
        request's transaction, or of the one t_relay will make; None or "0" disarms."""
        label = None if label in (None, "", "0") else str(label)
        setattr(self._settable(ctx), route, label)
        return 1

    def set_fr(self, ctx: RouteContext, fr_inv_timer: float, fr_timer: float | None) -> int:
        """t_set_fr (2.0): this transaction's fr_inv_timer (and fr_timer); 0 keeps the default."""
        timers = {name: value for name, value in (("fr_inv_timer", fr_inv_timer), ("fr_timer", fr_timer))
                  if value}
        target = self._settable(ctx)
        if isinstance(target, ServerTx):
            target.config = replace(target.config, **timers)
        else:
            target.timers.update(timers)
        return 1

    def _settable(self, ctx: RouteContext) -> ServerTx | Armed:
        """The request's transaction, or what will be armed on it when t_relay makes it."""
        tx = self._failure_tx if self._failure_tx is not None and self._failure_tx.request is ctx.msg \
            else self.lookup(ctx.msg)
        if tx is not None:
            return tx
        if self._armed is None or self._armed.msg is not ctx.msg:
            self._armed = Armed(ctx.msg)
        return self._armed

    def release(self, ctx: RouteContext, now: float | None = None) -> int:
        """t_release: stop the transaction's timers and put it on the wait timer."""
        tx = self.current(ctx)
        if tx is None:
            return -1
        now = self.clock() if now is None else now
        self._put_on_wait(tx, now)
        return 1

    def flush_flags(self, ctx: RouteContext) -> int:
        """t_flush_flags (0.8): the message flags now become the transaction's (failure_route sees them)."""
        tx = self.current(ctx)
        if tx is None:
            return -1
        tx.flags = ctx.flags
        return 1

    def failed_branch(self, ctx: RouteContext) -> ClientBranch | None:
        """The branch failure_route runs for (SER 2.0's picked branch): the best final so far."""
        tx = self.current(ctx)
        finals = [b for b in tx.branches if b.final is not None] if tx is not None else []
        return best_branch(finals) if finals else None

    def current(self, ctx: RouteContext) -> ServerTx | None:
        """The transaction of ctx.msg: the one whose failure_route runs, or the table's."""
        if self._failure_tx is not None and self._failure_tx.request is ctx.msg:
            return self._failure_tx
        return None if ctx.msg.status else self.lookup(ctx.msg)

    def status_for(self, ctx: RouteContext) -> int | None:
        """t_check_status: the reply's status in onreply_route, the best failed one in failure_route."""
        if ctx.msg.status:
            return ctx.msg.status
        tx = self.current(ctx)
        finals = [b for b in tx.branches if b.final is not None] if tx is not None else []
        return best_branch(finals).final if finals else None

    def retransmit_reply(self, ctx: RouteContext) -> int:
        """t_retransmit_reply: send the last response of the transaction again."""
        tx = self.current(ctx)
        if tx is None or tx.response is None:
            return -1
        return 1 if self._send(tx.target, tx.response, tx.listener, False) else -1

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
              port: int | None = None, now: float | None = None, nonack: bool = False) -> int:
        """t_relay: forward statefully to host:port or the Request-URI (see tm's return codes).

        `nonack` is t_forward_nonack: the script made the transaction with
        t_newtran, so there must be one, and no 100 Trying is sent.
        """
        msg = ctx.msg
        if nonack and (msg.method == "ACK" or self.current(ctx) is None):
            LOG.error("t_forward_nonack: %s", "an ACK is not forwarded statefully" if msg.method == "ACK"
                      else "no transaction: call t_newtran first")
            return -1
        if msg.method == "ACK":
            # An ACK reaching the script acknowledges a 2xx: end to end, no transaction.
            return self.sender.forward(ctx, proto, host, port)
        now = self.clock() if now is None else now
        if msg.method == "CANCEL":
            try:
                entry = self.table.lookup_cancel_target(msg) if len(self.table) else None
            except (ValueError, SipParseError):
                entry = None
            if entry is not None and isinstance(entry.data, ServerTx):
                return self._cancel(ctx, entry.data, now)
        tx, created = self.new_server(ctx, now)
        if tx is None:
            return -1
        in_failure = tx is self._failure_tx
        if tx.branches and not in_failure:
            return 1  # a retransmission the worker did not absorb: nothing more to do
        if created and msg.method == "INVITE" and not nonack:
            self._local_reply(tx, 100, TRYING, (), now)
        if tx.relayed_ruri is None:
            tx.relayed_ruri, tx.flags = msg.current_ruri, ctx.flags
        forks, ctx.branches = list(ctx.branches), []
        first = len(tx.branches)
        code = self._add_branch(tx, ctx, proto, host, port, now)
        if forks:
            ruri, dst_uri = msg.new_ruri, ctx.dst_uri
            try:
                for fork in forks:
                    try:
                        ctx.set_uri(fork.uri)
                    except SipParseError as exc:
                        LOG.error("t_relay: branch %s: %s", fork.uri, exc)
                        continue
                    ctx.dst_uri = fork.dst_uri
                    branch_code = self._add_branch(tx, ctx, proto, host, port, now)
                    code = code if code is True or branch_code is DROPPED else branch_code
            finally:
                ctx.dst_uri = dst_uri
                msg.new_ruri = ruri
        if code is True:
            return 1
        if code is DROPPED:
            return self._all_dropped(tx, created)
        if len(tx.branches) == first and not tx.final_sent:
            status, reason = code
            if in_failure:
                return -1
            self._local_reply(tx, status, reason, (), now)
            return 0
        return 1

    def _all_dropped(self, tx: ServerTx, created: bool) -> int:
        """branch_route or onsend_route dropped every branch: as if t_relay had not been called,
        so the script may still answer the request statelessly."""
        if created and not tx.branches and not tx.final_sent and tx.entry is not None:
            self.table.remove(tx.entry)
        return -1

    def _add_branch(self, tx: ServerTx, ctx: RouteContext, proto, host, port, now):
        """Send the request on a new branch after its branch_route: True, DROPPED, or
        (status, reason) of what went wrong.  What branch_route changes is this branch's only."""
        if tx.branch_route is None:
            return self._send_branch(tx, ctx, proto, host, port, now)
        route = self.find_route("branch_route", tx.branch_route) if self.find_route is not None else None
        if route is None:
            LOG.error("t_on_branch: no branch_route[%s]", tx.branch_route)
            return self._send_branch(tx, ctx, proto, host, port, now)
        checkpoint, dst_uri, flags = ctx.msg.checkpoint(), ctx.dst_uri, ctx.flags
        try:
            code = route(ctx)
            if code == 0 or ctx.exit:
                return DROPPED
            return self._send_branch(tx, ctx, proto, host, port, now)
        except Exception as exc:  # a bug in the route drops this branch, not the transaction
            LOG.error("internal error in branch_route[%s]: %s: %s", tx.branch_route, type(exc).__name__, exc)
            return DROPPED
        finally:
            ctx.msg.rollback(checkpoint)
            ctx.dst_uri, ctx.flags, ctx.exit = dst_uri, flags, False

    def _send_branch(self, tx: ServerTx, ctx: RouteContext, proto, host, port, now):
        msg = ctx.msg
        branch = tm_branch(msg, len(tx.branches))
        try:
            target, listener, data = self.sender.request_for(ctx, proto, host, port, branch)
        except ResolveError as exc:
            LOG.error("t_relay: %s", exc)
            return 478, "Unresolvable destination"
        except (SipParseError, SendError) as exc:
            LOG.error("t_relay: %s", exc)
            return 500, "Server Internal Error"
        if not self.sender.onsend_allows(ctx, listener, target):
            return DROPPED
        config = tx.config.for_transport(target.proto != PROTO_UDP)
        machine = InviteClient(config) if msg.method == "INVITE" else NonInviteClient(config)
        client = ClientBranch(tx, target, listener, data, machine)
        try:
            entry = self.table.add_client(branch, msg.method, machine, client)
        except (DuplicateTransaction, TableFull) as exc:
            LOG.error("t_relay: %s", exc)
            return 500, "Server Internal Error"
        tx.branches.append(client)
        for action in machine.start(now):
            if isinstance(action, Transmit) and not self._send(target, data, listener, True):
                self.table.remove(entry)
                tx.branches.remove(client)
                return 500, "Server Internal Error"
        self._schedule(entry)
        return True

    def replicate(self, ctx: RouteContext, proto: int, host: str, port: int, now: float | None = None) -> int:
        """t_replicate: send a copy of the request to host:port as a client transaction of its own.

        Nothing of it goes upstream and the request keeps no server
        transaction: the script answers it as usual (REGISTER replicated to a
        backup registrar, then save()).
        """
        msg = ctx.msg
        if msg.method in ("ACK", "CANCEL"):
            LOG.error("t_replicate: %s is not replicated statefully", msg.method)
            return -1
        now = self.clock() if now is None else now
        branch = forward.COOKIE + "rp" + forward.branch_id(msg)[len(forward.COOKIE) + 2:]
        try:
            target, listener, data = self.sender.request_for(ctx, proto, host, port, branch)
        except (ResolveError, SipParseError, SendError) as exc:
            LOG.error("t_replicate: %s", exc)
            return -1
        config = self.config.for_transport(target.proto != PROTO_UDP)
        machine = InviteClient(config) if msg.method == "INVITE" else NonInviteClient(config)
        try:
            entry = self.table.add_client(branch, msg.method, machine, OwnRequest(target, listener, data, machine))
        except (DuplicateTransaction, TableFull) as exc:
            LOG.error("t_replicate: %s", exc)
            return -1
        if Transmit(Kind.REQUEST) in machine.start(now) and not self._send(target, data, listener, True):
            self.table.remove(entry)
            return -1
        self._schedule(entry)
        return 1

    def uac(self, method: str, ruri: str, headers: list[str] = (), body: bytes = b"",
            next_hop: str | None = None, on_final=None, now: float | None = None) -> str:
        """t_uac: send a request of our own (serctl's and the web's MESSAGE, OPTIONS, NOTIFY...).

        `headers` are "Name: value" lines and must hold From and To; a From
        tag, Call-ID, CSeq, Max-Forwards and Content-Length are added when
        missing. It goes to `next_hop` (a URI) or the Request-URI; the
        final answer (408 when none comes) goes to `on_final(status,
        reply)`. Returns the Call-ID; UacError when it cannot be sent.
        """
        names = {line.split(":", 1)[0].strip().lower() for line in headers}
        if not {"from", "to"} <= names:
            raise UacError("t_uac: the headers must have From and To")
        branch = forward.COOKIE + "uac" + uuid.uuid4().hex
        try:
            target, listener, via = self.sender.local_request(next_hop or ruri, branch)
        except (ResolveError, SipParseError, SendError) as exc:
            raise UacError(f"t_uac: {exc}") from None
        call_id = _header_value(headers, "call-id") or f"{uuid.uuid4().hex}@{listener.ip}"
        lines = [f"{method} {ruri} SIP/2.0", f"Via: {via}"]
        for line in headers:
            name = line.split(":", 1)[0].strip().lower()
            if name == "from" and ";tag=" not in line.lower():
                line += f";tag={uuid.uuid4().hex[:16]}"
            if name != "content-length":
                lines.append(line)
        lines += [added for name, added in (("call-id", f"Call-ID: {call_id}"), ("cseq", f"CSeq: 1 {method}"),
                                           ("max-forwards", "Max-Forwards: 70")) if name not in names]
        lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        config = self.config.for_transport(target.proto != PROTO_UDP)
        machine = InviteClient(config) if method == "INVITE" else NonInviteClient(config)
        try:
            entry = self.table.add_client(branch, method, machine, OwnRequest(target, listener, data, machine, on_final))
        except (DuplicateTransaction, TableFull) as exc:
            raise UacError(f"t_uac: {exc}") from None
        machine.start(self.clock() if now is None else now)
        if not self._send(target, data, listener, True):
            self.table.remove(entry)
            raise UacError(f"t_uac: cannot send to {target.ip}:{target.port}")
        self._schedule(entry)
        self.counters[shared_stats.TM_TOTAL] += 1
        self.counters[shared_stats.TM_LOCAL] += 1
        return call_id

    def _own_answer(self, own: OwnRequest, msg: SipMessage, actions) -> None:
        for action in actions:
            if action == Transmit(Kind.ACK):
                self._send_ack(own, msg)
            elif isinstance(action, PassUp) and action.status >= 200:
                if isinstance(own.machine, InviteClient) and action.status < 300:
                    self._ack_2xx(own, msg)  # every 2xx, retransmissions too (§13.2.2.4)
                if own.final is None:
                    own.final = action.status
                    if own.on_final is not None:
                        own.on_final(action.status, msg)

    def _own_timer_actions(self, own: OwnRequest, actions) -> None:
        for action in actions:
            if action == Transmit(Kind.REQUEST):
                self._send(own.target, own.request, own.listener, True)
            elif isinstance(action, Timeout) and own.final is None:
                own.final = LOCAL_TIMEOUT
                if own.on_final is not None:
                    own.on_final(LOCAL_TIMEOUT, None)

    def _ack_2xx(self, own: OwnRequest, response: SipMessage) -> None:
        """The ACK of a 2xx to our own INVITE: end to end, to the callee's Contact along the route set
        its Record-Routes give (RFC 3261 §13.2.2.4, §12.1.2; loose routers assumed)."""
        try:
            request = SipMessage.parse(own.request)
            contacts = response.contacts
            uri = contacts[0].uri if contacts else request.ruri
            routes = [rr.uri for rr in reversed(response.record_routes)]
            target, listener, via = self.sender.local_request(routes[0] if routes else uri,
                                                              forward.COOKIE + "ack" + uuid.uuid4().hex)
        except (ResolveError, SipParseError, SendError) as exc:
            LOG.error("cannot ACK the 2xx to our INVITE: %s", exc)
            return
        lines = [f"ACK {uri} SIP/2.0".encode(), f"Via: {via}".encode()]
        lines += [f"Route: <{route}>".encode() for route in routes]
        lines += _raw(request, "from") + _raw(response, "to") + _raw(request, "call-id")
        lines += [f"CSeq: {request.cseq.number} ACK".encode(), b"Max-Forwards: 70", b"Content-Length: 0"]
        self._send(target, b"\r\n".join(lines) + b"\r\n\r\n", listener, True)

    # --- CANCEL -----------------------------------------------------------------------------

    def _cancel(self, ctx: RouteContext, invite: ServerTx, now: float) -> int:
        """A CANCEL for an INVITE of ours: answer it 200, cancel the branches that ring (§16.10)."""
        tx, _ = self.new_server(ctx, now)
        if tx is not None:
            self._local_reply(tx, 200, "canceling", (), now)
        invite.canceled = True
        for branch in invite.branches:
            self._cancel_branch(branch, now)
        return 1

    def _cancel_branch(self, branch: ClientBranch, now: float) -> None:
        """Send a CANCEL on a branch that has a provisional and no final response (§9.1)."""
        if branch.cancel_sent or not branch.provisional or branch.final is not None \
                or not isinstance(branch.machine, InviteClient):
            return
        branch.cancel_sent = True
        try:
            request = SipMessage.parse(branch.request)
            data = cancel_for(request)
            via_branch = request.via1.branch
        except (SipParseError, AttributeError) as exc:
            LOG.error("cannot build the CANCEL of a branch: %s", exc)
            return
        config = branch.server.config.for_transport(branch.target.proto != PROTO_UDP)
        machine = NonInviteClient(config)
        cancel = OwnRequest(branch.target, branch.listener, data, machine)
        try:
            entry = self.table.add_client(via_branch, "CANCEL", machine, cancel)
        except (DuplicateTransaction, TableFull, ValueError) as exc:
            LOG.error("cannot CANCEL a branch: %s", exc)
            return
        LOG.debug("CANCEL sent on branch %s", via_branch)
        for action in machine.start(now):
            if isinstance(action, Transmit):
                self._send(cancel.target, data, cancel.listener, True)
        self._schedule(entry)

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
        sent = self._respond(tx, code, data, now)
        if sent and code >= 200:
            self.counters[shared_stats.TM_REPLIED] += 1
        return sent

    def _respond(self, tx: ServerTx, status: int, data: bytes, now: float) -> bool:
        """Hand a response to the server machine; send it if the machine lets it out."""
        actions = tx.machine.send_response(status, now)
        if not actions:
            return False
        if status >= 200:
            if not tx.final_sent:
                self.counters[shared_stats.TM_COMPLETED[min(status // 100, 6)]] += 1
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
        if entry is None or not isinstance(entry.data, (ClientBranch, OwnRequest)):
            return False
        now = self.clock() if now is None else now
        try:
            actions = entry.machine.receive_response(msg.status, now)
        except ValueError:
            return True
        branch = entry.data
        if isinstance(branch, OwnRequest):
            self._own_answer(branch, msg, actions)
            self._schedule(entry)
            return True
        branch.replied = True
        for action in actions:
            if isinstance(action, PassUp):
                if not self._run_reply_route(branch.server, msg, rcv, action.status):
                    continue
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
            branch.provisional = True
            self._respond(tx, status, data, now)
            if tx.canceled:
                self._cancel_branch(branch, now)
            return
        if status < 300:
            # RFC 3261 §16.7 step 5: every 2xx goes upstream at once, retransmissions too.
            branch.final = branch.final or status
            if not tx.canceled:
                # §16.7 step 10: a 2xx cancels the other branches that ring.
                tx.canceled = True
                for other in tx.branches:
                    self._cancel_branch(other, now)
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
        """When every branch has a final response, run failure_route or send the best upstream."""
        if tx.final_sent or any(b.final is None for b in tx.branches):
            return
        if tx.failure_route is not None and not tx.canceled and self._run_failure_route(tx, now):
            return
        if tx.final_sent:
            return  # the failure route replied itself
        best = best_branch(tx.branches)
        if best.final_reply is None:
            self._local_reply(tx, best.final, "Request Timeout", (), now)
        else:
            self._respond(tx, best.final, _with_challenges(best, tx.branches), now)

    def _run_failure_route(self, tx: ServerTx, now: float) -> bool:
        """Run the armed failure route; True when it added branches that are still pending."""
        label, tx.failure_route = tx.failure_route, None
        route = self.find_route("failure_route", label) if self.find_route is not None else None
        if route is None:
            LOG.error("t_on_failure: no failure_route[%s]", label)
            return False
        msg = tx.request
        saved = msg.new_ruri
        ctx = RouteContext(msg, tx.rcv, self.sender)
        ctx.force_rport, ctx.flags = tx.force_rport, tx.flags
        before = len(tx.branches)
        outer, self._failure_tx = self._failure_tx, tx
        try:
            if tx.relayed_ruri is not None and tx.relayed_ruri != msg.ruri:
                ctx.set_uri(tx.relayed_ruri)
            else:
                msg.new_ruri = None
            route(ctx)
        except Exception as exc:  # a bug in the route must not lose the final response
            LOG.error("internal error in failure_route[%s]: %s: %s", label, type(exc).__name__, exc)
        finally:
            self._failure_tx = outer
            msg.new_ruri = saved
        return any(b.final is None for b in tx.branches[before:])

    def _run_reply_route(self, tx: ServerTx, msg: SipMessage, rcv: ReceiveInfo, status: int) -> bool:
        """Run the armed onreply_route on a reply of a branch; False when it dropped a provisional.

        As in SER 2.0 (t_reply.c reply_received), `drop` stops only a 1xx: a final
        response is still taken into account.  The label stays armed for every reply.
        """
        label = tx.reply_route
        if label is None:
            return True
        route = self.find_route("onreply_route", label) if self.find_route is not None else None
        if route is None:
            LOG.error("t_on_reply: no onreply_route[%s]", label)
            return True
        ctx = RouteContext(msg, rcv, self.sender)
        try:
            code = route(ctx)
        except Exception as exc:
            LOG.error("internal error in onreply_route[%s]: %s: %s", label, type(exc).__name__, exc)
            return True
        dropped = code == 0 or ctx.exit
        return not (dropped and status < 200)

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
            elif isinstance(entry.data, OwnRequest):
                self._own_timer_actions(entry.data, actions)
            else:
                self._client_timer_actions(entry.data, actions, now)
            self._schedule(entry)
        if self._next_sweep is None or now >= self._next_sweep:
            for entry in self.table.expire(now):
                entry.machine.release(now)  # its RFC wait timer (J, D, K) no longer matters
                tx = entry.data if isinstance(entry.data, ServerTx) else getattr(entry.data, "server", None)
                if tx is not None and tx.entry not in self.table:
                    _unlink(tx)
            self._next_sweep = now + max(self.config.delete_timer, 0.05)
            self._drop_stale_timers()
        self._publish_gauges(now)
        self._report(now)

    def _drop_stale_timers(self) -> None:
        # A heap item waits for its time even when its machine has moved on (Timer C's 120 s
        # after a 200), and it holds the whole transaction: without this, a call's memory
        # would outlive wt_timer by fr_inv_timer.  Amortised: the heap must double first.
        if len(self._heap) <= 2 * len(self.table) + 64:
            return
        current = {}
        for item in self._heap:
            due, _, entry = item
            if entry.machine.next_deadline == due:
                current.setdefault(id(entry), item)
        self._heap = list(current.values())
        heapq.heapify(self._heap)

    def _publish_gauges(self, now: float) -> None:
        """t_stats' current and waiting transactions of this process, once a second at most."""
        if now < self._next_gauges:
            return
        self._next_gauges = now + 1.0
        self.counters[shared_stats.TM_CURRENT] = len(self.table)
        self.counters[shared_stats.TM_WAITING] = sum(
            1 for entry in self.table if isinstance(entry.data, ServerTx) and entry.data.final_sent)

    def _report(self, now: float) -> None:
        # Until there is a control interface, the debug log is where the table's size shows
        # (the soak test reads it): once a second at most, and only when it changed.
        if now < self._next_report:
            return
        stats = self.stats()
        if stats != self._reported:
            LOG.debug("tm: %(transactions)d transactions (at most %(peak)d)", stats)
            self._reported, self._next_report = stats, now + 1.0

    def _client_timer_actions(self, branch: ClientBranch, actions, now: float) -> None:
        for action in actions:
            if action == Transmit(Kind.REQUEST):
                self._send(branch.target, branch.request, branch.listener, True)
            elif isinstance(action, Timeout) and branch.final is None:
                if action.timer == "C" and _goes_silent(branch.server):
                    LOG.debug("fr_inv_timer: transaction dropped silently (noisy_ctimer is 0)")
                    self._put_on_wait(branch.server, now)
                    continue
                # B/F: no final response; C: none after a provisional, so CANCEL it too.
                LOG.info("branch timed out (Timer %s): 408", action.timer)
                if action.timer == "C":
                    self._cancel_branch(branch, now)
                branch.final, branch.timed_out = LOCAL_TIMEOUT, True
                self._maybe_final(branch.server, now)

    def _put_on_wait(self, tx: ServerTx, now: float) -> None:
        """SER's put_on_wait: no more timers or replies of ours; the table forgets it after wt_timer."""
        tx.machine.release(now)
        for branch in tx.branches:
            branch.machine.release(now)

    def _schedule(self, entry: Entry) -> None:
        due = entry.machine.next_deadline
        if due is not None:
            heapq.heappush(self._heap, (due, next(self._seq), entry))
        if self._next_sweep is None:
            self._next_sweep = self.clock() + max(self.config.delete_timer, 0.05)

    def _send(self, target: Target, data: bytes, listener: Listener, private: bool) -> bool:
        return self.sender.send(target, data, listener, private=private)


def _unlink(tx: ServerTx) -> None:
    """Break a transaction's reference cycles (its entry, its branches) once it has left the
    table and no branch can act any more, so that its memory is freed at once instead of
    piling up until the next full garbage collection."""
    if all(branch.machine.terminated_at is not None for branch in tx.branches):
        tx.entry = None
        tx.branches.clear()


def _goes_silent(tx: ServerTx) -> bool:
    """SER's rule (final_response_handler): an INVITE with a single branch that rang, no
    failure_route armed and noisy_ctimer off is dropped without a CANCEL or a 408."""
    return (tx.request.method == "INVITE" and len(tx.branches) == 1 and tx.failure_route is None
            and not tx.config.noisy_ctimer)


def _with_challenges(best: ClientBranch, branches: list[ClientBranch]) -> bytes:
    """RFC 3261 §16.7 step 7: a 401/407 going upstream carries the challenges of every branch
    that answered 401 or 407, so the UAC can answer them all at once."""
    if best.final not in (401, 407):
        return best.final_reply
    extra = []
    for other in branches:
        if other is best or other.final not in (401, 407) or other.final_reply is None:
            continue
        try:
            reply = SipMessage.parse(other.final_reply)
        except SipParseError:
            continue
        extra += _raw(reply, "www-authenticate") + _raw(reply, "proxy-authenticate")
    if not extra:
        return best.final_reply
    head, sep, body = best.final_reply.partition(b"\r\n\r\n")
    return head + b"".join(b"\r\n" + line for line in extra) + sep + body


def best_branch(branches: list[ClientBranch]) -> ClientBranch:
    """RFC 3261 §16.7 step 6: a 6xx if any, else the lowest class, then the lowest code."""
    return min(branches, key=lambda b: (b.final < 600, b.final // 100, b.final))


def _header_value(lines: list[str], name: str) -> str | None:
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def _raw(msg: SipMessage, name: str) -> list[bytes]:
    return [msg.data[f.start:f.end].rstrip(b"\r\n") for f in msg.headers_named(name)]


def cancel_for(request: SipMessage) -> bytes:
    """The CANCEL of `request` as we sent it on a branch (RFC 3261 §9.1)."""
    return _hop_request("CANCEL", request, request)


def ack_for(request: SipMessage, response: SipMessage) -> bytes:
    """The ACK for a 3xx-6xx response to `request` as we sent it (RFC 3261 §17.1.1.3)."""
    return _hop_request("ACK", request, response)


def _hop_request(method: str, request: SipMessage, to_from: SipMessage) -> bytes:
    """A hop-by-hop request for one we sent: same R-URI, top Via, Route, From, Call-ID and
    CSeq number; To from `to_from` (the response, for an ACK: it carries the to-tag)."""
    # Our Via is a line of its own (forward.request_bytes), so its first line is just the top Via.
    lines = [f"{method} {request.ruri} SIP/2.0".encode(), _raw(request, "via")[0]]
    lines += _raw(request, "route")
    lines += _raw(request, "from") + _raw(to_from, "to") + _raw(request, "call-id")
    lines.append(f"CSeq: {request.cseq.number} {method}".encode())
    lines.append(b"Max-Forwards: 70")
    lines.append(b"Content-Length: 0")
    return b"\r\n".join(lines) + b"\r\n\r\n"
