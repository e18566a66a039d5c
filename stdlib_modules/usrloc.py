"""usrloc: the user location store (SER modules/usrloc; RFC 3261 section 10).

Keeps address-of-record -> contact bindings in memory with optional
write-through/write-back to a database. It exports no script functions
(registrar's save/lookup drive it), except the 2002 module which still
had `save_contact`/`lookup_contact` before registrar was split out.
"""

from stdlib_modules.exports import INT, R, STR, V08, V08_09, V09, V09_20, V20, Module, fn, param

_DB_URL = "mysql://ser:heslo@localhost/ser"

EXPORTS = Module(
    name="usrloc",
    doc="user location store",
    functions=(
        fn("save_contact", 1, R, dialects=V08, doc="2002: process REGISTER into table (later registrar save)"),
        fn("lookup_contact", 1, R, dialects=V08, doc="2002: R-URI from table (later registrar lookup)"),
    ),
    params=(
        param("db_mode", INT, 0, doc="0 memory only, 1 write-through, 2 write-back"),
        param("db_url", STR, _DB_URL, doc="database URL"),
        param("timer_interval", INT, 60, doc="expiry/flush timer (s)"),
        param("use_domain", INT, 0, V08_09, doc="AOR is user@domain"),
        param("desc_time_order", INT, 0, doc="order contacts by last update"),
        param("user_column", STR, "user", V08, doc="username column"),
        param("user_column", STR, "username", V09, doc="username column"),
        param("uid_column", STR, "uid", V20, doc="user id column (uid model)"),
        param("domain_column", STR, "domain", V08_09, doc="domain column"),
        param("contact_column", STR, "contact", doc="contact column"),
        param("expires_column", STR, "expires", doc="expires column"),
        param("q_column", STR, "q", doc="q column"),
        param("callid_column", STR, "callid", doc="Call-ID column"),
        param("cseq_column", STR, "cseq", doc="CSeq column"),
        param("method_column", STR, "method", doc="method column"),
        param("replicate_column", STR, "replicate", V08_09, doc="replication column"),
        param("state_column", STR, "state", V08_09, doc="state column"),
        param("flags_column", STR, "flags", doc="flags column"),
        param("user_agent_column", STR, "user_agent", doc="User-Agent column"),
        param("received_column", STR, "received", V09_20, doc="received URI column"),
        param("instance_column", STR, "instance", V20, doc="+sip.instance column"),
        param("aor_column", STR, "aor", V20, doc="address-of-record column"),
        # 2002 names
        param("table", STR, "location", V08, doc="2002: location table name"),
        param("use_database", INT, 0, V08, doc="2002: use the database (later db_mode)"),
        param("flush_interval", INT, 60, V08, doc="2002: database flush interval (later timer_interval)"),
    ),
)
