"""options: answer OPTIONS addressed to the server (SER modules/options; RFC 3261 section 11).

`options_reply` sends 200 OK with Accept, Accept-Encoding,
Accept-Language and Supported headers (and stops the script).

As in SER, the four headers are always there, empty values included, and
follow any header text append_to_reply/append_time stored for the reply
(SER's reply lumps). The function is false for a request other than
OPTIONS and for an R-URI with a user part (an OPTIONS meant for a user
is forwarded, not answered); it returns 0, which stops the script, once
the reply is sent. An R-URI that does not parse counts as having no user,
as in SER, which looks at a user part only if something parsed the URI.
"""

import logging

from stdlib_modules.exports import F, R, STR, V08_09, V20, Module, fn, param
from stdlib_modules.textops import reply_headers
from ser_runtime.sip import SipParseError

LOG = logging.getLogger("ser.options")


def _init(params: dict) -> tuple[str, ...]:
    def value(name: str) -> str:
        given = params.get(name)
        return "" if given is None else str(given)
    return (f"Accept: {value('accept')}", f"Accept-Encoding: {value('accept_encoding')}",
            f"Accept-Language: {value('accept_language')}", f"Supported: {value('support')}")


def _fixup(args: tuple, headers: tuple[str, ...]) -> tuple:
    return (headers,)


def options_reply(ctx, headers: tuple[str, ...]) -> int:
    """Reply 200 with the capability headers to an OPTIONS for the server itself."""
    msg = ctx.msg
    if not msg.is_request or msg.method.upper() != "OPTIONS":
        LOG.error("options_reply: called for a %s request", msg.method or "non-")
        return -1
    try:
        user = ctx.parsed_uri().user
    except SipParseError:
        user = None
    if user:
        LOG.error("options_reply: the Request-URI contains a user name")
        return -1
    if ctx.sender is None:
        LOG.error("options_reply: no transport to reply on")
        return -1
    sent = ctx.sender.reply(msg, ctx.rcv, 200, "OK", force_rport=ctx.force_rport,
                            extra_headers=[*reply_headers(ctx), *headers])
    if not sent:
        LOG.error("options_reply: failed to send 200")
        return -1
    return 0


EXPORTS = Module(
    name="options",
    doc="OPTIONS replies",
    functions=(
        fn("options_reply", 0, R, dialects=V08_09, doc="reply 200 to OPTIONS for the server",
           impl=options_reply, fixup=_fixup),
        fn("options_reply", 0, R | F, dialects=V20, doc="reply 200 to OPTIONS for the server",
           impl=options_reply, fixup=_fixup),
    ),
    params=(
        param("accept", STR, "*/*", doc="Accept header value"),
        param("accept_encoding", STR, "", doc="Accept-Encoding header value"),
        param("accept_language", STR, "en", doc="Accept-Language header value"),
        param("support", STR, "", doc="Supported header value"),
    ),
    init=_init,
)
