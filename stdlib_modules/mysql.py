"""mysql: MySQL database driver (SER modules/mysql).

No script functions; other modules reach it through DB URLs
(`mysql://user:pass@host/db`; `sql://` in 0.8.x).
"""

from stdlib_modules.exports import INT, V09_20, Module, param

EXPORTS = Module(
    name="mysql",
    doc="MySQL driver",
    params=(
        param("ping_interval", INT, 300, doc="ping the server after this idle time (s)"),
        param("auto_reconnect", INT, 1, V09_20, doc="reconnect when the connection drops"),
    ),
)
