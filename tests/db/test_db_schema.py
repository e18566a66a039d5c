"""SER 0.9's schema (ser_runtime.db.schema) created on a real SQLite file and a real MariaDB database."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from ser_runtime.db import DbError, open_db
from ser_runtime.db.schema import TABLES, VERSIONS, create_schema, drop_schema
from tests.conftest import SHARED

SER_MYSQL_SH = SHARED / "corpus" / "schema" / "ser-0.9.3-to-0.9.7_ser_mysql.sh"


def _script() -> str:
    assert SER_MYSQL_SH.is_file(), f"the 0.9 schema script is missing at {SER_MYSQL_SH}"
    return SER_MYSQL_SH.read_text()


def test_version_rows_are_those_of_ser_0_9_3_to_0_9_7():
    rows = dict((name, int(version)) for name, version in
                re.findall(r"INSERT INTO version VALUES \( '(\w+)', '(\d+)'\);", _script()))
    assert VERSIONS == rows
    assert (VERSIONS["subscriber"], VERSIONS["location"], VERSIONS["aliases"], VERSIONS["silo"]) == (5, 6, 6, 3)


def test_tables_and_columns_are_those_of_ser_0_9_3_to_0_9_7():
    script = _script().replace("$USERCOL", "username")
    for table in TABLES:
        body = re.search(rf"CREATE TABLE {table.name}\s*\((.*?)\n\)", script, re.S)
        assert body, table.name
        columns = [line.split()[0] for line in body.group(1).strip().splitlines()
                   if not re.match(r"\s*(PRIMARY|UNIQUE|KEY|INDEX)\b", line)]
        assert [column.name for column in table.columns] == columns, table.name


def test_create_schema_makes_every_table_with_its_version(db_url):
    db = open_db(db_url)
    create_schema(db)
    for table in TABLES:
        assert db.has_table(table.name), table.name
        db.require_version(table.name, table.version)
    assert db.table_version("realm") == 1


def _sample(column_type: str):
    if column_type.startswith(("int", "smallint", "tinyint")):
        return 1
    return {"float": 1.5, "float(10,2)": 1.5, "datetime": datetime(2024, 1, 2, 3, 4, 5), "blob": b"\x00b"}.get(
        column_type, "x")


def test_every_table_stores_and_returns_a_row(db_url):
    db = open_db(db_url)
    create_schema(db)
    for table in TABLES:
        columns = [c for c in table.columns if c.type not in ("serial", "timestamp")]
        values = tuple(_sample(c.type) for c in columns)
        names = ", ".join(c.name for c in columns)
        db.execute(f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})", values)
        assert db.query(f"SELECT {names} FROM {table.name}") == [values], table.name


def test_location_defaults_follow_ser_mysql_sh(db_url):
    db = open_db(db_url)
    create_schema(db)
    db.execute("INSERT INTO location (username, domain, contact) VALUES (?, ?, ?)",
               ("alice", "example.com", "sip:alice@192.0.2.1"))
    (expires, q, callid, cseq, last_modified, flags, received), = db.query(
        "SELECT expires, q, callid, cseq, last_modified, flags, received FROM location")
    assert (expires, q, callid, cseq, flags, received) == (
        datetime(2020, 5, 28, 21, 32, 15), 1.0, "Default-Call-ID", 42, 0, None)
    assert isinstance(last_modified, datetime)


def test_names_compare_without_case_on_both_backends(db_url):
    db = open_db(db_url)
    create_schema(db)
    db.execute("INSERT INTO grp (username, domain, grp) VALUES (?, ?, ?)", ("Alice", "Example.COM", "local"))
    assert db.query("SELECT grp FROM grp WHERE username=? AND domain=?", ("alice", "example.com")) == [("local",)]
    with pytest.raises(DbError):
        db.execute("INSERT INTO grp (username, domain, grp) VALUES (?, ?, ?)", ("ALICE", "example.com", "LOCAL"))


def test_silo_ids_count_up(db_url):
    db = open_db(db_url)
    create_schema(db)
    for body in (b"one", b"two"):
        db.execute("INSERT INTO silo (src_addr, dst_addr, username, domain, body) VALUES (?, ?, ?, ?, ?)",
                   ("sip:a@x", "sip:b@x", "b", "x", body))
    assert db.query("SELECT mid, body FROM silo ORDER BY mid") == [(1, b"one"), (2, b"two")]


def test_create_schema_twice_refuses_and_keeps_the_data(db_url):
    db = open_db(db_url)
    create_schema(db)
    db.execute("INSERT INTO domain (domain) VALUES (?)", ("example.com",))
    with pytest.raises(DbError, match="the SER schema already exists in .*serctl db drop"):
        create_schema(db)
    assert db.query("SELECT domain FROM domain") == [("example.com",)]


def test_drop_schema_removes_every_table(db_url):
    db = open_db(db_url)
    create_schema(db)
    drop_schema(db)
    assert not any(db.has_table(table.name) for table in TABLES) and not db.has_table("version")
    create_schema(db)


def test_create_schema_creates_the_sqlite_file_and_directory(tmp_path):
    path = tmp_path / "var" / "lib" / "ser" / "ser.db"
    create_schema(open_db(f"sqlite:///{path}"))
    assert Path(path).is_file()


def test_create_schema_creates_a_missing_mysql_database(mysql_url):
    db = open_db(mysql_url + "_new")
    try:
        create_schema(db)
        assert db.table_version("location") == 6
    finally:
        db.drop_database()
    with pytest.raises(DbError, match="Unknown database.*serctl db create"):
        db.query("SELECT 1")
