"""domain: is_from_local and is_uri_host_local on a real domain table, queried (db_mode 0) or cached (1)."""

from __future__ import annotations

import os

import pytest

from ser_runtime.db import DbError, open_db
from ser_runtime.db.schema import create_schema
from ser_runtime.server import StartError
from stdlib_modules import domain
from tests.modules.test_auth import Proxy, request, trace

DOMAIN_LOAD = 'loadmodule "sl.so"\nloadmodule "domain.so"\n'
ROUTES = 'route {\n if (is_from_local()) mark("from");\n if (is_uri_host_local()) mark("uri");\n}\n'


def domain_db(url: str, *domains: str):
    db = open_db(url)
    create_schema(db)
    db.executemany("INSERT INTO domain (domain) VALUES (?)", [(d,) for d in domains])
    return db


def proxy_for(url, sender, client, db_mode: int) -> Proxy:
    return Proxy(url, ROUTES, sender, client, load=DOMAIN_LOAD,
                 params=f'modparam("domain", "db_mode", {db_mode})\n')


@pytest.mark.parametrize("db_mode", [0, 1])
def test_hosts_in_the_domain_table_are_local_in_any_case(db_url, sender, client, db_mode):
    domain_db(db_url, "example.com", "Example.NET")
    proxy = proxy_for(db_url, sender, client, db_mode)
    assert trace(proxy.run(request(method="INVITE", ruri="sip:bob@EXAMPLE.com"))[1]) == ["from", "uri"]
    text = request(method="INVITE", ruri="sip:bob@example.net", from_host="elsewhere.example.org")
    assert trace(proxy.run(text)[1]) == ["uri"]
    text = request(method="INVITE", ruri="sip:bob@example.org'%20OR%20'1'='1", from_host="%")
    assert trace(proxy.run(text)[1]) == []


def test_the_current_request_uri_counts(sqlite_url, sender, client):
    domain_db(sqlite_url, "example.com")
    routes = 'route { rewritehost("elsewhere.example.org"); if (is_uri_host_local()) mark("uri"); }\n'
    proxy = Proxy(sqlite_url, routes, sender, client, load=DOMAIN_LOAD)
    assert trace(proxy.run(request(method="INVITE", ruri="sip:bob@example.com"))[1]) == []


def test_db_mode_0_sees_changes_at_once(db_url, sender, client):
    db = domain_db(db_url, "example.com")
    proxy = proxy_for(db_url, sender, client, 0)
    db.execute("INSERT INTO domain (domain) VALUES (?)", ("example.org",))
    assert trace(proxy.run(request(method="INVITE", ruri="sip:bob@example.org"))[1]) == ["from", "uri"]


def test_db_mode_1_answers_from_the_cache_until_reload(db_url, sender, client):
    db = domain_db(db_url, "example.com")
    proxy = proxy_for(db_url, sender, client, 1)
    state = proxy.state("domain")
    db.execute("INSERT INTO domain (domain) VALUES (?)", ("example.org",))
    invite = request(method="INVITE", ruri="sip:bob@example.org")
    assert trace(proxy.run(invite)[1]) == ["from"]
    assert domain.reload(state) == 2
    assert domain.dump(state) == ["example.com", "example.org"]
    assert trace(proxy.run(invite)[1]) == ["from", "uri"]


def test_a_reload_in_one_process_reaches_the_others(sqlite_url, sender, client):
    db = domain_db(sqlite_url, "example.com")
    proxy = proxy_for(sqlite_url, sender, client, 1)
    state = proxy.state("domain")
    invite = request(method="INVITE", ruri="sip:bob@example.org")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a worker: waits for the reload made by its parent, then answers
        os.close(write)
        os.read(read, 1)
        os._exit(0 if trace(proxy.run(invite)[1]) == ["from", "uri"] else 1)
    os.close(read)
    db.execute("INSERT INTO domain (domain) VALUES (?)", ("example.org",))
    domain.reload(state)
    os.write(write, b"x")
    os.close(write)
    assert os.waitpid(pid, 0)[1] == 0


def test_a_failed_reload_keeps_the_cache(sqlite_url, sender, client):
    db = domain_db(sqlite_url, "example.com")
    proxy = proxy_for(sqlite_url, sender, client, 1)
    state = proxy.state("domain")
    db.execute("DROP TABLE domain")
    with pytest.raises(DbError):
        domain.reload(state)
    assert trace(proxy.run(request(method="INVITE", ruri="sip:bob@example.com"))[1]) == ["from", "uri"]


def test_reload_needs_db_mode_1(sqlite_url, sender, client):
    domain_db(sqlite_url, "example.com")
    with pytest.raises(ValueError, match="db_mode 1"):
        domain.reload(proxy_for(sqlite_url, sender, client, 0).state("domain"))


def test_codes_for_unparsable_from_and_database_failures(sqlite_url, sender, client):
    db = domain_db(sqlite_url, "example.com")
    proxy = proxy_for(sqlite_url, sender, client, 0)
    state = proxy.state("domain")
    broken = request(method="INVITE", ruri="sip:bob@example.com").replace("From: <sip:alice@example.com>",
                                                                          "From: <mailto:alice@example.com>")
    assert domain.is_from_local(proxy.context(broken), state) in (-2, -3)
    db.execute("DROP TABLE domain")
    assert domain.is_uri_host_local(proxy.context(request(method="INVITE", ruri="sip:b@example.com")), state) == -1


def test_start_checks_the_version_and_loads_the_cache(sqlite_url, sender, client):
    db = domain_db(sqlite_url, "example.com")
    db.execute("DELETE FROM version WHERE table_name=?", ("domain",))
    with pytest.raises(StartError, match="^domain: table domain has version 0"):
        proxy_for(sqlite_url, sender, client, 1)
