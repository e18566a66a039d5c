"""auth_db: digest credentials from a database (SER modules/auth_db; RFC 2617).

Verifies Authorization/Proxy-Authorization against HA1 values of the
subscriber table (0.8.11-0.9) or the credentials table (2.0, where the
functions are called *_authenticate and leave the challenge in
$digest_challenge for the script to send).
"""

from stdlib_modules.exports import INT, R, STR, V08, V08_09, V09, V20, Module, fn, param

_RODB_URL = "mysql://serro:47serro11@localhost/ser"

EXPORTS = Module(
    name="auth_db",
    doc="digest credentials from a database",
    functions=(
        fn("www_authorize", 2, R, doc="verify Authorization against table: realm, table"),
        fn("proxy_authorize", 2, R, doc="verify Proxy-Authorization against table: realm, table"),
        fn("www_authenticate", 2, R, dialects=V20, doc="verify Authorization; on failure store the challenge"),
        fn("proxy_authenticate", 2, R, dialects=V20, doc="verify Proxy-Authorization; on failure store the challenge"),
    ),
    params=(
        param("db_url", STR, _RODB_URL, doc="database URL"),
        param("user_column", STR, "username", V08_09, doc="username column"),
        param("domain_column", STR, "domain", V08_09, doc="domain column"),
        param("password_column", STR, "ha1", doc="HA1 (or plaintext with calculate_ha1) column"),
        param("password_column_2", STR, "ha1b", doc="HA1 for usernames with domain"),
        param("calculate_ha1", INT, 0, doc="column holds plaintext passwords"),
        param("use_domain", INT, 0, V08_09, doc="include the domain in the lookup"),
        param("rpid_column", STR, "rpid", V08, doc="Remote-Party-ID column (0.8.12)"),
        param("avps_column_int", STR, "", V09, doc="column listing integer AVPs to load"),
        param("avps_column_str", STR, "rpid", V09, doc="column listing string AVPs to load"),
        param("username_column", STR, "auth_username", V20, doc="digest username column"),
        param("did_column", STR, "did", V20, doc="domain id column"),
        param("realm_column", STR, "realm", V20, doc="realm column"),
        param("plain_password_column", STR, "password", V20, doc="plaintext password column"),
        param("flags_column", STR, "flags", V20, doc="flags column"),
        param("load_credentials", STR, "uid", V20, doc="columns loaded as AVPs on success"),
    ),
)
