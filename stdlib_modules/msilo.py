"""msilo: store MESSAGEs for offline users (SER modules/msilo; RFC 3428).

`m_store` keeps a MESSAGE whose recipient is not registered; `m_dump`
delivers the stored ones when the user registers.
"""

from stdlib_modules.exports import F, INT, R, STR, V08_09, V09_20, V20, Module, fn, param

EXPORTS = Module(
    name="msilo",
    doc="offline message store",
    functions=(
        fn("m_store", 1, R | F, dialects=V08_09, doc="store the MESSAGE: mode 0/1/2 (which URI)"),
        fn("m_dump", 0, R, dialects=V08_09, doc="send stored messages to the registering contact"),
        fn("m_store", 2, R | F, dialects=V20, doc="store the MESSAGE: mode, next hop"),
        fn("m_dump", 1, R, dialects=V20, doc="send stored messages to the URI"),
    ),
    params=(
        param("db_url", STR, "mysql://ser:heslo@localhost/ser", doc="database URL"),
        param("db_table", STR, "silo", doc="message table"),
        param("registrar", STR, None, doc="From of notifications (none when unset)"),
        param("expire_time", INT, 259200, doc="message lifetime (s)"),
        param("check_time", INT, 30, doc="check interval (s)"),
        param("clean_period", INT, 5, doc="clean every n checks"),
        param("use_contact", INT, 1, doc="deliver to the Contact of the REGISTER"),
        param("sc_mid", STR, "mid", V09_20, doc="message id column"),
        param("sc_from", STR, "src_addr", V09_20, doc="sender column"),
        param("sc_to", STR, "dst_addr", V09_20, doc="recipient column"),
        param("sc_uri_user", STR, "username", V09_20, doc="recipient user column"),
        param("sc_uri_host", STR, "domain", V09_20, doc="recipient domain column"),
        param("sc_body", STR, "body", V09_20, doc="body column"),
        param("sc_ctype", STR, "ctype", V09_20, doc="content type column"),
        param("sc_exp_time", STR, "exp_time", V09_20, doc="expiry column"),
        param("sc_inc_time", STR, "inc_time", V09_20, doc="arrival time column"),
    ),
)
