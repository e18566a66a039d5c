"""jabber: SIP <-> XMPP instant-messaging gateway (SER modules/jabber; RFC 3428, XMPP).

Worker processes keep Jabber connections per SIP user; MESSAGEs to the
Jabber domain are translated, presence is mapped, conferences joined.
"""

from stdlib_modules.exports import INT, R, STR, Module, fn, param

EXPORTS = Module(
    name="jabber",
    doc="SIP-XMPP gateway",
    functions=(
        fn("jab_send_message", 0, R, doc="send the MESSAGE to XMPP"),
        fn("jab_join_jconf", 0, R, doc="join a Jabber conference (To = nick<d>room<d>server@jdomain)"),
        fn("jab_exit_jconf", 0, R, doc="leave a Jabber conference"),
        fn("jab_go_online", 0, R, doc="go online on the Jabber side"),
        fn("jab_go_offline", 0, R, doc="go offline on the Jabber side"),
    ),
    params=(
        param("db_url", STR, "mysql://root@127.0.0.1/sip_jab", doc="database of Jabber accounts"),
        param("jaddress", STR, "127.0.0.1", doc="Jabber server address"),
        param("jport", INT, 5222, doc="Jabber server port"),
        param("jdomain", STR, None, doc="jabber.domain=<delim>"),
        param("aliases", STR, None, doc="N;alias1=<d>;... IM gateway aliases"),
        param("proxy", STR, None, doc="outbound proxy for generated SIP"),
        param("registrar", STR, None, doc="From of generated notifications"),
        param("workers", INT, 2, doc="worker processes"),
        param("max_jobs", INT, 10, doc="jobs per worker"),
        param("cache_time", INT, 600, doc="connection cache time (s)"),
        param("delay_time", INT, 90, doc="delay of queued messages (s)"),
        param("sleep_time", INT, 20, doc="worker sleep time (s)"),
        param("check_time", INT, 20, doc="connection check interval (s)"),
    ),
)
