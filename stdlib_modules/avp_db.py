"""avp_db: attributes from a database (SER modules/avp_db, 0.9 and 2.0).

0.9: `avp_load` loads caller/callee preferences from usr_preferences.
2.0: `load_attrs` loads user or URI attributes ($fu/$tu/$fr/$tr) by uid.
"""

from stdlib_modules.exports import F, INT, R, STR, V09, V09_20, V20, Module, fn, param

_RODB_URL = "mysql://serro:47serro11@localhost/ser"

EXPORTS = Module(
    name="avp_db",
    doc="attributes from a database",
    dialects=V09_20,
    functions=(
        fn("avp_load", 1, R | F, dialects=V09, doc="load preferences: caller, callee, caller_uuid, callee_uuid"),
        fn("load_attrs", 2, R | F, dialects=V20, doc="load attributes: track ($fu, $tu, ...), uid or URI"),
    ),
    params=(
        param("db_url", STR, _RODB_URL, doc="database URL"),
        param("caller_uuid_avp", INT, 1, V09, doc="AVP holding the caller uuid"),
        param("callee_uuid_avp", INT, 2, V09, doc="AVP holding the callee uuid"),
        param("pref_table", STR, "usr_preferences", V09, doc="preferences table"),
        param("uuid_column", STR, "uuid", V09, doc="uuid column"),
        param("username_column", STR, "username", doc="username column"),
        param("domain_column", STR, "domain", V09, doc="domain column"),
        param("attr_column", STR, "attribute", V09, doc="attribute name column"),
        param("val_column", STR, "value", V09, doc="value column"),
        param("use_domain", INT, 0, V09, doc="match user@domain"),
        param("user_attrs_table", STR, "user_attrs", V20, doc="user attributes table"),
        param("uri_attrs_table", STR, "uri_attrs", V20, doc="URI attributes table"),
        param("uid_column", STR, "uid", V20, doc="user id column"),
        param("did_column", STR, "did", V20, doc="domain id column"),
        param("name_column", STR, "name", V20, doc="attribute name column"),
        param("type_column", STR, "type", V20, doc="attribute type column"),
        param("value_column", STR, "value", V20, doc="attribute value column"),
        param("flags_column", STR, "flags", V20, doc="attribute flags column"),
        param("scheme_column", STR, "scheme", V20, doc="URI scheme column"),
    ),
)
