"""Real databases for tests: a fresh SQLite file, or a fresh database on the machine's MariaDB.

Every test gets its own: `sqlite_url` is a file in the test's tmp dir;
`mysql_url` is a database named for this process and test, created on
127.0.0.1:3306 (root, empty password; SER_TEST_MYSQL overrides the server
part) and dropped afterwards. `db_url` runs a test once per backend.
Without MariaDB the MySQL tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import re
import uuid

import pytest

MYSQL_SERVER = os.environ.get("SER_TEST_MYSQL", "root@127.0.0.1:3306")


def _mysql_connect(**kwargs):
    import pymysql
    userinfo, _, hostport = MYSQL_SERVER.rpartition("@")
    user, _, password = userinfo.partition(":")
    host, _, port = hostport.partition(":")
    return pymysql.connect(host=host, port=int(port or 3306), user=user or "root", password=password,
                           connect_timeout=3, autocommit=True, **kwargs)


def _mysql_or_skip():
    import pymysql
    try:
        return _mysql_connect()
    except pymysql.err.OperationalError as exc:
        message = f"MariaDB is not reachable at {MYSQL_SERVER}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ser.db'}"


@pytest.fixture
def mysql_url(request) -> str:
    admin = _mysql_or_skip()
    name = "ser_test_" + re.sub(r"\W", "_", request.node.name)[:30] + "_" + uuid.uuid4().hex[:8]
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}`")
    try:
        yield f"mysql://{MYSQL_SERVER}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@pytest.fixture(params=["sqlite", "mysql"])
def db_url(request) -> str:
    """The same test on a SQLite file and on a MariaDB database."""
    return request.getfixturevalue(f"{request.param}_url")
