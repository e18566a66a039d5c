"""`serctl db backup` / `db restore`: a portable dump of SER's tables (what ser_mysql.sh's
backup and restore did with mysqldump, for SQLite and MariaDB alike).

The dump is JSON lines: first `{"serctl_dump": 1, "tables": [...]}`, then one
`{"table": name, "row": {column: value}}` per row; DATETIME/TIMESTAMP values as
"YYYY-MM-DD HH:MM:SS", BLOBs as {"hex": ...}. `restore` replaces the rows of every
table in the dump inside one transaction, into a schema made by `serctl db create`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import IO, Any

from ser_runtime.db import Database, DbError
from ser_runtime.db.schema import TABLES, VERSION_TABLE, Table

FORMAT = 1
_TIME = "%Y-%m-%d %H:%M:%S"
_BY_NAME = {table.name: table for table in (VERSION_TABLE, *TABLES)}


class DumpError(Exception):
    """A dump file serctl cannot restore; one line."""


def backup(db: Database, out: IO[str]) -> dict[str, int]:
    """Writes every SER table present in `db`; the row count per table."""
    tables = [table for table in _BY_NAME.values() if db.has_table(table.name)]
    if not tables:
        raise DbError(f"{db.url} has no SER tables to back up")
    out.write(json.dumps({"serctl_dump": FORMAT, "tables": [t.name for t in tables]}) + "\n")
    counts = {}
    for table in tables:
        names = [column.name for column in table.columns]
        rows = db.query(f"SELECT {', '.join(names)} FROM {table.name}")
        for row in rows:
            record = {name: _encode(value) for name, value in zip(names, row)}
            out.write(json.dumps({"table": table.name, "row": record}) + "\n")
        counts[table.name] = len(rows)
    return counts


def restore(db: Database, source: IO[str], name: str) -> dict[str, int]:
    """Replaces the rows of the dump's tables with the dump's; the row count per table."""
    tables, rows = _read(source, name)
    missing = [table for table in tables if not db.has_table(table)]
    if missing:
        raise DbError(f"{db.url} has no table {missing[0]}: create the schema with `serctl db create` first")
    with db.transaction():
        for table in tables:
            db.execute(f"DELETE FROM {table}")
        for table, record in rows:
            columns = list(record)
            db.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                       [record[column] for column in columns])
    return {table: sum(1 for t, _ in rows if t == table) for table in tables}


def _read(source: IO[str], name: str) -> tuple[list[str], list[tuple[str, dict]]]:
    lines = iter(enumerate(source, 1))
    try:
        header = json.loads(next(lines, (1, "{}"))[1])
        if not isinstance(header, dict) or header.get("serctl_dump") != FORMAT:
            raise DumpError(f"{name} is not a serctl dump (format {FORMAT})")
        tables = [_known(table, name, 1) for table in header.get("tables", [])]
        rows = []
        for number, line in lines:
            entry = json.loads(line)
            table = _known(entry.get("table"), name, number)
            record = entry.get("row")
            if table not in tables or not isinstance(record, dict) or not set(record) <= _columns(table):
                raise DumpError(f"{name}:{number}: a row that does not fit table {table}")
            rows.append((table, {column: _decode(_BY_NAME[table], column, value) for column, value in record.items()}))
    except UnicodeDecodeError:
        raise DumpError(f"{name} is not a serctl dump: not UTF-8 text") from None
    except (AttributeError, ValueError, TypeError) as exc:
        raise DumpError(f"{name} is not a serctl dump: {exc}") from None
    return tables, rows


def _known(table: Any, name: str, number: int) -> str:
    if table not in _BY_NAME:
        raise DumpError(f"{name}:{number}: {table!r} is not one of SER's tables")
    return table


def _columns(table: str) -> set[str]:
    return {column.name for column in _BY_NAME[table].columns}


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime(_TIME)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"hex": bytes(value).hex()}
    return value


def _decode(table: Table, column: str, value: Any) -> Any:
    kind = next(c.type for c in table.columns if c.name == column)
    if isinstance(value, dict) and "hex" in value:
        return bytes.fromhex(value["hex"])
    if kind in ("datetime", "timestamp") and isinstance(value, str):
        return datetime.strptime(value, _TIME)
    return value
