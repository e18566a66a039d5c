"""options: answer OPTIONS addressed to the server (SER modules/options; RFC 3261 section 11).

`options_reply` sends 200 OK with Accept, Accept-Encoding,
Accept-Language and Supported headers (and stops the script).
"""

from stdlib_modules.exports import F, R, STR, V08_09, V20, Module, fn, param

EXPORTS = Module(
    name="options",
    doc="OPTIONS replies",
    functions=(
        fn("options_reply", 0, R, dialects=V08_09, doc="reply 200 to OPTIONS for the server"),
        fn("options_reply", 0, R | F, dialects=V20, doc="reply 200 to OPTIONS for the server"),
    ),
    params=(
        param("accept", STR, "*/*", doc="Accept header value"),
        param("accept_encoding", STR, "", doc="Accept-Encoding header value"),
        param("accept_language", STR, "en", doc="Accept-Language header value"),
        param("support", STR, "", doc="Supported header value"),
    ),
)
