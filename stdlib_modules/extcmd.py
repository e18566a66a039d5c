"""extcmd: pass requests to an external command server (SER modules/extcmd, 0.8/0.9).

`extcmd_dump_req` forwards the request to the external command process.
"""

from stdlib_modules.exports import R, V08_09, Module, fn

EXPORTS = Module(
    name="extcmd",
    doc="external command server",
    dialects=V08_09,
    functions=(
        fn("extcmd_dump_req", 0, R, doc="dump the request to the external command server"),
    ),
)
