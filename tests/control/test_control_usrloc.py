"""usrloc's FIFO commands (ul_*) against a running `ser`, in db_mode 0 and in write-back on SQLite."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from ser_runtime.db import open_db
from ser_runtime.db.schema import create_schema
from tests.control.control_server import HOST, ControlledSer
from tests.server.harness import udp_exchange

pytestmark = pytest.mark.slow


def register(port: int, user: str, contact_port: int, expires: int = 600) -> bytes:
    call_id = uuid.uuid4().hex
    message = (f"REGISTER sip:{HOST}:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {HOST}:{contact_port};rport;branch=z9hG4bK{call_id[:10]}\r\n"
               f"From: <sip:{user}@{HOST}>;tag=1\r\nTo: <sip:{user}@{HOST}>\r\nCall-ID: {call_id}\r\n"
               f"CSeq: 1 REGISTER\r\nMax-Forwards: 70\r\nContact: <sip:{user}@{HOST}:{contact_port}>\r\n"
               f"Expires: {expires}\r\nContent-Length: 0\r\n\r\n")
    return udp_exchange(message.encode(), (HOST, port))


def exercise_ul_commands(ser: ControlledSer) -> None:
    fifo = ser.fifo
    assert fifo.call("ul_add", "location", "alice", "sip:alice@203.0.113.1", "3600", "0.5", "0", "0") == \
        ["200 Added to table", "('alice','sip:alice@203.0.113.1') to 'location'"]
    assert fifo.call("ul_add", "location", "alice", "sip:alice@gw.example", "0", "1.00", "0", "128")[0] == \
        "200 Added to table"
    shown = fifo.call("ul_show_contact", "location", "alice")
    assert shown[0] == "200 OK"
    assert shown[1] == "<sip:alice@gw.example>;q=1;expires=0"
    assert re.fullmatch(r"<sip:alice@203\.0\.113\.1>;q=0\.5;expires=(3599|3600)", shown[2]), shown

    reply = register(ser.port, "bob", 5999)
    assert reply is not None and reply.startswith(b"SIP/2.0 200"), reply
    assert fifo.call("ul_show_contact", "location", "bob")[1].startswith(f"<sip:bob@{HOST}:5999>;q=;expires=")
    # Without use_domain the AOR is the user: serctl's user@domain finds it too, as in SER.
    assert fifo.call("ul_show_contact", "location", "bob@example.com")[1].startswith(f"<sip:bob@{HOST}:5999>")

    dump = fifo.call("ul_dump")
    assert dump[0] == "200 OK" and "Domain: 'location'" in dump
    assert "aor   : 'alice'" in dump and "aor   : 'bob'" in dump
    assert "    Contact   : 'sip:alice@gw.example'" in dump and "    Expires   : permanent" in dump
    assert fifo.call("ul_stats") == ["200 OK", "Domain Registered Expired", "'location' 2 0"]

    assert fifo.call("ul_rm_contact", "location", "alice", "sip:alice@203.0.113.1") == \
        ["200 Contact (alice, sip:alice@203.0.113.1) deleted from table location"]
    assert fifo.call("ul_rm_contact", "location", "alice", "sip:alice@203.0.113.1") == \
        ["404 Contact sip:alice@203.0.113.1 in table location not found"]
    assert fifo.call("ul_rm_contact", "location", "carol", "sip:c@h") == \
        ["404 Username carol in table location not found"]
    assert fifo.call("ul_rm", "location", "alice") == ["200 user (location, alice) deleted"]
    assert fifo.call("ul_show_contact", "location", "alice") == ["404 Username alice in table location not found"]


def test_ul_commands_in_memory_only_mode(tmp_path):
    with ControlledSer(tmp_path) as ser:
        exercise_ul_commands(ser)
        assert ser.fifo.call("ul_flush") == ["200 ul_flush completed"]


def test_ul_commands_in_write_back_mode_reach_the_database_on_ul_flush(tmp_path, sqlite_url):
    db = open_db(sqlite_url)
    create_schema(db)
    params = (f'modparam("usrloc", "db_mode", 2)\nmodparam("usrloc", "db_url", "{sqlite_url}")\n'
              'modparam("usrloc", "timer_interval", 3600)\n')
    with ControlledSer(tmp_path, params) as ser:
        exercise_ul_commands(ser)
        assert db.query("SELECT contact FROM location") == []
        assert ser.fifo.call("ul_flush") == ["200 ul_flush completed"]
        assert db.query("SELECT username, contact FROM location") == [("bob", f"sip:bob@{HOST}:5999")]
        ser.fifo.call("ul_add", "location", "dave", "sip:dave@203.0.113.4", "600", "1", "0", "0")
        assert ser.fifo.call("ul_flush") == ["200 ul_flush completed"]
        assert sorted(db.query("SELECT username FROM location")) == [("bob",), ("dave",)]
    db.close()


def test_jsonrpc_speaks_the_same_ul_commands(tmp_path):
    with ControlledSer(tmp_path) as ser:
        rpc = ser.jsonrpc()
        try:
            added = rpc.call("ul_add", "location", "erin", "sip:erin@203.0.113.5", 600, "0.25", 0, 0)
            assert added["result"] == {"text": "Added to table",
                                       "lines": ["('erin','sip:erin@203.0.113.5') to 'location'"]}
            shown = rpc.call("ul_show_contact", "location", "erin")["result"]
            assert [(c["contact"], c["q"], c["permanent"]) for c in shown] == [("sip:erin@203.0.113.5", 0.25, False)]
            assert 590 <= shown[0]["expires"] <= 600
            assert rpc.call("ul_stats")["result"] == {"location": {"registered": 1, "expired": 0}}
            assert list(rpc.call("ul_dump")["result"]["location"]) == ["erin"]
            missing = rpc.call("ul_show_contact", "location", "nobody")["error"]
            assert missing["code"] == 404 and missing["message"] == "Username nobody in table location not found"
        finally:
            rpc.close()


def test_ul_stats_counts_what_the_timer_expired(tmp_path):
    with ControlledSer(tmp_path, 'modparam("usrloc", "timer_interval", 1)\n') as ser:
        ser.fifo.call("ul_add", "location", "frank", "sip:frank@203.0.113.6", "1", "1", "0", "0")
        ser.fifo.call("ul_add", "location", "gina", "sip:gina@203.0.113.7", "600", "1", "0", "0")
        deadline = time.monotonic() + 15
        while (stats := ser.fifo.call("ul_stats")) != ["200 OK", "Domain Registered Expired", "'location' 1 1"]:
            assert time.monotonic() < deadline, stats
            time.sleep(0.3)
