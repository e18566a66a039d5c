"""auth: digest authentication core (SER modules/auth; RFC 2617, RFC 3261 section 22).

Challenges (401/407) and nonce handling; the credential check lives in
auth_db/auth_radius/auth_diameter since 0.8.11. The 2002 module (still
loaded by the iptel.org configs of that era) did everything itself:
database lookups, `authorize`/`challenge`, group and To/From checks.
In 2.0 the challenge is built by the *_authenticate functions, so auth
keeps only `consume_credentials`.
"""

from stdlib_modules.exports import INT, R, STR, V08, V08_09, V09, V09_20, V20, Module, fn, param

_RPID_SUFFIX = ";party=calling;id-type=subscriber;screen=yes"

EXPORTS = Module(
    name="auth",
    doc="digest authentication",
    functions=(
        fn("www_challenge", 2, R, dialects=V08_09, doc="send 401 with WWW-Authenticate: realm, qop"),
        fn("proxy_challenge", 2, R, dialects=V08_09, doc="send 407 with Proxy-Authenticate: realm, qop"),
        fn("consume_credentials", 0, R, doc="remove the credentials used to authorize the request"),
        fn("is_rpid_user_e164", 0, R, dialects=V08_09, doc="is the RPID obtained during auth an E.164 number"),
        fn("append_rpid_hf", 0, R, dialects=V08_09, doc="add Remote-Party-ID from the RPID"),
        fn("append_rpid_hf", 2, R, dialects=V09, doc="add Remote-Party-ID with prefix, suffix"),
        # 2002 combined module (before auth_db/group/uri were split out)
        fn("www_authorize", 2, R, dialects=V08, doc="2002: check Authorization against the DB: realm, table"),
        fn("proxy_authorize", 2, R, dialects=V08, doc="2002: check Proxy-Authorization: realm, table"),
        fn("authorize", 1, R, dialects=V08, doc="2002: check credentials for realm"),
        fn("challenge", 2, R, dialects=V08, doc="2002: send a challenge: realm, qop"),
        fn("is_in_group", 1, R, dialects=V08, doc="2002: authenticated user is in group"),
        fn("is_user", 1, R, dialects=V08, doc="2002: authenticated username equals the argument"),
        fn("check_to", 0, R, dialects=V08, doc="2002: To username equals the authenticated user"),
        fn("check_from", 0, R, dialects=V08, doc="2002: From username equals the authenticated user"),
    ),
    params=(
        param("secret", STR, None, doc="nonce secret (random when unset)"),
        param("nonce_expire", INT, 300, doc="nonce lifetime (s)"),
        param("rpid_prefix", STR, "", doc="prefix of the Remote-Party-ID header"),
        param("rpid_suffix", STR, _RPID_SUFFIX, doc="suffix of the Remote-Party-ID header"),
        param("realm_prefix", STR, "", V09_20, doc="prefix stripped from generated realms"),
        param("qop", STR, "auth", V20, doc="qop offered in challenges (empty = none)"),
        param("calculate_ha1", INT, 0, V09_20, moved_to="auth_db",
              doc="auth_db's parameter since 0.8.11; accepted here and passed on"),
        # 2002 combined module
        param("db_url", STR, None, V08, doc="2002: credentials database"),
        param("table", STR, "subscriber", V08, doc="2002: credentials table"),
        param("user_column", STR, "user", V08, doc="2002: username column"),
        param("domain_column", STR, "domain", V08, doc="2002: domain column"),
        param("password_column", STR, "ha1", V08, doc="2002: HA1 column"),
        param("password_column_2", STR, "ha1b", V08, doc="2002: HA1 with domain column"),
        param("calculate_ha1", INT, 0, V08, doc="2002: column holds plaintext passwords"),
        param("retry_count", INT, 5, V08, doc="2002: challenges before giving up"),
        param("grp_table", STR, "grp", V08, doc="2002: group table"),
        param("grp_user_column", STR, "user", V08, doc="2002: group username column"),
        param("grp_group_column", STR, "grp", V08, doc="2002: group name column"),
    ),
)
