"""uri: is_user, has_totag, uri_param, add_uri_param and tel2sip in ser.cfg snippets on real messages."""

from __future__ import annotations

import pytest

from ser_runtime.context import RouteContext
from ser_script.checker import check_text
from ser_script.compiler import ScriptEnv
from stdlib_modules.uri import digest_username, set_authorized
from tests.route.harness import INVITE, MYSELF, RCV, bind, message, run

LOAD = 'loadmodule "uri.so"\n'


def marks(*conditions: str) -> str:
    return "\n".join(f'if ({c}) mark("{i}");' for i, c in enumerate(conditions))


def route(body: str, text: str = INVITE, dialect: str = "0.9"):
    return run(LOAD + "route {\n" + body + "\n}\n", dialect, text)


# --- is_user ---------------------------------------------------------------------------

CREDENTIALS = INVITE.replace("Content-Length: 0\r\n", (
    'Proxy-Authorization: Digest username="bob@biloxi.example.com", realm="biloxi.example.com", '
    'nonce="abc", uri="sip:12345@foo.bar:6060", response="0123"\r\n'
    'Authorization: Digest realm="x", username="alice", nonce="n", uri="sip:x", response="1"\r\n'
    "Content-Length: 0\r\n"))


def authorize_with(header: str):
    """What www_authorize/proxy_authorize leave for is_user when they accept credentials."""
    def authorize(ctx, realm, table):
        field = ctx.msg.header(header)
        if field is None:
            return -1
        set_authorized(ctx, field)
        return 1
    return authorize


def run_authorized(body: str, header: str, text: str = CREDENTIALS, dialect: str = "0.9") -> list[str]:
    script = 'loadmodule "auth_db.so"\n' + LOAD + "route {\n" + body + "\n}\n"
    env = ScriptEnv(myself=MYSELF, bind={"www_authorize": authorize_with(header),
                                         "proxy_authorize": authorize_with(header)})
    traces = []
    for runner in bind(script, dialect, env):
        ctx = RouteContext(message(text), RCV)
        runner.run(ctx)
        traces.append(ctx.avps.get("trace", []))
    assert traces[0] == traces[1]
    return traces[0]


def test_is_user_without_authorized_credentials_is_false():
    assert route(marks('is_user("alice")')).trace == []
    assert route(marks('is_user("alice")'), CREDENTIALS).trace == []


def test_is_user_compares_the_user_of_the_accepted_digest_username():
    conditions = ('is_user("alice")', 'is_user("Alice")', 'is_user("bob")', 'is_user("bob@biloxi.example.com")')
    assert run_authorized('www_authorize("x", "subscriber");\n' + marks(*conditions),
                          "authorization") == ["0"]
    assert run_authorized('proxy_authorize("x", "subscriber");\n' + marks(*conditions),
                          "proxy-authorization") == ["2"]
    assert run_authorized('proxy_authorize("x", "subscriber");\n' + marks(*conditions),
                          "proxy-authorization", dialect="2.0") == ["2"]


def test_digest_username_parsing():
    assert digest_username('Digest username="a\\"b", realm="r"') == 'a\\"b'
    assert digest_username('digest realm="r",username=carol ,nonce="n"') == "carol"
    assert digest_username('Basic dXNlcjpwYXNz') is None
    assert digest_username('Digest realm="username=x"') is None


# --- has_totag -------------------------------------------------------------------------

@pytest.mark.parametrize("to,expected", [
    ("To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf", ["0"]),
    ("t: <sip:bob@biloxi.example.com>;TAG=1", ["0"]),
    ("To: Bob <sip:bob@biloxi.example.com>", []),
    ("To: Bob <sip:bob@biloxi.example.com>;tag=", []),
    ("To: Bob <sip:bob@biloxi.example.com;tag=1>", []),
    ("To: <<<broken", []),
])
def test_has_totag(to, expected):
    text = INVITE.replace("To: Bob <sip:bob@biloxi.example.com>", to)
    assert route(marks("has_totag()"), text).trace == expected


def test_has_totag_without_to_is_false():
    text = INVITE.replace("To: Bob <sip:bob@biloxi.example.com>\r\n", "")
    assert route(marks("has_totag()"), text).trace == []


# --- uri_param, add_uri_param ----------------------------------------------------------------

PARAMS = INVITE.replace("INVITE sip:12345@foo.bar:6060", "INVITE sip:12345@foo.bar:6060;transport=udp;lr;lr=1;x")


