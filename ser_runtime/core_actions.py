"""SER's core actions that work on the message alone (language reference §8, §9.2; SER's action.c).

Each action is `action(ctx, *args) -> int` with its arguments already fixed
up by the compiler (numbers as ints, flags as bit masks). They return SER's
codes: 1 done, -1 failed; none of them returns 0, so none stops a route.

The URI rewrites work on the current Request-URI (the rewritten one if any)
and always produce a `sip:` URI, keeping parameters and headers; `seturi`
stores its text as given. Actions that send (forward, send, ...) belong to
the SIP runtime and are bound there.
"""

from __future__ import annotations

import logging
import subprocess

from ser_runtime.context import Branch, RouteContext
from ser_runtime.log import L_NOTICE, SCRIPT_LOG, python_level
from ser_runtime.sip import SipParseError, SipUri

LOG = logging.getLogger("ser.core")


def log(ctx: RouteContext, level: int, text: str) -> int:
    python = python_level(level)
    if SCRIPT_LOG.isEnabledFor(python):
        SCRIPT_LOG.log(python, "%s", text.rstrip("\n"))
    return 1


def error(ctx: RouteContext, kind: str, text: str) -> int:
    LOG.log(python_level(L_NOTICE), "error(\"%s\", \"%s\") is not implemented in SER either", kind, text)
    return 1


def exec_(ctx: RouteContext, command: str) -> int:
    """SER's "dumb" exec: run through the shell and wait; the result is ignored."""
    try:
        subprocess.run(["/bin/sh", "-c", command], stdin=subprocess.DEVNULL, check=False)
    except OSError as exc:
        LOG.error("exec(\"%s\") failed: %s", command, exc)
    return 1


# --- flags -------------------------------------------------------------------------------------

def setflag(ctx: RouteContext, mask: int) -> int:
    ctx.flags |= mask
    return 1


def resetflag(ctx: RouteContext, mask: int) -> int:
    ctx.flags &= ~mask
    return 1


def isflagset(ctx: RouteContext, mask: int) -> int:
    return 1 if ctx.flags & mask else -1


def bad_flag(ctx: RouteContext, flag: int) -> int:
    """SER 0.8/0.9 reject flag 0 (and anything above 31) when the script runs."""
    LOG.error("flag %d is out of range (1..31)", flag)
    return -1


def len_gt(ctx: RouteContext, length: int) -> int:
    return 1 if len(ctx.msg) >= length else -1


# --- the Request-URI --------------------------------------------------------------------------

def _rewrite(ctx: RouteContext, change, argument) -> int:
    if not ctx.msg.is_request:
        return -1
    try:
        ctx.set_uri(str(change(ctx.parsed_uri(), argument)))
    except SipParseError as exc:
        LOG.error("cannot rewrite Request-URI %r: %s", ctx.uri, exc.what)
        return -1
    return 1


def rewritehost(ctx: RouteContext, host: str) -> int:
    return _rewrite(ctx, SipUri.with_host, host)


def rewritehostport(ctx: RouteContext, hostport: str) -> int:
    return _rewrite(ctx, SipUri.with_hostport, hostport)


def rewriteuser(ctx: RouteContext, user: str) -> int:
    return _rewrite(ctx, SipUri.with_user, user)


def rewriteuserpass(ctx: RouteContext, userpass: str) -> int:
    return _rewrite(ctx, SipUri.with_userpass, userpass)


def rewriteport(ctx: RouteContext, port: str) -> int:
    return _rewrite(ctx, SipUri.with_port, port)


def prefix(ctx: RouteContext, text: str) -> int:
    return _rewrite(ctx, SipUri.with_user_prefix, text)


def strip(ctx: RouteContext, count: int) -> int:
    return _rewrite(ctx, SipUri.with_user_stripped, count)


def strip_tail(ctx: RouteContext, count: int) -> int:
    return _rewrite(ctx, SipUri.with_user_tail_stripped, count)


def rewriteuri(ctx: RouteContext, uri: str) -> int:
    try:
        ctx.set_uri(uri)
    except SipParseError as exc:
        LOG.error("cannot set Request-URI %r: %s", uri, exc.what)
        return -1
    return 1


def revert_uri(ctx: RouteContext) -> int:
    if ctx.msg.is_request:
        ctx.msg.revert_ruri()
    return 1


def append_branch(ctx: RouteContext, max_branches: int, uri: str = "", q: str | None = None) -> int:
    """Add a URI (the current Request-URI when none is given) to the destination set."""
    if len(ctx.branches) + 1 >= max_branches:
        LOG.error("append_branch: the destination set is full (%d branches)", max_branches)
        return -1
    ctx.branches.append(Branch(uri or ctx.uri, q))
    return 1


# --- per-message sending choices (used when the message is forwarded) -------------------------

def force_rport(ctx: RouteContext) -> int:
    ctx.force_rport = True
    return 1


def set_advertised_address(ctx: RouteContext, address: str) -> int:
    ctx.advertised_address = address
    return 1


def set_advertised_port(ctx: RouteContext, port: int) -> int:
    ctx.advertised_port = port
    return 1


def force_send_socket(ctx: RouteContext, proto: int, address: str, port: int) -> int:
    ctx.send_socket = (proto, address, port)
    return 1


# Core actions by script name (aliases included) for the compiler; the
# sending actions are added by the SIP runtime.
ACTIONS = {
    "log": log, "error": error, "exec": exec_, "setflag": setflag, "resetflag": resetflag,
    "isflagset": isflagset, "len_gt": len_gt,
    "rewritehost": rewritehost, "sethost": rewritehost, "seth": rewritehost,
    "rewritehostport": rewritehostport, "sethostport": rewritehostport, "sethp": rewritehostport,
    "rewriteuser": rewriteuser, "setuser": rewriteuser, "setu": rewriteuser,
    "rewriteuserpass": rewriteuserpass, "setuserpass": rewriteuserpass, "setup": rewriteuserpass,
    "rewriteport": rewriteport, "setport": rewriteport, "setp": rewriteport,
    "rewriteuri": rewriteuri, "seturi": rewriteuri, "revert_uri": revert_uri,
    "prefix": prefix, "strip": strip, "strip_tail": strip_tail, "append_branch": append_branch,
    "force_rport": force_rport, "add_rport": force_rport,
    "set_advertised_address": set_advertised_address, "set_advertised_port": set_advertised_port,
    "force_send_socket": force_send_socket,
}
