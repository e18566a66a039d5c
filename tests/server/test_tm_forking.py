"""Parallel forking through the real `ser` (tm's t_relay with append_branch) to two SIPp callees.

RFC 3261 §16.7: a 2xx goes upstream at once and cancels the branches that
still ring (step 10, §9.1); when every branch fails the caller gets the best
final response (step 6: a 6xx if any, else the lowest class) and the proxy
ACKs each branch's own (§17.1.1.3).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.ports import free_port
from tests.server.harness import SCENARIOS, Ser, Sipp, proxy_config, require

pytestmark = pytest.mark.slow

CALLS = 5
BENCH = SHARED / "bench" / "scenarios"


def tm_config(port: int, routing: str) -> str:
    """proxy_config with rr and tm loaded: `routing` after the Max-Forwards check."""
    return proxy_config("127.0.0.1", port, routing).replace(
        'loadmodule "/usr/lib/ser/modules/maxfwd.so"',
        'loadmodule "/usr/lib/ser/modules/maxfwd.so"\nloadmodule "/usr/lib/ser/modules/rr.so"\n'
        'loadmodule "/usr/lib/ser/modules/tm.so"')


def record_routing_config(port: int, to_callee: str) -> str:
    """tm_config with the classic routing: in-dialog requests follow loose_route, INVITEs are
    record-routed, and a request for the proxy itself goes where `to_callee` (script lines) sends it."""
    return tm_config(port, f"""if (loose_route()) {{
        t_relay();
        break;
    }};
    if (method=="INVITE") {{
        record_route();
    }};
    if (uri==myself) {{
        {to_callee}
    }};
    t_relay();""")


def forking_config(port: int, first_port: int, second_port: int) -> str:
    """A call to the proxy rings at two callees at once: the Request-URI and one appended branch."""
    return record_routing_config(port, f"""rewritehostport("127.0.0.1:{first_port}");
        append_branch("sip:bench@127.0.0.1:{second_port}");""")


def uas(tmp_path, name: str, scenario: Path, port: int) -> Sipp:
    return Sipp(tmp_path, name, ["-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port), "-m", str(CALLS),
                                 "-nostdin", "-trace_err", "-trace_msg", "-message_file", f"{name}_messages.log"])


def rejecting(tmp_path, code: int) -> Path:
    """tm-reject-uas.xml answering `code`."""
    path = tmp_path / f"tm-reject-{code}-uas.xml"
    path.write_text((SCENARIOS / "tm-reject-uas.xml").read_text().replace("[code]", str(code)))
    return path


def uac(tmp_path, scenario, port: int) -> Sipp:
    return Sipp(tmp_path, "caller", ["-sf", str(scenario), "-i", "127.0.0.1", "-p", str(free_port()),
                                     f"127.0.0.1:{port}", "-m", str(CALLS), "-r", "10", "-timeout", "30s",
                                     "-timeout_error", "-nostdin", "-trace_err", "-trace_msg",
                                     "-message_file", "caller_messages.log"])


def run_fork(tmp_path, first: tuple[str, Path], second: tuple[str, Path], caller_scenario: Path) -> Ser:
    """CALLS calls from a caller through the forking proxy to two callees, each given as
    (name, scenario); every SIPp must succeed."""
    port, first_port, second_port = free_port(), free_port(), free_port()
    callees = [uas(tmp_path, name, scenario, callee_port)
               for (name, scenario), callee_port in ((first, first_port), (second, second_port))]
    try:
        with Ser(tmp_path, forking_config(port, first_port, second_port)) as ser:
            caller = uac(tmp_path, caller_scenario, port)
            assert caller.wait() == 0, caller.report()
            for callee in callees:
                assert callee.wait(15) == 0, callee.report()
    finally:
        for callee in callees:
            callee.kill()
    return ser


def messages(tmp_path, name: str, direction: str = "received") -> list[str]:
    """The messages a SIPp process received (or "sent"), from its -trace_msg log."""
    text = (tmp_path / f"{name}_messages.log").read_text(errors="replace")
    chunks = (chunk.partition("\n\n") for chunk in re.split(r"^-{10,} .*\n", text, flags=re.M))
    return [message for head, _, message in chunks if f"message {direction}" in head]


def received(tmp_path, name: str, start_line: str) -> list[str]:
    """The messages `name` received whose first line starts with `start_line`."""
    return [m for m in messages(tmp_path, name) if m.startswith(start_line)]


def test_the_answering_branch_wins_and_the_ringing_one_is_cancelled(tmp_path):
    require("sipp")
    assert BENCH.is_dir(), f"the shared SIPp scenarios are missing at {BENCH}"
    ser = run_fork(tmp_path, ("answering", SCENARIOS / "tm-late-answer-uas.xml"),
                   ("ringing", SCENARIOS / "cancel-uas.xml"), BENCH / "call-uac.xml")
    assert "dropped" not in ser.log, ser.log
    oks = [m for m in received(tmp_path, "caller", "SIP/2.0 200") if re.search(r"^CSeq: 1 INVITE", m, re.M)]
    # One answer per call, always the answering callee's (a retransmission repeats its to-tag).
    assert len({re.search(r"^To:.*tag=(\S+)", m, re.M).group(1) for m in oks}) == CALLS, oks
    assert all(re.search(r"^To:.*tag=\d+A\d+", m, re.M) for m in oks), oks
    # The ringing callee got the proxy's CANCEL, answered it and its INVITE 487, and got the ACK.
    assert len(received(tmp_path, "ringing", "CANCEL sip:bench@127.0.0.1:")) >= CALLS
    assert len(received(tmp_path, "ringing", "ACK sip:bench@127.0.0.1:")) >= CALLS
    assert not received(tmp_path, "caller", "SIP/2.0 487")


@pytest.mark.parametrize(("first", "second", "best"), [(486, 404, 404), (486, 603, 603)])
def test_when_every_branch_rejects_the_caller_gets_the_best_response(tmp_path, first, second, best):
    require("sipp")
    ser = run_fork(tmp_path, ("first", rejecting(tmp_path, first)), ("second", rejecting(tmp_path, second)),
                   SCENARIOS / "tm-rejected-uac.xml")
    assert "dropped" not in ser.log, ser.log
    finals = [m.split("\n", 1)[0] for m in messages(tmp_path, "caller") if re.match(r"SIP/2.0 [3-6]", m)]
    assert len(finals) >= CALLS and all(line.startswith(f"SIP/2.0 {best} ") for line in finals), finals
    for name in ("first", "second"):
        assert len(received(tmp_path, name, "ACK sip:bench@127.0.0.1:")) >= CALLS
