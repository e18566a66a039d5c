"""tm's and sl's control commands: t_uac_dlg reaching a SIPp UAS, t_stats and sl_stats summed over workers."""

from __future__ import annotations

import time

import pytest

from tests.control.control_server import HOST, ControlledSer
from tests.ports import free_port
from tests.server.harness import Sipp, require, sipp_args

pytestmark = pytest.mark.slow


def message_request(uas_port: int) -> list[str]:
    return ["MESSAGE", f"sip:uas@{HOST}:{uas_port}", ".",
            "From: <sip:daemon@ctl.test>", f"To: <sip:uas@{HOST}:{uas_port}>", "Contact: <sip:daemon@!!>",
            "Content-Type: text/plain", ".", "ctl test body", "", "second line after an empty one", "."]


def test_t_uac_dlg_sends_a_message_and_replies_with_the_final_answer(tmp_path):
    require("sipp")
    uas_port = free_port()
    with ControlledSer(tmp_path, 'modparam("tm", "fr_timer", 2)\n') as ser:
        uas = Sipp(tmp_path, "ctl-message-uas", [*sipp_args("ctl-message-uas", HOST, uas_port), "-m", "1"])
        try:
            time.sleep(0.5)
            reply = ser.fifo.call("t_uac_dlg", *message_request(uas_port))
            assert uas.wait(15) == 0, uas.report()
        finally:
            uas.kill()
        assert reply[:4] == ["202 Accepted", f"sip:uas@{HOST}:{uas_port}", "sip:rr.ctl.test;lr",
                             "Route: <sip:rr.ctl.test;lr>"], reply
        assert "X-Ctl: seen" in reply and reply[-1] == "Content-Length: 0"
        assert any(line.startswith("CSeq: 1 MESSAGE") for line in reply)
        # Nobody answers: the command's reply is the local 408 after fr_timer (2 s).
        silent = ser.fifo.call("t_uac_dlg", "OPTIONS", f"sip:nobody@{HOST}:9", ".",
                               "From: <sip:daemon@ctl.test>", f"To: <sip:nobody@{HOST}:9>", ".", ".", timeout=20)
        assert silent == ["408 Request Timeout"]


def test_a_waiting_t_uac_dlg_does_not_hold_up_other_requests(tmp_path):
    with ControlledSer(tmp_path, 'modparam("tm", "fr_timer", 3)\n') as ser:
        rpc = ser.jsonrpc()
        try:
            rpc.send({"jsonrpc": "2.0", "id": "uac", "method": "t_uac_dlg",
                      "params": ["OPTIONS", f"sip:nobody@{HOST}:9", ".", "From: <sip:daemon@ctl.test>",
                                 f"To: <sip:nobody@{HOST}:9>", ".", "."]})
            started = time.monotonic()
            assert ser.fifo.call("print", "meanwhile") == ["200 ok", "meanwhile"]
            assert time.monotonic() - started < 2.5
            answer = rpc.receive()
            assert answer["id"] == "uac" and answer["error"]["code"] == 408, answer
        finally:
            rpc.close()


def test_t_stats_and_sl_stats_sum_every_worker(tmp_path):
    require("sipp")
    uas_port = free_port()
    with ControlledSer(tmp_path) as ser:
        assert ser.fifo.call("t_stats") == ["200 ok", "Current: 0 (0 waiting) Total: 0 (0 local)",
                                            "Replied localy: 0",
                                            "Completion status 6xx: 0, 5xx: 0, 4xx: 0, 3xx: 0,2xx: 0"]
        uas = Sipp(tmp_path, "options-uas", [*sipp_args("options-uas", HOST, uas_port), "-m", "6"])
        try:
            sipp(tmp_path, "reg-uac", ser.port, 1, "-key", "contact_host", HOST, "-key", "contact_port", str(uas_port))
            sipp(tmp_path, "options-uac", ser.port, 6)
            assert uas.wait(15) == 0, uas.report()
        finally:
            uas.kill()
        ser.fifo.call("ul_rm", "location", "alice")
        sipp(tmp_path, "reg-options-404-uac", ser.port, 4)

        tm = ser.fifo.call("t_stats")
        assert tm[1].endswith("Total: 6 (0 local)"), tm
        assert tm[3] == "Completion status 6xx: 0, 5xx: 0, 4xx: 0, 3xx: 0,2xx: 6"
        sl = ser.fifo.call("sl_stats")
        # The registrar's 200 counts as sl's (SER's registrar replied through sl); a class counts
        # the codes not shown by themselves.
        assert sl == ["200 ok", "200: 1 202: 0 2xx: 0", "300: 0 301: 0 302: 0 3xx: 0",
                      "400: 0 401: 0 403: 0 404: 4 407: 0 408: 0 483: 0 4xx: 0", "500: 0 5xx: 0", "6xx: 0",
                      "xxx: 0", "failures: 0"]
        workers = {line.split("\t")[1] for line in ser.fifo.call("ps")[1:] if "receiver" in line}
        assert len(workers) == 2
        rpc = ser.jsonrpc()
        try:
            assert rpc.call("sl_stats")["result"]["404"] == 4
            assert rpc.call("t_stats")["result"]["completed"]["2xx"] == 6
        finally:
            rpc.close()


def sipp(tmp_path, scenario: str, port: int, calls: int, *extra: str) -> None:
    # -t un: every call from its own port, so the kernel spreads them over both workers.
    run = Sipp(tmp_path, scenario, [*sipp_args(scenario, HOST, free_port(), "un"), f"{HOST}:{port}",
                                    "-s", "alice", "-m", str(calls), "-r", "20", "-timeout", "30s",
                                    "-timeout_error", *extra])
    assert run.wait() == 0, f"{scenario} failed:\n{run.report()}"
