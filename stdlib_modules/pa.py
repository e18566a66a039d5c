"""pa: presence agent (SER modules/pa; RFC 3265, RFC 3856, RFC 3903, PIDF RFC 3863).

Accepts SUBSCRIBE for presence (state from usrloc registrations or
PUBLISH) and sends NOTIFYs; watcherinfo (RFC 3857). In the Jan 2003
development tree the subscription handler was called `subscribe`.
"""

from stdlib_modules.exports import F, INT, R, STR, V08, V08_09, V09, V09_20, V20, Module, fn, param

EXPORTS = Module(
    name="pa",
    doc="presence agent",
    functions=(
        fn("subscribe", 1, R, dialects=V08, doc="Jan 2003 name of handle_subscription: domain"),
        fn("handle_subscription", 1, R | F, doc="process SUBSCRIBE (reply and NOTIFY): domain"),
        fn("existing_subscription", 1, R, dialects=V08_09, doc="the SUBSCRIBE refreshes an existing one"),
        fn("pua_exists", 1, R, dialects=V08_09, doc="the presentity exists"),
        fn("handle_publish", 1, R | F, dialects=V09_20, doc="process PUBLISH: domain"),
        fn("pa_handle_registration", 1, R, dialects=V09, doc="kept for compatibility, unused"),
        fn("target_online", 1, R | F, dialects=V20, doc="the target presentity is online"),
        fn("check_subscription_status", 1, R | F, dialects=V20, doc="subscription is in the given state"),
        fn("store_winfo", 1, R | F, dialects=V20, doc="store watcherinfo for an offline user"),
        fn("dump_stored_winfo", 2, R | F, dialects=V20, doc="send stored watcherinfo: domain, event"),
        fn("authorize_message", 1, R | F, dialects=V20, doc="MESSAGE allowed by the recipient's rules: XCAP root"),
        fn("mangle_pidf", 0, R | F, dialects=V20, doc="rewrite the PIDF body of a message"),
        fn("mangle_message_cpim", 0, R | F, dialects=V20, doc="rewrite a message/cpim body"),
    ),
    params=(
        param("default_expires", INT, 3600, doc="expires when SUBSCRIBE/PUBLISH gives none (s)"),
        param("timer_interval", INT, 10, doc="expiration timer (s)"),
        param("default_priority_percentage", INT, 50, V09, doc="default tuple priority x 100"),
        param("default_priority_percentage", INT, 0, V20, doc="default tuple priority x 100"),
        param("use_db", INT, 0, V09_20, doc="store presentities in the DB"),
        param("use_place_table", INT, 0, V09_20, doc="use the place table"),
        param("use_bsearch", INT, 0, V09_20, doc="binary search of presentities"),
        param("use_location_package", INT, 0, V09_20, doc="location event package"),
        param("db_url", STR, None, V09_20, doc="database URL"),
        param("pa_domain", STR, None, V09, doc="XCAP host"),
        param("presentity_table", STR, "presentity", V09_20, doc="presentity table"),
        param("presentity_contact_table", STR, "presentity_contact", V09_20, doc="presentity contact table"),
        param("watcherinfo_table", STR, "watcherinfo", V09_20, doc="watcherinfo table"),
        param("place_table", STR, "place", V09_20, doc="place table"),
        param("new_watcher_pending", INT, 0, V09, doc="new watchers start pending"),
        param("callback_update_db", INT, 1, V09, doc="update the DB from usrloc callbacks"),
        param("callback_lock_pdomain", INT, 1, V09, doc="lock the domain in callbacks"),
        param("new_tuple_on_publish", INT, 0, V09, doc="PUBLISH creates a new tuple"),
        param("pidf_priority", INT, 1, V09, doc="include priority in PIDF"),
        # 2.0 development line
        param("max_subscription_expiration", INT, 3600, V20, doc="upper bound of SUBSCRIBE expires"),
        param("max_publish_expiration", INT, 3600, V20, doc="upper bound of PUBLISH expires"),
        param("auth", STR, None, V20, doc="subscription authorization: none, implicit, xcap"),
        param("auth_xcap_root", STR, None, V20, doc="XCAP root for auth=xcap (2006 line)"),
        param("winfo_auth", STR, "implicit", V20, doc="watcherinfo authorization: none, implicit, xcap"),
        param("use_callbacks", INT, 1, V20, doc="take presence from usrloc/jabber callbacks"),
        param("accept_internal_subscriptions", INT, 0, V20, doc="accept QSA subscriptions from other modules"),
        param("watcherinfo_notify", INT, 1, V20, doc="accept watcherinfo subscriptions"),
        param("use_offline_winfo", INT, 0, V20, doc="store watcherinfo for offline users"),
        param("offline_winfo_expiration", INT, None, V20, doc="lifetime of stored watcherinfo (s)"),
        param("offline_winfo_timer", INT, 3600, V20, doc="offline watcherinfo timer (s)"),
        param("offline_winfo_table", STR, "offline_winfo", V20, doc="offline watcherinfo table"),
        param("pres_rules_file", STR, None, V20, doc="presence rules file name for XCAP"),
        param("ignore_408_on_notify", INT, 0, V20, doc="keep subscriptions when NOTIFY times out"),
        param("subscribe_to_users", INT, 0, V20, doc="subscribe to users' presence (experimental)"),
        param("pa_subscription_uri", STR, None, V20, doc="URI of those subscriptions"),
        param("auth_rules_refresh_time", INT, None, V20, doc="refresh of authorization rules (s)"),
        param("async_auth_queries", INT, None, V20, doc="asynchronous XCAP authorization"),
        param("max_auth_requests_per_tick", INT, None, V20, doc="authorization queries per timer tick"),
    ),
)
