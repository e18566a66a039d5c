"""Calls through the real `ser` as a stateful, record-routing proxy with TCP on one side.

A caller on TCP and a callee on UDP, then the other way round: tm's
transactions on a reliable transport send no retransmissions (RFC 3261
§17.1.1.2), replies go back on the caller's connection (§18.2.2), the
INVITE gets two Record-Routes, one per socket (SER's enable_double_rr), so
that each side's in-dialog requests reach the proxy on its own transport,
and loose_route removes both again from the in-dialog requests (§16.4).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.ports import free_port
from tests.server.harness import SCENARIOS, Ser, Sipp, require
from tests.server.test_tm_forking import messages, received, record_routing_config

pytestmark = pytest.mark.slow

CALLS = 5
BENCH = SHARED / "bench" / "scenarios"


def tcp_config(port: int, callee_uri: str) -> str:
    return record_routing_config(port, f'rewriteuri("{callee_uri}");')


def run_call(tmp_path, caller_scenario: Path, caller_transport: str, callee_scenario: Path,
             callee_transport: str) -> int:
    """CALLS calls through the proxy; every SIPp must succeed.  The proxy's port."""
    port, uas_port = free_port(), free_port()
    callee_uri = f"sip:bench@127.0.0.1:{uas_port}" + (";transport=tcp" if callee_transport == "t1" else "")
    common = ["-i", "127.0.0.1", "-m", str(CALLS), "-nostdin", "-trace_err", "-trace_msg"]
    callee = Sipp(tmp_path, "callee", ["-sf", str(callee_scenario), "-p", str(uas_port), "-t", callee_transport,
                                       *common, "-message_file", "callee_messages.log"])
    try:
        with Ser(tmp_path, tcp_config(port, callee_uri)) as ser:
            caller = Sipp(tmp_path, "caller", ["-sf", str(caller_scenario), "-p", str(free_port()),
                                               "-t", caller_transport, f"127.0.0.1:{port}", "-r", "10",
                                               "-timeout", "30s", "-timeout_error", *common,
                                               "-message_file", "caller_messages.log"])
            assert caller.wait() == 0, caller.report()
            assert callee.wait(15) == 0, callee.report()
    finally:
        callee.kill()
    assert "dropped" not in ser.log, ser.log
    return port


def record_routes(port: int, *tcp: bool) -> list[str]:
    """The Record-Route URIs the proxy writes, one per socket, without the ftag."""
    return [f"<sip:127.0.0.1:{port}" + (";transport=tcp" if t else "") + ";r2=on" for t in tcp]


def routes(message: str, name: str = "Record-Route") -> list[str]:
    """The <URI>s of the message's `name` headers, in order, ftag removed."""
    values = re.findall(rf"^{name}: (.*)$", message, re.M)
    return [re.sub(r";ftag=[^;>]*", "", uri) for value in values for uri in re.findall(r"<[^>]*>", value)]


@pytest.mark.parametrize(("caller_transport", "callee_transport"), [("t1", "u1"), ("u1", "t1")])
def test_a_call_with_tcp_on_one_side(tmp_path, caller_transport, callee_transport):
    require("sipp")
    assert BENCH.is_dir(), f"the shared SIPp scenarios are missing at {BENCH}"
    callee_tcp = callee_transport == "t1"
    callee_scenario = SCENARIOS / "tm-tcp-uas.xml" if callee_tcp else BENCH / "call-uas.xml"
    port = run_call(tmp_path, BENCH / "call-uac.xml", caller_transport, callee_scenario, callee_transport)
    invites = received(tmp_path, "callee", "INVITE ")
    # Over TCP the proxy never retransmits (over UDP it might, on a slow machine).
    assert len(invites) == CALLS if callee_tcp else len(invites) >= CALLS, invites
    callee_via = "TCP" if callee_tcp else "UDP"
    assert all(re.search(rf"^Via: SIP/2.0/{callee_via} 127\.0\.0\.1:", m, re.M) for m in invites), invites
    # Two Record-Routes, the outgoing socket's on top; the BYE arrives with neither left as a Route.
    expected = [f"{uri};lr>" for uri in record_routes(port, callee_tcp, caller_transport == "t1")]
    assert all(routes(m) == expected for m in invites), invites
    byes = received(tmp_path, "callee", "BYE sip:callee@127.0.0.1:")
    assert len(byes) >= CALLS and not any(re.search(r"^Route:", m, re.M) for m in byes), byes


def test_a_callee_on_tcp_hangs_up_through_its_record_route(tmp_path):
    """The callee's BYE names the proxy's TCP socket first (its side of the double Record-Route);
    the proxy takes both entries off and sends it to the caller's Contact over UDP."""
    require("sipp")
    port = run_call(tmp_path, SCENARIOS / "tm-hungup-uac.xml", "u1", SCENARIOS / "tm-hangup-tcp-uas.xml", "t1")
    sent = [m for m in messages(tmp_path, "callee", "sent") if m.startswith("BYE ")]
    assert len(sent) == CALLS, sent
    assert all(routes(m, "Route") == [f"{uri};lr>" for uri in record_routes(port, True, False)] for m in sent), sent
    byes = received(tmp_path, "caller", "BYE sip:caller@127.0.0.1:")
    assert len(byes) >= CALLS and not any(re.search(r"^Route:", m, re.M) for m in byes), byes
