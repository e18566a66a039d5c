"""db_ops: database queries from the script (SER 2.0 modules/db_ops).

`db_query` runs a declared or inline query (select/insert/update/
replace/delete, or raw SQL); results are read with @db.fetch selects and
released with `db_close`.
"""

from stdlib_modules.exports import B, F, INT, O, R, S, STR, V20, Module, fn, param

_ANY = R | O | F | B | S

EXPORTS = Module(
    name="db_ops",
    doc="script database queries",
    dialects=V20,
    functions=(
        fn("db_query", 1, _ANY, doc="run a query"),
        fn("db_query", 2, _ANY, doc="run a query keeping the result under a handle"),
        fn("db_close", 1, _ANY, doc="release a query result"),
        fn("db_foreach", 2, _ANY, doc="run a route for each row of a result"),
    ),
    params=(
        param("db_url", STR, "mysql://ser:heslo@localhost/ser", doc="default database URL"),
        param("declare_query", STR, None, repeatable=True, doc="name=query definitions"),
        param("xlbuf_size", INT, 4096, doc="buffer for xlog-formatted parts"),
        param("max_queries", INT, 10, doc="simultaneously open results"),
    ),
)
