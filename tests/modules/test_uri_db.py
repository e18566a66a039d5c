"""uri_db: check_to, check_from and does_uri_exist after a real www_authorize, on both databases."""

from __future__ import annotations

import pytest

from ser_runtime.server import StartError
from stdlib_modules import uri_db
from tests.modules.test_auth import LOAD, REALM, Proxy, credentials, fresh_nonce, request, subscriber_db, trace

URI_LOAD = LOAD + 'loadmodule "uri_db.so"\n'


def checks(*calls: str) -> str:
    marks = "\n".join(f'if ({call}) mark("{call}");' for call in calls)
    return f'route {{\n    if (!www_authorize("{REALM}", "subscriber")) {{ mark("no auth"); }};\n{marks}\n}}\n'


def signed(user: str = "alice", password: str = "wonderland", **args) -> str:
    return request(user=user, credentials=credentials(user, password, fresh_nonce()), **args)


def test_check_to_and_from_compare_with_the_digest_user_ignoring_case(db_url, sender, client):
    subscriber_db(db_url)
    proxy = Proxy(db_url, checks("check_to()", "check_from()"), sender, client, load=URI_LOAD)
    assert trace(proxy.run(signed())[1]) == ["check_to()", "check_from()"]
    spoofed = signed().replace("To: <sip:alice@", "To: <sip:ALICE@").replace("From: <sip:alice@", "From: <sip:eve@")
    assert trace(proxy.run(spoofed)[1]) == ["check_to()"]


def test_check_to_without_authorized_credentials_is_minus_2(sqlite_url, sender, client):
    subscriber_db(sqlite_url)
    proxy = Proxy(sqlite_url, checks("check_to()"), sender, client, load=URI_LOAD)
    assert uri_db.check_to(proxy.context(request()), proxy.state("uri_db")) == -2


def test_check_to_with_the_uri_table_allows_the_listed_users(db_url, sender, client):
    db = subscriber_db(db_url)
    db.executemany("INSERT INTO uri (username, domain, uri_user) VALUES (?, ?, ?)",
                   [("alice", REALM, "alice"), ("alice", REALM, "4930123456")])
    proxy = Proxy(db_url, checks("check_to()"), sender, client, load=URI_LOAD,
                  params='modparam("uri_db", "use_uri_table", 1)\n')
    assert trace(proxy.run(signed())[1]) == ["check_to()"]
    number = signed().replace("To: <sip:alice@", "To: <sip:4930123456@")
    assert trace(proxy.run(number)[1]) == ["check_to()"]
    other = signed().replace("To: <sip:alice@", "To: <sip:bob@")
    assert trace(proxy.run(other)[1]) == []
    assert trace(proxy.run(signed(user="bob", password="builder"))[1]) == []


@pytest.mark.parametrize("use_domain", [0, 1])
def test_does_uri_exist_looks_up_the_current_request_uri(db_url, sender, client, use_domain):
    subscriber_db(db_url)
    routes = ('route {\n if (does_uri_exist()) mark("bob");\n rewriteuser("nobody");\n'
              ' if (does_uri_exist()) mark("nobody");\n rewriteuri("sip:carol@example.com");\n'
              ' if (does_uri_exist()) mark("carol@example.com");\n}\n')
    proxy = Proxy(db_url, routes, sender, client, load=URI_LOAD,
                  params=f'modparam("uri_db", "use_domain", {use_domain})\n')
    found = trace(proxy.run(request(method="INVITE", ruri="sip:bob@example.com"))[1])
    assert found == (["bob"] if use_domain else ["bob", "carol@example.com"])


def test_does_uri_exist_with_sql_metacharacters_finds_nobody(db_url, sender, client):
    subscriber_db(db_url)
    proxy = Proxy(db_url, 'route { if (does_uri_exist()) mark("found"); }\n', sender, client, load=URI_LOAD)
    assert trace(proxy.run(request(method="INVITE", ruri="sip:x'%20OR%20'1'='1@example.com"))[1]) == []
    assert trace(proxy.run(request(method="INVITE", ruri="sip:%25@example.com"))[1]) == []


def test_does_uri_exist_on_a_database_failure_is_minus_4(sqlite_url, sender, client):
    db = subscriber_db(sqlite_url)
    proxy = Proxy(sqlite_url, 'route { does_uri_exist(); }\n', sender, client, load=URI_LOAD)
    db.execute("DROP TABLE subscriber")
    ctx = proxy.context(request(method="INVITE", ruri="sip:bob@example.com"))
    assert uri_db.does_uri_exist(ctx, proxy.state("uri_db")) == -4


def test_start_checks_the_uri_and_subscriber_versions(sqlite_url, sender, client):
    db = subscriber_db(sqlite_url)
    db.execute("DELETE FROM version WHERE table_name=?", ("uri",))
    with pytest.raises(StartError, match="^uri_db: table uri has version 0"):
        Proxy(sqlite_url, checks("check_to()"), sender, client, load=URI_LOAD)
