"""dbtext: plain-text-file database driver (SER modules/dbtext).

No script functions and no parameters; `dbtext:///dir` (or a bare
directory path in 0.8) selects a directory with one text file per table.
"""

from stdlib_modules.exports import Module

EXPORTS = Module(
    name="dbtext",
    doc="text-file database",
)
