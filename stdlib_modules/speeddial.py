"""speeddial: per-user short dialing codes (SER modules/speeddial, Voice System; 0.9 and 2.0).

`sd_lookup(table)` replaces the R-URI with the new_uri stored for
(From user, R-URI user).
"""

from stdlib_modules.exports import INT, R, STR, V09_20, Module, fn, param

EXPORTS = Module(
    name="speeddial",
    doc="speed dial",
    dialects=V09_20,
    functions=(
        fn("sd_lookup", 1, R, doc="rewrite the R-URI from the speed-dial table"),
    ),
    params=(
        param("db_url", STR, "mysql://serro:47serro11@localhost/ser", doc="database URL"),
        param("user_column", STR, "username", doc="owner username column"),
        param("domain_column", STR, "domain", doc="owner domain column"),
        param("sd_user_column", STR, "sd_username", doc="short code column"),
        param("sd_domain_column", STR, "sd_domain", doc="short code domain column"),
        param("new_uri_column", STR, "new_uri", doc="target URI column"),
        param("use_domain", INT, 0, doc="match user@domain"),
        param("domain_prefix", STR, None, doc="prefix stripped from the domain"),
    ),
)
