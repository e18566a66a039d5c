"""sl: stateless replies (SER modules/sl; RFC 3261 section 8.2.6).

`sl_send_reply` answers a request without creating a transaction; a 3xx
reply carries the destination set as Contact, which is SER's redirect mode.
The ACK to one of these replies is absorbed by the core (worker.py), which
recognises sl's to-tag, as SER 0.8.11+ does without `sl_filter_ACK`. Header
lines stored by textops' `append_to_reply` go into the reply.
"""

import logging

from ser_runtime.context import Branch
from ser_runtime.control import stats
from stdlib_modules.exports import R, V08, V20, Command, FixupError, Module, Reply, fn
from stdlib_modules.textops import reply_headers

LOG = logging.getLogger("ser.sl")


def reply_fixup(args: tuple, state=None) -> tuple:
    """(code, reason) of a reply function: the code a number from 100 to 699 (tm's t_reply too)."""
    code, reason = args
    try:
        number = int(code)
    except (TypeError, ValueError):
        raise FixupError(f"'{code}' is not a reply code") from None
    if not 100 <= number <= 699:
        raise FixupError(f"{number} is not a reply code (100 to 699)")
    return number, str(reason)


def sl_send_reply(ctx, code: int, reason: str) -> int:
    """Reply `code reason` to the request; 3xx lists the destination set as Contact."""
    if ctx.sender is None:
        LOG.error("sl_send_reply: no transport to reply on")
        return -1
    headers = reply_headers(ctx) + (_contacts(ctx) if 300 <= code < 400 else [])
    sent = ctx.sender.reply(ctx.msg, ctx.rcv, code, reason, force_rport=ctx.force_rport,
                            extra_headers=headers)
    stats.count_sl_reply(code, sent)
    return 1 if sent else -1


def sl_reply_error(ctx) -> int:
    """SER answers the last internal error; without error codes, that is 500."""
    return sl_send_reply(ctx, 500, "Server Internal Error")


def sl_filter_ack(ctx) -> int:
    return 1


def _contacts(ctx) -> list[str]:
    # SER's print_dset: the current Request-URI first, then every appended branch.
    entries = [Branch(ctx.uri), *ctx.branches]
    return ["Contact: " + ", ".join(f"<{b.uri}>" + (f";q={b.q}" if b.q else "") for b in entries)]


def sl_stats(state, args, control) -> Reply:
    """FIFO sl_stats: the replies sl sent, summed over every process."""
    totals = control.stats.totals()
    return Reply(200, "ok", tuple(stats.sl_lines(totals)), stats.sl_json(totals))


EXPORTS = Module(
    name="sl",
    doc="stateless replies",
    functions=(
        fn("sl_send_reply", 2, R, doc="send a reply statelessly: code, reason",
           impl=sl_send_reply, fixup=reply_fixup),
        fn("sl_reply_error", 0, R, doc="reply describing the last internal error", impl=sl_reply_error),
        fn("sl_reply", 2, R, dialects=V20, doc="2.0 alias of sl_send_reply",
           impl=sl_send_reply, fixup=reply_fixup),
        fn("sl_filter_ACK", 0, R, dialects=V08,
           doc="2002: absorb ACKs to sl's own negative replies (automatic from 0.8.11 on)",
           impl=sl_filter_ack),
    ),
    commands=(Command("sl_stats", sl_stats, "replies sent by sl, per code and class"),),
)
