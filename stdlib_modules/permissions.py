"""permissions: routing and registration ACLs (SER modules/permissions).

hosts.allow-style regex rule files checked against (From, R-URI) pairs
for routing and (To, Contact) pairs for registration; those functions
have no body yet. The trusted table grants access by source IP and
transport.

`allow_trusted()` follows SER 0.9's trusted.c: the rows whose `src_ip` is
the request's source address count when their `proto` is the receiving
transport or "any" (any case) and their `from_pattern` (when not NULL)
matches somewhere in the From URI. 1 when a row matched, -1 otherwise
(also when the From header does not parse, there is no `db_url` or the
database fails). A row whose pattern does not compile is logged and
skipped. Patterns are case-sensitive and `$` is only the end of the URI,
as with SER's regcomp(REG_NOSUB); they are read as POSIX extended regexes
(textops' compile_regex), where SER reads basic ones: the two differ only
for `+ ? | ( ) { }`, which a basic regex takes literally.

`db_mode` 0 queries the table on every call; 1 reads it at start and
answers from memory until `trusted_reload`. As in the domain module each
process keeps its own copy, and a reload bumps a generation number in an
anonymous mapping shared by the forked workers, which read the table again
at their next call.
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

from ser_runtime.context import PROTO_NUMBERS
from ser_runtime.db import DbError
from ser_runtime.sip import SipParseError
from stdlib_modules._db_module import ModuleDb, ReloadSignal, reload_command
from stdlib_modules.exports import (F, INT, R, S, STR, V09_20, V20, Command, FixupError, Module,
                                    Reply, fn, param)
from stdlib_modules.textops import compile_regex

LOG = logging.getLogger("ser.permissions")


class Peer(NamedTuple):
    """One usable row of the trusted table; `pattern` None when from_pattern is NULL."""

    src_ip: str
    proto: str
    from_pattern: str | None
    pattern: re.Pattern[bytes] | None

    def admits(self, proto: int, from_uri: bytes) -> bool:
        if self.proto.lower() != "any" and PROTO_NUMBERS.get(self.proto.lower()) != proto:
            return False
        return self.pattern is None or self.pattern.search(from_uri) is not None


def peers(rows) -> list[Peer]:
    """The rows (src_ip, proto, from_pattern) as Peers; a row SER could not use is logged and left out."""
    usable = []
    for src_ip, proto, from_pattern in rows:
        if src_ip is None or proto is None:
            continue
        try:
            pattern = None if from_pattern is None else compile_regex(from_pattern, icase=False, newline=False,
                                                                       position=None)
        except FixupError as exc:
            LOG.error("allow_trusted: trusted row %s %s skipped: %s", src_ip, proto, exc)
            continue
        usable.append(Peer(str(src_ip), str(proto), from_pattern, pattern))
    return usable


class Trusted:
    """The module state: the trusted table, and in db_mode 1 this process's copy of it."""

    def __init__(self, params: dict):
        self.table = params["trusted_table"]
        self.columns = f'{params["source_col"]}, {params["proto_col"]}, {params["from_col"]}'
        self.source = params["source_col"]
        names = (self.table, params["source_col"], params["proto_col"], params["from_col"])
        self.store = None if params["db_url"] is None else ModuleDb(params["db_url"], names)
        self.cached = params["db_mode"] == 1
        self.peers: dict[str, list[Peer]] = {}
        self.reloads = ReloadSignal() if self.cached else None

    def candidates(self, src_ip: str) -> list[Peer] | None:
        """The rows for `src_ip`, or None (logged) when they cannot be read."""
        if self.store is None:
            LOG.error("allow_trusted: set the db_url parameter of the permissions module first")
            return None
        if self.cached:
            self.follow_reloads()
            return self.peers.get(src_ip.lower(), [])
        rows = self.store.query("allow_trusted", f"SELECT {self.columns} FROM {self.table} WHERE {self.source}=?",
                                (src_ip,))
        return None if rows is None else peers(rows)

    def load(self) -> int:
        """Read the table into this process's copy; DbError when the database fails."""
        table: dict[str, list[Peer]] = {}
        for peer in peers(self.store.db.query(f"SELECT {self.columns} FROM {self.table}")):
            # SER's cache compares addresses without regard to case (IPv6 hex digits).
            table.setdefault(peer.src_ip.lower(), []).append(peer)
        self.peers = table
        return sum(len(rows) for rows in table.values())

    def follow_reloads(self) -> None:
        if not self.reloads.pending():
            return
        try:
            self.load()
        except DbError as exc:
            LOG.error("trusted reload failed, keeping the cached table: %s", exc)


