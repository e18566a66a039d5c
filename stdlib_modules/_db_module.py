"""The database handle of a module with a `db_url` (auth_db, uri_db, group, domain).

SER's modules bind the database in mod_init and check their tables'
versions there. Here the split follows the module life cycle: `init`
(which also runs in ser-check) only opens the Database, which does not
connect; `start` (ser only, before forking) checks the versions; a
statement that fails while serving is logged in one line and reported as
None, so the caller returns its negative code.

Table and column names come from the configuration and cannot be bound
parameters, so they must be plain SQL identifiers.
"""

from __future__ import annotations

import logging
import mmap
import re
import struct
from typing import Any, Callable, Iterable, Sequence

from ser_runtime.db import Database, DbError, open_db
from stdlib_modules.exports import Command, CommandError, ModuleStartError, Reply

LOG = logging.getLogger("ser.db")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_identifier(name: str) -> bool:
    return bool(_IDENTIFIER.fullmatch(name))


class ModuleDb:
    """`db_url` of one module; `problem` is why it cannot be used, reported by `start`."""

    def __init__(self, url: str, names: Iterable[str]):
        self.db: Database | None = None
        self.problem: str | None = None
        bad = [name for name in names if not is_identifier(name)]
        if bad:
            self.problem = f"'{bad[0]}' is not a table or column name"
            return
        try:
            self.db = open_db(url)
        except DbError as exc:
            self.problem = str(exc)

    def start(self, versions: dict[str, int], prepare: Callable[[], Any] | None = None) -> None:
        """SER's start-up check, each table at least at its version, then `prepare` (a cache load).

        ModuleStartError when a check or `prepare` fails on the database.
        """
        if self.problem is not None:
            raise ModuleStartError(self.problem)
        try:
            for table, version in versions.items():
                self.db.require_version(table, version)
            if prepare is not None:
                prepare()
        except DbError as exc:
            raise ModuleStartError(str(exc)) from None
        finally:
            # The supervisor serves nothing: each worker opens its own connection.
            self.db.close()

    def query(self, who: str, sql: str, params: Sequence[Any]) -> list[tuple] | None:
        """The rows, or None (logged) when the database failed.

        A value with bytes that are not UTF-8 (a SIP header may carry them)
        cannot be stored in a text column, so it matches no row.
        """
        if not all(_is_text(value) for value in params):
            LOG.info("%s: a value that is not UTF-8 matches no row", who)
            return []
        try:
            return self.db.query(sql, params)
        except DbError as exc:
            LOG.error("%s: %s", who, exc)
            return None


def _is_text(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def reload_command(name: str, reload: Callable[[Any], int], counted: str):
    """The control command `name` (domain_reload, trusted_reload): `reload(state)` here and in
    every process; 400 when the module caches nothing (ValueError), 500 when the database fails."""
    def command(state, args, control) -> Reply:
        try:
            count = reload(state)
        except ValueError as exc:
            raise CommandError(400, str(exc)) from None
        except DbError as exc:
            raise CommandError(500, f"{name}: {exc}") from None
        return Reply(200, "OK", data={counted: count})
    return Command(name, command, "read the table into every process's cache again")


class ReloadSignal:
    """How a db_mode 1 cache follows a reload made in another process (FIFO domain_reload,
    trusted_reload). SER kept one copy in shared memory; here every process keeps its own, and a
    reload bumps a generation number in an anonymous mapping made before the fork, which each
    process compares with the one it last loaded."""

    _GENERATION = struct.Struct("Q")

    def __init__(self):
        self._shared = mmap.mmap(-1, self._GENERATION.size)
        self._seen = 0

    def announce(self) -> None:
        """This process has just reloaded: the others follow at their next use."""
        self._seen = self._generation() + 1
        self._GENERATION.pack_into(self._shared, 0, self._seen)

    def pending(self) -> bool:
        """True (once) when another process reloaded since this one last loaded."""
        generation = self._generation()
        if generation == self._seen:
            return False
        self._seen = generation
        return True

    def _generation(self) -> int:
        return self._GENERATION.unpack_from(self._shared)[0]
