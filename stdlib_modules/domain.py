"""domain: local domains (SER modules/domain).

0.8/0.9: is the From/R-URI host one of ours (domain table, optionally
cached). 2.0 (did model): `lookup_domain` finds the domain id of a URI
and loads its attributes, `is_local` tests a host.
"""

from stdlib_modules.exports import F, INT, R, STR, V08_09, V20, Module, fn, param

_RODB_URL = "mysql://serro:47serro11@localhost/ser"

EXPORTS = Module(
    name="domain",
    doc="local domains",
    functions=(
        fn("is_from_local", 0, R, dialects=V08_09, doc="From host is a local domain"),
        fn("is_uri_host_local", 0, R, dialects=V08_09, doc="R-URI host is a local domain"),
        fn("is_local", 1, R | F, dialects=V20, doc="the host is a local domain"),
        fn("lookup_domain", 2, R | F, dialects=V20, doc="domain id and attributes of a URI: track, URI"),
    ),
    params=(
        param("db_url", STR, _RODB_URL, doc="database URL"),
        param("db_mode", INT, 0, doc="0 query each time, 1 cache"),
        param("domain_table", STR, "domain", doc="domain table"),
        param("domain_col", STR, "domain", doc="domain column"),
        param("did_col", STR, "did", V20, doc="domain id column"),
        param("flags_col", STR, "flags", V20, doc="flags column"),
        param("domattr_table", STR, "domain_attrs", V20, doc="domain attribute table"),
        param("domattr_did", STR, "did", V20, doc="attribute domain id column"),
        param("domattr_name", STR, "name", V20, doc="attribute name column"),
        param("domattr_type", STR, "type", V20, doc="attribute type column"),
        param("domattr_value", STR, "value", V20, doc="attribute value column"),
        param("domattr_flags", STR, "flags", V20, doc="attribute flags column"),
        param("load_domain_attrs", INT, 0, V20, doc="load domain attributes"),
    ),
)
