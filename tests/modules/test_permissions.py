"""permissions: allow_trusted on a real trusted table, queried (db_mode 0) or cached (1)."""

from __future__ import annotations

import logging

import pytest

from ser_runtime.context import PROTO_TCP, PROTO_TLS
from ser_runtime.db import DbError, open_db
from ser_runtime.db.schema import create_schema
from ser_runtime.server import StartError
from stdlib_modules import permissions
from tests.modules.test_auth import Proxy, request, trace

LOAD = 'loadmodule "sl.so"\nloadmodule "permissions.so"\n'
ROUTES = 'route {\n if (allow_trusted()) mark("trusted");\n}\n'


def trusted_db(url: str, *rows: tuple[str, str, str]):
    db = open_db(url)
    create_schema(db)
    db.executemany("INSERT INTO trusted (src_ip, proto, from_pattern) VALUES (?, ?, ?)", rows)
    return db


def proxy_for(url, sender, client, db_mode: int = 0) -> Proxy:
    params = f'modparam("permissions", "db_url", "{url}")\nmodparam("permissions", "db_mode", {db_mode})\n'
    return Proxy(url, ROUTES, sender, client, load=LOAD, params=params)


def trusted(proxy: Proxy, proto: int | None = None, from_host: str = "example.com") -> bool:
    """Whether an INVITE from 127.0.0.1 (over `proto` when given, else UDP) passes allow_trusted."""
    ctx = proxy.context(request(method="INVITE", ruri="sip:bob@example.com", from_host=from_host))
    if proto is not None:
        ctx.rcv = ctx.rcv._replace(proto=proto)
    proxy.script.run(ctx)
    return trace(ctx) == ["trusted"]


@pytest.mark.parametrize("db_mode", [0, 1])
def test_source_address_and_transport_must_match(db_url, sender, client, db_mode):
    trusted_db(db_url, ("127.0.0.1", "TCP", ""), ("203.0.113.1", "udp", ""))
    proxy = proxy_for(db_url, sender, client, db_mode)
    assert trusted(proxy, PROTO_TCP)
    assert not trusted(proxy)
    assert not trusted(proxy, PROTO_TLS)


@pytest.mark.parametrize("db_mode", [0, 1])
def test_any_matches_every_transport(db_url, sender, client, db_mode):
    trusted_db(db_url, ("127.0.0.1", "any", ""))
    proxy = proxy_for(db_url, sender, client, db_mode)
    assert trusted(proxy) and trusted(proxy, PROTO_TCP) and trusted(proxy, PROTO_TLS)


@pytest.mark.parametrize("db_mode", [0, 1])
def test_the_from_pattern_is_searched_in_the_from_uri(db_url, sender, client, db_mode):
    trusted_db(db_url, ("127.0.0.1", "udp", r"@(gw1|gw2)\.example\.com$"), ("127.0.0.1", "tcp", "^sip:"))
    proxy = proxy_for(db_url, sender, client, db_mode)
    assert trusted(proxy, from_host="gw2.example.com")
    assert not trusted(proxy, from_host="GW2.example.com")  # case-sensitive, as SER's regcomp
    assert not trusted(proxy, from_host="gw3.example.com")
    assert trusted(proxy, PROTO_TCP, from_host="anywhere.example.org")


@pytest.mark.parametrize("db_mode", [0, 1])
def test_a_bad_regex_row_is_logged_and_skipped(db_url, sender, client, db_mode, caplog):
    trusted_db(db_url, ("127.0.0.1", "udp", "(unclosed"), ("127.0.0.1", "any", "@example\\.com$"))
    caplog.set_level(logging.ERROR, logger="ser.permissions")
    proxy = proxy_for(db_url, sender, client, db_mode)
    assert trusted(proxy)
    assert not trusted(proxy, from_host="example.org")
    assert "trusted row 127.0.0.1 udp skipped: bad regular expression '(unclosed'" in caplog.text


