"""avpops: AVP operations (SER modules/avpops, contributed by Voice System; 0.9 and 2.0).

Load/store AVPs in a database, write, delete, test and push them into
the R-URI or headers. AVP names inside the string arguments: `i:NN`,
`s:name`, aliases from `avp_aliases`; sources `$from`, `$to`, `$ruri`,
`$src_ip`, `$uuid` exist only inside these arguments.
"""

from stdlib_modules.exports import F, INT, R, STR, V09, V09_20, V20, Module, fn, param

EXPORTS = Module(
    name="avpops",
    doc="AVP operations",
    dialects=V09_20,
    functions=(
        fn("avp_db_load", 2, R | F, doc="load AVPs from the DB: source, name"),
        fn("avp_db_store", 2, R | F, doc="store AVPs in the DB: source, name"),
        fn("avp_db_delete", 2, R | F, doc="delete AVPs from the DB: source, name"),
        fn("avp_write", 2, R | F, doc="add an AVP: value, name"),
        fn("avp_delete", 1, R | F, doc="delete AVPs: name[/g]"),
        fn("avp_pushto", 2, R | F, doc="push an AVP into the R-URI or a header: dest, name"),
        fn("avp_check", 2, R | F, doc="compare an AVP: name, op/value[/flags]"),
        fn("avp_print", 0, R | F, doc="log all AVPs"),
        fn("avp_copy", 2, R | F, dialects=V20, doc="copy an AVP: source, destination[/flags]"),
    ),
    params=(
        param("avp_url", STR, None, doc="database URL (needed by the DB functions)"),
        param("avp_table", STR, None, doc="AVP table"),
        param("avp_aliases", STR, None, repeatable=True, doc="alias=i:12;other=s:x definitions"),
        param("use_domain", INT, 0, doc="match user@domain"),
        param("uuid_column", STR, "uuid", V09, doc="uuid column"),
        param("attribute_column", STR, "attribute", V09, doc="attribute column"),
        param("uid_column", STR, "uid", V20, doc="user id column"),
        param("name_column", STR, "name", V20, doc="attribute name column"),
        param("value_column", STR, "value", doc="value column"),
        param("type_column", STR, "type", doc="type column"),
        param("username_column", STR, "username", doc="username column"),
        param("domain_column", STR, "domain", doc="domain column"),
        param("db_scheme", STR, None, repeatable=True, doc="name:table=..;..._column=.. schemes"),
    ),
)
