"""The MySQL/MariaDB backend of the database layer (`mysql://`), SER's modules/mysql, over PyMySQL.

Statements autocommit unless inside a transaction. UPDATE counts the rows it matched
(CLIENT_FOUND_ROWS, as SER's mysql module asked for), so "UPDATE, then INSERT when it
matched nothing" works when the row already holds the new values. When the server has
gone away (restart, wait_timeout, KILL), a statement reconnects once and runs again,
like SER's auto_reconnect; inside a transaction it cannot, as the earlier statements
are lost, so it fails. The session runs in UTC, so NOW() and TIMESTAMP columns agree
with the naive UTC datetimes the layer binds.
"""

from __future__ import annotations

import functools
import re

import pymysql
from pymysql.constants import CLIENT, CR, ER

from ser_runtime.db.url import DbError, DbUrl

CONNECT_TIMEOUT = 5
GONE_AWAY = {CR.CR_SERVER_GONE_ERROR, CR.CR_SERVER_LOST, CR.CR_CONN_HOST_ERROR}

# A quoted literal or identifier (whose `?` is text), a `?` placeholder, or a `%` outside quotes.
_SQL_TOKENS = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`|\?|%""")


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """`?` placeholders become PyMySQL's `%s`; every `%` is doubled, as PyMySQL formats the whole string."""
    def replace(match: re.Match) -> str:
        token = match.group()
        return "%s" if token == "?" else token.replace("%", "%%")
    return _SQL_TOKENS.sub(replace, sql)


def quote_name(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class MysqlBackend:
    def __init__(self, url: DbUrl):
        self.url = url
        self.conn: pymysql.connections.Connection | None = None
        self.in_transaction = False

    def query(self, sql: str, params: tuple) -> list[tuple]:
        def fetch(cursor) -> list[tuple]:
            cursor.execute(to_pyformat(sql), params)
            return list(cursor.fetchall())
        return self._run(fetch)

    def execute(self, sql: str, params: tuple) -> int:
        return self._run(lambda cursor: cursor.execute(to_pyformat(sql), params))

    def executemany(self, sql: str, rows: list[tuple]) -> int:
        if not rows:
            return 0
        return self._run(lambda cursor: cursor.executemany(to_pyformat(sql), rows))

    def begin(self) -> None:
        self._run(lambda cursor: cursor.execute("START TRANSACTION"))
        self.in_transaction = True

    def commit(self) -> None:
        try:
            self._run(lambda cursor: cursor.execute("COMMIT"))
        finally:
            self.in_transaction = False

    def rollback(self) -> None:
        try:
            if self.conn is not None:
                with self.conn.cursor() as cursor:
                    cursor.execute("ROLLBACK")
        except pymysql.Error:
            self.forget()  # the server rolls back a transaction whose connection is gone
        finally:
            self.in_transaction = False

    def has_table(self, name: str) -> bool:
        return bool(self.query("SELECT 1 FROM information_schema.tables "
                               "WHERE table_schema=DATABASE() AND table_name=?", (name,)))

    def close(self) -> None:
        conn, self.conn = self.conn, None
        self.in_transaction = False
        if conn is not None and conn.open:
            try:
                conn.close()
            except pymysql.Error:
                pass  # closing a connection the server already dropped

    def forget(self) -> None:
        self.conn = None
        self.in_transaction = False

    def create_database(self) -> None:
        """CREATE DATABASE for the URL's database unless it exists (as ser_mysql.sh create did).

        An existing database is only connected to: the account may be allowed to use it but not
        to create databases."""
        if self.conn is not None:
            return
        try:
            self.conn = self._connect(self.url.database)
        except pymysql.Error as exc:
            if not exc.args or exc.args[0] != ER.BAD_DB_ERROR:
                raise DbError(f"cannot reach {self.url}: {self._reason(exc)}") from None
            self._admin(f"CREATE DATABASE IF NOT EXISTS {quote_name(self.url.database)}")

    def drop_database(self) -> None:
        self.close()
        self._admin(f"DROP DATABASE IF EXISTS {quote_name(self.url.database)}")

    def _admin(self, statement: str) -> None:
        conn = self._open(database=None)
        try:
            with conn.cursor() as cursor:
                cursor.execute(statement)
        except pymysql.Error as exc:
            raise DbError(f"{self.url}: {self._reason(exc)}") from None
        finally:
            conn.close()

    def _run(self, operation):
        try:
            return self._attempt(operation)
        except (pymysql.OperationalError, pymysql.InterfaceError) as exc:
            if not _gone_away(exc):
                raise DbError(f"{self.url}: {self._reason(exc)}") from None
            lost_transaction = self.in_transaction
            self.forget()
            if lost_transaction:
                raise DbError(f"cannot reach {self.url}: the connection was lost inside a transaction: "
                              f"{self._reason(exc)}") from None
        try:
            return self._attempt(operation)
        except (pymysql.OperationalError, pymysql.InterfaceError) as exc:
            if _gone_away(exc):
                self.forget()
                raise DbError(f"cannot reach {self.url}: {self._reason(exc)}") from None
            raise DbError(f"{self.url}: {self._reason(exc)}") from None

    def _attempt(self, operation):
        if self.conn is None:
            self.conn = self._open(self.url.database)
        try:
            with self.conn.cursor() as cursor:
                return operation(cursor)
        except (pymysql.OperationalError, pymysql.InterfaceError):
            raise
        except pymysql.Error as exc:
            raise DbError(f"{self.url}: {self._reason(exc)}") from None

    def _open(self, database: str | None) -> pymysql.connections.Connection:
        try:
            return self._connect(database)
        except pymysql.Error as exc:
            hint = " (`serctl db create` creates it)" if exc.args and exc.args[0] == ER.BAD_DB_ERROR else ""
            raise DbError(f"cannot reach {self.url}: {self._reason(exc)}{hint}") from None

    def _connect(self, database: str | None) -> pymysql.connections.Connection:
        url = self.url
        return pymysql.connect(host=url.host, port=url.port or 3306, user=url.user, password=url.password,
                               database=database, charset="utf8mb4", autocommit=True,
                               client_flag=CLIENT.FOUND_ROWS, connect_timeout=CONNECT_TIMEOUT,
                               init_command="SET time_zone='+00:00'")

    def _reason(self, exc: Exception) -> str:
        reason = (str(exc.args[1]) if len(exc.args) > 1 else str(exc)) or "connection closed"
        password = self.url.password
        return reason.replace(password, "***") if len(password) > 2 else reason


def _gone_away(exc: Exception) -> bool:
    if isinstance(exc, pymysql.InterfaceError):
        return True  # PyMySQL's "(0, '')": the connection was closed under it
    return bool(exc.args) and exc.args[0] in GONE_AWAY
