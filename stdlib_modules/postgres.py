"""postgres: PostgreSQL database driver (SER modules/postgres).

No script functions; selected by `postgres://` DB URLs.
"""

from stdlib_modules.exports import Module

EXPORTS = Module(
    name="postgres",
    doc="PostgreSQL driver",
)
