"""diversion: Diversion header (SER modules/diversion, 0.9 and 2.0; draft-levy-sip-diversion).

`add_diversion(reason)` records the current R-URI as a Diversion header
before the request is redirected.
"""

from stdlib_modules.exports import F, R, STR, V09_20, Module, fn, param

EXPORTS = Module(
    name="diversion",
    doc="Diversion header",
    dialects=V09_20,
    functions=(
        fn("add_diversion", 1, R | F, doc="add Diversion: <R-URI>;reason=..."),
    ),
    params=(
        param("suffix", STR, "", doc="text appended to the Diversion header"),
    ),
)
