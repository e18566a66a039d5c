"""A ser.cfg module for the route tests: functions with chosen return codes that leave a trace.

`ret("N")` returns N; `mark("x")` records x and returns 1; `mark_ret("x", "N")`
records x and returns N. The trace is the attribute "trace" of the message
context, so a test sees which calls ran, in order.
"""

from stdlib_modules.exports import B, F, O, R, S, FixupError, Module, fn

ANY_ROUTE = R | F | O | B | S


def _number(args, state):
    try:
        return (int(args[0]),)
    except ValueError:
        raise FixupError(f"'{args[0]}' is not a number") from None


def _mark_number(args, state):
    return args[0], _number(args[1:], state)[0]


def _trace(ctx, label: str) -> None:
    ctx.avps.setdefault("trace", []).append(label)


def ret(ctx, code: int) -> int:
    return code


def mark(ctx, label: str) -> int:
    _trace(ctx, label)
    return 1


def mark_ret(ctx, label: str, code: int) -> int:
    _trace(ctx, label)
    return code


EXPORTS = Module(
    name="probe",
    doc="test probes",
    functions=(
        fn("ret", 1, ANY_ROUTE, impl=ret, fixup=_number),
        fn("mark", 1, ANY_ROUTE, impl=mark),
        fn("mark_ret", 2, ANY_ROUTE, impl=mark_ret, fixup=_mark_number),
    ),
)
