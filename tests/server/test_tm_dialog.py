"""In-dialog requests through the real `ser`, routed by their Route set (rr's loose_route, then t_relay).

The callee's SIPp plays a second record-routing hop: its Record-Route names
its own address and its Contact names a port where nobody listens, so the
caller's ACK, INFO, re-INVITE and BYE reach it only when the proxy removes
its own Route entry and sends to the next one (RFC 3261 §16.4, §16.6 step 6,
§16.12) instead of to the Request-URI.
"""

from __future__ import annotations

import re

import pytest

from tests.ports import free_port
from tests.server.harness import SCENARIOS, Ser, Sipp, require
from tests.server.test_tm_forking import received, record_routing_config

pytestmark = pytest.mark.slow

CALLS = 5


def dialog_config(port: int, uas_port: int) -> str:
    return record_routing_config(port, f'rewritehostport("127.0.0.1:{uas_port}");')


def test_in_dialog_requests_follow_the_route_set(tmp_path):
    require("sipp")
    port, uas_port, dead_port = free_port(), free_port(), free_port()
    common = ["-i", "127.0.0.1", "-m", str(CALLS), "-nostdin", "-trace_err", "-trace_msg"]
    callee = Sipp(tmp_path, "callee", ["-sf", str(SCENARIOS / "tm-dialog-uas.xml"), "-p", str(uas_port),
                                       "-key", "dead_port", str(dead_port), *common,
                                       "-message_file", "callee_messages.log"])
    try:
        with Ser(tmp_path, dialog_config(port, uas_port)) as ser:
            caller = Sipp(tmp_path, "caller", ["-sf", str(SCENARIOS / "tm-dialog-uac.xml"),
                                               "-p", str(free_port()), f"127.0.0.1:{port}", "-r", "10",
                                               "-timeout", "30s", "-timeout_error", *common,
                                               "-message_file", "caller_messages.log"])
            assert caller.wait() == 0, caller.report()
            assert callee.wait(15) == 0, callee.report()
    finally:
        callee.kill()
    assert "dropped" not in ser.log, ser.log
    for method in ("ACK", "INFO", "INVITE", "BYE"):
        in_dialog = received(tmp_path, "callee", f"{method} sip:callee@127.0.0.1:{dead_port} ")
        assert len(in_dialog) >= CALLS, (method, in_dialog)
        for message in in_dialog:
            # Our own entry is gone; the callee's hop is what is left of the route set.
            routes = re.findall(r"^Route: (.*)$", message, re.M)
            assert routes == [f"<sip:127.0.0.1:{uas_port};lr>"], message
