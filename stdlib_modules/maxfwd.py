"""maxfwd: Max-Forwards processing (SER modules/maxfwd; RFC 3261 section 8.1.1.6).

Adds Max-Forwards when missing, decrements it otherwise; false when it
reached 0 (the script then answers 483).
"""

from stdlib_modules.exports import INT, R, V09_20, V20, FixupError, Module, fn, param
from ser_runtime.sip import SipParseError

# The header value is a byte in SER; max_limit 0 (and SER 0.8, which has no
# max_limit) leave incoming values alone.
_MAX_VALUE = 255


def _init(params: dict) -> int:
    return params.get("max_limit") or _MAX_VALUE


def _fixup(args: tuple, limit: int) -> tuple:
    try:
        value = int(args[0])
    except (TypeError, ValueError):
        raise FixupError(f"'{args[0]}' is not a number") from None
    if not 1 <= value <= limit:
        raise FixupError(f"{value} is out of range: 1 to max_limit ({limit})")
    return value, limit


def process_maxfwd(ctx, value: int, limit: int) -> int:
    """Add Max-Forwards: value, or decrement the received one; -1 when it is 0 (SER returns false)."""
    msg = ctx.msg
    field = msg.header("max-forwards")
    if field is None:
        msg.add_header("Max-Forwards", str(value), on_top=True)
        return 1
    try:
        current = field.parsed
    except SipParseError:
        return 1        # SER leaves an unparsable value alone
    if current == 0:
        return -1
    msg.replace_header_value(field, str(min(current, limit) - 1))
    return 1

EXPORTS = Module(
    name="maxfwd",
    doc="Max-Forwards header",
    functions=(
        fn("mf_process_maxfwd_header", 1, R, doc="add or decrement Max-Forwards; false at 0",
           impl=process_maxfwd, fixup=_fixup),
        fn("process_maxfwd", 1, R, dialects=V20, doc="2.0 alias of mf_process_maxfwd_header",
           impl=process_maxfwd, fixup=_fixup),
        fn("mf_lowlimit", 1, R, dialects=V20, doc="true if Max-Forwards is below the limit"),
    ),
    params=(
        param("max_limit", INT, 16, V09_20, doc="upper bound for Max-Forwards and the script argument"),
    ),
    init=_init,
)
