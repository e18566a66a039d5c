"""ext: rewrite the R-URI with an external program (SER modules/ext, 0.8/0.9).

The program gets the user part or the whole R-URI on stdin and prints
the replacement.
"""

from stdlib_modules.exports import R, V08_09, Module, fn

EXPORTS = Module(
    name="ext",
    doc="external R-URI rewriting",
    dialects=V08_09,
    functions=(
        fn("ext_rewriteuser", 1, R, doc="R-URI user <- output of the command"),
        fn("ext_rewriteuri", 1, R, doc="R-URI <- output of the command"),
    ),
)
