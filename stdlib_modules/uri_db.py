"""uri_db: database URI checks (SER modules/uri_db, 0.9 and 2.0).

0.9: anti-spoofing checks of To/From against the digest user and
existence of the R-URI user. 2.0 (uid model): `lookup_user` maps a URI
to the user id ($tu.uid/$fu.uid), `check_uri` compares a URI with it;
those have no body yet.

SER 0.9's behaviour kept:

* `check_to`/`check_from` need credentials accepted by www_authorize or
  proxy_authorize (Authorization first). Without `use_uri_table` the
  To/From user must equal the user part of the digest username, ignoring
  case; with it, the uri table must list (digest user, realm, To/From
  user), where the realm is the domain of the digest username if it has
  one. Codes: -1 unparsable header, -2 no credentials, -4 no user in the
  URI, -5 database failure, -6 not in the uri table, -8 another user.
* `does_uri_exist` looks the current R-URI's user up in the subscriber
  table (`use_uri_table`: as uri_user in the uri table), with
  `use_domain` also its host: 1, or -1 unparsable R-URI, -4 database
  failure, -5 no such user.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ser_runtime.sip import SipParseError
from stdlib_modules._db_module import ModuleDb
from stdlib_modules.digest import Credentials, CredentialsError, parse_credentials
from stdlib_modules.exports import F, INT, R, STR, V09, V09_20, V20, Module, fn, param
from stdlib_modules.uri import AUTHORIZED

LOG = logging.getLogger("ser.uri_db")

_RODB_URL = "mysql://serro:47serro11@localhost/ser"


@dataclass(frozen=True, slots=True)
class UriDb:
    store: ModuleDb
    params: dict
    use_uri_table: bool
    use_domain: bool


def _init(params: dict) -> UriDb:
    names = [params[name] for name in ("uri_table", "uri_user_column", "uri_domain_column", "uri_uriuser_column",
                                       "subscriber_table", "subscriber_user_column", "subscriber_domain_column")
             if name in params]
    return UriDb(ModuleDb(params["db_url"], names), params, bool(params.get("use_uri_table")),
                 bool(params.get("use_domain")))


def _start(state: UriDb) -> None:
    if "subscriber_table" in state.params:
        state.store.start({state.params["uri_table"]: 1, state.params["subscriber_table"]: 3})


def _with_state(args: tuple, state: UriDb) -> tuple:
    return (*args, state)


def accepted_credentials(ctx) -> Credentials | None:
    """The credentials www_authorize/proxy_authorize accepted (Authorization first), parsed."""
    accepted = ctx.avps.get(AUTHORIZED) or {}
    field = accepted.get("authorization") or accepted.get("proxy-authorization")
    if field is None:
        return None
    try:
        return parse_credentials(field.value)
    except CredentialsError:
        return None


def check_to(ctx, state: UriDb) -> int:
    """The To user is the authenticated user (or one the uri table allows them)."""
    return _check_header(ctx, "To", state)


def check_from(ctx, state: UriDb) -> int:
    """The From user is the authenticated user (or one the uri table allows them)."""
    return _check_header(ctx, "From", state)


def _check_header(ctx, name: str, state: UriDb) -> int:
    try:
        address = ctx.msg.to if name == "To" else ctx.msg.from_
        if address is None:
            raise SipParseError(f"no {name} header")
        user = address.parsed_uri.user
    except SipParseError as exc:
        LOG.error("check_%s: %s", name.lower(), exc.what)
        return -1
    credentials = accepted_credentials(ctx)
    if credentials is None:
        LOG.error("check_%s: no authorized credentials: call {www,proxy}_authorize first", name.lower())
        return -2
    if not user:
        LOG.info("check_%s: no user in the %s URI", name.lower(), name)
        return -4
    if not state.use_uri_table:
        return 1 if user.lower() == credentials.user.lower() else -8
    p = state.params
    rows = state.store.query(
        f"check_{name.lower()}",
        f"SELECT {p['uri_user_column']} FROM {p['uri_table']} WHERE {p['uri_user_column']}=? "
        f"AND {p['uri_domain_column']}=? AND {p['uri_uriuser_column']}=?",
        (credentials.user, credentials.domain or credentials.realm, user))
    if rows is None:
        return -5
    return 1 if rows else -6


def does_uri_exist(ctx, state: UriDb) -> int:
    """The user of the current Request-URI is a subscriber (or a uri_user of the uri table)."""
    try:
        uri = ctx.parsed_uri()
    except SipParseError as exc:
        LOG.error("does_uri_exist: Request-URI does not parse: %s", exc.what)
        return -1
    p = state.params
    if state.use_uri_table:
        table, user_column, domain_column = p["uri_table"], p["uri_uriuser_column"], p["uri_domain_column"]
    else:
        table = p["subscriber_table"]
        user_column, domain_column = p["subscriber_user_column"], p["subscriber_domain_column"]
    where, values = f"{user_column}=?", [uri.user or ""]
    if state.use_domain:
        where += f" AND {domain_column}=?"
        values.append(uri.host)
    rows = state.store.query("does_uri_exist", f"SELECT {user_column} FROM {table} WHERE {where}", values)
    if rows is None:
        return -4
    return 1 if rows else -5


EXPORTS = Module(
    name="uri_db",
    doc="database URI checks",
    dialects=V09_20,
    functions=(
        fn("check_to", 0, R, dialects=V09, doc="To username matches the digest username",
           impl=check_to, fixup=_with_state),
        fn("check_from", 0, R, dialects=V09, doc="From username matches the digest username",
           impl=check_from, fixup=_with_state),
        fn("does_uri_exist", 0, R, dialects=V09, doc="R-URI user exists",
           impl=does_uri_exist, fixup=_with_state),
        fn("lookup_user", 1, R | F, dialects=V20, doc="load the uid of a header's URI"),
        fn("lookup_user", 2, R | F, dialects=V20, doc="load the uid: track (to/from), URI"),
        fn("check_uri", 1, R | F, dialects=V20, doc="URI belongs to the authenticated user"),
    ),
    params=(
        param("db_url", STR, _RODB_URL, doc="database URL"),
        param("uri_table", STR, "uri", doc="uri table"),
        param("uri_user_column", STR, "username", V09, doc="uri table username column"),
        param("uri_domain_column", STR, "domain", V09, doc="uri table domain column"),
        param("uri_uriuser_column", STR, "uri_user", V09, doc="uri table URI-user column"),
        param("subscriber_table", STR, "subscriber", V09, doc="subscriber table"),
        param("subscriber_user_column", STR, "username", V09, doc="subscriber username column"),
        param("subscriber_domain_column", STR, "domain", V09, doc="subscriber domain column"),
        param("use_uri_table", INT, 0, V09, doc="check against the uri table"),
        param("use_domain", INT, 0, V09, doc="match user@domain"),
        param("uid_column", STR, "uid", V20, doc="user id column"),
        param("did_column", STR, "did", V20, doc="domain id column"),
        param("username_column", STR, "username", V20, doc="username column"),
        param("flags_column", STR, "flags", V20, doc="flags column"),
        param("scheme_column", STR, "scheme", V20, doc="URI scheme column"),
    ),
    init=_init,
    start=_start,
)
