"""A worker in this process, on real loopback sockets: what a failing script costs (one 500 or 400)."""

from __future__ import annotations

import socket

import pytest

from ser_runtime import core_actions
from ser_runtime.context import PROTO_UDP, ReceiveInfo
from ser_runtime.net.resolver import Resolver
from ser_runtime.sender import Sender
from ser_runtime.settings import Listener, Settings
from ser_runtime.sip import SipParseError
from ser_runtime.worker import Worker
from ser_script.checker import check_text
from ser_script.compiler import ScriptEnv, compile_script

SCRIPT = 'loadmodule "tm.so"\nroute { t_relay(); }\n'


def broken(error: Exception):
    def t_relay(ctx):
        raise error
    return t_relay


@pytest.fixture
def client():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    yield sock
    sock.close()


def worker_with(t_relay) -> Worker:
    settings = Settings(sip_warning=False)
    listener = Listener(PROTO_UDP, "127.0.0.1", 5060, "127.0.0.1")
    public = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    public.bind(("127.0.0.1", 0))
    sender = Sender(settings, [listener], Resolver())
    sender.attach({listener: public}, {})
    result = check_text(SCRIPT, file="w.cfg", dialect="0.9")
    env = ScriptEnv(actions={**core_actions.ACTIONS, **sender.actions()}, bind={"t_relay": t_relay})
    return Worker(settings, compile_script(result, env), sender, settings.myself([listener]))


def invite(port: int, method: str = "INVITE") -> bytes:
    return (f"{method} sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};rport;branch=z9hG4bKw\r\n"
            f"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: w\r\nCSeq: 1 {method}\r\n"
            f"Content-Length: 0\r\n\r\n").encode()


def status(client: socket.socket) -> bytes:
    return client.recv(65535).split(b"\r\n", 1)[0]


@pytest.mark.parametrize("error,expected", [
    (ValueError("a bug"), b"SIP/2.0 500 Server Internal Error"),
    (RecursionError("deep"), b"SIP/2.0 500 Server Internal Error"),
    (SipParseError("bad Contact"), b"SIP/2.0 400 Bad Request"),
])
def test_a_failing_script_costs_one_reply_and_the_worker_goes_on(client, caplog, error, expected):
    worker = worker_with(broken(error))
    port = client.getsockname()[1]
    rcv = ReceiveInfo("127.0.0.1", port, "127.0.0.1", 5060, PROTO_UDP)
    for _ in range(2):
        worker.handle(invite(port), rcv)
        assert status(client) == expected
    assert "Traceback" not in caplog.text


def test_no_reply_to_a_failing_ack(client):
    worker = worker_with(broken(ValueError("a bug")))
    port = client.getsockname()[1]
    worker.handle(invite(port, "ACK"), ReceiveInfo("127.0.0.1", port, "127.0.0.1", 5060, PROTO_UDP))
    client.settimeout(0.3)
    with pytest.raises(socket.timeout):
        client.recv(65535)
