"""auth + auth_db: www/proxy_authorize and the challenges on real messages, a real database and loopback UDP.

Each test builds SER's schema in a fresh SQLite file and (db_url) a fresh
MariaDB database, inserts its users with SQL, runs a ser.cfg snippet with
the modules started as `ser` starts them, and reads the replies the real
Sender sent to a UDP socket. The client side of the digest is computed
here with hashlib, independently of stdlib_modules/digest.py.
"""

from __future__ import annotations

import hashlib
import logging
import re
import socket
import time

import pytest

from ser_runtime import core_actions
from ser_runtime.context import PROTO_UDP, ReceiveInfo, RouteContext
from ser_runtime.db import open_db
from ser_runtime.db.schema import create_schema
from ser_runtime.sender import Sender
from ser_runtime.server import StartError, start_modules
from ser_runtime.sip import SipMessage
from ser_script.checker import check_text
from ser_script.compiler import BindError, ScriptEnv, compile_script
from stdlib_modules.digest import make_nonce
from tests.route.harness import HERE, PROBE

SECRET = "0123456789abcdef-test-secret"
REALM = "example.com"
LOAD = 'loadmodule "sl.so"\nloadmodule "auth.so"\nloadmodule "auth_db.so"\nloadmodule "uri.so"\n'
WWW = f"""route {{
    if (!www_authorize("{REALM}", "subscriber")) {{
        mark("challenge");
        www_challenge("{REALM}", "1");
        break;
    }};
    mark("ok");
}}
"""


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8", "surrogateescape")).hexdigest()


# --- the database and the proxy --------------------------------------------------------------

def subscriber_db(url: str):
    """SER's schema with alice (ha1), bob@example.com (ha1b), o'brien, and an RPID for alice."""
    db = open_db(url)
    create_schema(db)
    add_user(db, "alice", REALM, "wonderland", rpid="<sip:+4930123456@example.com>")
    add_user(db, "bob", REALM, "builder")
    add_user(db, "o'brien", REALM, "quote'pass")
    add_user(db, "carol", "other.example.org", "elsewhere")
    return db


def add_user(db, user: str, domain: str, password: str, rpid: str | None = None) -> None:
    db.execute("INSERT INTO subscriber (phplib_id, username, domain, password, ha1, ha1b, rpid) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               (md5(user + domain), user, domain, password, md5(f"{user}:{domain}:{password}"),
                md5(f"{user}@{domain}:{domain}:{password}"), rpid))


class Proxy:
    """A ser.cfg snippet compiled and started as `ser` does it; `run` a request, `reply` what the UA got."""

    def __init__(self, url: str, routes: str, sender: Sender, client: socket.socket, params: str = "",
                 load: str = LOAD):
        secret = f'modparam("auth", "secret", "{SECRET}")\n' if '"auth.so"' in load else ""
        text = PROBE + load + _db_urls(load, url) + secret + params + routes
        result = check_text(text, file="auth.cfg", dialect="0.9", base_dir=HERE)
        assert not result.errors, [d.message for d in result.errors]
        self.script = compile_script(result, ScriptEnv(actions={**core_actions.ACTIONS, **sender.actions()}))
        start_modules(self.script)
        self.sender = sender
        self.client = client

    def context(self, text: str) -> RouteContext:
        """The request `text` (surrogates stand for bytes that are not UTF-8) as received from the UA."""
        port = self.client.getsockname()[1]
        data = text.replace("UAPORT", str(port)).encode("utf-8", "surrogateescape")
        return RouteContext(SipMessage.parse(data),
                            ReceiveInfo("127.0.0.1", port, "127.0.0.1", 5060, PROTO_UDP), self.sender)

    def run(self, text: str) -> tuple[int, RouteContext]:
        ctx = self.context(text)
        return self.script.run(ctx), ctx

    def state(self, name: str):
        """What module `name`'s init returned, for calling its functions directly (0.9 scripts cannot see codes)."""
        return next(state for module, state in self.script.modules if module.name == name)

    def reply(self) -> SipMessage | None:
        try:
            return SipMessage.parse(self.client.recv(65535))
        except socket.timeout:
            return None

    def nothing_sent(self) -> bool:
        self.client.settimeout(0.2)
        try:
            return self.reply() is None
        finally:
            self.client.settimeout(2)


