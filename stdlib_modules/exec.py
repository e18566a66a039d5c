"""exec: external commands (SER modules/exec).

`exec_dset` runs a shell command with the R-URI as argument and turns
its output lines into the destination set; `exec_msg` pipes the request
to a command. With `setvars` the headers are passed as SIP_HF_* variables.
(The core action `exec("cmd")` is different: plain system().)
"""

from stdlib_modules.exports import F, INT, R, Module, fn, param

EXPORTS = Module(
    name="exec",
    doc="external commands",
    functions=(
        fn("exec_dset", 1, R | F, doc="run cmd with the R-URI; output lines become destinations"),
        fn("exec_msg", 1, R | F, doc="run cmd with the request on stdin"),
    ),
    params=(
        param("setvars", INT, 1, doc="export SIP_HF_* and SIP_* environment variables"),
        param("time_to_kill", INT, 0, doc="kill the command after this many seconds (not effective)"),
    ),
)
