"""xlog: formatted logging (SER modules/xlog, 0.9 and 2.0).

`xlog(level, format)` logs a line built from `%` specifiers (%ru R-URI,
%fu From URI, %ci Call-ID, %is source IP, %{Name} header body, ...).
2.0 also exports the formatter to other modules (xprint) and allows
branch_route.
"""

from stdlib_modules.exports import B, F, INT, O, R, V09, V09_20, V20, Module, fn, param

EXPORTS = Module(
    name="xlog",
    doc="formatted logging",
    dialects=V09_20,
    functions=(
        fn("xlog", 2, R | F | O, dialects=V09, doc="log a formatted line: level, format"),
        fn("xdbg", 1, R | F | O, dialects=V09, doc="log a formatted line at debug level"),
        fn("xlog", 2, R | F | O | B, dialects=V20, doc="log a formatted line: level, format"),
        fn("xdbg", 1, R | F | O | B, dialects=V20, doc="log a formatted line at debug level"),
    ),
    params=(
        param("buf_size", INT, 4096, doc="size of the formatting buffer"),
    ),
)
