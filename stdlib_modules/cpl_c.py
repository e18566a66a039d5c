"""cpl-c: Call Processing Language interpreter (SER modules/cpl-c; RFC 3880).

Runs the user's CPL script for incoming or outgoing calls and stores
scripts uploaded by REGISTER. `loadmodule ".../cpl.so"` names the 2002
module `cpl`, a client of an external Java CPL server, whose functions
are kept here for 0.8.
"""

from stdlib_modules.exports import INT, R, STR, V08, Module, fn, param

EXPORTS = Module(
    name="cpl-c",
    doc="CPL interpreter",
    so_names=("cpl",),
    functions=(
        fn("cpl_run_script", 2, R, doc="run the CPL script: incoming|outgoing, is_stateful|is_stateless|force_stateful"),
        fn("cpl_process_register", 0, R, doc="store/remove a CPL script carried by REGISTER, reply"),
        fn("cpl_process_register_norpl", 0, R, doc="cpl_process_register without a reply"),
        # 2002 Java-CPL client module `cpl`
        fn("cpl_run_script", 0, R, dialects=V08, doc="2002: have the CPL server run the script"),
        fn("cpl_is_response_accept", 0, R, dialects=V08, doc="2002: the CPL server accepted"),
        fn("cpl_is_response_reject", 0, R, dialects=V08, doc="2002: the CPL server rejected"),
        fn("cpl_is_response_redirect", 0, R, dialects=V08, doc="2002: the CPL server redirected"),
        fn("cpl_update_contact", 0, R, dialects=V08, doc="2002: R-URI <- contact chosen by the CPL server"),
    ),
    params=(
        param("cpl_db", STR, None, doc="database URL"),
        param("cpl_table", STR, None, doc="CPL script table"),
        param("cpl_dtd_file", STR, None, doc="CPL DTD for validating uploads"),
        param("proxy_recurse", INT, 0, doc="follow redirects in proxy nodes"),
        param("proxy_route", INT, 0, doc="route[n] run for proxied requests"),
        param("nat_flag", INT, 6, doc="flag marking NATed contacts"),
        param("log_dir", STR, None, doc="directory for CPL log nodes"),
        param("case_sensitive", INT, 0, doc="case-sensitive user names"),
        param("realm_prefix", STR, "", doc="prefix stripped from the domain"),
        param("lookup_domain", STR, None, doc="usrloc table for lookup nodes"),
        param("lookup_append_branches", INT, 0, doc="lookup nodes add all contacts"),
        param("timer_avp", STR, None, doc="AVP carrying the proxy timeout"),
        param("cpl_server", STR, "127.0.0.1", V08, doc="2002: Java CPL server host"),
        param("cpl_port", INT, 18011, V08, doc="2002: Java CPL server port"),
        param("cache_timeout", INT, 5, V08, doc="2002: script cache timeout"),
    ),
)
