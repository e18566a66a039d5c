"""group: is_user_in on the R-URI, To, From and the accepted credentials, against a real grp table."""

from __future__ import annotations

import pytest

from ser_runtime.server import StartError
from ser_script.compiler import BindError
from stdlib_modules import group
from tests.modules.test_auth import LOAD, REALM, Proxy, credentials, fresh_nonce, request, subscriber_db, trace

GROUP_LOAD = LOAD + 'loadmodule "group.so"\n'


def grp_db(url: str):
    db = subscriber_db(url)
    db.executemany("INSERT INTO grp (username, domain, grp) VALUES (?, ?, ?)",
                   [("alice", REALM, "ld"), ("bob", REALM, "voicemail"), ("bob", "other.example.org", "ld")])
    return db


def membership(*tests: str) -> str:
    body = "\n".join(f'if (is_user_in({t})) mark({t.split(",")[0]});' for t in tests)
    return f'route {{\n    www_authorize("{REALM}", "subscriber");\n{body}\n}}\n'


def test_each_source_of_the_user(db_url, sender, client):
    grp_db(db_url)
    routes = membership('"Request-URI", "voicemail"', '"To", "ld"', '"From", "ld"', '"Credentials", "ld"')
    proxy = Proxy(db_url, routes, sender, client, load=GROUP_LOAD)
    text = request(method="MESSAGE", ruri="sip:bob@example.com",
                   credentials=credentials("alice", "wonderland", fresh_nonce(), method="MESSAGE",
                                           uri="sip:bob@example.com"))
    assert trace(proxy.run(text)[1]) == ['Request-URI', 'To', 'From', 'Credentials']
    unsigned = request(method="MESSAGE", ruri="sip:carol@example.com", user="carol")
    assert trace(proxy.run(unsigned)[1]) == []


def test_which_is_case_insensitive_and_checked_at_start_up(sqlite_url, sender, client):
    grp_db(sqlite_url)
    proxy = Proxy(sqlite_url, membership('"request-uri", "voicemail"'), sender, client, load=GROUP_LOAD)
    assert trace(proxy.run(request(method="INVITE", ruri="sip:bob@example.com"))[1]) == ['request-uri']
    with pytest.raises(BindError, match="'Contact' is not Request-URI, To, From or Credentials"):
        Proxy(sqlite_url, membership('"Contact", "ld"'), sender, client, load=GROUP_LOAD)


def test_use_domain_also_matches_the_domain(db_url, sender, client):
    grp_db(db_url)
    proxy = Proxy(db_url, membership('"Request-URI", "ld"'), sender, client, load=GROUP_LOAD,
                  params='modparam("group", "use_domain", 1)\n')
    assert trace(proxy.run(request(method="INVITE", ruri="sip:bob@example.com"))[1]) == []
    assert trace(proxy.run(request(method="INVITE", ruri="sip:bob@other.example.org"))[1]) == ['Request-URI']


def test_sql_metacharacters_in_the_group_or_user_match_nothing(db_url, sender, client):
    grp_db(db_url)
    proxy = Proxy(db_url, membership("\"Request-URI\", \"ld' OR '1'='1\"", '"To", "%"'), sender, client,
                  load=GROUP_LOAD)
    text = request(method="INVITE", ruri="sip:alice@example.com", user="x'%20OR%20'1'='1")
    assert trace(proxy.run(text)[1]) == []


def test_codes_without_credentials_and_on_a_database_failure(sqlite_url, sender, client):
    db = grp_db(sqlite_url)
    proxy = Proxy(sqlite_url, membership('"Credentials", "ld"'), sender, client, load=GROUP_LOAD)
    state = proxy.state("group")
    assert group.is_user_in(proxy.context(request()), "Credentials", "ld", state) == -1
    assert group.is_user_in(proxy.context(request()), "From", "voicemail", state) == -6
    db.execute("DROP TABLE grp")
    assert group.is_user_in(proxy.context(request()), "From", "ld", state) == -5


def test_start_checks_the_grp_version(sqlite_url, sender, client):
    db = grp_db(sqlite_url)
    db.execute("UPDATE version SET table_version=? WHERE table_name=?", (1, "grp"))
    with pytest.raises(StartError, match="^group: table grp has version 1"):
        Proxy(sqlite_url, membership('"To", "ld"'), sender, client, load=GROUP_LOAD)
