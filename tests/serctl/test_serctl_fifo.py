"""serctl's FIFO client and its FIFO commands against a real named pipe served by a tiny responder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ser_runtime.db import open_db
from ser_runtime.db.schema import create_schema
from serctl import moni
from serctl.fifo import FifoClient, FifoError
from tests.serctl.serctl_fifo_responder import FifoResponder

SERCTL = Path(sys.executable).with_name("serctl")

CANNED = {
    "version": ["200 ok", "Server: Sip EXpress router (pyser)"],
    "ps": ["200 ok", "0\t4711\tattendant", "1\t4712\treceiver child=0 sock=127.0.0.1:5060"],
    "ul_show_contact": ["200 OK", "<sip:alice@127.0.0.1:5070>;q=1.00;expires=3593",
                        "<sip:alice@203.0.113.1>;q=0.50;expires=120"],
    "ul_dump": ["200 ok", "Domain: 'location'", "  aor   : 'alice@example.com'",
                "    Contact   : 'sip:alice@127.0.0.1:5070'", "    Expires   : 3593", "    q         : 1.00"],
    "ul_add": ["200 Added to table ('location','alice@example.com') ('sip:gw@127.0.0.1')"],
    "ul_rm": ["200 user (location, alice@example.com) deleted"],
    "ul_rm_contact": ["404 Contact not found"],
    "t_uac_dlg": ["200 OK", "sip:uas@127.0.0.1:5090", ".", ".", "Via: SIP/2.0/UDP 127.0.0.1"],
    "domain_dump": ["200 ok", "Domain list:", "  example.com", "  example.org"],
}


@pytest.fixture
def responder(tmp_path):
    with FifoResponder(tmp_path, lambda command, args: CANNED.get(command, [f"500 command '{command}' not available"])) as r:
        yield r


def serctl(responder: FifoResponder, *args: str, env: dict | None = None):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SER", "SQL_", "SIP_"))}
    environ.update({"SER_FIFO": responder.path, "SIP_DOMAIN": "example.com", "SERCTL_CONF": os.devnull,
                    "SER_CFG": "/nonexistent/ser.cfg", **(env or {})})
    result = subprocess.run([str(SERCTL), *args], env=environ, capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert "Traceback" not in result.stderr
    return result


def failed(result) -> str:
    assert result.returncode == 1 and result.stdout == "", result
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("serctl: "), result
    return result.stderr


def test_a_request_is_the_command_line_its_arguments_and_an_empty_line(responder):
    reply = FifoClient(responder.path).call("ul_show_contact", "location", "alice@example.com")
    assert (reply.code, reply.text, reply.ok) == (200, "OK", True)
    assert reply.lines == CANNED["ul_show_contact"][1:]
    assert responder.requests == [("ul_show_contact", f"ser_receiver_{os.getpid()}",
                                   ["location", "alice@example.com"])]
    assert not Path(f"/tmp/ser_receiver_{os.getpid()}").exists()




def test_no_fifo_means_ser_is_not_running(tmp_path):
    with pytest.raises(FifoError, match=r"ser is not running: no FIFO at .*/none"):
        FifoClient(str(tmp_path / "none")).call("version")


def test_a_fifo_nobody_reads_means_ser_is_not_running(tmp_path):
    os.mkfifo(tmp_path / "ser_fifo")
    with pytest.raises(FifoError, match="ser is not running: nobody reads the FIFO"):
        FifoClient(str(tmp_path / "ser_fifo")).call("version")


def test_a_server_that_does_not_answer_times_out(tmp_path):
    with FifoResponder(tmp_path, lambda command, args: None) as silent:
        started = time.monotonic()
        with pytest.raises(FifoError, match="ser did not answer on .* within 0.5 s"):
            FifoClient(silent.path, timeout=0.5).call("version")
        assert time.monotonic() - started < 5


def test_a_reply_without_status_line_is_an_error(tmp_path):
    with FifoResponder(tmp_path, lambda command, args: ["hello"]) as odd:
        with pytest.raises(FifoError, match="has no status line: 'hello'"):
            FifoClient(odd.path).call("version")


@pytest.mark.parametrize("command, args, message", [
    ("ver:sion", (), "bad FIFO command"),
    ("print", ("two\nlines",), "may not contain a line break"),
    ("print", ("x" * 600,), "limited to 511 bytes"),
])
def test_requests_the_fifo_cannot_carry_are_refused(responder, command, args, message):
    with pytest.raises(FifoError, match=message):
        FifoClient(responder.path).call(command, *args)
    assert responder.requests == []


def test_ul_show_user_sends_user_at_sip_domain_and_lists_contacts(responder):
    result = serctl(responder, "ul", "show", "alice")
    assert result.returncode == 0 and "sip:alice@127.0.0.1:5070" in result.stdout
    assert responder.requests[-1][0::2] == ("ul_show_contact", ["location", "alice@example.com"])
    listed = json.loads(serctl(responder, "usrloc", "show", "alice", "--json").stdout)
    assert listed == [{"contact": "sip:alice@127.0.0.1:5070", "q": 1.0, "expires": 3593},
                      {"contact": "sip:alice@203.0.113.1", "q": 0.5, "expires": 120}]


def test_ul_show_without_user_dumps_everything(responder):
    listed = json.loads(serctl(responder, "ul", "show", "--json").stdout)
    assert listed == [{"table": "location", "aor": "alice@example.com",
                       "contacts": [{"contact": "sip:alice@127.0.0.1:5070", "expires": "3593", "q": "1.00"}]}]
    assert responder.requests[-1][0] == "ul_dump"


def test_ul_add_and_alias_add_send_seven_parameters(responder, sqlite_url):
    create_schema(open_db(sqlite_url))
    assert serctl(responder, "ul", "add", "alice", "sip:gw@127.0.0.1").returncode == 0
    assert serctl(responder, "ul", "add", "alice", "sip:gw@127.0.0.1", "60").returncode == 0
    assert serctl(responder, "--db-url", sqlite_url, "alias", "add", "4711", "sip:alice@example.com").returncode == 0
    assert [args for _, _, args in responder.requests] == [
        ["location", "alice@example.com", "sip:gw@127.0.0.1", "0", "1.00", "0", "128"],
        ["location", "alice@example.com", "sip:gw@127.0.0.1", "60", "1.00", "0", "0"],
        ["aliases", "4711@example.com", "sip:alice@example.com", "0", "1.00", "0", "128"]]


def test_alias_add_refuses_a_subscriber_name(responder, sqlite_url):
    create_schema(open_db(sqlite_url))
    assert serctl(responder, "--db-url", sqlite_url, "add", "alice", "pw", "alice@example.com").returncode == 0
    assert "alice@example.com is a subscriber, not a free alias" in failed(
        serctl(responder, "--db-url", sqlite_url, "alias", "add", "alice", "sip:bob@example.com"))
    assert responder.requests == []


def test_ul_rm_and_alias_rm(responder):
    result = serctl(responder, "ul", "rm", "alice")
    assert result.returncode == 0 and result.stdout == "removed the contacts of alice@example.com\n"
    assert "ul_rm_contact: 404 Contact not found" in failed(serctl(responder, "ul", "rm", "alice", "sip:x@h"))
    assert serctl(responder, "alias", "rm", "4711").returncode == 0
    assert [(c, a) for c, _, a in responder.requests] == [
        ("ul_rm", ["location", "alice@example.com"]),
        ("ul_rm_contact", ["location", "alice@example.com", "sip:x@h"]),
        ("ul_rm", ["aliases", "4711@example.com"])]


def test_ps_and_fifo_print_the_payload(responder):
    assert json.loads(serctl(responder, "ps", "--json").stdout)[1] == {
        "index": 1, "pid": 4712, "description": "receiver child=0 sock=127.0.0.1:5060"}
    result = serctl(responder, "fifo", "version")
    assert result.stdout == "Server: Sip EXpress router (pyser)\n"
    assert json.loads(serctl(responder, "fifo", "--json", "version").stdout)["code"] == 200
    assert serctl(responder, "fifo", "ul_rm", "location", "alice").stdout == \
        "200 user (location, alice@example.com) deleted\n"
    assert "frob: 500 command 'frob' not available" in failed(serctl(responder, "fifo", "frob", "-x"))
    assert responder.requests[-1][0::2] == ("frob", ["-x"])


def test_domain_show_lists_the_dump(responder):
    assert json.loads(serctl(responder, "domain", "show", "--json").stdout) == [
        "Domain list:", "example.com", "example.org"]


def test_ping_sends_options_through_t_uac_dlg_and_prints_the_round_trip(responder):
    result = serctl(responder, "ping", "sip:uas@127.0.0.1:5090")
    assert result.returncode == 0, result
    assert result.stdout.startswith("sip:uas@127.0.0.1:5090: 200 OK in ") and result.stdout.endswith(" ms\n")
    command, _, args = responder.requests[-1]
    assert command == "t_uac_dlg" and args[:3] == ["OPTIONS", "sip:uas@127.0.0.1:5090", "."]
    assert "To: <sip:uas@127.0.0.1:5090>" in args and args[-2:] == [".", "."]


@pytest.mark.parametrize("args", [("ping", "mailto:x@y"), ("ping", "sip:"), ("ul", "add", "alice", "http://x")])
def test_bad_uris_are_refused_before_the_fifo(responder, args):
    assert "bad SIP URI" in failed(serctl(responder, *args))
    assert responder.requests == []


def test_fifo_commands_without_a_server_say_so(tmp_path):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SER", "SQL_"))}
    environ.update(SER_FIFO=str(tmp_path / "ser_fifo"), SERCTL_CONF=os.devnull, SER_CFG="/nonexistent")
    for args in (("ul", "show", "alice@x.org"), ("ping", "sip:a@127.0.0.1"), ("moni", "1"), ("ps",)):
        result = subprocess.run([str(SERCTL), *args], env=environ, capture_output=True, text=True, timeout=30)
        assert result.returncode == 1 and result.stderr.startswith("serctl: ser is not running: no FIFO at"), result


def test_moni_without_a_terminal_refreshes_loops_times(responder):
    result = serctl(responder, "moni", "2", env={"WATCH_PERIOD": "0.2"})
    assert result.returncode == 0, result
    assert [command for command, _, _ in responder.requests].count("uptime") == 2
    assert "bad WATCH_PERIOD 'x'" in failed(serctl(responder, "moni", "1", env={"WATCH_PERIOD": "x"}))


def test_reply_classes_add_the_listed_codes_to_their_class():
    lines = ["200: 2 202: 1 2xx: 0", "400: 0 401: 5 403: 0 404: 3 407: 0 408: 0 483: 0 4xx: 1", "xxx: 4", "failures: 7"]
    assert moni.reply_classes(lines) == {"2xx": 3, "3xx": 0, "4xx": 9, "5xx": 0, "6xx": 0}
