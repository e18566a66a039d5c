"""ctl: binary-RPC and FIFO management control (SER 2.0 modules/ctl).

Listens on unix/TCP/UDP sockets for sercmd (binrpc) and on FIFOs for the
old text protocol; every `binrpc`/`fifo` modparam adds a listener.
"""

from stdlib_modules.exports import INT, STR, V20, Module, param

EXPORTS = Module(
    name="ctl",
    doc="management control sockets",
    dialects=V20,
    params=(
        param("binrpc", STR, "unixs:/tmp/ser_ctl", repeatable=True, doc="add a binrpc listener"),
        param("fifo", STR, None, repeatable=True, doc="add a FIFO listener"),
        param("mode", INT, None, doc="permissions of unix sockets"),
        param("user", STR, None, doc="owner of unix sockets"),
        param("group", STR, None, doc="group of unix sockets"),
        param("autoconversion", INT, 0, doc="convert parameter types when possible"),
    ),
)
