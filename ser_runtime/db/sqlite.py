"""The embedded SQLite backend of the database layer (`sqlite:///path`).

Every ser worker opens the same file, so it runs in WAL mode (readers never block the
writer) with a busy timeout, and a transaction takes the write lock at BEGIN
(BEGIN IMMEDIATE): a deferred one could fail with SQLITE_BUSY on its first write
without waiting. DATETIME values are stored as `YYYY-MM-DD HH:MM:SS` text, as MySQL
prints them, and read back as `datetime`.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from ser_runtime.db.url import DbError, DbUrl

BUSY_TIMEOUT = 10.0


def _read_datetime(raw: bytes):
    text = raw.decode()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return text  # an unparsable value (MySQL's zero date) reads as text, as PyMySQL returns it


sqlite3.register_converter("DATETIME", _read_datetime)


def _store(value):
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else value


class SqliteBackend:
    def __init__(self, url: DbUrl):
        self.url = url
        self.path = url.database
        self.conn: sqlite3.Connection | None = None

    @property
    def in_transaction(self) -> bool:
        return self.conn is not None and self.conn.in_transaction

    def query(self, sql: str, params: tuple) -> list[tuple]:
        return self._run(lambda conn: conn.execute(sql, _stored(params)).fetchall())

    def execute(self, sql: str, params: tuple) -> int:
        return self._run(lambda conn: conn.execute(sql, _stored(params)).rowcount)

    def executemany(self, sql: str, rows: list[tuple]) -> int:
        return self._run(lambda conn: conn.executemany(sql, [_stored(row) for row in rows]).rowcount)

    def begin(self) -> None:
        self._run(lambda conn: conn.execute("BEGIN IMMEDIATE"))

    def commit(self) -> None:
        self._run(lambda conn: conn.execute("COMMIT"))

    def rollback(self) -> None:
        if self.in_transaction:
            self._run(lambda conn: conn.execute("ROLLBACK"))

    def has_table(self, name: str) -> bool:
        return bool(self.query("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)))

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def forget(self) -> None:
        self.conn = None

    def create_database(self) -> None:
        """Creates the file (and its directory) if it does not exist yet."""
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DbError(f"cannot create {self.url}: {exc.strerror}: {exc.filename}") from None
        self._connect(create=True)

    def drop_database(self) -> None:
        self.close()
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(self.path + suffix)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise DbError(f"cannot remove {self.url}: {exc.strerror}") from None

    def _run(self, operation):
        conn = self.conn or self._connect(create=False)
        try:
            return operation(conn)
        except (sqlite3.Error, OverflowError) as exc:  # OverflowError: an int beyond 64 bits
            raise DbError(f"{self.url}: {exc}") from None

    def _connect(self, create: bool) -> sqlite3.Connection:
        mode = "rwc" if create else "rw"
        conn = None
        try:
            conn = sqlite3.connect(f"file:{quote(self.path)}?mode={mode}", uri=True, timeout=BUSY_TIMEOUT,
                                   isolation_level=None, detect_types=sqlite3.PARSE_DECLTYPES,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL survives a crash of ser; only a power cut may lose the last commits.
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            hint = " (create it with `serctl db create`)" if not os.path.exists(self.path) else ""
            raise DbError(f"cannot open {self.url}: {exc}{hint}") from None
        self.conn = conn
        return conn


def _stored(params: tuple) -> tuple:
    return tuple(_store(value) for value in params)
