"""maxfwd: Max-Forwards processing (SER modules/maxfwd; RFC 3261 section 8.1.1.6).

Adds Max-Forwards when missing, decrements it otherwise; false when it
reached 0 (the script then answers 483).
"""

from stdlib_modules.exports import INT, R, V09_20, V20, Module, fn, param

EXPORTS = Module(
    name="maxfwd",
    doc="Max-Forwards header",
    functions=(
        fn("mf_process_maxfwd_header", 1, R, doc="add or decrement Max-Forwards; false at 0"),
        fn("process_maxfwd", 1, R, dialects=V20, doc="2.0 alias of mf_process_maxfwd_header"),
        fn("mf_lowlimit", 1, R, dialects=V20, doc="true if Max-Forwards is below the limit"),
    ),
    params=(
        param("max_limit", INT, 16, V09_20, doc="upper bound for Max-Forwards and the script argument"),
    ),
)
