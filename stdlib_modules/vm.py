"""vm: voicemail hand-off to SEMS (SER 0.8 modules/vm, registers as "voicemail").

Passes a request (inside a transaction) to the SEMS answering machine
through a FIFO, with the user's e-mail address from the subscriber table.
Replaced in 0.9 by tm's t_write_req/t_write_unix. Its last version
(2004, with RADIUS/LDAP e-mail lookup) registered as "vm" instead, so
`modparam("vm", ...)` configs of that time match it too.
"""

from stdlib_modules.exports import F, INT, R, STR, V08, Module, fn, param

EXPORTS = Module(
    name="voicemail",
    doc="voicemail hand-off to SEMS",
    so_names=("vm",),
    aliases=("vm",),
    dialects=V08,
    functions=(
        fn("vm", 2, R | F, doc="pass the request to SEMS: fifo, application"),
        fn("vmt", 2, R | F, doc="vm variant for requests already inside a relayed transaction"),
        fn("vm_start", 0, R, doc="early 2003: start a voicemail session"),
        fn("vm_stop", 0, R, doc="early 2003: stop a voicemail session"),
    ),
    params=(
        param("db_url", STR, "mysql://ser:heslo@localhost/ser", doc="database URL"),
        param("email_column", STR, "email_address", doc="e-mail column"),
        param("subscriber_table", STR, "subscriber", doc="subscriber table"),
        param("user_column", STR, "username", doc="username column"),
        param("domain_column", STR, "domain", doc="domain column (MULTI_DOMAIN builds)"),
        param("use_domain", INT, 0, doc="look the user up as user@domain"),
    ),
)