def _db_urls(load: str, url: str) -> str:
    modules = [m for m in ("auth_db", "uri_db", "group", "domain") if f'"{m}.so"' in load]
    return "".join(f'modparam("{m}", "db_url", "{url}")\n' for m in modules)


def trace(ctx) -> list[str]:
    return ctx.avps.get("trace", [])


# --- requests and the client side of the digest -----------------------------------------------

def request(method: str = "REGISTER", ruri: str = f"sip:{REALM}", user: str = "alice",
            credentials: str | None = None, header: str = "Authorization", cseq: int = 1,
            from_host: str = REALM, to_host: str = REALM) -> str:
    extra = f"{header}: {credentials}\r\n" if credentials else ""
    return (f"{method} {ruri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:UAPORT;branch=z9hG4bK-{method}-{cseq}\r\n"
            f"From: <sip:{user}@{from_host}>;tag=4711\r\nTo: <sip:{user}@{to_host}>\r\n"
            f"Call-ID: auth-test-1\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\n"
            f"Contact: <sip:{user}@127.0.0.1:UAPORT>\r\n{extra}Content-Length: 0\r\n\r\n")


def challenge_params(reply: SipMessage, header: str = "WWW-Authenticate") -> dict[str, str]:
    value = reply.header(header).value
    assert value.startswith("Digest ")
    return {k: v1 or v2 for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^\s,]+))', value)}


