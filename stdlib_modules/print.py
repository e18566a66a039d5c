"""print: test module that prints its argument (SER modules/print).

Shipped as the module-interface example; `print(text)` writes to stdout.
"""

from stdlib_modules.exports import INT, R, STR, Module, fn, param

EXPORTS = Module(
    name="print",
    doc="print to stdout (example module)",
    functions=(
        fn("print", 1, R, doc="print the text to stdout"),
    ),
    params=(
        param("str_param", STR, None, doc="example string parameter"),
        param("int_param", INT, 0, doc="example integer parameter"),
    ),
)
