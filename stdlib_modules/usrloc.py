"""usrloc: the user location store (SER modules/usrloc; RFC 3261 section 10).

Keeps address-of-record -> contact bindings for registrar's `save` and
`lookup`, in tables ("domains" in SER: `location`, `aliases`) created on
demand when a registrar call names them. It exports no script functions,
except the 2002 module which still had `save_contact`/`lookup_contact`
before registrar was split out (not implemented).

Where the bindings live, by `db_mode`:

* 0, memory: only in the shared memory store.
* 1, write-through: the memory store, and every change also goes to the
  `db_url` table at once (a database failure is logged; the registration
  stands, as in SER).
* 2, write-back: the memory store; the timer writes the changed bindings
  (and deletes the removed ones) every `timer_interval` seconds, and the
  server writes what is left when it stops.
* 3, database only: every save and lookup is a query on `db_url`, so
  several `ser` instances sharing one database see each other's users.

Modes 1 and 2 load the database table into memory at start-up, and every
mode but 0 refuses to start unless the table's version row is 6 or newer.

The memory store stands in for SER's shared memory: "every worker sees
the same registrations". It is a SQLite file in WAL mode under /dev/shm
(a RAM disk; the temp dir elsewhere), made by `start` before the workers
fork and opened by each of them; writes take SQLite's write lock for one
AOR's read-modify-write, so two workers saving the same user serialise.
It is reached with sqlite3 directly, not through ser_runtime.db: it is
this module's memory, not a database the configuration names, and it runs
with `synchronous=OFF`, as nothing on a RAM disk survives a reboot anyway.
A save costs about 35 µs of CPU, a lookup 8 µs. A reload (SIGHUP) keeps
the same file, so registrations survive it.

In the database a contact without q has q = -1 (SER wrote -0.001, which
read back as 0), so a restart keeps it apart from an explicit q=0.

Expiry: `lookup` never returns an expired binding; the timer deletes them
(from memory and, in modes 1-3, from the database). A binding with flag
128 (permanent, as serctl's `ul add` makes) never expires.
"""

from __future__ import annotations

import atexit
import logging
import os
import sqlite3
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator, NamedTuple

from ser_runtime.control import stats
from ser_runtime.db import Database, DbError, open_db
from stdlib_modules._db_module import is_identifier
from stdlib_modules.exports import (
    INT, R, STR, V08, V08_09, V09, V09_20, V20, Command, CommandError, Module, ModuleStartError, Reply, fn,
    param,
)

LOG = logging.getLogger("ser.usrloc")

_DB_URL = "mysql://ser:heslo@localhost/ser"
NO_DB, WRITE_THROUGH, WRITE_BACK, DB_ONLY = range(4)
TABLE_VERSION = 6

# Contact flags (SER's ucontact.h): behind NAT, permanent.
FL_NAT, FL_PERMANENT = 1, 128
# SER's qvalue: thousandths, -1 when the contact gave none.
Q_UNSPECIFIED = -1
_EPOCH = datetime(1970, 1, 1)


class Binding(NamedTuple):
    """One contact of an AOR; `expires` is a Unix time in whole seconds."""

    contact: str
    expires: int
    q: int = Q_UNSPECIFIED
    callid: str = "Default-Call-ID"
    cseq: int = 42
    flags: int = 0
    user_agent: str = ""
    received: str | None = None
    modified: float = 0.0

    def valid(self, now: float) -> bool:
        return bool(self.flags & FL_PERMANENT) or self.expires > now


class UsrlocError(Exception):
    """The store could not be read or written (a database error): one line."""


def ordered(bindings: list[Binding], by_time: bool) -> list[Binding]:
    """SER's contact order: highest q first, the latest update first among equals (or by time only)."""
    if by_time:
        return sorted(bindings, key=lambda b: -b.modified)
    return sorted(bindings, key=lambda b: (-b.q, -b.modified))


# --- the shared memory store ---------------------------------------------------------------------

