"""enum: ENUM lookups, E.164 number to URI (SER modules/enum; RFC 3761).

`enum_query` turns a +E.164 R-URI user into NAPTR queries under
`domain_suffix` and rewrites the R-URI with the E2U+sip result.
"""

from stdlib_modules.exports import R, STR, V09, V09_20, V20, Module, fn, param

EXPORTS = Module(
    name="enum",
    doc="ENUM lookups",
    functions=(
        fn("enum_query", 0, R, dialects=V09_20, doc="ENUM lookup under domain_suffix"),
        fn("enum_query", 1, R, doc="ENUM lookup under the given suffix"),
        fn("enum_query", 2, R, dialects=V09_20, doc="ENUM lookup: suffix, service"),
        fn("is_from_user_e164", 0, R, dialects=V09, doc="From user is +E.164"),
        fn("is_e164", 1, R, dialects=V20, doc="the argument is a +E.164 number"),
    ),
    params=(
        param("domain_suffix", STR, "e164.arpa.", doc="ENUM domain suffix"),
        param("tel_uri_params", STR, "", V09_20, doc="parameters appended to tel: results"),
    ),
)
