"""serctl's SQL commands beyond users (acl, domain, db reinit/backup/restore, mail) and where it
finds its settings (SQL_* variables, the config file, the managed ser.cfg), on SQLite and MariaDB."""

from __future__ import annotations

import json

import pytest

from ser_runtime.db import open_db
from tests.serctl.test_serctl import PASSWORD, failed, serctl


@pytest.fixture
def ser_db(db_url) -> str:
    assert serctl("db", "create", db_url=db_url).returncode == 0
    assert serctl("add", "alice", PASSWORD, "alice@example.com", db_url=db_url).returncode == 0
    return db_url


def test_acl_grant_show_revoke(ser_db):
    result = serctl("acl", "grant", "alice", "local", "ld", db_url=ser_db)
    assert result.returncode == 0 and result.stdout == "granted local ld to alice@example.com\n"
    assert serctl("acl", "grant", "alice", "local", db_url=ser_db).returncode == 0
    shown = json.loads(serctl("acl", "show", "--json", db_url=ser_db).stdout)
    assert [(row["user"], row["group"]) for row in shown] == [("alice@example.com", "ld"),
                                                               ("alice@example.com", "local")]
    assert "alice@example.com\tld\t" in serctl("acl", "show", "alice", db_url=ser_db).stdout
    assert serctl("acl", "revoke", "alice", "ld", db_url=ser_db).stdout == "revoked 1 group(s) of alice@example.com\n"
    assert serctl("acl", "revoke", "alice", db_url=ser_db).stdout == "revoked 1 group(s) of alice@example.com\n"
    assert json.loads(serctl("acl", "show", "--json", db_url=ser_db).stdout) == []


def test_acl_grant_refuses_unknown_groups_and_users(ser_db):
    assert "group 'wheel' is not in ACL_GROUPS" in failed(serctl("acl", "grant", "alice", "wheel", db_url=ser_db))
    assert "no such user bob@example.com" in failed(serctl("acl", "grant", "bob", "local", db_url=ser_db))


def test_domain_add_and_rm_without_a_fifo(ser_db):
    no_fifo = {"SER_FIFO": ""}
    assert serctl("domain", "add", "Example.ORG", db_url=ser_db, env=no_fifo).stdout == "added domain example.org\n"
    assert serctl("domain", "rm", "example.org", db_url=ser_db).stdout == "removed domain example.org (ser is not running)\n"
    assert serctl("domain", "add", "example.org", db_url=ser_db).returncode == 0
    assert "domain example.org already exists" in failed(serctl("domain", "add", "example.org", db_url=ser_db))
    assert open_db(ser_db).query("SELECT domain FROM domain") == [("example.org",)]
    assert serctl("domain", "rm", "example.org", db_url=ser_db).returncode == 0
    assert "no such domain example.org" in failed(serctl("domain", "rm", "example.org", db_url=ser_db))
    assert "bad domain 'a b'" in failed(serctl("domain", "add", "a b", db_url=ser_db))


def test_backup_and_restore_round_trip(ser_db, tmp_path):
    serctl("acl", "grant", "alice", "local", db_url=ser_db)
    db = open_db(ser_db)
    before = db.query("SELECT username, password, ha1, datetime_created FROM subscriber")
    dump = tmp_path / "ser.jsonl"
    result = serctl("db", "backup", str(dump), db_url=ser_db)
    assert result.returncode == 0 and "backed up" in result.stdout
    assert serctl("db", "reinit", "--yes", db_url=ser_db).returncode == 0
    assert db.query("SELECT COUNT(*) FROM subscriber") == [(0,)]
    result = serctl("db", "restore", "--yes", str(dump), db_url=ser_db)
    assert result.returncode == 0 and "restored" in result.stdout
    assert db.query("SELECT username, password, ha1, datetime_created FROM subscriber") == before
    assert db.query("SELECT grp FROM grp") == [("local",)]
    assert db.table_version("location") == 6


def test_a_backup_restores_into_the_other_backend(sqlite_url, mysql_url, tmp_path):
    for url in (sqlite_url, mysql_url):
        serctl("db", "create", db_url=url)
    serctl("add", "alice", PASSWORD, "alice@example.com", db_url=sqlite_url)
    dump = tmp_path / "ser.jsonl"
    serctl("db", "backup", str(dump), db_url=sqlite_url)
    assert serctl("db", "restore", "-y", str(dump), db_url=mysql_url).returncode == 0
    assert open_db(mysql_url).query("SELECT username FROM subscriber") == [("alice",)]


