"""The real `ser` as a transaction-stateful proxy (tm's t_relay) between real SIPp UAC and UAS."""

from __future__ import annotations

import re

import pytest

from tests.conftest import SHARED
from tests.ports import free_port
from tests.server.harness import SCENARIOS, Ser, Sipp, proxy_config, require

pytestmark = pytest.mark.slow

CALLS = 10
BENCH = SHARED / "bench" / "scenarios"


def stateful_config(port: int, uas_port: int, failover_port: int | None = None, tm_params: str = "") -> str:
    """t_relay to the UAS; with failover_port, failure_route[1] relays there instead."""
    arm = 't_on_failure("1");' if failover_port else ""
    routing = f"""if (loose_route()) {{
        t_relay();
        break;
    }};
    if (method=="INVITE") {{
        record_route();
        {arm}
    }};
    if (uri==myself) {{
        rewritehostport("127.0.0.1:{uas_port}");
    }};
    t_relay();"""
    config = proxy_config("127.0.0.1", port, routing)
    if failover_port:
        config += f'\nfailure_route[1] {{\n    rewritehostport("127.0.0.1:{failover_port}");\n    t_relay();\n}}\n'
    return config.replace(
        'loadmodule "/usr/lib/ser/modules/maxfwd.so"',
        'loadmodule "/usr/lib/ser/modules/maxfwd.so"\nloadmodule "/usr/lib/ser/modules/rr.so"\n'
        'loadmodule "/usr/lib/ser/modules/tm.so"\n' + tm_params)


# The caller reaches ser over UDP or TCP (SIPp's -t t1: one connection); ser relays over UDP.
# Both sides on TCP are in test_tm_tcp.py.
CALLER_TRANSPORTS = pytest.mark.parametrize("caller", ["udp", "tcp"])


def caller_args(caller: str) -> tuple:
    return ("-t", "t1") if caller == "tcp" else ()


def run_pair(tmp_path, port: int, uas_port: int, uac_scenario, uas_scenario,
             uac_extra: tuple = (), uas_extra: tuple = ()) -> None:
    uas = Sipp(tmp_path, uas_scenario.stem, ["-sf", str(uas_scenario), "-i", "127.0.0.1", "-p", str(uas_port),
                                             "-m", str(CALLS), "-nostdin", "-trace_err", "-trace_msg",
                                             *uas_extra])
    try:
        uac = Sipp(tmp_path, uac_scenario.stem, ["-sf", str(uac_scenario), "-i", "127.0.0.1",
                                                 "-p", str(free_port()), f"127.0.0.1:{port}",
                                                 "-m", str(CALLS), "-r", "20", "-timeout", "30s",
                                                 "-timeout_error", "-nostdin", "-trace_err", "-trace_msg",
                                                 *uac_extra])
        assert uac.wait() == 0, uac.report()
        assert uas.wait(15) == 0, uas.report()
    finally:
        uas.kill()


@CALLER_TRANSPORTS
def test_calls_through_a_stateful_record_routing_proxy(tmp_path, caller):
    require("sipp")
    assert BENCH.is_dir(), f"the shared SIPp scenarios are missing at {BENCH}"
    port, uas_port = free_port(), free_port()
    with Ser(tmp_path, stateful_config(port, uas_port)) as ser:
        run_pair(tmp_path, port, uas_port, BENCH / "call-uac.xml", BENCH / "call-uas.xml",
                 uac_extra=caller_args(caller))
    assert "dropped" not in ser.log, ser.log
    seen = "".join(p.read_text(errors="replace") for p in tmp_path.glob("call-uac*_messages.log"))
    assert len(re.findall(r"^SIP/2.0 100 trying -- your call is important to us", seen, re.M)) >= CALLS


@CALLER_TRANSPORTS
def test_a_busy_callee_gets_its_486_to_the_caller(tmp_path, caller):
    require("sipp")
    port, uas_port = free_port(), free_port()
    with Ser(tmp_path, stateful_config(port, uas_port)):
        run_pair(tmp_path, port, uas_port, SCENARIOS / "busy-uac.xml", BENCH / "busy-uas.xml",
                 uac_extra=caller_args(caller))
    seen = "".join(p.read_text(errors="replace") for p in tmp_path.glob("busy-uas*_messages.log"))
    # The ACK the callee gets is the proxy's own (hop by hop, RFC 3261 §17.1.1.3), one per call.
    assert len(re.findall(r"^ACK sip:bench@127\.0\.0\.1:\d+ SIP/2.0", seen, re.M)) >= CALLS


