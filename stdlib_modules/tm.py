"""tm: the transaction module (SER modules/tm; RFC 3261 section 17).

Stateful forwarding and replies: transactions absorb retransmissions,
fork to the destination set, run failure_route/onreply_route (and 2.0
branch_route) for the replies. Follows tm of tags ser_0_8_9/v_0_8_14
(0.8), branch rel_0_9_0 (0.9.7) and rel_2_0_0 (2.0). `tm_mod.so` was a
renamed build of the same module. 2.0 counts all timers in milliseconds.
"""

import logging

from stdlib_modules.exports import (
    B, F, INT, O, R, STR, V08, V08_09, V09, V09_20, V20, Command, CommandError, Deferred, FixupError, Module,
    Reply, fn, param,
)

from ser_runtime.context import PROTO_NONE, PROTO_TCP, PROTO_TLS, PROTO_UDP
from ser_runtime.control import stats
from ser_runtime.net.resolver import ResolveError
from ser_runtime.sender import SendError
from ser_runtime.sip import SipParseError
from ser_runtime.transaction.manager import UacError
from ser_runtime.transaction.timers import TimerConfig
from stdlib_modules.sl import reply_fixup

LOG = logging.getLogger("ser.tm")
_RFOB = R | O | F | B

# How the functions reach the transactions: each worker makes a
# TransactionManager (ser_runtime/transaction/manager.py) and hangs it on its
# Sender, so a call finds it as `ctx.sender.transactions`.  The timer
# parameters become a TimerConfig in `_init`; every fixup appends it to the
# arguments, and the call hands it to the manager.


def _init(params: dict) -> TimerConfig:
    """The module parameters as timer values: 0.8/0.9 count seconds, 2.0 milliseconds."""
    if "retr_timer1" in params:  # 2.0
        scale = 0.001
        t1, t2 = params["retr_timer1"] * scale, params["retr_timer2"] * scale
    else:
        scale = 1.0
        default = TimerConfig()
        # SER 0.9's 1 s first step maps to T1 only when the config sets it (timers.py).
        t1 = default.t1 if params["retr_timer1p1"] == 1 else float(params["retr_timer1p1"])
        t2 = default.t2 if params["retr_timer2"] == 4 else float(params["retr_timer2"])
    return TimerConfig(t1=t1, t2=t2, fr_timer=params["fr_timer"] * scale,
                       fr_inv_timer=params["fr_inv_timer"] * scale, wt_timer=params["wt_timer"] * scale,
                       delete_timer=params["delete_timer"] * scale,
                       noisy_ctimer=bool(params["noisy_ctimer"]))


def _with_config(args: tuple, config) -> tuple:
    return (*args, config if config is not None else TimerConfig())


def _host_port_fixup(args: tuple, config) -> tuple:
    host, port = args
    try:
        number = int(port)
    except (TypeError, ValueError):
        raise FixupError(f"'{port}' is not a port", 1) from None
    return (str(host), number, config if config is not None else TimerConfig())


def _reply_fixup(args: tuple, config) -> tuple:
    return _with_config(reply_fixup(args), config)


def _manager(ctx, name: str, config: TimerConfig):
    manager = getattr(ctx.sender, "transactions", None)
    if manager is None:
        LOG.error("%s: no transaction layer in this process", name)
        return None
    manager.use_config(config)
    return manager


def t_relay(ctx, config) -> int:
    """Relay statefully to the destination URI or Request-URI."""
    manager = _manager(ctx, "t_relay", config)
    return -1 if manager is None else manager.relay(ctx, PROTO_NONE)


def _relay_to(proto: int):
    def relay(ctx, host: str, port: int, config) -> int:
        manager = _manager(ctx, "t_relay_to", config)
        return -1 if manager is None else manager.relay(ctx, proto, host, port)
    return relay


