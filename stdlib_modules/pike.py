"""pike: request-flood detection per source IP (SER modules/pike).

Counts requests per source address in a tree; `pike_check_req` is false
for an address over `reqs_density_per_unit` requests per
`sampling_time_unit`. The 2002 module spelled the last parameter
`removel_latency`.
"""

from stdlib_modules.exports import INT, R, V08, V20, Module, fn, param

EXPORTS = Module(
    name="pike",
    doc="flood detection",
    functions=(
        fn("pike_check_req", 0, R, doc="false if the source IP exceeds the limit"),
        fn("pike_check_req", 1, R, dialects=V20, doc="pike_check_req with a log/flags argument"),
    ),
    params=(
        param("sampling_time_unit", INT, 2, doc="sampling period (s)"),
        param("reqs_density_per_unit", INT, 30, doc="requests allowed per period"),
        param("remove_latency", INT, 120, doc="idle time before a node is removed (s)"),
        param("removel_latency", INT, 120, V08, doc="2002 spelling of remove_latency"),
    ),
)
