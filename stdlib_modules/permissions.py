"""permissions: routing and registration ACLs (SER modules/permissions).

hosts.allow-style regex rule files checked against (From, R-URI) pairs
for routing and (To, Contact) pairs for registration; the trusted table
grants access by source IP and transport.
"""

from stdlib_modules.exports import F, INT, R, S, STR, V09_20, V20, Module, fn, param

EXPORTS = Module(
    name="permissions",
    doc="routing and registration ACLs",
    functions=(
        fn("allow_routing", 0, R | F, doc="check (From, R-URI) pairs against the default files"),
        fn("allow_routing", 1, R | F, doc="check against basename.allow/basename.deny"),
        fn("allow_routing", 2, R | F, doc="check against explicit allow and deny files"),
        fn("allow_register", 1, R | F, dialects=V09_20, doc="check (To, Contact) pairs: basename"),
        fn("allow_register", 2, R | F, dialects=V09_20, doc="check (To, Contact) pairs: allow, deny files"),
        fn("allow_trusted", 0, R | F, dialects=V09_20, doc="source IP and transport in the trusted table"),
        fn("allow_refer_to", 1, R | F, dialects=V20, doc="check (From, Refer-To) pairs: basename"),
        fn("allow_refer_to", 2, R | F, dialects=V20, doc="check (From, Refer-To) pairs: allow, deny files"),
        fn("ipmatch", 1, R | F, dialects=V20, doc="source IP matches an entry of the ipmatch table"),
        fn("ipmatch", 2, R | F, dialects=V20, doc="the given IP/port matches an ipmatch entry"),
        fn("ipmatch_onsend", 1, S, dialects=V20, doc="destination IP matches an ipmatch entry"),
        fn("ipmatch_filter", 1, R | F | S, dialects=V20, doc="restrict ipmatch to entries with a mark"),
    ),
    params=(
        param("default_allow_file", STR, "permissions.allow", doc="default allow rules"),
        param("default_deny_file", STR, "permissions.deny", doc="default deny rules"),
        param("check_all_branches", INT, 1, doc="check every branch, not only the R-URI"),
        param("allow_suffix", STR, ".allow", doc="suffix of allow files"),
        param("deny_suffix", STR, ".deny", doc="suffix of deny files"),
        param("db_url", STR, None, V09_20, doc="database URL for the trusted table"),
        param("db_mode", INT, 0, V09_20, doc="0 query each time, 1 cache"),
        param("trusted_table", STR, "trusted", V09_20, doc="trusted table"),
        param("source_col", STR, "src_ip", V09_20, doc="source IP column"),
        param("proto_col", STR, "proto", V09_20, doc="transport column"),
        param("from_col", STR, "from_pattern", V09_20, doc="From regex column"),
    ),
)