_MEMORY_SCHEMA = """
CREATE TABLE IF NOT EXISTS binding (
    tbl TEXT NOT NULL, aor TEXT NOT NULL, contact TEXT NOT NULL, expires INTEGER NOT NULL,
    q INTEGER NOT NULL, callid TEXT NOT NULL, cseq INTEGER NOT NULL, flags INTEGER NOT NULL,
    user_agent TEXT NOT NULL, received TEXT, modified REAL NOT NULL,
    dirty INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tbl, aor, contact)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS binding_expires ON binding (expires);
CREATE TABLE IF NOT EXISTS gone (
    tbl TEXT NOT NULL, aor TEXT NOT NULL, contact TEXT NOT NULL,
    PRIMARY KEY (tbl, aor, contact)) WITHOUT ROWID;
"""
_FIELDS = "contact, expires, q, callid, cseq, flags, user_agent, received, modified"


def _memory_dir() -> str:
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()


class MemoryStore:
    """The bindings every process of one `ser` shares: a SQLite file on a RAM disk.

    `dirty` is 0 for a binding the database has, otherwise a change count
    (write-back): the timer clears it only if no worker changed the binding
    while the timer wrote it. `gone` holds removals the database has not seen.
    """

    def __init__(self, path: str):
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    @classmethod
    def create(cls) -> "MemoryStore":
        fd, path = tempfile.mkstemp(prefix=f"ser-usrloc-{os.getpid()}-", suffix=".db", dir=_memory_dir())
        os.close(fd)
        store = cls(path)
        store.conn.executescript(_MEMORY_SCHEMA)
        # Every process ser forks ends with os._exit, so this runs only in the one that started
        # ser, the supervisor, whatever pid daemonizing gave it.
        atexit.register(store.remove)
        return store

    @property
    def conn(self) -> sqlite3.Connection:
        """This process's connection; a forked worker opens its own."""
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def close(self) -> None:
        """Before a fork: SQLite forbids using a connection in a child process, closing it included."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def remove(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(self.path + suffix)
            except OSError:
                pass

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the lock at BEGIN so a read-modify-write is atomic."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def bindings(self, table: str, aor: str) -> list[Binding]:
        rows = self.conn.execute(f"SELECT {_FIELDS} FROM binding WHERE tbl=? AND aor=?", (table, aor))
        return [Binding(*row) for row in rows]

    def put(self, conn, table: str, aor: str, binding: Binding, dirty: bool) -> None:
        conn.execute(
            f"INSERT INTO binding (tbl, aor, {_FIELDS}, dirty) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (tbl, aor, contact) DO UPDATE SET expires=excluded.expires, q=excluded.q, "
            "callid=excluded.callid, cseq=excluded.cseq, flags=excluded.flags, "
            "user_agent=excluded.user_agent, received=excluded.received, modified=excluded.modified, "
            "dirty=CASE WHEN excluded.dirty THEN binding.dirty + 1 ELSE 0 END",
            (table, aor, *binding, int(dirty)))
        if dirty:
            conn.execute("DELETE FROM gone WHERE tbl=? AND aor=? AND contact=?", (table, aor, binding.contact))

    def remove_binding(self, conn, table: str, aor: str, contact: str, remember: bool) -> None:
        conn.execute("DELETE FROM binding WHERE tbl=? AND aor=? AND contact=?", (table, aor, contact))
        if remember:
            conn.execute("INSERT OR IGNORE INTO gone VALUES (?, ?, ?)", (table, aor, contact))

    def all(self, table: str) -> list[tuple[str, Binding]]:
        rows = self.conn.execute(f"SELECT aor, {_FIELDS} FROM binding WHERE tbl=? ORDER BY aor", (table,))
        return [(row[0], Binding(*row[1:])) for row in rows]

    def expire(self, now: float) -> int:
        with self.write() as conn:
            return conn.execute("DELETE FROM binding WHERE expires <= ? AND (flags & ?) = 0",
                                (int(now), FL_PERMANENT)).rowcount

    def dirty(self, table: str) -> list[tuple[str, Binding, int]]:
        rows = self.conn.execute(f"SELECT aor, {_FIELDS}, dirty FROM binding WHERE tbl=? AND dirty > 0",
                                 (table,))
        return [(row[0], Binding(*row[1:-1]), row[-1]) for row in rows]

    def mark_clean(self, table: str, written: list[tuple[str, Binding, int]]) -> None:
        with self.write() as conn:
            conn.executemany("UPDATE binding SET dirty=0 WHERE tbl=? AND aor=? AND contact=? AND dirty=?",
                             [(table, aor, b.contact, dirty) for aor, b, dirty in written])

    def gone(self, table: str) -> list[tuple[str, str]]:
        return self.conn.execute("SELECT aor, contact FROM gone WHERE tbl=?", (table,)).fetchall()

    def forget_gone(self, table: str, removed: list[tuple[str, str]]) -> None:
        with self.write() as conn:
            conn.executemany("DELETE FROM gone WHERE tbl=? AND aor=? AND contact=?",
                             [(table, aor, contact) for aor, contact in removed])


# --- the database table --------------------------------------------------------------------------

def _to_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


def _to_seconds(value) -> int:
    if not isinstance(value, datetime):
        return 0  # MySQL's zero date reads as text
    return int(value.replace(tzinfo=timezone.utc).timestamp())


@dataclass(frozen=True)
class Columns:
    """The column names of a location table (usrloc's *_column parameters)."""

    user: str = "username"
    domain: str = "domain"
    contact: str = "contact"
    expires: str = "expires"
    q: str = "q"
    callid: str = "callid"
    cseq: str = "cseq"
    flags: str = "flags"
    user_agent: str = "user_agent"
    received: str | None = "received"
    modified: str = "last_modified"

    def binding_list(self) -> str:
        names = [self.contact, self.expires, self.q, self.callid, self.cseq, self.flags, self.user_agent]
        return ", ".join(names + [self.received or "NULL", self.modified])


class DbTable:
    """A location table on `db_url`: one AOR's rows, writes and expiry (SER's ucontact DB functions)."""

    def __init__(self, db: Database, name: str, columns: Columns, use_domain: bool):
        self.db = db
        self.name = name
        self.c = columns
        self.use_domain = use_domain

    def _split(self, aor: str) -> tuple[str, str]:
        """username and domain columns: without use_domain SER leaves the domain empty."""
        if self.use_domain:
            user, _, domain = aor.rpartition("@")
            return user, domain
        return aor, ""

    def _key(self, aor: str) -> tuple[str, tuple]:
        """The WHERE clause selecting an AOR, and its values."""
        if self.use_domain:
            return f"{self.c.user}=? AND {self.c.domain}=?", self._split(aor)
        return f"{self.c.user}=?", (aor,)

    def transaction(self):
        return self.db.transaction()

    def bindings(self, aor: str) -> list[Binding]:
        where, values = self._key(aor)
        rows = self.db.query(f"SELECT {self.c.binding_list()} FROM {self.name} WHERE {where}", values)
        return [self._binding(row) for row in rows]

    def all(self) -> list[tuple[str, Binding]]:
        rows = self.db.query(f"SELECT {self.c.user}, {self.c.domain}, {self.c.binding_list()} FROM {self.name}")
        return [(f"{row[0]}@{row[1]}" if self.use_domain else row[0], self._binding(row[2:])) for row in rows]

    @staticmethod
    def _binding(row: tuple) -> Binding:
        contact, expires, q, callid, cseq, flags, user_agent, received, modified = row
        q = Q_UNSPECIFIED if q is None or q < 0 else round(q * 1000)
        return Binding(contact, _to_seconds(expires), q, callid or "", cseq or 0, flags or 0, user_agent or "",
                       received or None, float(_to_seconds(modified)))

    def put(self, aor: str, b: Binding) -> None:
        """UPDATE, then INSERT when no row matched (portable: no upsert syntax)."""
        where, key = self._key(aor)
        values = self._values(b)
        sets = [self.c.expires, self.c.q, self.c.callid, self.c.cseq, self.c.flags, self.c.user_agent,
                self.c.modified] + ([self.c.received] if self.c.received else [])
        assignments = ", ".join(f"{name}=?" for name in sets)
        with self.db.transaction():
            if self.db.execute(f"UPDATE {self.name} SET {assignments} WHERE {where} AND {self.c.contact}=?",
                               (*values, *key, b.contact)):
                return
            user, domain = self._split(aor)
            names = [self.c.user, self.c.domain, self.c.contact, *sets]
            self.db.execute(f"INSERT INTO {self.name} ({', '.join(names)}) "
                            f"VALUES ({', '.join('?' * len(names))})", (user, domain, b.contact, *values))

    def _values(self, b: Binding) -> tuple:
        q = -1.0 if b.q == Q_UNSPECIFIED else b.q / 1000
        expires = _EPOCH if b.flags & FL_PERMANENT else _to_datetime(b.expires)
        values = (expires, q, b.callid, b.cseq, b.flags, b.user_agent, _to_datetime(b.modified))
        return values + ((b.received,) if self.c.received else ())

    def remove(self, aor: str, contact: str) -> None:
        where, key = self._key(aor)
        self.db.execute(f"DELETE FROM {self.name} WHERE {where} AND {self.c.contact}=?", (*key, contact))

    def expire(self, now: float) -> int:
        return self.db.execute(f"DELETE FROM {self.name} WHERE {self.c.expires} <= ? AND ({self.c.flags} & ?) = 0",
                               (_to_datetime(int(now)), FL_PERMANENT))


# --- a usrloc table ------------------------------------------------------------------------------

class Record:
    """The valid bindings of one AOR while a save holds it; `put`/`remove` apply when the save ends."""

    def __init__(self, aor: str, bindings: list[Binding]):
        self.aor = aor
        self.bindings = {b.contact: b for b in bindings}
        self.changes: dict[str, Binding | None] = {}

    def put(self, binding: Binding) -> None:
        self.bindings[binding.contact] = binding
        self.changes[binding.contact] = binding

    def remove(self, contact: str) -> None:
        self.bindings.pop(contact, None)
        self.changes[contact] = None


class Location:
    """One usrloc table (SER's udomain): `lookup` and `hold` keep registrar away from storage."""

    def __init__(self, name: str, usrloc: "Usrloc"):
        self.name = name
        self.usrloc = usrloc

    @property
    def mode(self) -> int:
        return self.usrloc.mode

    def db(self) -> DbTable:
        return self.usrloc.db_table(self.name)

    def lookup(self, aor: str, now: float) -> list[Binding]:
        """The AOR's unexpired bindings, best first; UsrlocError when the store fails."""
        try:
            found = self.db().bindings(aor) if self.mode == DB_ONLY else self.usrloc.memory.bindings(self.name, aor)
        except (DbError, sqlite3.Error) as exc:
            raise UsrlocError(f"cannot read {aor} from {self.name}: {exc}") from None
        return ordered([b for b in found if b.valid(now)], self.usrloc.by_time)

    @contextmanager
    def hold(self, aor: str, now: float, memory_only: bool = False) -> Iterator[Record]:
        """The AOR's bindings, locked against other processes until the block ends, then saved.

        `memory_only` is save_memory: the change never reaches the database
        (in db_mode 3 there is no memory, so it does). UsrlocError when the
        store fails.
        """
        try:
            if self.mode == DB_ONLY:
                table = self.db()
                with table.transaction():
                    record = Record(aor, [b for b in table.bindings(aor) if b.valid(now)])
                    yield record
                    self._apply_db(record)
                return
            memory = self.usrloc.memory
            with memory.write() as conn:
                record = Record(aor, [b for b in memory.bindings(self.name, aor) if b.valid(now)])
                yield record
                track = self.mode == WRITE_BACK and not memory_only
                for contact, binding in record.changes.items():
                    if binding is None:
                        memory.remove_binding(conn, self.name, aor, contact, remember=track)
                    else:
                        memory.put(conn, self.name, aor, binding, dirty=track)
        except (DbError, sqlite3.Error) as exc:
            raise UsrlocError(f"cannot save {aor} in {self.name}: {exc}") from None
        if self.mode == WRITE_THROUGH and not memory_only:
            self._write_through(record)

    def _apply_db(self, record: Record) -> None:
        table = self.db()
        for contact, binding in record.changes.items():
            if binding is None:
                table.remove(record.aor, contact)
            else:
                table.put(record.aor, binding)

    def _write_through(self, record: Record) -> None:
        # SER logs a failed write-through and keeps the registration in memory.
        try:
            self._apply_db(record)
        except DbError as exc:
            LOG.error("usrloc: cannot write %s through to the database: %s", record.aor, exc)

    def load(self, now: float) -> int:
        """Copy the database table into memory (start-up in db_mode 1 and 2)."""
        rows = [(aor, b) for aor, b in self.db().all() if b.valid(now)]
        memory = self.usrloc.memory
        with memory.write() as conn:
            for aor, binding in rows:
                memory.put(conn, self.name, aor, binding, dirty=False)
        return len(rows)

    def flush(self) -> None:
        """Write-back: the database gets the removals and changes made since the last flush."""
        memory, table = self.usrloc.memory, self.db()
        removed = memory.gone(self.name)
        for aor, contact in removed:
            table.remove(aor, contact)
        memory.forget_gone(self.name, removed)
        changed = memory.dirty(self.name)
        for aor, binding, _ in changed:
            table.put(aor, binding)
        memory.mark_clean(self.name, changed)


# --- the module ----------------------------------------------------------------------------------

@dataclass
class Usrloc:
    """The module's state: its parameters, its tables, and (from `start` on) the stores."""

    mode: int
    use_domain: bool
    by_time: bool
    db_url: str
    columns: Columns
    interval: float
    tables: dict[str, Location] = field(default_factory=dict)
    memory: MemoryStore | None = None
    database: Database | None = None
    next_timer: float = 0.0

    def table(self, name: str) -> Location:
        """SER's register_udomain: the table registrar's save/lookup name, made on first use."""
        if name not in self.tables:
            self.tables[name] = Location(name, self)
        return self.tables[name]

    def db_table(self, name: str) -> DbTable:
        return DbTable(self.database, name, self.columns, self.use_domain)


# The memory store of this process's server, kept across reloads (SIGHUP).
_memory: MemoryStore | None = None
# The write-back state whose changes are flushed when the server exits.
_exit_state: Usrloc | None = None
# The state of the last usrloc initialised: registrar binds its tables through it (SER's bind_usrloc).
_active: Usrloc | None = None


def active() -> Usrloc | None:
    return _active


def _init(params: dict) -> Usrloc:
    global _active
    mode = params["db_mode"]
    if params.get("use_database") and mode == NO_DB:
        mode = WRITE_BACK  # the 2002 module's flag
    columns = Columns(**{name: params[f"{name}_column"] for name in
                         ("user", "domain", "contact", "expires", "q", "callid", "cseq", "flags", "user_agent")
                         if f"{name}_column" in params},
                      received=params.get("received_column"))
    # The 2002 module's flush_interval did the timer's work too.
    interval = min(params["timer_interval"], params.get("flush_interval", params["timer_interval"]))
    _active = Usrloc(mode=mode, use_domain=bool(params.get("use_domain")),
                     by_time=bool(params.get("desc_time_order")), db_url=params["db_url"],
                     columns=columns, interval=max(1, interval))
    return _active


def _start(state: Usrloc) -> None:
    """Before forking: the memory store, the database's table versions, the start-up load."""
    global _memory
    if not 0 <= state.mode <= DB_ONLY:
        raise ModuleStartError(f"db_mode {state.mode} is not one of 0, 1, 2, 3")
    fresh = _memory is None
    if state.mode != DB_ONLY:
        if fresh:
            _memory = MemoryStore.create()
        state.memory = _memory
    try:
        if state.mode != NO_DB:
            _start_database(state, load=fresh)
    finally:
        # The workers open their own connections.
        if state.memory is not None:
            state.memory.close()
        if state.database is not None:
            state.database.close()
    if state.mode == WRITE_BACK:
        _flush_at_exit(state)


def _start_database(state: Usrloc, load: bool) -> None:
    names = [*state.tables, *(name for name in vars(state.columns).values() if name is not None)]
    bad = [name for name in names if not is_identifier(name)]
    if bad:
        raise ModuleStartError(f"'{bad[0]}' cannot be a table or column name in the database")
    try:
        state.database = open_db(state.db_url)
        for name in state.tables:
            state.database.require_version(name, TABLE_VERSION)
        if load and state.mode in (WRITE_THROUGH, WRITE_BACK):
            for location in state.tables.values():
                LOG.info("usrloc: %d bindings of %s loaded", location.load(time.time()), location.name)
    except (DbError, sqlite3.Error) as exc:
        raise ModuleStartError(str(exc)) from None


def _flush_at_exit(state: Usrloc) -> None:
    """Write-back: what changed since the last timer reaches the database when `ser` stops (SER's
    mod_destroy); the supervisor, which made the store, does it after its workers are gone."""
    global _exit_state
    if _exit_state is None:
        atexit.register(_final_flush)  # in the supervisor only: see MemoryStore.create
    _exit_state = state


def _final_flush() -> None:
    if _exit_state is None:
        return
    try:
        for location in _exit_state.tables.values():
            location.flush()
    except (DbError, sqlite3.Error) as exc:
        LOG.error("usrloc: the last write-back failed: %s", exc)


def _timer(state: Usrloc, now: float) -> None:
    """Every timer_interval: write-back, then expiry in memory and in the database."""
    if now < state.next_timer:
        return
    state.next_timer = now + state.interval
    expire(state, time.time())


def expire(state: Usrloc, wall: float) -> None:
    """One round of the timer's work at Unix time `wall`."""
    try:
        if state.mode == WRITE_BACK:
            for location in state.tables.values():
                location.flush()
        expired = state.memory.expire(wall) if state.memory is not None else 0
        if state.mode != NO_DB:
            for location in state.tables.values():
                removed = location.db().expire(wall)
                if state.mode == DB_ONLY:  # otherwise the memory store counted them already
                    expired += removed
        stats.counters[stats.UL_EXPIRED] += expired
    except (DbError, sqlite3.Error) as exc:
        LOG.error("usrloc: timer: %s", exc)


# --- control commands (SER usrloc's ul_fifo.c) -----------------------------------------------------

def _location(state: Usrloc, args: list[str], needed: int, names: str) -> Location:
    if len(args) < needed:
        raise CommandError(400, f"{names} expected")
    if args[0] not in state.tables:
        raise CommandError(400, f"Table '{args[0]}' not found in memory, use save(\"{args[0]}\") or "
                                f"lookup(\"{args[0]}\") in the configuration script first")
    return state.tables[args[0]]


def _aor(state: Usrloc, text: str) -> str:
    """SER's ul_fifo: without use_domain an AOR is the user alone, so `user@domain` (what serctl
    sends) loses its domain."""
    return text if state.use_domain else text.split("@", 1)[0]


def _number(text: str, what: str, kind=int):
    try:
        return kind(text)
    except ValueError:
        raise CommandError(400, f"{what} '{text}' is not a number") from None


def ul_add(state: Usrloc, args: list[str], control) -> Reply:
    """table, AOR, contact, expires, q, replicate and (0.9) flags: a binding made by hand."""
    location = _location(state, args, 6, "table, AOR, contact, expires, q, replicate (and flags)")
    table, aor, contact, expires, q = args[:5]
    aor = _aor(state, aor)
    flags = _number(args[6], "flags") if len(args) > 6 else 0
    seconds, quality = _number(expires, "expires"), _number(q, "q", float)
    if not 0 <= quality <= 1:
        raise CommandError(400, f"q '{q}' is not between 0 and 1")
    now = time.time()
    binding = Binding(contact, 0 if flags & FL_PERMANENT else int(now) + seconds, round(quality * 1000),
                      flags=flags, modified=now)
    try:
        with location.hold(aor, now) as record:
            record.put(binding)
    except UsrlocError as exc:
        raise CommandError(500, str(exc)) from None
    return Reply(200, "Added to table", (f"('{aor}','{contact}') to '{table}'",))


def ul_rm(state: Usrloc, args: list[str], control) -> Reply:
    """table, AOR: every binding of the AOR goes."""
    location = _location(state, args, 2, "table and AOR")
    table, aor = args[0], _aor(state, args[1])
    try:
        with location.hold(aor, time.time()) as record:
            for contact in list(record.bindings):
                record.remove(contact)
    except UsrlocError as exc:
        raise CommandError(500, str(exc)) from None
    return Reply(200, f"user ({table}, {aor}) deleted")


def ul_rm_contact(state: Usrloc, args: list[str], control) -> Reply:
    """table, AOR, contact: one binding goes."""
    location = _location(state, args, 3, "table, AOR and contact")
    table, aor, contact = args[0], _aor(state, args[1]), args[2]
    try:
        with location.hold(aor, time.time()) as record:
            if not record.bindings:
                raise CommandError(404, f"Username {aor} in table {table} not found")
            if contact not in record.bindings:
                raise CommandError(404, f"Contact {contact} in table {table} not found")
            record.remove(contact)
    except UsrlocError as exc:
        raise CommandError(500, str(exc)) from None
    return Reply(200, f"Contact ({aor}, {contact}) deleted from table {table}")


def q_text(q: int) -> str:
    """SER's q2str: nothing for an unspecified q, else 0, 1 or 0.5-style thousandths."""
    if q == Q_UNSPECIFIED:
        return ""
    if q >= 1000 or q <= 0:
        return "1" if q >= 1000 else "0"
    return "0." + f"{q:03d}".rstrip("0")


def _remaining(b: Binding, now: float) -> int:
    return 0 if b.flags & FL_PERMANENT else max(0, int(b.expires - now))


def ul_show_contact(state: Usrloc, args: list[str], control) -> Reply:
    """table, AOR: `<contact>;q=...;expires=<seconds left>` per binding (0: permanent)."""
    location = _location(state, args, 2, "table and AOR")
    table, aor = args[0], _aor(state, args[1])
    now = time.time()
    try:
        bindings = location.lookup(aor, now)
    except UsrlocError as exc:
        raise CommandError(500, str(exc)) from None
    if not bindings:
        raise CommandError(404, f"Username {aor} in table {table} not found")
    lines = tuple(f"<{b.contact}>;q={q_text(b.q)};expires={_remaining(b, now)}" for b in bindings)
    return Reply(200, "OK", lines, [_contact_json(b, now) for b in bindings])


def _contact_json(b: Binding, now: float) -> dict:
    return {"contact": b.contact, "q": None if b.q == Q_UNSPECIFIED else b.q / 1000,
            "expires": _remaining(b, now), "permanent": bool(b.flags & FL_PERMANENT), "callid": b.callid,
            "cseq": b.cseq, "user_agent": b.user_agent, "received": b.received, "flags": b.flags}


def _all(location: Location) -> list[tuple[str, Binding]]:
    if location.mode == DB_ONLY:
        return location.db().all()
    return location.usrloc.memory.all(location.name)


def ul_dump(state: Usrloc, args, control) -> Reply:
    """Every table, AOR and binding (SER's print_udomain/print_urecord/print_ucontact lines)."""
    now, lines, data = time.time(), [], {}
    try:
        for name, location in state.tables.items():
            rows = [(aor, b) for aor, b in _all(location) if b.valid(now)]
            lines += [f"Domain: '{name}'", f"Records: {len({aor for aor, _ in rows})}"]
            data[name] = {}
            for aor, b in rows:
                if aor not in data[name]:
                    lines.append(f"aor   : '{aor}'")
                    data[name][aor] = []
                data[name][aor].append(_contact_json(b, now))
                lines += _contact_lines(b, now)
    except (UsrlocError, DbError, sqlite3.Error) as exc:
        raise CommandError(500, f"ul_dump: {exc}") from None
    return Reply(200, "OK", tuple(lines), data)


def _contact_lines(b: Binding, now: float) -> list[str]:
    expires = "permanent" if b.flags & FL_PERMANENT else str(_remaining(b, now))
    return [f"    Contact   : '{b.contact}'", f"    Expires   : {expires}", f"    q         : {q_text(b.q)}",
            f"    Call-ID   : '{b.callid}'", f"    CSeq      : {b.cseq}", f"    User-Agent: '{b.user_agent}'",
            f"    received  : '{b.received or ''}'", f"    Flags     : {b.flags}"]


def ul_flush(state: Usrloc, args, control) -> Reply:
    """Write-back: the changed bindings reach the database now."""
    if state.mode == WRITE_BACK:
        try:
            for location in state.tables.values():
                location.flush()
        except (DbError, sqlite3.Error) as exc:
            raise CommandError(500, f"ul_flush: {exc}") from None
    return Reply(200, "ul_flush completed")


def ul_stats(state: Usrloc, args, control) -> Reply:
    """Per table: the AORs registered now, and the bindings expired since start-up (all tables)."""
    now, lines, data = time.time(), ["Domain Registered Expired"], {}
    expired = control.stats.total(stats.UL_EXPIRED)
    try:
        for name, location in state.tables.items():
            registered = len({aor for aor, b in _all(location) if b.valid(now)})
            lines.append(f"'{name}' {registered} {expired}")
            data[name] = {"registered": registered, "expired": expired}
    except (DbError, sqlite3.Error) as exc:
        raise CommandError(500, f"ul_stats: {exc}") from None
    return Reply(200, "OK", tuple(lines), data)


EXPORTS = Module(
    name="usrloc",
    doc="user location store",
    functions=(
        fn("save_contact", 1, R, dialects=V08, doc="2002: process REGISTER into table (later registrar save)"),
        fn("lookup_contact", 1, R, dialects=V08, doc="2002: R-URI from table (later registrar lookup)"),
    ),
    params=(
        param("db_mode", INT, 0, doc="0 memory only, 1 write-through, 2 write-back, 3 database only"),
        param("db_url", STR, _DB_URL, doc="database URL"),
        param("timer_interval", INT, 60, doc="expiry/flush timer (s)"),
        param("use_domain", INT, 0, V08_09, doc="AOR is user@domain"),
        param("desc_time_order", INT, 0, doc="order contacts by last update"),
        param("user_column", STR, "user", V08, doc="username column"),
        param("user_column", STR, "username", V09, doc="username column"),
        param("uid_column", STR, "uid", V20, doc="user id column (uid model)"),
        param("domain_column", STR, "domain", V08_09, doc="domain column"),
        param("contact_column", STR, "contact", doc="contact column"),
        param("expires_column", STR, "expires", doc="expires column"),
        param("q_column", STR, "q", doc="q column"),
        param("callid_column", STR, "callid", doc="Call-ID column"),
        param("cseq_column", STR, "cseq", doc="CSeq column"),
        param("method_column", STR, "method", doc="method column"),
        param("replicate_column", STR, "replicate", V08_09, doc="replication column"),
        param("state_column", STR, "state", V08_09, doc="state column"),
        param("flags_column", STR, "flags", doc="flags column"),
        param("user_agent_column", STR, "user_agent", doc="User-Agent column"),
        param("received_column", STR, "received", V09_20, doc="received URI column"),
        param("instance_column", STR, "instance", V20, doc="+sip.instance column"),
        param("aor_column", STR, "aor", V20, doc="address-of-record column"),
        # 2002 names
        param("table", STR, "location", V08, doc="2002: location table name"),
        param("use_database", INT, 0, V08, doc="2002: use the database (later db_mode)"),
        param("flush_interval", INT, 60, V08, doc="2002: database flush interval (later timer_interval)"),
    ),
    init=_init,
    start=_start,
    timer=_timer,
    timer_interval=1.0,
    commands=(
        Command("ul_add", ul_add, "add a binding: table, AOR, contact, expires, q, replicate, flags"),
        Command("ul_rm", ul_rm, "remove an AOR's bindings: table, AOR"),
        Command("ul_rm_contact", ul_rm_contact, "remove one binding: table, AOR, contact"),
        Command("ul_show_contact", ul_show_contact, "an AOR's bindings: table, AOR"),
        Command("ul_dump", ul_dump, "every binding of every table"),
        Command("ul_flush", ul_flush, "write-back: write the changed bindings now"),
        Command("ul_stats", ul_stats, "per table: AORs registered, bindings expired"),
    ),
)
