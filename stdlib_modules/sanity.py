"""sanity: syntactic sanity checks of requests (SER 2.0 modules/sanity; RFC 3261).

`sanity_check` tests R-URI, Via, CSeq, Content-Length, Expires,
Proxy-Require and URI parsing (bitmask) and replies 400/420 itself.
"""

from stdlib_modules.exports import INT, R, STR, V20, Module, fn, param

EXPORTS = Module(
    name="sanity",
    doc="request sanity checks",
    dialects=V20,
    functions=(
        fn("sanity_check", 0, R, doc="run default_checks"),
        fn("sanity_check", 1, R, doc="run the checks of the bitmask"),
        fn("sanity_check", 2, R, doc="run checks: bitmask, URI-check bitmask"),
    ),
    params=(
        param("default_checks", INT, 999, doc="bitmask of checks run without arguments"),
        param("uri_checks", INT, 7, doc="bitmask of URIs to parse"),
        param("proxy_require", STR, "", doc="extensions accepted in Proxy-Require"),
    ),
)