@CALLER_TRANSPORTS
def test_a_cancel_while_ringing_ends_the_call_with_487(tmp_path, caller):
    require("sipp")
    port, uas_port = free_port(), free_port()
    with Ser(tmp_path, stateful_config(port, uas_port)) as ser:
        run_pair(tmp_path, port, uas_port, SCENARIOS / "cancel-uac.xml", SCENARIOS / "cancel-uas.xml",
                 uac_extra=caller_args(caller))
    assert "dropped" not in ser.log, ser.log
    seen = "".join(p.read_text(errors="replace") for p in tmp_path.glob("cancel-uas*_messages.log"))
    # The callee's CANCEL and ACK are the proxy's own (RFC 3261 §16.10, §17.1.1.3).
    assert len(re.findall(r"^CANCEL sip:bench@127\.0\.0\.1:\d+ SIP/2.0", seen, re.M)) >= CALLS
    assert len(re.findall(r"^ACK sip:bench@127\.0\.0\.1:\d+ SIP/2.0", seen, re.M)) >= CALLS


@CALLER_TRANSPORTS
def test_a_busy_callee_fails_over_to_a_second_one_in_failure_route(tmp_path, caller):
    require("sipp")
    assert BENCH.is_dir(), f"the shared SIPp scenarios are missing at {BENCH}"
    port, busy_port, uas_port = free_port(), free_port(), free_port()
    config = stateful_config(port, busy_port, failover_port=uas_port)
    busy = Sipp(tmp_path, "busy-uas", ["-sf", str(BENCH / "busy-uas.xml"), "-i", "127.0.0.1",
                                       "-p", str(busy_port), "-m", str(CALLS), "-nostdin", "-trace_err",
                                       "-trace_msg"])
    try:
        with Ser(tmp_path, config) as ser:
            run_pair(tmp_path, port, uas_port, BENCH / "call-uac.xml", BENCH / "call-uas.xml",
                     uac_extra=caller_args(caller))
        assert busy.wait(15) == 0, busy.report()
    finally:
        busy.kill()
    assert "dropped" not in ser.log, ser.log


@CALLER_TRANSPORTS
def test_a_callee_that_never_answers_gets_the_caller_a_408_after_fr_timer(tmp_path, caller):
    require("sipp")
    port, uas_port = free_port(), free_port()
    params = 'modparam("tm", "fr_timer", 1)\nmodparam("tm", "fr_inv_timer", 2)\n'
    with Ser(tmp_path, stateful_config(port, uas_port, tm_params=params)):
        run_pair(tmp_path, port, uas_port, SCENARIOS / "timeout-uac.xml", SCENARIOS / "silent-uas.xml",
                 uac_extra=caller_args(caller))
    seen = "".join(p.read_text(errors="replace") for p in tmp_path.glob("timeout-uac*_messages.log"))
    assert len(re.findall(r"^SIP/2.0 408 ", seen, re.M)) >= CALLS


@CALLER_TRANSPORTS
def test_a_callee_that_rings_forever_is_cancelled_and_the_caller_gets_408_after_fr_inv_timer(tmp_path, caller):
    """noisy_ctimer 1: Timer C (fr_inv_timer after the 180) CANCELs the ringing callee, which
    answers 487, and the caller gets the proxy's 408 (with the default 0, SER lets it ring on)."""
    require("sipp")
    port, uas_port = free_port(), free_port()
    params = 'modparam("tm", "fr_inv_timer", 2)\nmodparam("tm", "noisy_ctimer", 1)\n'
    with Ser(tmp_path, stateful_config(port, uas_port, tm_params=params)):
        run_pair(tmp_path, port, uas_port, SCENARIOS / "tm-ringing-timeout-uac.xml", SCENARIOS / "cancel-uas.xml",
                 uac_extra=caller_args(caller))
    seen = "".join(p.read_text(errors="replace") for p in tmp_path.glob("tm-ringing-timeout-uac*_messages.log"))
    assert len(re.findall(r"^SIP/2.0 180 ", seen, re.M)) >= CALLS
    assert len(re.findall(r"^SIP/2.0 408 ", seen, re.M)) >= CALLS


def test_every_call_completes_through_tm_under_datagram_loss(tmp_path):
    """Both SIPps lose 20% of the datagrams they send and receive (the callee all but its 200
    to the BYE, see tm-lossy-call-uas.xml): tm answers the retransmitted INVITE and BYE from
    their transactions and retransmits them to the callee itself, the callee retransmits its
    200, and every call completes.  The caller re-ACKs each retransmitted 200, which may reach
    the callee after the BYE: the callee's SIPp is told not to abort the call on it."""
    require("sipp")
    assert BENCH.is_dir(), f"the shared SIPp scenarios are missing at {BENCH}"
    port, uas_port = free_port(), free_port()
    lossy = ("-lost", "20")
    with Ser(tmp_path, stateful_config(port, uas_port)):
        run_pair(tmp_path, port, uas_port, SCENARIOS / "lossy-call-uac.xml", SCENARIOS / "tm-lossy-call-uas.xml",
                 uac_extra=lossy, uas_extra=(*lossy, "-default_behaviors", "all,-abortunexp"))
