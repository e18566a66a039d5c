"""The database layer (ser_runtime.db) on a real SQLite file and a real MariaDB database."""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import datetime, timedelta, timezone

import pymysql
import pytest

from ser_runtime.db import Database, DbError, default_url, open_db
from tests.databases import _mysql_connect

TABLE = "CREATE TABLE t (k VARCHAR(32) NOT NULL, v VARCHAR(64), n INTEGER, at DATETIME, PRIMARY KEY (k))"


@pytest.fixture
def db(db_url) -> Database:
    database = open_db(db_url)
    database.create_database()
    database.execute(TABLE)
    yield database
    database.close()


def test_bound_parameters_round_trip(db):
    assert db.execute("INSERT INTO t (k, v, n) VALUES (?, ?, ?)", ("a", "it's; DROP TABLE t; --", 1)) == 1
    assert db.query("SELECT v, n FROM t WHERE k=?", ("a",)) == [("it's; DROP TABLE t; --", 1)]


def test_question_marks_and_percents_inside_literals_are_text(db):
    db.execute("INSERT INTO t (k, v) VALUES (?, '100%?')", ("a",))
    assert db.query("SELECT k FROM t WHERE v LIKE '100%' AND v = '100%?' AND k = ?", ("a",)) == [("a",)]


def test_executemany_and_rowcounts(db):
    db.executemany("INSERT INTO t (k, n) VALUES (?, ?)", [(f"k{i}", i) for i in range(5)])
    assert db.execute("DELETE FROM t WHERE n < ?", (2,)) == 2
    # MySQL would count only changed rows without CLIENT_FOUND_ROWS; callers rely on matched rows.
    assert db.execute("UPDATE t SET n=? WHERE k=?", (3, "k3")) == 1
    assert db.execute("UPDATE t SET n=? WHERE k=?", (3, "nobody")) == 0
    assert db.query("SELECT count(*) FROM t") == [(3,)]


