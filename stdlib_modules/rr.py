"""rr: record routing (SER modules/rr; RFC 3261 sections 16.6 and 16.12, loose routing).

`record_route` keeps the proxy on the dialog path, `loose_route` follows a
Route set (with strict-router compatibility). 0.8.9 still shipped the
strict-routing pair `rewriteFromRoute`/`addRecordRoute`. 2.0 can carry
AVP "cookies" in the Record-Route URI.
"""

from stdlib_modules.exports import F, INT, R, STR, V08, V08_09, V09, V20, Module, fn, param

EXPORTS = Module(
    name="rr",
    doc="record routing",
    functions=(
        fn("rewriteFromRoute", 0, R, dialects=V08, doc="strict routing: R-URI from the first Route (0.8.9)"),
        fn("addRecordRoute", 0, R, dialects=V08, doc="strict routing: add Record-Route (2002)"),
        fn("loose_route", 0, R, doc="follow the Route set; true if the next hop came from it"),
        fn("record_route", 0, R, doc="add Record-Route with this proxy's address"),
        fn("record_route_preset", 1, R, doc="add Record-Route with the given host[:port]"),
        fn("remove_record_route", 0, R | F, dialects=V20, doc="remove Record-Route added by this proxy"),
    ),
    params=(
        param("enable_full_lr", INT, 0, doc="write ;lr=on instead of ;lr"),
        param("append_fromtag", INT, 1, doc="add ;ftag=<From tag> to Record-Route"),
        param("enable_double_rr", INT, 1, doc="two Record-Route headers when interfaces differ"),
        param("add_username", INT, 0, V09, doc="put the R-URI username into the RR URI"),
        param("add_username", STR, None, V20, doc="user part to put into the RR URI"),
        param("ignore_user", STR, None, V08_09, doc="only with ENABLE_USER_CHECK builds"),
        param("cookie_filter", STR, None, V20, doc="regex of AVP names carried in the RR cookie"),
        param("cookie_secret", STR, None, V20, doc="secret for the RR cookie signature"),
        param("user_part_avp", STR, None, V20, doc="AVP whose value becomes the RR user part"),
        param("next_route_avp", STR, None, V20, doc="AVP receiving the next Route URI"),
    ),
)
