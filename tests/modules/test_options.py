"""options: options_reply answers through a real Sender on loopback UDP; the reply read from a socket."""

from __future__ import annotations

import socket

import pytest

from ser_runtime import core_actions
from ser_runtime.context import PROTO_UDP, ReceiveInfo, RouteContext
from ser_runtime.sender import Sender
from ser_runtime.sip import SipMessage
from ser_script.checker import check_text
from ser_script.compiler import ScriptEnv, compile_script
from tests.route.harness import HERE, PROBE

LOAD = 'loadmodule "sl.so"\nloadmodule "textops.so"\nloadmodule "options.so"\n'


def request(port: int, method: str = "OPTIONS", ruri: str = "sip:127.0.0.1") -> bytes:
    return (f"{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};rport;branch=z9hG4bKopt\r\n"
            f"From: <sip:a@example.com>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: opt-1\r\n"
            f"CSeq: 7 {method}\r\nContent-Length: 0\r\n\r\n").encode()


def execute(script: str, sender: Sender, client: socket.socket, dialect: str = "0.9",
            kind: str = "route", label: str = "", **request_args) -> tuple[int, RouteContext]:
    result = check_text(PROBE + LOAD + script, file="o.cfg", dialect=dialect, base_dir=HERE)
    assert not result.errors, [d.message for d in result.errors]
    env = ScriptEnv(actions={**core_actions.ACTIONS, **sender.actions()})
    compiled = compile_script(result, env)
    port = client.getsockname()[1]
    ctx = RouteContext(SipMessage.parse(request(port, **request_args)),
                       ReceiveInfo("127.0.0.1", port, "127.0.0.1", 5060, PROTO_UDP), sender)
    return compiled.run(ctx, kind, label), ctx


def reply_lines(client: socket.socket) -> list[bytes]:
    data = client.recv(65535)
    head, _, body = data.partition(b"\r\n\r\n")
    assert body == b""
    return head.split(b"\r\n")


def nothing_sent(client: socket.socket) -> bool:
    client.settimeout(0.2)
    try:
        client.recv(65535)
    except socket.timeout:
        return True
    return False


def test_options_reply_answers_200_with_the_default_headers_and_stops(sender, client):
    code, ctx = execute('route { options_reply(); mark("after"); }', sender, client)
    assert code == 0 and ctx.avps.get("trace") is None
    lines = reply_lines(client)
    assert lines[0] == b"SIP/2.0 200 OK"
    assert lines[1].startswith(b"Via: SIP/2.0/UDP 127.0.0.1:") and b";rport=" in lines[1]
    assert b"CSeq: 7 OPTIONS" in lines and b"Call-ID: opt-1" in lines
    assert lines[-5:] == [b"Accept: */*", b"Accept-Encoding: ", b"Accept-Language: en", b"Supported: ",
                          b"Content-Length: 0"]


def test_options_reply_uses_the_module_parameters(sender, client):
    script = ('modparam("options", "accept", "application/sdp, text/plain")\n'
              'modparam("options", "accept_encoding", "gzip")\n'
              'modparam("options", "accept_language", "de, en;q=0.5")\n'
              'modparam("options", "support", "timer, 100rel")\n'
              "route { options_reply(); }\n")
    code, _ = execute(script, sender, client)
    assert code == 0
    assert reply_lines(client)[-5:-1] == [b"Accept: application/sdp, text/plain", b"Accept-Encoding: gzip",
                                          b"Accept-Language: de, en;q=0.5", b"Supported: timer, 100rel"]


def test_options_reply_carries_append_to_reply_headers_first(sender, client):
    script = 'route { append_to_reply("X-Hint: 1\\r\\nX-More: 2\\r\\n"); options_reply(); }\n'
    code, _ = execute(script, sender, client)
    assert code == 0
    assert reply_lines(client)[-7:-5] == [b"X-Hint: 1", b"X-More: 2"]


@pytest.mark.parametrize("request_args", [
    {"method": "INVITE"},
    {"method": "REGISTER"},
    {"ruri": "sip:alice@127.0.0.1"},
])
def test_options_reply_is_false_for_other_requests_and_for_users(sender, client, request_args):
    code, ctx = execute('route { if (!options_reply()) mark("no"); }', sender, client, **request_args)
    assert code == 1 and ctx.avps["trace"] == ["no"]
    assert nothing_sent(client)


def test_options_reply_looks_at_the_current_request_uri(sender, client):
    code, ctx = execute('route { rewriteuser("bob"); if (!options_reply()) mark("no"); }', sender, client)
    assert ctx.avps["trace"] == ["no"] and nothing_sent(client)
    code, _ = execute('route { rewriteuri("sip:192.0.2.10"); options_reply(); }', sender, client,
                      ruri="sip:bob@127.0.0.1")
    assert code == 0 and reply_lines(client)[0] == b"SIP/2.0 200 OK"


def test_options_reply_method_is_case_insensitive_as_in_ser(sender, client):
    code, _ = execute("route { options_reply(); }", sender, client, method="options")
    assert code == 0 and reply_lines(client)[0] == b"SIP/2.0 200 OK"


def test_options_reply_without_a_transport_is_false():
    result = check_text(LOAD + "route { options_reply(); }", dialect="0.9")
    compiled = compile_script(result)
    ctx = RouteContext(SipMessage.parse(request(5999)), ReceiveInfo("127.0.0.1", 5999, "127.0.0.1", 5060))
    assert compiled.run(ctx) == -1


def test_options_reply_in_failure_route_is_2_0_only(sender, client):
    script = 'route { ; }\nfailure_route[1] { options_reply(); }\n'
    assert check_text(LOAD + script, dialect="0.9").errors
    code, _ = execute(script, sender, client, dialect="2.0", kind="failure_route", label="1")
    assert code == 0 and reply_lines(client)[0] == b"SIP/2.0 200 OK"
