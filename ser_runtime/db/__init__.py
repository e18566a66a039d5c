"""The database layer behind SER's `db_url` (SER's db API, lib/db and modules/mysql).

Every module reaches its tables only through this API:

    db = open_db("mysql://ser:heslo@localhost/ser")   # or sqlite:///path
    rows = db.query("SELECT ha1 FROM subscriber WHERE username=? AND domain=?", (user, domain))
    count = db.execute("DELETE FROM location WHERE expires < ?", (now,))
    with db.transaction():
        ...
    db.require_version("location", 6)

`open_db` never connects, so a module may call it in `init`; the connection opens on
first use and again in each process after a fork. SQL uses `?` placeholders and bound
values only, and portable SQL only (UPDATE, then INSERT when it matched no row, rather
than ON DUPLICATE KEY). DATETIME columns go in and come out as naive UTC `datetime`s
with whole seconds on both backends (SQLite converts by the declared column type, so
an expression such as MAX(expires) reads as 'YYYY-MM-DD HH:MM:SS' text there).
DbError is the only exception a caller needs to catch.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Sequence

from ser_runtime.db.url import DbError, DbUrl, default_url, parse_url

__all__ = ["open_db", "Database", "DbError", "DbUrl", "default_url"]

Params = Sequence[Any]


def open_db(url: str) -> "Database":
    """A Database for `url`; raises DbError (one line) for a URL it cannot use. Does not connect."""
    return Database(parse_url(url))


class Database:
    """One `db_url`'s connection in this process; safe to share across threads and to inherit over fork."""

    def __init__(self, url: DbUrl):
        self.url = url
        self._backend = _backend_for(url)
        self._pid = os.getpid()
        self._lock = threading.RLock()

    def query(self, sql: str, params: Params = ()) -> list[tuple]:
        with self._session() as backend:
            return backend.query(sql, _bind(params))

    def execute(self, sql: str, params: Params = ()) -> int:
        """Runs one statement; returns the rows it matched (MySQL too, not just the rows it changed)."""
        with self._session() as backend:
            return backend.execute(sql, _bind(params))

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        with self._session() as backend:
            return backend.executemany(sql, [_bind(row) for row in rows])

    @contextmanager
    def transaction(self) -> Iterator["Database"]:
        """BEGIN ... COMMIT, or ROLLBACK when the block raises. An inner transaction joins the outer one."""
        with self._session() as backend:
            if backend.in_transaction:
                yield self
                return
            backend.begin()
            try:
                yield self
            except BaseException:
                backend.rollback()
                raise
            backend.commit()

    def has_table(self, name: str) -> bool:
        with self._session() as backend:
            return backend.has_table(name)

    def table_version(self, table: str) -> int | None:
        """The `table_version` of `table` in the `version` table; None when it has no row."""
        if not self.has_table("version"):
            raise DbError(f"{self.url} has no version table: create the schema with `serctl db create`")
        rows = self.query("SELECT table_version FROM version WHERE table_name=?", (table,))
        return int(rows[0][0]) if rows else None

    def require_version(self, table: str, needed: int) -> None:
        """SER's start-up check: a missing row reads as version 0."""
        version = self.table_version(table) or 0
        if version < needed:
            raise DbError(f"table {table} has version {version}, this server needs {needed} or newer: "
                          f"{self.url} has an old or incomplete SER schema (`serctl db create` makes a current one)")

    def create_database(self) -> None:
        """The database itself, if missing (mysql: CREATE DATABASE; sqlite: the file and its directory)."""
        with self._session() as backend:
            backend.create_database()

    def drop_database(self) -> None:
        """mysql: DROP DATABASE; sqlite: removes the file and its WAL."""
        with self._session() as backend:
            backend.drop_database()

    def close(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                self._backend.close()

    @contextmanager
    def _session(self):
        self._adopt_after_fork()
        with self._lock:
            yield self._backend

    def _adopt_after_fork(self) -> None:
        # A connection inherited from the parent is the parent's: using or closing it here
        # would corrupt its protocol state, so the child forgets it and opens its own.
        if self._pid != os.getpid():
            self._backend.forget()
            self._lock = threading.RLock()
            self._pid = os.getpid()


def _backend_for(url: DbUrl):
    # Imported on demand: a SQLite deployment never loads PyMySQL.
    if url.scheme == "sqlite":
        from ser_runtime.db.sqlite import SqliteBackend
        return SqliteBackend(url)
    from ser_runtime.db.mysql import MysqlBackend
    return MysqlBackend(url)


def _bind(params: Params) -> tuple:
    return tuple(_bind_value(value) for value in params)


def _bind_value(value: Any) -> Any:
    if isinstance(value, str) and not _is_utf8(value):
        # A SIP header may carry bytes that are not UTF-8 (kept as surrogates); no text column holds them.
        raise DbError("a value is not valid UTF-8 text")
    # DATETIME has whole seconds and no zone in SER's schema: store UTC, truncated, on both backends.
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.replace(microsecond=0)
    return value


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
