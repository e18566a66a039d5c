"""rls: resource list server (SER 2.0 modules/rls; RFC 4662, RFC 4826).

Accepts subscriptions to resource lists (from XCAP), subscribes to each
member and sends aggregated multipart NOTIFYs.
"""

from stdlib_modules.exports import F, INT, R, STR, V20, Module, fn, param

EXPORTS = Module(
    name="rls",
    doc="resource list server",
    dialects=V20,
    functions=(
        fn("handle_rls_subscription", 1, R | F, doc="process a list SUBSCRIBE: send errors (0/1)"),
        fn("is_simple_rls_target", 1, R | F, doc="To matches the template (e.g. '$uid-list')"),
        fn("query_rls_services", 0, R | F, doc="load the list from rls-services by the To URI"),
        fn("query_resource_list", 1, R | F, doc="load the named resource list of the subscriber"),
        fn("have_flat_list", 0, R | F, doc="a resource list has been loaded"),
    ),
    params=(
        param("min_expiration", INT, 60, doc="lower bound of expires (s)"),
        param("max_expiration", INT, 7200, doc="upper bound of expires (s)"),
        param("default_expiration", INT, 3761, doc="expires when none is given (s)"),
        param("auth", STR, None, doc="authorization: none, implicit, xcap"),
        param("db_mode", INT, 0, doc="0 no DB, 1 write-through"),
        param("db_url", STR, None, doc="database URL"),
        param("reduce_xcap_needs", INT, 0, doc="cache XCAP documents"),
        param("xcap_root", STR, None, doc="XCAP root URI (2006 line)"),
        param("max_notifications_at_once", INT, 1000000, doc="NOTIFYs per timer run"),
        param("init_timer_delay", INT, 3, doc="delay of the DB reload (s)"),
        param("timer_interval", INT, 10, doc="notification timer (s)"),
        param("max_list_nesting_level", INT, -1, doc="nested lists allowed (-1 unlimited)"),
        param("expiration_timer_period", INT, 10, doc="expiration timer (s)"),
        param("ignore_408_on_notify", INT, 0, doc="keep subscriptions when NOTIFY times out"),
    ),
)
