"""dialog: dialog storage for the presence modules (SER 2.0 modules/dialog; RFC 3261 section 12).

API-only (pa, rls and presence_b2b bind to it); no script functions.
"""

from stdlib_modules.exports import INT, STR, V20, Module, param

EXPORTS = Module(
    name="dialog",
    doc="dialog storage API",
    dialects=V20,
    params=(
        param("db_mode", INT, 0, doc="0 no DB"),
        param("db_url", STR, None, doc="database URL"),
    ),
)
