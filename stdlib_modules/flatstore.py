"""flatstore: append-only flat-file database driver (SER modules/flatstore, 0.9 and 2.0).

Fast writer for accounting records; no queries, no script functions.
"""

from stdlib_modules.exports import INT, V09_20, Module, param

EXPORTS = Module(
    name="flatstore",
    doc="flat-file writer",
    dialects=V09_20,
    params=(
        param("flush", INT, 1, doc="flush after every write"),
    ),
)