def t_newtran(ctx, config) -> int:
    """1: a new transaction; 0: a retransmission (answered, the script stops); -1: error."""
    manager = _manager(ctx, "t_newtran", config)
    if manager is None or ctx.msg.method == "ACK":
        return -1
    if manager.absorb(ctx.msg, ctx.rcv):
        return 0
    tx, created = manager.new_server(ctx)
    if tx is None:
        return -1
    return 1 if created else 0


def _label_fixup(args: tuple, config) -> tuple:
    return (str(args[0]).strip('"'), config if config is not None else TimerConfig())


def _arm(route: str):
    """t_on_failure, t_on_reply, t_on_branch: arm route[label] for this transaction ("0" disarms)."""
    def arm(ctx, label: str, config) -> int:
        manager = _manager(ctx, "t_on_" + route.split("_")[0], config)
        return -1 if manager is None else manager.arm(ctx, route, label)
    return arm


def _forward_nonack(proto: int):
    def forward_nonack(ctx, host: str, port: int, config) -> int:
        """t_forward_nonack*: forward on the transaction t_newtran made (no 100 Trying)."""
        manager = _manager(ctx, "t_forward_nonack", config)
        return -1 if manager is None else manager.relay(ctx, proto, host, port, nonack=True)
    return forward_nonack


def t_forward_nonack_uri(ctx, config) -> int:
    manager = _manager(ctx, "t_forward_nonack_uri", config)
    return -1 if manager is None else manager.relay(ctx, PROTO_NONE, nonack=True)


def _replicate(proto: int):
    def replicate(ctx, host: str, port: int, config) -> int:
        """t_replicate*: a copy of the request to host:port; its answers are not relayed."""
        manager = _manager(ctx, "t_replicate", config)
        return -1 if manager is None else manager.replicate(ctx, proto, host, port)
    return replicate


def t_release(ctx, config) -> int:
    manager = _manager(ctx, "t_release", config)
    return -1 if manager is None else manager.release(ctx)


def t_flush_flags(ctx, config) -> int:
    manager = _manager(ctx, "t_flush_flags", config)
    return -1 if manager is None else manager.flush_flags(ctx)


def _ms_fixup(args: tuple, config) -> tuple:
    """t_set_fr's milliseconds as seconds (0 keeps the module's value); an AVP name ("$t.fr_timer")
    stays a name, read when the function runs."""
    values = []
    for position, value in enumerate(args):
        if isinstance(value, str) and value.startswith("$"):
            values.append(value)
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise FixupError(f"'{value}' is not a number of milliseconds", position) from None
        if number < 0:
            raise FixupError(f"{number} is negative", position)
        values.append(number / 1000)
    if len(values) == 1:
        values.append(0)
    return (*values, config if config is not None else TimerConfig())


def t_set_fr(ctx, fr_inv_timer, fr_timer, config) -> int:
    """t_set_fr(inv [, fr]) (2.0): this transaction's timeouts, in ms; 0 keeps the default."""
    manager = _manager(ctx, "t_set_fr", config)
    if manager is None:
        return -1
    return manager.set_fr(ctx, _seconds(ctx, fr_inv_timer), _seconds(ctx, fr_timer))


def _seconds(ctx, value) -> float:
    """A fixed-up t_set_fr value, or the AVP it names in ms (unset or not a number: 0, the default)."""
    if not isinstance(value, str):
        return value
    try:
        return max(0, int(ctx.avps.get(value, 0))) / 1000
    except (TypeError, ValueError):
        return 0


def _branch_test(name: str, test):
    """The 2.0 failure_route tests on the failed branch (t_branch_*) or on any branch (t_any_*)."""
    def check(ctx, config) -> int:
        manager = _manager(ctx, name, config)
        if manager is None:
            return -1
        if name.startswith("t_branch_"):
            branch = manager.failed_branch(ctx)
            branches = [] if branch is None else [branch]
        else:
            tx = manager.current(ctx)
            branches = [] if tx is None else tx.branches
        return 1 if any(test(b) for b in branches) else -1
    return check


