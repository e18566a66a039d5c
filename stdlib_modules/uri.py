"""uri: URI checks (SER modules/uri).

0.9/2.0: tests on the R-URI and the digest user without a database. In
0.8 the module also held the database checks (`check_to`, `check_from`,
`does_uri_exist`) that 0.9 moved into uri_db.
"""

from stdlib_modules.exports import INT, R, STR, V08, V09_20, Module, fn, param

_RODB_URL = "mysql://serro:47serro11@localhost/ser"

EXPORTS = Module(
    name="uri",
    doc="URI checks",
    functions=(
        fn("is_user", 1, R, doc="the authorized digest username equals the argument"),
        fn("has_totag", 0, R, doc="To has a tag (in-dialog request)"),
        fn("uri_param", 1, R, doc="R-URI has the parameter"),
        fn("uri_param", 2, R, doc="R-URI has the parameter with the value"),
        fn("add_uri_param", 1, R, dialects=V09_20, doc="append ;param to the R-URI"),
        fn("tel2sip", 0, R, dialects=V09_20, doc="convert a tel: R-URI to sip:number@From-host;user=phone"),
        fn("check_to", 0, R, dialects=V08, doc="To username matches the digest username"),
        fn("check_from", 0, R, dialects=V08, doc="From username matches the digest username"),
        fn("does_uri_exist", 0, R, dialects=V08, doc="R-URI user exists in the subscriber/uri table"),
    ),
    params=(
        param("db_url", STR, _RODB_URL, V08, doc="database URL"),
        param("uri_table", STR, "uri", V08, doc="uri table"),
        param("uri_user_column", STR, "username", V08, doc="uri table username column"),
        param("uri_domain_column", STR, "domain", V08, doc="uri table domain column"),
        param("uri_uriuser_column", STR, "uri_user", V08, doc="uri table URI-user column"),
        param("subscriber_table", STR, "subscriber", V08, doc="subscriber table"),
        param("subscriber_user_column", STR, "username", V08, doc="subscriber username column"),
        param("subscriber_domain_column", STR, "domain", V08, doc="subscriber domain column"),
        param("use_uri_table", INT, 0, V08, doc="check against the uri table"),
        param("use_domain", INT, 0, V08, doc="match user@domain"),
    ),
)
