"""sl: stateless replies (SER modules/sl; RFC 3261 section 8.2.6).

`sl_send_reply` answers a request without creating a transaction; a 3xx
reply carries the destination set as Contact, which is SER's redirect mode.
"""

from stdlib_modules.exports import R, V08, V20, Module, fn

EXPORTS = Module(
    name="sl",
    doc="stateless replies",
    functions=(
        fn("sl_send_reply", 2, R, doc="send a reply statelessly: code, reason"),
        fn("sl_reply_error", 0, R, doc="reply describing the last internal error"),
        fn("sl_reply", 2, R, dialects=V20, doc="2.0 alias of sl_send_reply"),
        fn("sl_filter_ACK", 0, R, dialects=V08,
           doc="2002: absorb ACKs to sl's own negative replies (automatic from 0.8.11 on)"),
    ),
)