def _init(params: dict) -> Trusted:
    return Trusted(params)


def _start(state: Trusted) -> None:
    if state.store is not None:
        state.store.start({state.table: 1}, state.load if state.cached else None)


def _with_state(args: tuple, state: Trusted) -> tuple:
    return (*args, state)


def allow_trusted(ctx, state: Trusted) -> int:
    """The request's source address and transport (and From URI) are in the trusted table."""
    try:
        sender = ctx.msg.from_
        if sender is None:
            raise SipParseError("no From header")
    except SipParseError as exc:
        LOG.error("allow_trusted: From header: %s", exc.what)
        return -1
    candidates = state.candidates(ctx.rcv.src_ip)
    if not candidates:
        return -1
    from_uri = sender.uri.encode("utf-8", "surrogateescape")
    return 1 if any(peer.admits(ctx.rcv.proto, from_uri) for peer in candidates) else -1


def reload(state: Trusted) -> int:
    """FIFO trusted_reload: read the table again here and make every process follow; the count of rows.

    Raises DbError (the cached copies stay as they were) and ValueError when db_mode is not 1.
    """
    if not state.cached or state.store is None:
        raise ValueError("trusted_reload needs db_mode 1 and db_url (the trusted table is not cached)")
    count = state.load()
    state.reloads.announce()
    return count


def dump(state: Trusted) -> list[Peer]:
    """FIFO trusted_dump: the cached rows, sorted."""
    return sorted((peer for rows in state.peers.values() for peer in rows),
                  key=lambda peer: (peer.src_ip, peer.proto, peer.from_pattern or ""))


def trusted_dump(state: Trusted, args, control) -> Reply:
    if state.cached:
        state.follow_reloads()
    rows = dump(state)
    lines = tuple(" ".join(filter(None, (peer.src_ip, peer.proto, peer.from_pattern))) for peer in rows)
    data = [{"src_ip": peer.src_ip, "proto": peer.proto, "from_pattern": peer.from_pattern} for peer in rows]
    return Reply(200, "OK", lines, data)


EXPORTS = Module(
    name="permissions",
    doc="routing and registration ACLs",
    functions=(
        fn("allow_routing", 0, R | F, doc="check (From, R-URI) pairs against the default files"),
        fn("allow_routing", 1, R | F, doc="check against basename.allow/basename.deny"),
        fn("allow_routing", 2, R | F, doc="check against explicit allow and deny files"),
        fn("allow_register", 1, R | F, dialects=V09_20, doc="check (To, Contact) pairs: basename"),
        fn("allow_register", 2, R | F, dialects=V09_20, doc="check (To, Contact) pairs: allow, deny files"),
        fn("allow_trusted", 0, R | F, dialects=V09_20, doc="source IP and transport in the trusted table",
           impl=allow_trusted, fixup=_with_state),
        fn("allow_refer_to", 1, R | F, dialects=V20, doc="check (From, Refer-To) pairs: basename"),
        fn("allow_refer_to", 2, R | F, dialects=V20, doc="check (From, Refer-To) pairs: allow, deny files"),
        fn("ipmatch", 1, R | F, dialects=V20, doc="source IP matches an entry of the ipmatch table"),
        fn("ipmatch", 2, R | F, dialects=V20, doc="the given IP/port matches an ipmatch entry"),
        fn("ipmatch_onsend", 1, S, dialects=V20, doc="destination IP matches an ipmatch entry"),
        fn("ipmatch_filter", 1, R | F | S, dialects=V20, doc="restrict ipmatch to entries with a mark"),
    ),
    params=(
        param("default_allow_file", STR, "permissions.allow", doc="default allow rules"),
        param("default_deny_file", STR, "permissions.deny", doc="default deny rules"),
        param("check_all_branches", INT, 1, doc="check every branch, not only the R-URI"),
        param("allow_suffix", STR, ".allow", doc="suffix of allow files"),
        param("deny_suffix", STR, ".deny", doc="suffix of deny files"),
        param("db_url", STR, None, V09_20, doc="database URL for the trusted table"),
        param("db_mode", INT, 0, V09_20, doc="0 query each time, 1 cache"),
        param("trusted_table", STR, "trusted", V09_20, doc="trusted table"),
        param("source_col", STR, "src_ip", V09_20, doc="source IP column"),
        param("proto_col", STR, "proto", V09_20, doc="transport column"),
        param("from_col", STR, "from_pattern", V09_20, doc="From regex column"),
    ),
    init=_init,
    start=_start,
    commands=(
        reload_command("trusted_reload", reload, "trusted"),
        Command("trusted_dump", trusted_dump, "the cached trusted peers, one per line"),
    ),
)
