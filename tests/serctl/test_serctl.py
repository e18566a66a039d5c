"""`serctl` run as a real process: db create/drop and the user commands on SQLite and MariaDB."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ser_runtime.db import open_db
from tests.databases import _mysql_connect

SERCTL = Path(sys.executable).with_name("serctl")
PASSWORD = "s3cretpw"


def serctl(*args: str, db_url: str | None = None, domain: str | None = "example.com", stdin=None,
           env: dict | None = None):
    """serctl isolated from the machine's settings: no config file, no managed ser.cfg, no FIFO."""
    assert SERCTL.exists(), f"{SERCTL} is missing: pip install -e . installs it"
    extra = env or {}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SER", "SQL_", "SIP_"))}
    env.update({"SERCTL_CONF": os.devnull, "SER_CFG": "/nonexistent/ser.cfg", "SER_FIFO": "/nonexistent/fifo",
                **extra})
    if db_url:
        env["SER_DB_URL"] = db_url
    if domain:
        env["SIP_DOMAIN"] = domain
    result = subprocess.run([str(SERCTL), *args], env=env, capture_output=True, text=True, timeout=60,
                            stdin=stdin if stdin is not None else subprocess.DEVNULL)
    assert "Traceback" not in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    return result


def failed(result, status: int = 1) -> str:
    """The one-line error of a failed run."""
    assert result.returncode == status, result
    assert result.stdout == "" and result.stderr.count("\n") == 1 and result.stderr.startswith("serctl: ")
    return result.stderr


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@pytest.fixture
def ser_db(db_url) -> str:
    assert serctl("db", "create", db_url=db_url).returncode == 0
    return db_url


def subscriber(db_url: str, user: str, domain: str = "example.com"):
    rows = open_db(db_url).query(
        "SELECT password, ha1, ha1b, email_address, phplib_id, datetime_created, datetime_modified "
        "FROM subscriber WHERE username=? AND domain=?", (user, domain))
    return rows[0] if rows else None


def test_db_create_makes_the_schema(db_url):
    result = serctl("--db-url", db_url, "db", "create")
    assert result.returncode == 0 and "created the SER schema" in result.stdout
    db = open_db(db_url)
    assert (db.table_version("subscriber"), db.table_version("location")) == (5, 6)


def test_db_create_twice_refuses_and_keeps_the_data(ser_db):
    assert serctl("add", "alice", PASSWORD, "alice@example.com", db_url=ser_db).returncode == 0
    assert "the SER schema already exists" in failed(serctl("db", "create", db_url=ser_db))
    assert subscriber(ser_db, "alice") is not None


def test_add_stores_plain_password_and_both_digests(ser_db):
    before = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    result = serctl("add", "alice", PASSWORD, "alice@example.com", db_url=ser_db)
    assert result.returncode == 0 and result.stdout == "added alice@example.com\n"
    password, ha1, ha1b, email, phplib_id, created, modified = subscriber(ser_db, "alice")
    assert password == PASSWORD and email == "alice@example.com"
    assert ha1 == md5(f"alice:example.com:{PASSWORD}")
    assert ha1b == md5(f"alice@example.com:example.com:{PASSWORD}")
    assert len(phplib_id) == 32 and phplib_id != ha1
    assert before <= created <= before + timedelta(minutes=1) and modified == created
    assert open_db(ser_db).query("SELECT uri_user FROM uri WHERE username=? AND domain=?",
                                 ("alice", "example.com")) == [("alice",)]


def test_add_takes_user_at_domain_without_sip_domain(ser_db):
    assert serctl("add", "bob@Other.ORG", PASSWORD, "bob@other.org", db_url=ser_db, domain=None).returncode == 0
    assert subscriber(ser_db, "bob", "other.org")[1] == md5(f"bob:other.org:{PASSWORD}")


def test_add_refuses_an_existing_user(ser_db):
    serctl("add", "alice", PASSWORD, "alice@example.com", db_url=ser_db)
    assert "user alice@example.com already exists" in failed(
        serctl("add", "alice@example.com", "other", "x@example.com", db_url=ser_db))
    assert subscriber(ser_db, "alice")[0] == PASSWORD


def test_passwd_updates_password_and_digests(ser_db):
    serctl("add", "alice", "old", "alice@example.com", db_url=ser_db)
    result = serctl("passwd", "alice", PASSWORD, db_url=ser_db)
    assert result.returncode == 0 and result.stdout == "changed the password of alice@example.com\n"
    password, ha1, ha1b, *_ = subscriber(ser_db, "alice")
    assert (password, ha1, ha1b) == (PASSWORD, md5(f"alice:example.com:{PASSWORD}"),
                                     md5(f"alice@example.com:example.com:{PASSWORD}"))


