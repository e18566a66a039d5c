"""mysql: MySQL database driver (SER modules/mysql).

No script functions. Other modules reach MySQL through their `db_url`
(`mysql://user:pass@host/db`; `sql://` in 0.8.x), which ser_runtime.db opens
with its PyMySQL backend; `sqlite:///path` selects the embedded backend instead.
The layer always reconnects once when the server went away, as `auto_reconnect=1` did.
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
