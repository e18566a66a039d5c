"""domain: local domains (SER modules/domain).

0.8/0.9: is the From/R-URI host one of ours (domain table, optionally
cached). 2.0 (did model): `lookup_domain` finds the domain id of a URI
and loads its attributes, `is_local` tests a host; those have no body yet.

Hosts compare without regard to case. `db_mode` 0 queries the table on
every call; 1 reads it once at start-up and answers from memory, until
`reload(state)` (FIFO `domain_reload`) reads it again. Without SER's
shared memory, every process keeps its own copy: a reload made in one
process bumps a generation number in a shared anonymous mapping (made in
`init`, before the workers fork), and each worker reads the table again
at its next call when the number moved. A reload that fails in a worker
is logged and the worker keeps its old copy.

Codes: `is_from_local` 1, -1 not local, -2/-3 From header/URI does not
parse; `is_uri_host_local` 1, -1 not local or R-URI does not parse. A
database failure is logged and counts as not local.
"""

from __future__ import annotations

import logging

from ser_runtime.db import DbError
from ser_runtime.sip import SipParseError
from stdlib_modules._db_module import ModuleDb, ReloadSignal, reload_command
from stdlib_modules.exports import F, INT, R, STR, V08_09, V20, Command, Module, Reply, fn, param

LOG = logging.getLogger("ser.domain")

_RODB_URL = "mysql://serro:47serro11@localhost/ser"


class Domains:
    """The module state: the table, and in db_mode 1 this process's copy of it."""

    def __init__(self, params: dict):
        self.table = params["domain_table"]
        self.column = params["domain_col"]
        self.store = ModuleDb(params["db_url"], (self.table, self.column))
        self.cached = params["db_mode"] == 1
        self.domains: frozenset[str] = frozenset()
        self.reloads = ReloadSignal() if self.cached else None

    def is_local(self, host: str, who: str) -> int:
        if self.cached:
            self._follow_reloads()
            return 1 if host.lower() in self.domains else -1
        rows = self.store.query(who, f"SELECT {self.column} FROM {self.table} WHERE lower({self.column})=?",
                                (host.lower(),))
        return 1 if rows else -1

    def load(self) -> int:
        """Read the table into this process's copy; DbError when the database fails."""
        rows = self.store.db.query(f"SELECT {self.column} FROM {self.table}")
        self.domains = frozenset(str(row[0]).lower() for row in rows if row[0] is not None)
        return len(self.domains)

    def _follow_reloads(self) -> None:
        if not self.reloads.pending():
            return
        try:
            self.load()
        except DbError as exc:
            LOG.error("domain reload failed, keeping %d cached domains: %s", len(self.domains), exc)


def _init(params: dict) -> Domains:
    return Domains(params)


def _start(state: Domains) -> None:
    state.store.start({state.table: 1}, state.load if state.cached else None)


def reload(state: Domains) -> int:
    """FIFO domain_reload: read the table again here and make every process follow; the count of domains.

    Raises DbError (the cached copies stay as they were) and ValueError when db_mode is not 1.
    """
    if not state.cached:
        raise ValueError("domain_reload needs db_mode 1 (the domain table is not cached)")
    count = state.load()
    state.reloads.announce()
    return count


def dump(state: Domains) -> list[str]:
    """FIFO domain_dump: the cached domains, sorted."""
    return sorted(state.domains)


def domain_dump(state: Domains, args, control) -> Reply:
    if state.cached:
        state._follow_reloads()
    domains = dump(state)
    return Reply(200, "OK", tuple(domains), domains)


def _with_state(args: tuple, state: Domains) -> tuple:
    return (*args, state)


def is_from_local(ctx, state: Domains) -> int:
    """The host of the From URI is one of our domains."""
    try:
        sender = ctx.msg.from_
        if sender is None:
            raise SipParseError("no From header")
    except SipParseError as exc:
        LOG.error("is_from_local: From header: %s", exc.what)
        return -2
    try:
        host = sender.parsed_uri.host
    except SipParseError as exc:
        LOG.error("is_from_local: From URI: %s", exc.what)
        return -3
    return state.is_local(host, "is_from_local")


def is_uri_host_local(ctx, state: Domains) -> int:
    """The host of the current Request-URI is one of our domains."""
    try:
        host = ctx.parsed_uri().host
    except SipParseError as exc:
        LOG.error("is_uri_host_local: Request-URI: %s", exc.what)
        return -1
    return state.is_local(host, "is_uri_host_local")


EXPORTS = Module(
    name="domain",
    doc="local domains",
    functions=(
        fn("is_from_local", 0, R, dialects=V08_09, doc="From host is a local domain",
           impl=is_from_local, fixup=_with_state),
        fn("is_uri_host_local", 0, R, dialects=V08_09, doc="R-URI host is a local domain",
           impl=is_uri_host_local, fixup=_with_state),
        fn("is_local", 1, R | F, dialects=V20, doc="the host is a local domain"),
        fn("lookup_domain", 2, R | F, dialects=V20, doc="domain id and attributes of a URI: track, URI"),
    ),
    params=(
        param("db_url", STR, _RODB_URL, doc="database URL"),
        param("db_mode", INT, 0, doc="0 query each time, 1 cache"),
        param("domain_table", STR, "domain", doc="domain table"),
        param("domain_col", STR, "domain", doc="domain column"),
        param("did_col", STR, "did", V20, doc="domain id column"),
        param("flags_col", STR, "flags", V20, doc="flags column"),
        param("domattr_table", STR, "domain_attrs", V20, doc="domain attribute table"),
        param("domattr_did", STR, "did", V20, doc="attribute domain id column"),
        param("domattr_name", STR, "name", V20, doc="attribute name column"),
        param("domattr_type", STR, "type", V20, doc="attribute type column"),
        param("domattr_value", STR, "value", V20, doc="attribute value column"),
        param("domattr_flags", STR, "flags", V20, doc="attribute flags column"),
        param("load_domain_attrs", INT, 0, V20, doc="load domain attributes"),
    ),
    init=_init,
    start=_start,
    commands=(
        reload_command("domain_reload", reload, "domains"),
        Command("domain_dump", domain_dump, "the cached local domains, one per line"),
    ),
)