def test_sql_metacharacters_are_only_text(db_url, sender, client):
    trusted_db(db_url, ("127.0.0.1' OR '1'='1", "any", ""), ("%", "any", ""))
    proxy = proxy_for(db_url, sender, client)
    assert not trusted(proxy)
    ctx = proxy.context(request(method="INVITE", ruri="sip:bob@example.com"))
    ctx.rcv = ctx.rcv._replace(src_ip="127.0.0.1' OR '1'='1")
    assert permissions.allow_trusted(ctx, proxy.state("permissions")) == 1


def test_no_row_no_from_and_no_db_url_are_not_trusted(sqlite_url, sender, client):
    db = trusted_db(sqlite_url, ("203.0.113.101", "any", ""))
    proxy = proxy_for(sqlite_url, sender, client)
    assert not trusted(proxy)
    db.execute("INSERT INTO trusted (src_ip, proto, from_pattern) VALUES (?, ?, ?)", ("127.0.0.1", "any", ""))
    no_from = request(method="INVITE").replace("From: <sip:alice@example.com>;tag=4711\r\n", "")
    assert permissions.allow_trusted(proxy.context(no_from), proxy.state("permissions")) == -1
    without_db = Proxy(sqlite_url, ROUTES, sender, client, load=LOAD)
    assert not trusted(without_db)


def test_a_database_failure_is_not_trusted(sqlite_url, sender, client):
    db = trusted_db(sqlite_url, ("127.0.0.1", "any", ""))
    proxy = proxy_for(sqlite_url, sender, client)
    db.execute("DROP TABLE trusted")
    assert not trusted(proxy)


def test_db_mode_0_sees_a_new_row_at_once(db_url, sender, client):
    db = trusted_db(db_url)
    proxy = proxy_for(db_url, sender, client, 0)
    db.execute("INSERT INTO trusted (src_ip, proto, from_pattern) VALUES (?, ?, ?)", ("127.0.0.1", "udp", ""))
    assert trusted(proxy)


def test_db_mode_1_sees_a_new_row_only_after_reload(db_url, sender, client):
    db = trusted_db(db_url, ("203.0.113.1", "tcp", "^sip:"))
    proxy = proxy_for(db_url, sender, client, 1)
    state = proxy.state("permissions")
    db.execute("INSERT INTO trusted (src_ip, proto, from_pattern) VALUES (?, ?, ?)", ("127.0.0.1", "udp", ""))
    assert not trusted(proxy)
    assert permissions.reload(state) == 2
    assert [(p.src_ip, p.proto, p.from_pattern) for p in permissions.dump(state)] == [
        ("127.0.0.1", "udp", ""), ("203.0.113.1", "tcp", "^sip:")]
    assert trusted(proxy)


def test_a_failed_reload_keeps_the_cache(sqlite_url, sender, client):
    db = trusted_db(sqlite_url, ("127.0.0.1", "udp", ""))
    proxy = proxy_for(sqlite_url, sender, client, 1)
    db.execute("DROP TABLE trusted")
    with pytest.raises(DbError):
        permissions.reload(proxy.state("permissions"))
    assert trusted(proxy)


def test_reload_needs_db_mode_1(sqlite_url, sender, client):
    trusted_db(sqlite_url)
    with pytest.raises(ValueError, match="db_mode 1"):
        permissions.reload(proxy_for(sqlite_url, sender, client, 0).state("permissions"))


def test_start_checks_the_version_only_with_a_db_url(sqlite_url, sender, client):
    db = trusted_db(sqlite_url)
    db.execute("DELETE FROM version WHERE table_name=?", ("trusted",))
    with pytest.raises(StartError, match="^permissions: table trusted has version 0"):
        proxy_for(sqlite_url, sender, client, 1)
    assert not trusted(Proxy(sqlite_url, ROUTES, sender, client, load=LOAD))