def test_rm_removes_the_user_his_groups_uris_and_contacts(ser_db):
    serctl("add", "alice", PASSWORD, "alice@example.com", db_url=ser_db)
    serctl("add", "bob", PASSWORD, "bob@example.com", db_url=ser_db)
    db = open_db(ser_db)
    for user in ("alice", "bob"):
        db.execute("INSERT INTO grp (username, domain, grp) VALUES (?, ?, ?)", (user, "example.com", "local"))
        db.execute("INSERT INTO location (username, domain, contact) VALUES (?, ?, ?)",
                   (user, "example.com", f"sip:{user}@192.0.2.1"))
    result = serctl("rm", "alice", db_url=ser_db)
    assert result.returncode == 0 and result.stdout == "removed alice@example.com\n"
    for table in ("subscriber", "grp", "uri", "location"):
        assert db.query(f"SELECT username FROM {table}") == [("bob",)], table
    assert "no such user alice@example.com" in failed(serctl("rm", "alice", db_url=ser_db))


@pytest.mark.parametrize("args, message", [
    (("passwd", "carol", PASSWORD), "no such user carol@example.com"),
    (("add", "carol", PASSWORD, "not-an-address"), "bad e-mail address 'not-an-address'"),
    (("add", "carol", "x" * 26, "carol@example.com"), "the password must have 1 to 25 characters"),
    (("add", "carol@", PASSWORD, "carol@example.com"), "bad domain ''"),
    (("add", "ca rol", PASSWORD, "carol@example.com"), "bad user name 'ca rol'"),
])
def test_refused_user_commands(ser_db, args, message):
    assert message in failed(serctl(*args, db_url=ser_db))


def test_a_user_without_domain_needs_sip_domain(ser_db):
    assert "give user@domain or set SIP_DOMAIN" in failed(
        serctl("add", "carol", PASSWORD, "carol@example.com", db_url=ser_db, domain=None))


def test_user_commands_on_a_database_without_schema(db_url):
    if db_url.startswith("sqlite"):
        expected = "cannot open sqlite:///"
    else:
        open_db(db_url).execute("CREATE TABLE unrelated (x INTEGER)")
        expected = "has no version table: create the schema with `serctl db create`"
    message = failed(serctl("add", "alice", PASSWORD, "alice@example.com", db_url=db_url))
    assert expected in message and "serctl db create" in message


def test_an_old_subscriber_table_is_refused(ser_db):
    open_db(ser_db).execute("UPDATE version SET table_version=? WHERE table_name=?", (2, "subscriber"))
    assert "table subscriber has version 2, this server needs 5 or newer" in failed(
        serctl("add", "alice", PASSWORD, "alice@example.com", db_url=ser_db))


@pytest.mark.parametrize("url, message", [
    ("postgres://ser:s3cretpw@localhost/ser", "no database driver for postgres://"),
    ("mysql://ser:s3cretpw@localhost", "bad db_url 'mysql://ser:***@localhost'"),
    ("mysql://ser:s3cretpw@127.0.0.1:1/ser", "cannot reach mysql://ser:***@127.0.0.1:1/ser: "),
])
def test_bad_or_unreachable_databases(url, message):
    assert message in failed(serctl("--db-url", url, "rm", "alice"))


def test_usage_errors_are_one_line():
    assert "Missing argument 'EMAIL' (see `serctl add --help`)" in failed(serctl("add", "a", "b"), 2)
    assert "No such command 'frob'" in failed(serctl("frob"), 2)


def test_db_drop_needs_yes_without_a_terminal(ser_db):
    assert "without --yes" in failed(serctl("db", "drop", db_url=ser_db))
    assert open_db(ser_db).has_table("subscriber")


def test_db_drop_sqlite_removes_the_file(sqlite_url):
    serctl("db", "create", db_url=sqlite_url)
    result = serctl("db", "drop", "--yes", db_url=sqlite_url)
    assert result.returncode == 0 and not Path(open_db(sqlite_url).url.database).exists()


def test_db_create_and_drop_a_mysql_database(mysql_url):
    url = mysql_url + "_serctl"
    name = url.rpartition("/")[2]
    admin = _mysql_connect()
    try:
        assert serctl("db", "create", db_url=url).returncode == 0
        assert open_db(url).table_version("subscriber") == 5
        assert serctl("db", "drop", "-y", db_url=url).returncode == 0
        with admin.cursor() as cursor:
            assert cursor.execute("SHOW DATABASES LIKE %s", (name,)) == 0
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()

