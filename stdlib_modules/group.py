"""group: group membership from a database (SER modules/group, 0.8.11-0.9).

`is_user_in(which, group)` checks the user of the R-URI, To, From or the
digest credentials against the grp table. Gone in 2.0 (attributes
replace groups).
"""

from stdlib_modules.exports import INT, R, STR, V08, V08_09, V09, Module, fn, param

_RODB_URL = "mysql://serro:47serro11@localhost/ser"

EXPORTS = Module(
    name="group",
    doc="group membership",
    dialects=V08_09,
    functions=(
        fn("is_user_in", 2, R, doc="which (Request-URI/To/From/Credentials), group"),
    ),
    params=(
        param("db_url", STR, _RODB_URL, doc="database URL"),
        param("table", STR, "grp", doc="group table"),
        param("user_column", STR, "user", V08, doc="username column"),
        param("user_column", STR, "username", V09, doc="username column"),
        param("domain_column", STR, "domain", doc="domain column"),
        param("group_column", STR, "grp", doc="group column"),
        param("use_domain", INT, 0, doc="match user@domain"),
    ),
)