def test_backup_to_a_missing_directory_is_one_line(sqlite_url, tmp_path):
    serctl("db", "create", db_url=sqlite_url)
    assert "cannot write /nonexistent/dir/dump: No such file or directory" in failed(
        serctl("db", "backup", "/nonexistent/dir/dump", db_url=sqlite_url))


def test_restore_refuses_what_is_not_a_dump(ser_db, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("hello\n")
    assert "is not a serctl dump" in failed(serctl("db", "restore", "-y", str(bad), db_url=ser_db))
    bad.write_bytes(b"\xff\xfe\x00garbage")
    assert "is not a serctl dump: not UTF-8 text" in failed(serctl("db", "restore", "-y", str(bad), db_url=ser_db))
    bad.write_text('{"serctl_dump": 1, "tables": ["subscriber"]}\n{"table": "passwd", "row": {}}\n')
    assert "'passwd' is not one of SER's tables" in failed(serctl("db", "restore", "-y", str(bad), db_url=ser_db))
    assert "without --yes" in failed(serctl("db", "restore", str(bad), db_url=ser_db))
    assert open_db(ser_db).query("SELECT username FROM subscriber") == [("alice",)]


def test_mail_needs_a_user_and_the_mail_program(ser_db):
    assert "no such user bob@example.com" in failed(serctl("mail", "bob", db_url=ser_db))


def test_sql_variables_build_a_mysql_url(mysql_url):
    user_host, _, name = mysql_url.removeprefix("mysql://").rpartition("/")
    user, _, host = user_host.rpartition("@")
    host, _, port = host.partition(":")
    env = {"SQL_HOST": host, "SQL_PORT": port or "3306", "SQL_USER": user.partition(":")[0] or "root",
           "SQL_DB": name}
    assert serctl("db", "create", db_url=None, env=env).returncode == 0
    assert open_db(mysql_url).table_version("subscriber") == 5


def test_the_config_file_and_the_managed_ser_cfg_give_the_database(tmp_path, sqlite_url):
    cfg = tmp_path / "ser.cfg"
    cfg.write_text(f'loadmodule "/usr/lib/ser/modules/usrloc.so"\nmodparam("usrloc", "db_url", "{sqlite_url}")\n'
                   'route { break; }\n')
    conf = tmp_path / "serctlrc"
    conf.write_text(f"[serctl]\nSER_CFG = {cfg}\nSIP_DOMAIN = example.net\n")
    env = {"SERCTL_CONF": str(conf), "SER_CFG": ""}
    result = serctl("db", "create", db_url=None, domain=None, env=env)
    assert result.returncode == 0 and sqlite_url.removeprefix("sqlite:///") in result.stdout
    assert serctl("add", "carol", PASSWORD, "c@example.net", db_url=None, domain=None,
                  env=env).stdout == "added carol@example.net\n"


@pytest.mark.parametrize("text, message", [
    ("[serctl]\nFROB = 1\n", "unknown key FROB"),
    ("[other]\nSER_FIFO = /tmp/x\n", "no [serctl] section"),
    ("SER_FIFO = /tmp/x\n", "File contains no section headers"),
])
def test_a_bad_config_file_is_one_line(tmp_path, text, message):
    conf = tmp_path / "serctlrc"
    conf.write_text(text)
    assert message in failed(serctl("ul", "show", "alice", env={"SERCTL_CONF": str(conf)}))


def test_a_broken_ser_cfg_is_reported_with_its_position(tmp_path):
    cfg = tmp_path / "ser.cfg"
    cfg.write_text("route {\n  forward(\n}\n")
    message = failed(serctl("db", "create", db_url=None, env={"SER_CFG": str(cfg)}))
    assert f"{cfg}:3:1:" in message


def test_version():
    result = serctl("version")
    assert result.returncode == 0 and result.stdout.startswith("serctl (pyser) ")


def test_the_sql_password_never_shows():
    env = {"SQL_HOST": "127.0.0.1", "SQL_PORT": "1", "SQL_USER": "ser", "SQL_PASSWORD": PASSWORD}
    message = failed(serctl("acl", "show", db_url=None, env=env))
    assert "cannot reach mysql://ser:***@127.0.0.1:1/ser" in message


def test_keys_are_read_from_the_environment_first(tmp_path):
    conf = tmp_path / "serctlrc"
    conf.write_text(f"[serctl]\nSER_FIFO = {tmp_path / 'from_file'}\n")
    result = serctl("ps", env={"SERCTL_CONF": str(conf), "SER_FIFO": str(tmp_path / "from_env")})
    assert "from_env" in failed(result)
    assert "from_file" in failed(serctl("ps", env={"SERCTL_CONF": str(conf), "SER_FIFO": ""}))
