"""auth_db: digest credentials from a database (SER modules/auth_db; RFC 2617).

Verifies Authorization/Proxy-Authorization against HA1 values of the
subscriber table (0.8.11-0.9) or the credentials table (2.0, where the
functions are called *_authenticate and leave the challenge in
$digest_challenge for the script to send; those have no body yet).

SER 0.9's `www_authorize(realm, table)` / `proxy_authorize(realm, table)`:

* 1: the response is right for the user's HA1 (and ACK/CANCEL, always);
  the credentials are marked for consume_credentials, is_user, check_to.
* -1: no credentials for the realm, a nonce we did not make, an unknown
  user, a wrong response, or a stale nonce (remembered, so the challenge
  says stale=true): the script calls www_challenge/proxy_challenge.
* 0: a reply has been sent and the script stops: 400 for malformed
  credentials, 500 when the database failed.

The user is looked up by the user part of the digest username (before
any '@'), and with `use_domain` also by the realm as domain. The column
read is `password_column` (ha1), or `password_column_2` (ha1b) when the
username carries a domain; with `calculate_ha1` it is `password_column`
as a plaintext password, and HA1 is MD5(username:realm:password).
On success the columns named in `avps_column_int`/`avps_column_str`
("|"-separated; `rpid_column` in 0.8) become AVPs named after them, where
auth's append_rpid_hf finds `rpid`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from stdlib_modules import auth
from stdlib_modules._db_module import ModuleDb, is_identifier
from stdlib_modules.digest import ha1 as digest_ha1
from stdlib_modules.digest import response, same_digest
from stdlib_modules.exports import INT, R, STR, V08, V08_09, V09, V20, FixupError, Module, fn, param

LOG = logging.getLogger("ser.auth_db")

_RODB_URL = "mysql://serro:47serro11@localhost/ser"

# SER's auth_db refuses subscriber tables older than this.
_TABLE_VERSION = 3


@dataclass
class AuthDb:
    store: ModuleDb
    user_column: str
    domain_column: str
    password_column: str
    password_column_2: str
    calculate_ha1: bool
    use_domain: bool
    int_avps: tuple[str, ...]
    str_avps: tuple[str, ...]
    # The tables the script's calls name, checked in start.
    tables: set[str] = field(default_factory=set)


def _columns(text: str | None) -> tuple[str, ...]:
    return tuple(name.strip() for name in (text or "").split("|") if name.strip())


def _init(params: dict) -> AuthDb:
    columns = dict(user_column=params.get("user_column") or "username",
                   domain_column=params.get("domain_column") or "domain",
                   password_column=params["password_column"], password_column_2=params["password_column_2"])
    int_avps = _columns(params.get("avps_column_int"))
    str_avps = _columns(params.get("avps_column_str")) or _columns(params.get("rpid_column"))
    store = ModuleDb(params["db_url"], (*columns.values(), *int_avps, *str_avps))
    return AuthDb(store, **columns, calculate_ha1=bool(params["calculate_ha1"]),
                  use_domain=bool(params.get("use_domain")), int_avps=int_avps, str_avps=str_avps)


def _start(state: AuthDb) -> None:
    state.store.start({table: _TABLE_VERSION for table in sorted(state.tables)})


def _authorize_fixup(args: tuple, state: AuthDb) -> tuple:
    realm, table = (str(arg) for arg in args)
    if not is_identifier(table):
        raise FixupError(f"'{table}' is not a table name", 1)
    config = auth.current()
    if config is None:
        raise FixupError("auth_db needs the auth module: loadmodule \"auth.so\"", None)
    state.tables.add(table)
    return realm, table, state, config


def www_authorize(ctx, realm: str, table: str, state: AuthDb, config: auth.AuthConfig) -> int:
    """Check the Authorization credentials for `realm` against `table`."""
    return authorize(ctx, realm, table, auth.WWW, state, config)


def proxy_authorize(ctx, realm: str, table: str, state: AuthDb, config: auth.AuthConfig) -> int:
    """Check the Proxy-Authorization credentials for `realm` against `table`."""
    return authorize(ctx, realm, table, auth.PROXY, state, config)


def authorize(ctx, realm: str, table: str, kind: auth.Kind, state: AuthDb, config: auth.AuthConfig) -> int:
    outcome, attempt = auth.pre_auth(ctx, realm, kind, config)
    if outcome is auth.Outcome.AUTHORIZED:
        return 1
    if outcome is auth.Outcome.ERROR:
        return 0
    if outcome is auth.Outcome.NOT_AUTHORIZED:
        return -1
    row = _subscriber(ctx, attempt, table, kind, state)
    if row is None:
        return 0
    if not row or not _response_is_right(ctx, attempt, row[0], state):
        return -1
    if not auth.post_auth(ctx, attempt, kind):
        return -1
    _load_avps(ctx, row[1:], state)
    return 1


def _subscriber(ctx, attempt: auth.Attempt, table: str, kind: auth.Kind, state: AuthDb) -> tuple | None:
    """The user's row (secret column first, then the AVP columns); () for no such user; None after a 500."""
    credentials = attempt.credentials
    secret = (state.password_column if state.calculate_ha1 or not credentials.domain
              else state.password_column_2)
    columns = ", ".join((secret, *state.int_avps, *state.str_avps))
    where, values = f"{state.user_column}=?", [credentials.user]
    if state.use_domain:
        where += f" AND {state.domain_column}=?"
        values.append(attempt.realm)
    rows = state.store.query(f"{kind.header} check", f"SELECT {columns} FROM {table} WHERE {where}", values)
    if rows is None:
        auth.send_reply(ctx, 500, "Server Internal Error")
        return None
    if not rows or rows[0][0] is None:
        LOG.info("%s: no user %r", kind.header, credentials.user)
        return ()
    return rows[0]


def _response_is_right(ctx, attempt: auth.Attempt, secret: str, state: AuthDb) -> bool:
    credentials = attempt.credentials
    ha1 = digest_ha1(credentials.username, attempt.realm, secret) if state.calculate_ha1 else secret
    expected = response(ha1, credentials.nonce, ctx.msg.method, credentials.uri, credentials.qop,
                        credentials.nc or "", credentials.cnonce or "", ctx.msg.body)
    if same_digest(expected, credentials.response):
        return True
    LOG.info("wrong digest response for user %r from %s:%d", credentials.user, ctx.rcv.src_ip, ctx.rcv.src_port)
    return False


def _load_avps(ctx, values: tuple, state: AuthDb) -> None:
    names = (*state.int_avps, *state.str_avps)
    for index, (name, value) in enumerate(zip(names, values)):
        if value is None:
            continue
        if index < len(state.int_avps):
            try:
                ctx.avps[name] = int(value)
            except (TypeError, ValueError):
                LOG.warning("column %s holds %r, not a number: no AVP", name, value)
        else:
            ctx.avps[name] = str(value)


EXPORTS = Module(
    name="auth_db",
    doc="digest credentials from a database",
    functions=(
        fn("www_authorize", 2, R, dialects=V08_09, doc="verify Authorization against table: realm, table",
           impl=www_authorize, fixup=_authorize_fixup),
        fn("proxy_authorize", 2, R, dialects=V08_09, doc="verify Proxy-Authorization against table: realm, table",
           impl=proxy_authorize, fixup=_authorize_fixup),
        fn("www_authorize", 2, R, dialects=V20, doc="2.0 alias of www_authenticate"),
        fn("proxy_authorize", 2, R, dialects=V20, doc="2.0 alias of proxy_authenticate"),
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
    init=_init,
    start=_start,
)
