"""textops: text operations on the message (SER modules/textops).

Regex search/replace on the received message buffer, header append/
remove, sed-like `subst` on the message, R-URI or its user. Regexes are
POSIX extended and case-insensitive; subst is case-sensitive unless the
`i` flag is given. 2.0 adds header-value editing functions, xlog formats
in arguments and `search` in onsend_route.
"""

from stdlib_modules.exports import B, F, INT, O, R, S, V08_09, V09_20, V20, Module, fn, param

_ROF = R | O | F


def append_hf(ctx, text: str) -> int:
    """Add `text` (a whole header line, CRLF included, as SER wants it) after the last header."""
    msg = ctx.msg
    msg.insert(msg.headers_end, text.encode("utf-8", "surrogateescape"))
    return 1

_ROFB = R | O | F | B

EXPORTS = Module(
    name="textops",
    doc="message text operations",
    functions=(
        fn("search", 1, _ROF, dialects=V08_09, doc="regex found anywhere in the message"),
        fn("search", 1, _ROF | S, dialects=V20, doc="regex found anywhere in the message (also onsend)"),
        fn("search_append", 2, _ROF, doc="insert text after the first match: regex, text"),
        fn("replace", 2, _ROF, doc="replace the first match: regex, text"),
        fn("replace_all", 2, _ROF, doc="replace all matches: regex, text"),
        fn("subst", 1, _ROF, doc="sed-like /re/repl/flags on the message"),
        fn("subst_uri", 1, _ROF, doc="sed-like /re/repl/flags on the R-URI"),
        fn("subst_user", 1, _ROF, dialects=V09_20, doc="sed-like /re/repl/flags on the R-URI user"),
        fn("append_to_reply", 1, R, doc="add header text to locally generated replies"),
        fn("append_hf", 1, _ROF, dialects=V08_09, doc="append a header (text incl. CRLF)", impl=append_hf),
        fn("append_hf", 1, _ROFB, dialects=V20, doc="append a header (text incl. CRLF)", impl=append_hf),
        fn("append_urihf", 2, R | F, doc="append prefix + R-URI + suffix as a header"),
        fn("remove_hf", 1, _ROF, doc="remove all headers with the name"),
        fn("remove_hf_re", 1, _ROF, dialects=V20, doc="remove all headers whose name matches the regex"),
        fn("is_present_hf", 1, _ROF, doc="a header with the name is present"),
        fn("append_time", 0, R, dialects=V09_20, doc="add Date: to the reply of this request"),
        fn("append_hf_value", 2, _ROFB, dialects=V20, doc="append a value to a header: header, value"),
        fn("insert_hf_value", 2, _ROFB, dialects=V20, doc="insert a value into a header"),
        fn("remove_hf_value", 1, _ROFB, dialects=V20, doc="remove a header value"),
        fn("assign_hf_value", 2, _ROFB, dialects=V20, doc="set a header value"),
        fn("remove_hf_value2", 1, _ROFB, dialects=V20, doc="remove a header value (all occurrences)"),
        fn("assign_hf_value2", 2, _ROFB, dialects=V20, doc="set a header value (all occurrences)"),
        fn("include_hf_value", 2, _ROFB, dialects=V20, doc="add a value to a header unless present"),
        fn("exclude_hf_value", 2, _ROFB, dialects=V20, doc="remove a value from a header"),
        fn("hf_value_exists", 2, _ROFB, dialects=V20, doc="header contains the value"),
    ),
    params=(
        param("xlbuf_size", INT, 4096, V20, doc="buffer for xlog-formatted arguments"),
    ),
)