def _status_regex_fixup(args: tuple, config) -> tuple:
    from stdlib_modules.textops import compile_regex
    return (compile_regex(args[0], icase=False), config if config is not None else TimerConfig())


def t_check_status(ctx, regex, config) -> int:
    """Match the status of the current reply: the reply in onreply_route, the failed one in
    failure_route (SER: regexec on the status code's text, not anchored)."""
    manager = _manager(ctx, "t_check_status", config)
    status = None if manager is None else manager.status_for(ctx)
    if status is None:
        return -1
    return 1 if regex.search(str(status).encode()) else -1


def t_lookup_request(ctx, config) -> int:
    """1 when the request belongs to a transaction here (a retransmission), else -1."""
    manager = _manager(ctx, "t_lookup_request", config)
    return 1 if manager is not None and manager.lookup(ctx.msg) is not None else -1


def t_retransmit_reply(ctx, config) -> int:
    """Resend the last reply of the request's transaction."""
    manager = _manager(ctx, "t_retransmit_reply", config)
    return -1 if manager is None else manager.retransmit_reply(ctx)


def t_is_canceled(ctx, config) -> int:
    """1 when a CANCEL (or a 2xx on another branch) cancelled the transaction."""
    manager = _manager(ctx, "t_is_canceled", config)
    tx = None if manager is None else manager.current(ctx)
    return 1 if tx is not None and tx.canceled else -1


def t_reply(ctx, code: int, reason: str, config) -> int:
    """Reply statefully; the transaction is created if t_newtran did not."""
    from stdlib_modules.textops import reply_headers
    manager = _manager(ctx, "t_reply", config)
    return -1 if manager is None else manager.reply(ctx, code, reason, reply_headers(ctx))

# --- control commands (SER tm's fifo commands) ------------------------------------------------------

def t_stats(state, args, control) -> Reply:
    """FIFO t_stats: the transactions of every process (SER's t_stats.c text)."""
    totals = control.stats.totals()
    return Reply(200, "ok", tuple(stats.tm_lines(totals)), stats.tm_json(totals))


def _block(args: list[str], start: int) -> tuple[list[str], int]:
    """The lines from `start` up to the next "." line, and where the rest begins."""
    try:
        end = args.index(".", start)
    except ValueError:
        return args[start:], len(args)
    return args[start:end], end + 1


def t_uac_dlg(state, args, control) -> Deferred:
    """FIFO t_uac_dlg: method, Request-URI, next hop or ".", headers and body each ended by ".";
    the reply is the final answer (see _uac_reply). `!!` in a header stands for our own address."""
    if len(args) < 3:
        raise CommandError(400, "t_uac_dlg: method, request URI and next hop expected")
    method, ruri, hop = args[:3]
    headers, rest = _block(args, 3)
    body, _ = _block(args, rest)
    names = {line.split(":", 1)[0].strip().lower() for line in headers}
    if not {"from", "to"} <= names:
        raise CommandError(400, "t_uac_dlg: the From and To header fields are needed")
    if body and "content-type" not in names:
        raise CommandError(400, "t_uac_dlg: Content-Type missing")
    manager = control.transactions
    manager.use_config(state if state is not None else TimerConfig())
    next_hop = None if hop == "." else hop
    try:
        ours = _our_address(manager, next_hop or ruri)
        deferred = Deferred()
        manager.uac(method, ruri, [line.replace("!!", ours) for line in headers],
                    ("\r\n".join(body) + "\r\n").encode() if body else b"", next_hop,
                    on_final=lambda status, reply: deferred.resolve(_uac_reply(status, reply, ruri)))
    except UacError as exc:
        raise CommandError(500, str(exc)) from None
    return deferred


def _our_address(manager, uri: str) -> str:
    """host:port the request leaves from, as its Via names it."""
    try:
        _, _, via = manager.sender.local_request(uri, "z9hG4bK")
    except (ResolveError, SipParseError, SendError) as exc:
        raise UacError(f"t_uac: {exc}") from None
    return via.split()[1].split(";")[0]