def credentials(username: str, password: str, nonce: str, method: str = "REGISTER",
                uri: str = f"sip:{REALM}", realm: str = REALM, qop: bool = False,
                response_uri: str | None = None, response_method: str | None = None) -> str:
    """Digest credentials; response_* compute the response for another URI/method than the one sent."""
    ha1 = md5(f"{username}:{realm}:{password}")
    ha2 = md5(f"{response_method or method}:{response_uri or uri}")
    if qop:
        response = md5(f"{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}")
        extra = ', qop=auth, nc=00000001, cnonce="c0ffee"'
    else:
        response = md5(f"{ha1}:{nonce}:{ha2}")
        extra = ""
    return (f'Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'response="{response}", algorithm=MD5{extra}')


def fresh_nonce(lifetime: int = 300, secret: str = SECRET) -> str:
    return make_nonce(int(time.time()) + lifetime, secret)


# --- the challenge and the successful authorization ------------------------------------------

def test_no_credentials_gets_a_401_challenge_with_a_nonce_of_ours(db_url, sender, client):
    subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    code, ctx = proxy.run(request())
    assert code == 0 and trace(ctx) == ["challenge"]
    reply = proxy.reply()
    assert (reply.status, reply.reason) == (401, "Unauthorized")
    params = challenge_params(reply)
    assert params["realm"] == REALM and params["qop"] == "auth" and params["algorithm"] == "MD5"
    assert "stale" not in params
    nonce = params["nonce"]
    assert len(nonce) == 40 and nonce[8:] == md5(nonce[:8] + SECRET)
    assert time.time() + 290 < int(nonce[:8], 16) <= time.time() + 301


@pytest.mark.parametrize("qop", [False, True], ids=["plain", "qop-auth"])
def test_the_right_password_is_authorized(db_url, sender, client, qop):
    subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    proxy.run(request())
    nonce = challenge_params(proxy.reply())["nonce"]
    code, ctx = proxy.run(request(credentials=credentials("alice", "wonderland", nonce, qop=qop), cseq=2))
    assert code == 1 and trace(ctx) == ["ok"]
    assert proxy.nothing_sent()


def test_a_wrong_password_is_challenged_again_and_never_authorized(db_url, sender, client):
    subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    for attempt in range(3):
        code, ctx = proxy.run(request(credentials=credentials("alice", "guess", fresh_nonce()), cseq=attempt))
        assert code == 0 and trace(ctx) == ["challenge"]
        reply = proxy.reply()
        assert reply.status == 401 and "stale" not in challenge_params(reply)


def test_an_unknown_user_is_challenged(db_url, sender, client):
    subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    code, ctx = proxy.run(request(user="mallory", credentials=credentials("mallory", "x", fresh_nonce())))
    assert trace(ctx) == ["challenge"] and proxy.reply().status == 401


def test_ack_and_cancel_are_authorized_without_credentials(sqlite_url, sender, client):
    subscriber_db(sqlite_url)
    proxy = Proxy(sqlite_url, WWW, sender, client)
    for method in ("ACK", "CANCEL"):
        code, ctx = proxy.run(request(method=method, ruri="sip:bob@example.com"))
        assert code == 1 and trace(ctx) == ["ok"]
    assert proxy.nothing_sent()


# --- the security cases -----------------------------------------------------------------------

def test_a_nonce_made_with_another_secret_is_refused(db_url, sender, client):
    subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    foreign = fresh_nonce(secret="another server's secret")
    code, ctx = proxy.run(request(credentials=credentials("alice", "wonderland", foreign)))
    assert trace(ctx) == ["challenge"]
    reply = proxy.reply()
    assert reply.status == 401 and "stale" not in challenge_params(reply)


def test_a_tampered_nonce_expiry_is_refused(sqlite_url, sender, client):
    subscriber_db(sqlite_url)
    proxy = Proxy(sqlite_url, WWW, sender, client)
    nonce = fresh_nonce(-100)
    extended = f"{int(nonce[:8], 16) + 3600:08x}" + nonce[8:]
    proxy.run(request(credentials=credentials("alice", "wonderland", extended)))
    assert proxy.reply().status == 401


def test_an_expired_nonce_with_the_right_password_gets_stale_true(db_url, sender, client):
    subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    code, ctx = proxy.run(request(credentials=credentials("alice", "wonderland", fresh_nonce(-1))))
    assert trace(ctx) == ["challenge"]
    params = challenge_params(proxy.reply())
    assert params["stale"] == "true" and int(params["nonce"][:8], 16) > time.time()


def test_nonce_expire_sets_the_nonce_lifetime(sqlite_url, sender, client):
    subscriber_db(sqlite_url)
    proxy = Proxy(sqlite_url, WWW, sender, client, params='modparam("auth", "nonce_expire", 30)\n')
    proxy.run(request())
    assert int(challenge_params(proxy.reply())["nonce"][:8], 16) <= time.time() + 31


def test_a_response_replayed_with_another_method_is_refused(db_url, sender, client):
    subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    uri = "sip:bob@example.com"
    captured = credentials("alice", "wonderland", fresh_nonce(), method="INVITE", uri=uri)
    code, ctx = proxy.run(request(method="INVITE", ruri=uri, credentials=captured))
    assert trace(ctx) == ["ok"]
    code, ctx = proxy.run(request(method="BYE", ruri=uri, credentials=captured, cseq=2))
    assert trace(ctx) == ["challenge"] and proxy.reply().status == 401


def test_a_response_replayed_to_another_request_uri_is_refused(db_url, sender, client):
    subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    nonce = fresh_nonce()
    captured = credentials("alice", "wonderland", nonce, method="INVITE", uri="sip:bob@example.com")
    code, ctx = proxy.run(request(method="INVITE", ruri="sip:premium@example.com", credentials=captured))
    assert code == 0 and trace(ctx) == []
    assert proxy.reply().status == 400
    relabelled = credentials("alice", "wonderland", nonce, method="INVITE", uri="sip:premium@example.com",
                             response_uri="sip:bob@example.com")
    code, ctx = proxy.run(request(method="INVITE", ruri="sip:premium@example.com", credentials=relabelled))
    assert trace(ctx) == ["challenge"] and proxy.reply().status == 401


def test_a_digest_uri_naming_the_same_destination_is_accepted(sqlite_url, sender, client):
    subscriber_db(sqlite_url)
    proxy = Proxy(sqlite_url, WWW, sender, client)
    for uri in ("sip:bob@EXAMPLE.com;transport=UDP", "sip:bob@example.com:5060"):
        creds = credentials("alice", "wonderland", fresh_nonce(), method="INVITE", uri=uri)
        code, ctx = proxy.run(request(method="INVITE", ruri="sip:bob@example.com;transport=udp", credentials=creds))
        assert trace(ctx) == ["ok"], uri
    creds = credentials("alice", "wonderland", fresh_nonce(), method="INVITE", uri="sip:bob@example.com:5080")
    code, ctx = proxy.run(request(method="INVITE", ruri="sip:bob@example.com:5060", credentials=creds))
    assert code == 0 and proxy.reply().status == 400


@pytest.mark.parametrize("username", ["alice' OR '1'='1", "alice'--", "%", "alice\\", 'al"ice'])
def test_sql_metacharacters_in_the_username_only_fail_to_match(db_url, sender, client, username):
    subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    creds = credentials(username.replace("\\", "\\\\").replace('"', '\\"'), "wonderland", fresh_nonce())
    code, ctx = proxy.run(request(credentials=creds))
    assert trace(ctx) == ["challenge"] and proxy.reply().status == 401


def test_a_user_with_a_quote_in_the_name_is_found(db_url, sender, client):
    subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    code, ctx = proxy.run(request(credentials=credentials("o'brien", "quote'pass", fresh_nonce())))
    assert trace(ctx) == ["ok"]


@pytest.mark.parametrize("value", [
    'Digest username="alice", realm="example.com", nonce="x", uri="sip:example.com", response="abc',
    'Digest username="alice" realm="example.com"',
    'Digest username="alice", realm="example.com", uri="sip:example.com", response="0"',
    'Digest username="alice", realm="example.com", nonce="n", uri="sip:example.com", response="0", qop=auth',
])
def test_malformed_or_incomplete_credentials_get_400(sqlite_url, sender, client, value):
    subscriber_db(sqlite_url)
    proxy = Proxy(sqlite_url, WWW, sender, client)
    code, ctx = proxy.run(request(credentials=value))
    assert code == 0 and trace(ctx) == []
    assert proxy.reply().status == 400


def test_credentials_for_another_realm_or_scheme_are_ignored(sqlite_url, sender, client):
    subscriber_db(sqlite_url)
    proxy = Proxy(sqlite_url, WWW, sender, client)
    other = credentials("alice", "wonderland", fresh_nonce(), realm="elsewhere.example.net")
    code, ctx = proxy.run(request(credentials=other))
    assert trace(ctx) == ["challenge"] and proxy.reply().status == 401
    code, ctx = proxy.run(request(credentials="Basic YWxpY2U6d29uZGVybGFuZA=="))
    assert trace(ctx) == ["challenge"] and proxy.reply().status == 401


def test_the_realm_matches_without_regard_to_case(sqlite_url, sender, client):
    subscriber_db(sqlite_url)
    proxy = Proxy(sqlite_url, WWW, sender, client)
    creds = credentials("alice", "wonderland", fresh_nonce()).replace(f'realm="{REALM}"', 'realm="Example.COM"')
    code, ctx = proxy.run(request(credentials=creds))
    assert trace(ctx) == ["ok"]


def test_secrets_never_reach_the_log(db_url, sender, client, caplog):
    subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    with caplog.at_level(logging.DEBUG):
        proxy.run(request(credentials=credentials("alice", "wonderland", fresh_nonce(-5))))
        proxy.run(request(credentials=credentials("alice", "wrong", fresh_nonce())))
        proxy.run(request(credentials=credentials("alice", "wonderland", fresh_nonce(secret="x"))))
    logged = caplog.text
    assert SECRET not in logged and "wonderland" not in logged
    assert md5(f"alice:{REALM}:wonderland") not in logged


# --- the database columns and parameters ----------------------------------------------------

def test_a_username_with_a_domain_is_checked_against_ha1b(db_url, sender, client):
    subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    creds = credentials("bob@example.com", "builder", fresh_nonce())
    code, ctx = proxy.run(request(user="bob", credentials=creds))
    assert trace(ctx) == ["ok"]


def test_calculate_ha1_reads_the_plaintext_password_column(db_url, sender, client):
    db = subscriber_db(db_url)
    db.execute("UPDATE subscriber SET ha1=?, ha1b=? WHERE username=?", ("", "", "alice"))
    params = 'modparam("auth_db", "calculate_ha1", 1)\nmodparam("auth_db", "password_column", "password")\n'
    proxy = Proxy(db_url, WWW, sender, client, params=params)
    code, ctx = proxy.run(request(credentials=credentials("alice", "wonderland", fresh_nonce())))
    assert trace(ctx) == ["ok"]
    code, ctx = proxy.run(request(credentials=credentials("alice", "Wonderland", fresh_nonce())))
    assert trace(ctx) == ["challenge"] and proxy.reply().status == 401


def test_use_domain_looks_the_user_up_in_the_realm(db_url, sender, client):
    subscriber_db(db_url)
    routes = WWW.replace(REALM, "other.example.org")
    proxy = Proxy(db_url, routes, sender, client, params='modparam("auth_db", "use_domain", 1)\n')
    carol = credentials("carol", "elsewhere", fresh_nonce(), realm="other.example.org")
    code, ctx = proxy.run(request(user="carol", credentials=carol))
    assert trace(ctx) == ["ok"]
    alice = credentials("alice", "wonderland", fresh_nonce(), realm="other.example.org")
    code, ctx = proxy.run(request(credentials=alice))
    assert trace(ctx) == ["challenge"] and proxy.reply().status == 401


def test_an_empty_realm_is_the_to_host_for_register_and_the_from_host_otherwise(sqlite_url, sender, client):
    subscriber_db(sqlite_url)
    routes = 'route { if (!www_authorize("", "subscriber")) { www_challenge("", "0"); break; }; mark("ok"); }\n'
    proxy = Proxy(sqlite_url, routes, sender, client, params='modparam("auth", "realm_prefix", "sip.")\n')
    proxy.run(request(to_host="sip.example.com", from_host="from.example.net"))
    params = challenge_params(proxy.reply())
    assert params["realm"] == REALM and "qop" not in params
    proxy.run(request(method="MESSAGE", ruri="sip:bob@example.com", to_host="to.example.net",
                      from_host="example.com"))
    assert challenge_params(proxy.reply())["realm"] == REALM
    code, ctx = proxy.run(request(to_host="sip.example.com",
                                  credentials=credentials("alice", "wonderland", fresh_nonce())))
    assert trace(ctx) == ["ok"]


def test_proxy_authorize_and_proxy_challenge_use_407(db_url, sender, client):
    subscriber_db(db_url)
    routes = f"""route {{
        if (!proxy_authorize("", "subscriber")) {{ proxy_challenge("", "1"); break; }};
        mark("ok");
        consume_credentials();
    }}
    """
    proxy = Proxy(db_url, routes, sender, client)
    invite = dict(method="INVITE", ruri="sip:bob@example.com", header="Proxy-Authorization")
    code, _ = proxy.run(request(**invite))
    reply = proxy.reply()
    assert code == 0 and (reply.status, reply.reason) == (407, "Proxy Authentication Required")
    nonce = challenge_params(reply, "Proxy-Authenticate")["nonce"]
    creds = credentials("alice", "wonderland", nonce, method="INVITE", uri="sip:bob@example.com")
    code, ctx = proxy.run(request(credentials=creds, cseq=2, **invite))
    assert trace(ctx) == ["ok"]
    assert b"Proxy-Authorization" not in ctx.msg.serialize()
    www = creds  # the same credentials in Authorization are not proxy credentials
    code, ctx = proxy.run(request(method="INVITE", ruri="sip:bob@example.com", credentials=www, cseq=3))
    assert trace(ctx) == [] and proxy.reply().status == 407


def test_consume_credentials_removes_only_the_accepted_header_and_is_user_sees_it(sqlite_url, sender, client):
    subscriber_db(sqlite_url)
    routes = WWW.replace('mark("ok");', 'if (is_user("alice")) mark("alice"); consume_credentials();')
    proxy = Proxy(sqlite_url, routes, sender, client)
    text = request(credentials=credentials("alice", "wonderland", fresh_nonce())).replace(
        "Content-Length", 'Proxy-Authorization: Digest username="x", realm="up.example.net"\r\nContent-Length')
    code, ctx = proxy.run(text)
    assert trace(ctx) == ["alice"]
    sent = ctx.msg.serialize()
    assert b"\r\nAuthorization:" not in sent and b"Proxy-Authorization: Digest username=\"x\"" in sent


def test_consume_credentials_without_authorization_is_false(sqlite_url, sender, client):
    subscriber_db(sqlite_url)
    proxy = Proxy(sqlite_url, 'route { if (!consume_credentials()) mark("no"); }\n', sender, client)
    assert trace(proxy.run(request())[1]) == ["no"]


def test_rpid_is_loaded_as_an_avp_for_append_rpid_hf(db_url, sender, client):
    subscriber_db(db_url)
    routes = WWW.replace('mark("ok");', 'if (is_rpid_user_e164()) mark("e164"); append_rpid_hf(); '
                                        'append_rpid_hf("P: ", ";x");')
    proxy = Proxy(db_url, routes, sender, client, params='modparam("auth", "rpid_prefix", "Pre ")\n')
    code, ctx = proxy.run(request(credentials=credentials("alice", "wonderland", fresh_nonce())))
    assert trace(ctx) == ["e164"]
    sent = ctx.msg.serialize()
    assert (b"Remote-Party-ID: Pre <sip:+4930123456@example.com>;party=calling;id-type=subscriber;screen=yes\r\n"
            in sent)
    assert b"Remote-Party-ID: P: <sip:+4930123456@example.com>;x\r\n" in sent
    code, ctx = proxy.run(request(user="bob", credentials=credentials("bob", "builder", fresh_nonce())))
    assert "rpid" not in ctx.avps and b"Remote-Party-ID" not in ctx.msg.serialize()


def test_a_database_failure_answers_500(db_url, sender, client):
    db = subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    db.execute("DROP TABLE subscriber")
    code, ctx = proxy.run(request(credentials=credentials("alice", "wonderland", fresh_nonce())))
    assert code == 0 and trace(ctx) == []
    assert proxy.reply().status == 500


# --- start-up ---------------------------------------------------------------------------------

def test_start_refuses_an_old_subscriber_table(db_url, sender, client):
    db = subscriber_db(db_url)
    db.execute("UPDATE version SET table_version=? WHERE table_name=?", (2, "subscriber"))
    with pytest.raises(StartError, match=r"^auth_db: table subscriber has version 2, .* needs 3"):
        Proxy(db_url, WWW, sender, client)


def test_start_refuses_a_database_without_the_schema(sqlite_url, sender, client):
    with pytest.raises(StartError, match="serctl db create") as failure:
        Proxy(sqlite_url, WWW, sender, client)
    assert "\n" not in str(failure.value)


def test_start_refuses_an_unusable_db_url(sender, client):
    with pytest.raises(StartError, match="^auth_db: ") as failure:
        Proxy("postgres://nobody@127.0.0.1/ser", WWW, sender, client)
    assert "\n" not in str(failure.value)


def test_a_table_name_that_is_not_an_identifier_is_refused_at_fixup(sqlite_url, sender, client):
    with pytest.raises(BindError, match="not a table name"):
        Proxy(sqlite_url, WWW.replace('"subscriber"', '"subscriber; DROP TABLE x"'), sender, client)


def test_a_qop_that_is_not_a_number_is_refused_at_fixup(sqlite_url, sender, client):
    with pytest.raises(BindError, match="qop must be a number"):
        Proxy(sqlite_url, WWW.replace('"1"', '"yes"'), sender, client)


def test_a_username_that_is_not_utf8_matches_nobody(db_url, sender, client):
    subscriber_db(db_url)
    proxy = Proxy(db_url, WWW, sender, client)
    text = request(credentials=credentials("al\udcffice", "wonderland", fresh_nonce()))
    code, ctx = proxy.run(text)
    assert code == 0 and trace(ctx) == ["challenge"]
    assert proxy.reply().status == 401
