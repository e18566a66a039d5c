"""pdt: prefix-to-domain translation (SER modules/pdt).

`prefix2domain` looks the leading digits of the R-URI user up in the
prefix_domain table and rewrites the R-URI host to the mapped domain.
"""

from stdlib_modules.exports import INT, R, STR, Module, fn, param

EXPORTS = Module(
    name="pdt",
    doc="prefix to domain",
    functions=(
        fn("prefix2domain", 0, R, doc="R-URI host <- domain of the user's prefix"),
    ),
    params=(
        param("db_url", STR, "mysql://ser:heslo@localhost/ser", doc="database URL"),
        param("db_table", STR, "prefix_domain", doc="prefix table"),
        param("prefix_column", STR, "prefix", doc="prefix column"),
        param("domain_column", STR, "domain", doc="domain column"),
        param("prefix", STR, "", doc="prefix every user must start with"),
        param("hsize_2pow", INT, 4, doc="hash table size as power of two"),
        param("sync_time", INT, 600, doc="cache sync interval (s)"),
        param("clean_time", INT, 900, doc="cache clean interval (s)"),
    ),
)