def _uac_reply(status: int, reply, ruri: str) -> Reply:
    """SER's fifo_callback: a local answer is its status line alone; a received one adds the dialog
    (target, next hop, route set, or three "." unless 2xx confirmed it), then the reply itself."""
    if reply is None:
        return Reply(408, "Request Timeout", data={"status": 408, "reason": "Request Timeout"})
    target = hop = route = "."
    routes = []
    if 200 <= status < 300:
        contacts = reply.contacts
        target = str(contacts[0].uri) if contacts else ruri
        routes = [str(rr.uri) for rr in reversed(reply.record_routes)]
        hop = routes[0] if routes else target
        route = "Route: " + ", ".join(f"<{r}>" for r in routes) if routes else "."
    headers = reply.data[reply.start:reply.body_start].decode("utf-8", "replace").split("\r\n")[1:]
    headers = [line for line in headers if line]
    body = reply.body.decode("utf-8", "replace")
    lines = (target, hop, route, *headers, *(["", *body.splitlines()] if body else []))
    return Reply(status, reply.reason, lines,
                 {"status": status, "reason": reply.reason, "target": target, "next_hop": hop,
                  "route_set": routes, "headers": headers, "body": body})


EXPORTS = Module(
    name="tm",
    doc="stateful transactions",
    init=_init,
    so_names=("tm_mod",),
    commands=(
        Command("t_stats", t_stats, "transactions now and in total, replied locally, completion status"),
        Command("t_uac_dlg", t_uac_dlg, "send a request of ours; the reply is its final answer",
                lines=3, blocks=2),
    ),
    functions=(
        fn("t_relay", 0, R | F, doc="forward statefully to the R-URI and the destination set",
           impl=t_relay, fixup=_with_config),
        fn("t_relay_to_udp", 2, R | F, doc="relay statefully to host, port over UDP",
           impl=_relay_to(PROTO_UDP), fixup=_host_port_fixup),
        fn("t_relay_to_tcp", 2, R | F, doc="relay statefully to host, port over TCP",
           impl=_relay_to(PROTO_TCP), fixup=_host_port_fixup),
        fn("t_relay_to_tls", 2, R | F, doc="relay statefully to host, port over TLS",
           impl=_relay_to(PROTO_TLS), fixup=_host_port_fixup),
        fn("t_relay_to", 2, R, dialects=V08, doc="2002: relay statefully to host, port (later t_relay_to_udp)",
           impl=_relay_to(PROTO_UDP), fixup=_host_port_fixup),
        fn("t_relay_to", 2, R, dialects=V20, doc="relay statefully to proto:host:port"),
        fn("t_relay_cancel", 0, R, dialects=V20, doc="relay a CANCEL matching an existing INVITE transaction"),
        fn("t_newtran", 0, R, doc="create a transaction (UAS); 0 stops the script on a retransmission",
           impl=t_newtran, fixup=_with_config),
        fn("t_reply", 2, R | F, doc="reply statefully: code, reason", impl=t_reply, fixup=_reply_fixup),
        fn("t_lookup_request", 0, R, doc="does a transaction exist for this request",
           impl=t_lookup_request, fixup=_with_config),
        fn("t_lookup_cancel", 0, R, dialects=V20, doc="does the INVITE transaction a CANCEL refers to exist"),
        fn("t_retransmit_reply", 0, R, doc="resend the last reply of the transaction",
           impl=t_retransmit_reply, fixup=_with_config),
        fn("t_release", 0, R, doc="put the transaction on the wait timer", impl=t_release, fixup=_with_config),
        fn("t_replicate", 2, R, doc="statefully copy the request to host, port",
           impl=_replicate(PROTO_NONE), fixup=_host_port_fixup),
        fn("t_replicate_udp", 2, R, doc="t_replicate over UDP", impl=_replicate(PROTO_UDP), fixup=_host_port_fixup),
        fn("t_replicate_tcp", 2, R, doc="t_replicate over TCP", impl=_replicate(PROTO_TCP), fixup=_host_port_fixup),
        fn("t_replicate_tls", 2, R, doc="t_replicate over TLS", impl=_replicate(PROTO_TLS), fixup=_host_port_fixup),
        fn("t_replicate_to", 2, R, dialects=V20, doc="t_replicate to proto, host:port"),
        fn("t_forward_nonack", 2, R, doc="low-level stateful forward of a non-ACK to host, port",
           impl=_forward_nonack(PROTO_NONE), fixup=_host_port_fixup),
        fn("t_forward_nonack_uri", 0, R, doc="t_forward_nonack to the R-URI",
           impl=t_forward_nonack_uri, fixup=_with_config),
        fn("t_forward_nonack_udp", 2, R, doc="t_forward_nonack over UDP",
           impl=_forward_nonack(PROTO_UDP), fixup=_host_port_fixup),
        fn("t_forward_nonack_tcp", 2, R, doc="t_forward_nonack over TCP",
           impl=_forward_nonack(PROTO_TCP), fixup=_host_port_fixup),
        fn("t_forward_nonack_tls", 2, R, doc="t_forward_nonack over TLS",
           impl=_forward_nonack(PROTO_TLS), fixup=_host_port_fixup),
        fn("t_forward_nonack_to", 2, R, dialects=V20, doc="t_forward_nonack to proto, host:port"),
        fn("t_on_negative", 1, R, dialects=V08, doc="0.8.9 name of t_on_failure (arms reply_route[n])"),
        fn("t_on_failure", 1, R | F | O, doc="arm failure_route[n] for this transaction ('0' disarms)",
           impl=_arm("failure_route"), fixup=_label_fixup),
        fn("t_on_reply", 1, R | F | O, doc="arm onreply_route[n] for replies of this transaction",
           impl=_arm("reply_route"), fixup=_label_fixup),
        fn("t_on_branch", 1, R | F, dialects=V20, doc="arm branch_route[n] for each outgoing branch",
           impl=_arm("branch_route"), fixup=_label_fixup),
        fn("t_check_status", 1, R | F | O, doc="regex against the status code of the current reply",
           impl=t_check_status, fixup=_status_regex_fixup),
        fn("t_setflag", 1, R, dialects=V08, doc="2002: set a transaction flag (pre-0.8.9 tm)"),
        fn("t_flush_flags", 0, R | F, dialects=V08, doc="0.8.14: copy message flags to the transaction",
           impl=t_flush_flags, fixup=_with_config),
        fn("t_write_req", 2, R | F, dialects=V09_20, doc="hand the request to an application over a FIFO: fifo, app"),
        fn("t_write_unix", 2, R | F, dialects=V09_20, doc="hand the request to an application over a unix socket"),
        fn("t_set_fr", 1, _RFOB, dialects=V20, doc="set the INVITE final-response timeout (ms) of this transaction",
           impl=t_set_fr, fixup=_ms_fixup),
        fn("t_set_fr", 2, _RFOB, dialects=V20, doc="set fr_inv and fr timeouts (ms) of this transaction",
           impl=t_set_fr, fixup=_ms_fixup),
        fn("t_branch_timeout", 0, F, dialects=V20, doc="the failed branch timed out",
           impl=_branch_test("t_branch_timeout", lambda b: b.timed_out), fixup=_with_config),
        fn("t_branch_replied", 0, F, dialects=V20, doc="the failed branch received a reply",
           impl=_branch_test("t_branch_replied", lambda b: b.replied), fixup=_with_config),
        fn("t_any_timeout", 0, _RFOB, dialects=V20, doc="any branch timed out",
           impl=_branch_test("t_any_timeout", lambda b: b.timed_out), fixup=_with_config),
        fn("t_any_replied", 0, _RFOB, dialects=V20, doc="any branch received a reply",
           impl=_branch_test("t_any_replied", lambda b: b.replied), fixup=_with_config),
        fn("t_is_canceled", 0, _RFOB, dialects=V20, doc="the transaction was canceled",
           impl=t_is_canceled, fixup=_with_config),
    ),
    params=(
        # 0.8 / 0.9: seconds
        param("fr_timer", INT, 30, V08_09, doc="final-response timeout (s)"),
        param("fr_inv_timer", INT, 120, V08_09, doc="INVITE final-response timeout after a provisional (s)"),
        param("wt_timer", INT, 5, V08_09, doc="time a completed transaction is kept (s)"),
        param("delete_timer", INT, 2, V08_09, doc="retry interval for deleting referenced transactions (s)"),
        param("retr_timer1p1", INT, 1, V08_09, doc="first UDP retransmission step (s)"),
        param("retr_timer1p2", INT, 2, V08_09, doc="second UDP retransmission step (s)"),
        param("retr_timer1p3", INT, 4, V08_09, doc="third UDP retransmission step (s)"),
        param("retr_timer2", INT, 4, V08_09, doc="maximum retransmission interval (s)"),
        # 2.0: milliseconds
        param("fr_timer", INT, 30000, V20, doc="final-response timeout (ms)"),
        param("fr_inv_timer", INT, 120000, V20, doc="INVITE final-response timeout (ms)"),
        param("wt_timer", INT, 5000, V20, doc="wait timer (ms)"),
        param("delete_timer", INT, 200, V20, doc="delete retry interval (ms)"),
        param("retr_timer1", INT, 500, V20, doc="T1 retransmission interval (ms)"),
        param("retr_timer2", INT, 4000, V20, doc="T2 maximum retransmission interval (ms)"),
        param("noisy_ctimer", INT, 0, doc="CANCEL/408 on INVITE timeout even for single branches"),
        param("ruri_matching", INT, 1, doc="include the R-URI in pre-3261 transaction matching"),
        param("via1_matching", INT, 1, doc="include the top Via in pre-3261 matching (0.8.14+)"),
        param("uac_from", STR, "sip:foo@foo.bar", doc="From for locally generated requests"),
        param("unix_tx_timeout", INT, 2, V09_20, doc="send timeout for t_write_unix"),
        param("restart_fr_on_each_reply", INT, 1, V09_20, doc="restart fr_inv on every provisional reply"),
        param("fr_timer_avp", STR, "callee_fr_timer", V09, doc="AVP overriding fr_timer"),
        param("fr_inv_timer_avp", STR, "callee_fr_inv_timer", V09, doc="AVP overriding fr_inv_timer"),
        param("fr_timer_avp", STR, None, V20, doc="AVP overriding fr_timer (unset by default)"),
        param("fr_inv_timer_avp", STR, None, V20, doc="AVP overriding fr_inv_timer (unset by default)"),
        param("tw_append", STR, None, V09_20, repeatable=True,
              doc="name:elem;... extra data for t_write_req/t_write_unix"),
        param("pass_provisional_replies", INT, 0, V09_20, doc="pass 1xx to FIFO/unix applications"),
        param("var_timers", INT, 1, V09, doc="0.9.7 variable-timer fix"),
        param("aggregate_challenges", INT, 1, V20, doc="merge 401/407 challenges of all branches"),
        param("unmatched_cancel", INT, 0, V20, doc="how to handle a CANCEL without an INVITE transaction"),
        param("default_code", INT, 500, V20, doc="reply code when the script ends without a reply"),
        param("default_reason", STR, "Server Internal Error", V20, doc="reason for default_code"),
        param("reparse_invite", INT, 1, V20, doc="build CANCEL/ACK from the outgoing INVITE"),
        param("ac_extra_hdrs", STR, "", V20, doc="header prefixes copied into local ACK/CANCEL"),
        param("blst_methods_add", INT, 1, V20, doc="methods whose failures add to the blacklist (bitmask, 1 = INVITE)"),
        param("blst_methods_lookup", INT, 4294967287, V20, doc="methods checked against the blacklist (bitmask, all but BYE)"),
    ),
)
