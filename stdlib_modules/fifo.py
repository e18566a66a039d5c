"""fifo: text management interface over a named pipe (SER 2.0 modules/fifo).

The 0.8/0.9 core `fifo=` server moved into a module in 2.0.
"""

from stdlib_modules.exports import INT, STR, V20, Module, param

EXPORTS = Module(
    name="fifo",
    doc="FIFO management interface",
    dialects=V20,
    params=(
        param("fifo_file", STR, None, doc="path of the FIFO (none = off)"),
        param("fifo_dir", STR, "/tmp/", doc="directory of reply FIFOs"),
        param("user", STR, None, doc="owner of the FIFO"),
        param("mode", INT, 0o620, doc="permissions of the FIFO"),
        param("group", STR, None, doc="group of the FIFO"),
        param("reply_retries", INT, 4, doc="retries when opening a reply FIFO"),
        param("reply_wait", INT, 80000, doc="wait between retries (us)"),
    ),
)