def test_uri_param_with_one_argument_wants_a_parameter_without_value():
    result = route(marks('uri_param("lr")', 'uri_param("transport")', 'uri_param("x")', 'uri_param("LR")',
                         'uri_param("maddr")'), PARAMS)
    assert result.trace == ["0", "2"]           # the first "lr" decides


def test_uri_param_with_a_value_compares_case_sensitively():
    result = route(marks('uri_param("transport", "udp")', 'uri_param("transport", "UDP")',
                         'uri_param("Transport", "udp")', 'uri_param("lr", "")', 'uri_param("lr", "1")',
                         'uri_param("x", "")'), PARAMS)
    assert result.trace == ["0", "3", "5"]


def test_uri_param_looks_at_the_current_request_uri():
    result = route('rewriteuri("sip:a@b;user=phone");\n' + marks('uri_param("user", "phone")',
                                                               'uri_param("transport", "udp")'), PARAMS)
    assert result.trace == ["0"]
    bad = route('rewriteuri("sip:a@b;=x");\n' + marks('uri_param("x")', 'uri_param("", "x")'), PARAMS)
    assert bad.trace == []


def test_add_uri_param_appends_to_the_current_request_uri():
    result = route(marks('add_uri_param("user=phone")', 'add_uri_param("")', 'add_uri_param("lr")'))
    assert result.trace == ["0", "1", "2"]
    assert result.uri == "sip:12345@foo.bar:6060;user=phone;lr"
    assert result.ctx.msg.serialize().startswith(b"INVITE sip:12345@foo.bar:6060;user=phone;lr SIP/2.0\r\n")


def test_add_uri_param_goes_before_uri_headers():
    result = route('rewriteuri("sips:a:pw@b.example;x=1?subject=hi&priority=urgent");\n'
                   + marks('add_uri_param("lr")'))
    assert result.trace == ["0"]
    assert result.uri == "sips:a:pw@b.example;x=1;lr?subject=hi&priority=urgent"


def test_add_uri_param_refuses_what_cannot_be_sent():
    result = route(marks('add_uri_param("a b")'))
    assert result.trace == [] and result.uri == "sip:12345@foo.bar:6060"


# --- tel2sip ---------------------------------------------------------------------------

def test_tel2sip_takes_the_host_of_the_from_uri():
    text = INVITE.replace("INVITE sip:12345@foo.bar:6060", "INVITE tel:+1-201-555-0123;phone-context=x")
    result = route(marks("tel2sip()"), text)
    assert result.trace == ["0"]
    assert result.uri == "sip:+1-201-555-0123;phone-context=x@proxy.example.com;user=phone"
    assert result.ctx.msg.serialize().startswith(
        b"INVITE sip:+1-201-555-0123;phone-context=x@proxy.example.com;user=phone SIP/2.0\r\n")


def test_tel2sip_leaves_other_uris_alone():
    assert route(marks("tel2sip()")).uri == "sip:12345@foo.bar:6060"
    upper = INVITE.replace("INVITE sip:12345@foo.bar:6060", "INVITE TEL:+123")
    result = route(marks("tel2sip()"), upper)         # SER compares "tel:" case-sensitively
    assert result.trace == ["0"] and result.uri == "TEL:+123"
    rewritten = route('rewriteuri("tel:+4930");\n' + marks("tel2sip()"))
    assert rewritten.uri == "sip:+4930@proxy.example.com;user=phone"


def test_tel2sip_with_a_bad_from_is_false():
    text = INVITE.replace("INVITE sip:12345@foo.bar:6060", "INVITE tel:+123").replace(
        "From: Alice <sip:alice@proxy.example.com>", "From: Alice <foo:bar>")
    result = route(marks("tel2sip()"), text)
    assert result.trace == [] and result.uri == "tel:+123"


# --- dialects --------------------------------------------------------------------------

def test_functions_by_dialect():
    for dialect in ("0.8", "0.9", "2.0"):
        assert not check_text(LOAD + 'route { is_user("a"); has_totag(); uri_param("a"); uri_param("a", "b"); }',
                              dialect=dialect).errors
    for call in ('add_uri_param("a")', "tel2sip()"):
        assert not check_text(LOAD + f"route {{ {call}; }}", dialect="0.9").errors
        assert check_text(LOAD + f"route {{ {call}; }}", dialect="0.8").errors
    assert check_text(LOAD + "failure_route[1] { has_totag(); }", dialect="0.9").errors
