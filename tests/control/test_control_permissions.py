"""permissions' control commands: trusted_reload makes every worker read the trusted table again
(allow_trusted answers real SIP requests accordingly), trusted_dump lists it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ser_runtime.db import open_db
from ser_runtime.db.schema import create_schema
from tests.control.fifo_client import Fifo, JsonRpc
from tests.ports import free_port
from tests.server.harness import Ser, proxy_config, udp_exchange

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"
ROUTING = """if (allow_trusted()) {
        sl_send_reply("200", "Trusted");
        break;
    };
    sl_send_reply("403", "Not Trusted");"""


def trusted_ser(directory: Path, url: str, db_mode: int) -> tuple[Ser, Fifo, int]:
    port = free_port()
    replies = directory / "replies"
    replies.mkdir()
    extra = (f'fifo="{directory / "ser_fifo"}"\nfifo_dir="{replies}/"\n'
             'loadmodule "/usr/lib/ser/modules/permissions.so"\n'
             f'modparam("permissions", "db_url", "{url}")\nmodparam("permissions", "db_mode", {db_mode})\n')
    config = proxy_config(HOST, port, ROUTING, protos=("udp",), extra=extra)
    return Ser(directory, config), Fifo(directory / "ser_fifo", replies), port


def status(port: int, number: int) -> str:
    """The status line ser answers an OPTIONS from 127.0.0.1 with."""
    message = (f"OPTIONS sip:ser@{HOST}:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {HOST}:5999;rport;branch=z9hG4bK-trusted-{number}\r\n"
               f"From: <sip:gw@pstn.example.com>;tag={number}\r\nTo: <sip:ser@{HOST}>\r\n"
               f"Call-ID: trusted-{number}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    answer = udp_exchange(message.encode(), (HOST, port))
    assert answer is not None, f"no answer to request {number}"
    return answer.decode().split("\r\n", 1)[0]


def test_trusted_reload_reaches_the_workers(tmp_path, db_url):
    db = open_db(db_url)
    create_schema(db)
    db.execute("INSERT INTO trusted (src_ip, proto, from_pattern) VALUES (?, ?, ?)", ("203.0.113.1", "tcp", "^sip:"))
    ser, fifo, port = trusted_ser(tmp_path, db_url, 1)
    with ser:
        assert fifo.call("trusted_dump") == ["200 OK", "203.0.113.1 tcp ^sip:"]
        db.execute("INSERT INTO trusted (src_ip, proto, from_pattern) VALUES (?, ?, ?)",
                   (HOST, "any", r"@pstn\.example\.com$"))
        assert [status(port, n) for n in range(4)] == ["SIP/2.0 403 Not Trusted"] * 4
        assert fifo.call("trusted_dump") == ["200 OK", "203.0.113.1 tcp ^sip:"]
        assert fifo.call("trusted_reload") == ["200 OK"]
        assert fifo.call("trusted_dump") == ["200 OK", r"127.0.0.1 any @pstn\.example\.com$", "203.0.113.1 tcp ^sip:"]
        assert [status(port, n) for n in range(4, 8)] == ["SIP/2.0 200 Trusted"] * 4
        rpc = JsonRpc(tmp_path / "ser_fifo.jsonrpc")
        try:
            assert rpc.call("trusted_reload")["result"] == {"trusted": 2}
            assert rpc.call("trusted_dump")["result"][0] == {
                "src_ip": HOST, "proto": "any", "from_pattern": r"@pstn\.example\.com$"}
        finally:
            rpc.close()
    db.close()


def test_trusted_reload_without_the_cache_is_refused(tmp_path, sqlite_url):
    db = open_db(sqlite_url)
    create_schema(db)
    db.execute("INSERT INTO trusted (src_ip, proto, from_pattern) VALUES (?, ?, ?)", (HOST, "udp", ""))
    db.close()
    ser, fifo, port = trusted_ser(tmp_path, sqlite_url, 0)
    with ser:
        assert status(port, 0) == "SIP/2.0 200 Trusted"
        assert fifo.call("trusted_reload") == [
            "400 trusted_reload needs db_mode 1 and db_url (the trusted table is not cached)"]
