"""group: group membership from a database (SER modules/group, 0.8.11-0.9).

`is_user_in(which, group)` checks the user of the R-URI, To, From or the
digest credentials against the grp table. Gone in 2.0 (attributes
replace groups).

SER 0.9's behaviour kept: `which` is "Request-URI" (the current one),
"To", "From" or "Credentials" in any case, anything else is refused at
start-up. For "Credentials" the user is the user part of the accepted
digest username and the domain its domain part, or else the realm; without
accepted credentials the function is false. The domain counts only with
`use_domain`. Codes: 1 member, -1 no user to check, -5 database failure,
-6 not a member.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ser_runtime.sip import SipParseError
from stdlib_modules._db_module import ModuleDb
from stdlib_modules.exports import INT, R, STR, V08, V08_09, V09, FixupError, Module, fn, param
from stdlib_modules.uri_db import accepted_credentials

LOG = logging.getLogger("ser.group")

_RODB_URL = "mysql://serro:47serro11@localhost/ser"
_WHICH = {"request-uri": "Request-URI", "to": "To", "from": "From", "credentials": "Credentials"}


@dataclass(frozen=True, slots=True)
class Group:
    store: ModuleDb
    table: str
    user_column: str
    domain_column: str
    group_column: str
    use_domain: bool


def _init(params: dict) -> Group:
    columns = (params["table"], params["user_column"], params["domain_column"], params["group_column"])
    return Group(ModuleDb(params["db_url"], columns), *columns, bool(params["use_domain"]))


def _start(state: Group) -> None:
    state.store.start({state.table: 2})


def _is_user_in_fixup(args: tuple, state: Group) -> tuple:
    which, group = (str(arg) for arg in args)
    if which.lower() not in _WHICH:
        raise FixupError(f"'{which}' is not Request-URI, To, From or Credentials", 0)
    return _WHICH[which.lower()], group, state


def is_user_in(ctx, which: str, group: str, state: Group) -> int:
    """The user named by `which` is in `group` of the grp table."""
    found = _user_and_domain(ctx, which)
    if found is None:
        return -1
    user, domain = found
    where, values = f"{state.user_column}=? AND {state.group_column}=?", [user, group]
    if state.use_domain:
        where += f" AND {state.domain_column}=?"
        values.append(domain)
    rows = state.store.query("is_user_in", f"SELECT {state.group_column} FROM {state.table} WHERE {where}",
                             values)
    if rows is None:
        return -5
    return 1 if rows else -6


def _user_and_domain(ctx, which: str) -> tuple[str, str] | None:
    if which == "Credentials":
        credentials = accepted_credentials(ctx)
        if credentials is None:
            LOG.error("is_user_in: no authorized credentials: call {www,proxy}_authorize first")
            return None
        return credentials.user, credentials.domain or credentials.realm
    try:
        if which == "Request-URI":
            uri = ctx.parsed_uri()
        else:
            address = ctx.msg.to if which == "To" else ctx.msg.from_
            if address is None:
                raise SipParseError(f"no {which} header")
            uri = address.parsed_uri
    except SipParseError as exc:
        LOG.error("is_user_in: %s: %s", which, exc.what)
        return None
    return uri.user or "", uri.host


EXPORTS = Module(
    name="group",
    doc="group membership",
    dialects=V08_09,
    functions=(
        fn("is_user_in", 2, R, doc="which (Request-URI/To/From/Credentials), group",
           impl=is_user_in, fixup=_is_user_in_fixup),
    ),
    params=(
        param("db_url", STR, _RODB_URL, doc="database URL"),
        param("table", STR, "grp", doc="group table"),
        param("user_column", STR, "user", V08, doc="username column"),
        param("user_column", STR, "username", V09, doc="username column"),
        param("domain_column", STR, "domain", doc="domain column"),
        param("group_column", STR, "grp", doc="group column"),
        param("use_domain", INT, 0, doc="match user@domain"),
    ),
    init=_init,
    start=_start,
)