def test_datetimes_are_naive_utc_whole_seconds(db):
    naive = datetime(2024, 2, 29, 23, 59, 58, 999999)
    aware = datetime(2024, 3, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    db.executemany("INSERT INTO t (k, at) VALUES (?, ?)", [("naive", naive), ("aware", aware), ("none", None)])
    assert dict(db.query("SELECT k, at FROM t")) == {
        "naive": datetime(2024, 2, 29, 23, 59, 58), "aware": datetime(2024, 2, 29, 23, 0, 0), "none": None}
    assert db.query("SELECT k FROM t WHERE at < ?", (datetime(2024, 2, 29, 23, 30),)) == [("aware",)]


def test_transaction_commits_or_rolls_back(db):
    with db.transaction():
        db.execute("INSERT INTO t (k) VALUES (?)", ("kept",))
        with db.transaction():
            db.execute("INSERT INTO t (k) VALUES (?)", ("inner",))
    with pytest.raises(ZeroDivisionError):
        with db.transaction():
            db.execute("INSERT INTO t (k) VALUES (?)", ("lost",))
            1 / 0
    with pytest.raises(DbError):
        with db.transaction():
            db.execute("INSERT INTO t (k) VALUES (?)", ("lost too",))
            db.execute("INSERT INTO t (k) VALUES (?)", ("kept",))
    assert sorted(db.query("SELECT k FROM t")) == [("inner",), ("kept",)]


def test_sql_errors_are_one_line_db_errors(db):
    db.execute("INSERT INTO t (k) VALUES (?)", ("a",))
    for sql, params in [("INSERT INTO t (k) VALUES (?)", ("a",)), ("SELEKT\n1", ()), ("SELECT * FROM nowhere", ())]:
        with pytest.raises(DbError) as caught:
            db.query(sql, params)
        assert "\n" not in str(caught.value) and str(caught.value).startswith(str(db.url))


def test_version_checks(db):
    with pytest.raises(DbError, match="no version table.*serctl db create"):
        db.table_version("location")
    db.execute("CREATE TABLE version (table_name VARCHAR(64) NOT NULL, table_version SMALLINT NOT NULL DEFAULT 0)")
    db.executemany("INSERT INTO version (table_name, table_version) VALUES (?, ?)", [("location", 6), ("grp", 1)])
    assert db.table_version("location") == 6 and db.table_version("acc") is None
    db.require_version("location", 6)
    db.require_version("location", 4)
    with pytest.raises(DbError, match=r"^table grp has version 1, this server needs 2 or newer: "):
        db.require_version("grp", 2)
    with pytest.raises(DbError, match=r"^table acc has version 0, this server needs 1 or newer"):
        db.require_version("acc", 1)


def test_a_forked_child_opens_its_own_connection(db):
    db.execute("INSERT INTO t (k, n) VALUES (?, ?)", ("parent", os.getpid()))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            db.execute("INSERT INTO t (k, n) VALUES (?, ?)", ("child", os.getpid()))
            status = 0 if db.query("SELECT count(*) FROM t") == [(2,)] else 1
        except BaseException:
            status = 2
        os.write(write, bytes([status]))
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"\x00"
    os.waitpid(pid, 0)
    os.close(read)
    # The parent's connection survived the child's use and exit.
    assert sorted(db.query("SELECT k FROM t")) == [("child",), ("parent",)]


def test_str_of_a_url_masks_the_password():
    db = open_db("mysql://ser:heslo@db.example.com:3307/ser")
    assert str(db.url) == "mysql://ser:***@db.example.com:3307/ser"
    assert str(open_db("sql://ser@localhost/ser").url) == "mysql://ser@localhost/ser"
    assert str(open_db("mysql://u:p%40ss@h/d").url) == "mysql://u:***@h/d"
    assert open_db("mysql://u:p%40ss@h/d").url.password == "p@ss"


@pytest.mark.parametrize("url, message", [
    ("mysql://ser:s3cret@localhost", "bad db_url 'mysql://ser:\\*\\*\\*@localhost'"),
    ("mysql://ser:s3cret@localhost:99999/ser", "bad port '99999'"),
    ("postgres://ser:s3cret@localhost/ser", "no database driver for postgres://"),
    ("sqlite://relative.db", "bad db_url sqlite://relative.db"),
    ("localhost/ser", "bad db_url"),
])
def test_bad_urls_are_refused_without_connecting(url, message):
    with pytest.raises(DbError, match=message) as caught:
        open_db(url)
    assert "s3cret" not in str(caught.value)


def test_sqlite_relative_and_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert open_db("sqlite:///ser.db").url.database == str(tmp_path / "ser.db")
    assert open_db("sqlite:////var/lib/ser/ser.db").url.database == "/var/lib/ser/ser.db"


def test_the_default_is_var_lib_for_root_and_the_data_dir_for_others(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert default_url() == "sqlite:////var/lib/ser/ser.db"
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_url() == f"sqlite:///{tmp_path}/ser/ser.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_url() == f"sqlite:///{tmp_path}/.local/share/ser/ser.db"


def test_sqlite_missing_file_is_an_error_not_a_new_file(tmp_path):
    path = tmp_path / "missing" / "ser.db"
    with pytest.raises(DbError, match=r"cannot open sqlite:///.*serctl db create"):
        open_db(f"sqlite:///{path}").query("SELECT 1")
    assert not path.parent.exists()


def test_sqlite_runs_in_wal_mode(sqlite_url):
    db = open_db(sqlite_url)
    db.create_database()
    assert db.query("PRAGMA journal_mode") == [("wal",)]


def test_sqlite_writers_in_several_processes_wait_for_each_other(sqlite_url):
    db = open_db(sqlite_url)
    db.create_database()
    db.execute(TABLE)
    children = []
    for worker in range(3):
        pid = os.fork()
        if pid == 0:
            try:
                for i in range(40):
                    with db.transaction():
                        db.execute("INSERT INTO t (k, n) VALUES (?, ?)", (f"{worker}-{i}", worker))
                        db.execute("UPDATE t SET n=n+1 WHERE k=?", (f"{worker}-{i}",))
            finally:
                os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    assert db.query("SELECT count(*) FROM t") == [(120,)]


# --- MySQL: the server going away ---------------------------------------------------------

def _kill(db: Database) -> None:
    thread_id = db.query("SELECT CONNECTION_ID()")[0][0]
    admin = _mysql_connect()
    with admin.cursor() as cursor:
        cursor.execute("KILL %s", (thread_id,))
    admin.close()


@pytest.fixture
def mysql_db(mysql_url) -> Database:
    database = open_db(mysql_url)
    database.execute(TABLE)
    yield database
    database.close()


def test_mysql_reconnects_after_the_connection_is_killed(mysql_db):
    mysql_db.execute("INSERT INTO t (k) VALUES (?)", ("before",))
    _kill(mysql_db)
    assert mysql_db.query("SELECT k FROM t") == [("before",)]
    _kill(mysql_db)
    assert mysql_db.execute("INSERT INTO t (k) VALUES (?)", ("after",)) == 1
    assert mysql_db.query("SELECT count(*) FROM t") == [(2,)]


def test_mysql_connection_lost_inside_a_transaction_fails_the_transaction(mysql_db):
    with pytest.raises(DbError, match="cannot reach .*lost inside a transaction"):
        with mysql_db.transaction():
            mysql_db.execute("INSERT INTO t (k) VALUES (?)", ("lost",))
            _kill(mysql_db)
            mysql_db.execute("INSERT INTO t (k) VALUES (?)", ("lost too",))
    assert mysql_db.query("SELECT count(*) FROM t") == [(0,)]


def test_mysql_a_block_failing_on_a_dead_connection_keeps_its_exception(mysql_db):
    with pytest.raises(ZeroDivisionError):
        with mysql_db.transaction():
            mysql_db.execute("INSERT INTO t (k) VALUES (?)", ("lost",))
            _kill(mysql_db)
            1 / 0
    assert mysql_db.query("SELECT count(*) FROM t") == [(0,)]


def test_mysql_unreachable_server_names_the_url_without_the_password():
    db = open_db("mysql://ser:s3cretpw@127.0.0.1:1/ser")
    with pytest.raises(DbError) as caught:
        db.query("SELECT 1")
    assert str(caught.value).startswith("cannot reach mysql://ser:***@127.0.0.1:1/ser: ")
    assert "s3cretpw" not in str(caught.value)


def test_mysql_wrong_password_is_not_echoed(mysql_url):
    server = mysql_url.removeprefix("mysql://").rpartition("@")[2]
    with pytest.raises(DbError, match="cannot reach .*Access denied") as caught:
        open_db(f"mysql://root:s3cretpw@{server}").query("SELECT 1")
    assert "s3cretpw" not in str(caught.value)


def test_mysql_statements_run_in_utc(mysql_db):
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    (server_now,), = mysql_db.query("SELECT NOW()")
    assert abs(server_now - now) < timedelta(seconds=30)


def test_sqlite_datetime_text_matches_mysql_format(sqlite_url):
    db = open_db(sqlite_url)
    db.create_database()
    db.execute(TABLE)
    db.execute("INSERT INTO t (k, at) VALUES (?, ?)", ("a", datetime(2024, 1, 2, 3, 4, 5)))
    raw = sqlite3.connect(db.url.database).execute("SELECT at FROM t").fetchall()
    assert raw == [("2024-01-02 03:04:05",)]


@pytest.mark.parametrize("sql, params", [
    ("SELECT k FROM t WHERE k=? AND v=?", ("only one",)),
    ("SELECT k FROM t WHERE k=?", ("one", "too many")),
    ("INSERT INTO t (k, n) VALUES (?, ?)", ("k", 2 ** 80)),
])
def test_driver_errors_become_db_errors(db, sql, params):
    with pytest.raises(DbError) as caught:
        db.execute(sql, params)
    assert not isinstance(caught.value, (pymysql.Error, sqlite3.Error))


def test_every_db_url_of_the_corpus_parses(corpus_dir):
    urls = {match for path in corpus_dir.rglob("*") if path.is_file()
            for match in re.findall(r'"((?:mysql|sql)://[^"]*)"', path.read_text(errors="replace"))}
    assert len(urls) >= 5
    for url in urls:
        parsed = open_db(url).url
        assert parsed.scheme == "mysql" and parsed.database and parsed.user
        assert str(parsed) == f"mysql://{parsed.user}:***@{url.rpartition('@')[2]}"


def test_text_that_is_not_utf8_is_a_db_error_not_a_crash(sqlite_url):
    db = open_db(sqlite_url)
    db.create_database()
    db.execute("CREATE TABLE t (name VARCHAR(64))")
    with pytest.raises(DbError, match="not valid UTF-8"):
        db.query("SELECT name FROM t WHERE name=?", (b"caf\xe9".decode("utf-8", "surrogateescape"),))
