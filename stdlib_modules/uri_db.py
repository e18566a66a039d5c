"""uri_db: database URI checks (SER modules/uri_db, 0.9 and 2.0).

0.9: anti-spoofing checks of To/From against the digest user and
existence of the R-URI user. 2.0 (uid model): `lookup_user` maps a URI
to the user id ($tu.uid/$fu.uid), `check_uri` compares a URI with it.
"""

from stdlib_modules.exports import F, INT, R, STR, V09, V09_20, V20, Module, fn, param

_RODB_URL = "mysql://serro:47serro11@localhost/ser"

EXPORTS = Module(
    name="uri_db",
    doc="database URI checks",
    dialects=V09_20,
    functions=(
        fn("check_to", 0, R, dialects=V09, doc="To username matches the digest username"),
        fn("check_from", 0, R, dialects=V09, doc="From username matches the digest username"),
        fn("does_uri_exist", 0, R, dialects=V09, doc="R-URI user exists"),
        fn("lookup_user", 1, R | F, dialects=V20, doc="load the uid of a header's URI"),
        fn("lookup_user", 2, R | F, dialects=V20, doc="load the uid: track (to/from), URI"),
        fn("check_uri", 1, R | F, dialects=V20, doc="URI belongs to the authenticated user"),
    ),
    params=(
        param("db_url", STR, _RODB_URL, doc="database URL"),
        param("uri_table", STR, "uri", doc="uri table"),
        param("uri_user_column", STR, "username", V09, doc="uri table username column"),
        param("uri_domain_column", STR, "domain", V09, doc="uri table domain column"),
        param("uri_uriuser_column", STR, "uri_user", V09, doc="uri table URI-user column"),
        param("subscriber_table", STR, "subscriber", V09, doc="subscriber table"),
        param("subscriber_user_column", STR, "username", V09, doc="subscriber username column"),
        param("subscriber_domain_column", STR, "domain", V09, doc="subscriber domain column"),
        param("use_uri_table", INT, 0, V09, doc="check against the uri table"),
        param("use_domain", INT, 0, V09, doc="match user@domain"),
        param("uid_column", STR, "uid", V20, doc="user id column"),
        param("did_column", STR, "did", V20, doc="domain id column"),
        param("username_column", STR, "username", V20, doc="username column"),
        param("flags_column", STR, "flags", V20, doc="flags column"),
        param("scheme_column", STR, "scheme", V20, doc="URI scheme column"),
    ),
)
