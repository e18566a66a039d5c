"""Calls through a transaction-stateful, record-routing proxy: our `ser` against Kamailio 5.6, in one run.

SIPp's UAC calls SIPp's UAS through the proxy: INVITE (the proxy answers
100 and relays 180 and 200 back), then ACK and BYE (and its 200) along the
recorded route. The proxy receives six SIP messages per call and sends
seven. Both proxies run the same route: Max-Forwards check; a request
with a Route set follows loose_route and is relayed statefully; an INVITE
is record-routed and relayed statefully to the UAS. Kamailio runs the
anchor's /work/shared/bench/kamailio/proxy-stateful.cfg and common.inc
(only the listen port changed; NEXTHOP is the UAS); ser runs the classic
SER 0.9 form of it (t_relay_to_udp for Kamailio's $du + t_relay). SER
0.9's loose_route is -1 when the Route set held only our own entry, as in
this ACK and BYE: it removes that entry and the request falls through to
t_relay_to_udp, which sends it to the UAS its Request-URI names anyway.
Scenarios: /work/shared/bench/scenarios/call-uac.xml and call-uas.xml,
both SIPps with `-default_behaviors all,-abortunexp`, as the anchor's
README asks, because a proxy with two workers may reorder back-to-back
messages.

Measured, in this order: ser with 1 worker, Kamailio with 1 process, ser
with 2 workers, each with the ramp, bisection and confirm run of
bench/common.py (the highest call rate with zero failed calls and no
retransmission). Kamailio and ser with 2 workers then get one more run,
on the same server, at the rate of ser 1 worker's last confirm run: the
proxy's CPU time per call at the same offered rate, the fairer ratio
since SIPp shares the machine. Printed: ser 1 worker against Kamailio
(goal: 40% of the rate) and 2 workers against 1 (goal: 1.8x). Both
workers share core 1 here, so the 2-worker rate cannot show scaling on
this 2-core machine; the CPU per call at the same rate says what a core
per worker would give.

Run: python bench/call_stateful.py [--quick] [--seconds N] [--profile [--rate R]]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import common

SER_CONFIG = """debug=0
log_stderror=yes
{processes}
maxbuffer={buffer}
listen=udp:{host}:{port}
loadmodule "/usr/lib/ser/modules/sl.so"
loadmodule "/usr/lib/ser/modules/maxfwd.so"
loadmodule "/usr/lib/ser/modules/rr.so"
loadmodule "/usr/lib/ser/modules/tm.so"
route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); break; }};
    if (loose_route()) {{
        if (!t_relay()) {{ sl_reply_error(); }};
        break;
    }};
    if (method=="INVITE") {{ record_route(); }};
    if (!t_relay_to_udp("{host}", "{next_port}")) {{ sl_reply_error(); }};
}}
"""

WORK = common.Workload(
    name="call-stateful", unit="call", messages=6,
    uac=common.SCENARIOS / "call-uac.xml", uas=common.SCENARIOS / "call-uas.xml",
    ser_config=SER_CONFIG, kamailio_cfg="proxy-stateful.cfg",
    kamailio_define=lambda next_port: f'NEXTHOP="sip:{common.HOST}:{next_port}"',
    sipp_options=("-default_behaviors", "all,-abortunexp"),
    # Kamailio's default 64 MiB of shared memory holds about 10,000 transactions: at 1,000 calls/s
    # (two transactions each, kept 5 s after their final reply) tm runs out and answers 500.
    kamailio_options=("-m", "1024"))

ORDER = (("ser", 1), ("kamailio", 1), ("ser", 2))
RATE_GOAL, SCALING_GOAL = 0.40, 1.8


def bench(plan: common.Plan) -> None:
    with tempfile.TemporaryDirectory(prefix=f"{WORK.name}-") as tmp:
        directory = Path(tmp)
        uas_port = common.free_udp_port()
        ser1 = common.measure(WORK, directory, uas_port, "ser", 1, plan)
        # ser 1 worker's last confirm run is its run at the common rate; the others get one more.
        ser1.at_rate, rate = ser1.confirm, ser1.confirm.rate
        results = [ser1] + [common.measure(WORK, directory, uas_port, name, workers, plan, at_rate=rate)
                            for name, workers in ORDER[1:]]
    report(results, rate, plan)


def report(results: list[common.Result], rate: int, plan: common.Plan) -> None:
    print("\nconfirm runs (the highest rate found clean; NOT CLEAN: even the last, lowest try failed):")
    common.print_table(WORK, [(f"{r.name} {r.workers}w", r.confirm) for r in results])
    print(f"\nsame offered rate, {rate} calls/s (ser 1 worker's last confirm run):")
    common.print_table(WORK, [(f"{r.name} {r.workers}w", r.at_rate) for r in results])
    ser1, kam1, ser2 = (r.confirm for r in results)
    cpu_ser1, cpu_kam1, cpu_ser2 = (r.at_rate.cpu_us for r in results)
    share, scaling, projected = ser1.achieved / kam1.achieved, ser2.achieved / ser1.achieved, 2 * cpu_ser1 / cpu_ser2
    print(f"\nser 1 worker / Kamailio 1 process: rate {share:.1%}; CPU per call at {rate}/s "
          f"{cpu_ser1 / cpu_kam1:.2f}x (so {cpu_kam1 / cpu_ser1:.1%} of Kamailio's rate on equal CPU)")
    print(f"ser 2 workers / 1 worker: rate {scaling:.2f}x (both on core {common.SERVER_CORE}); "
          f"CPU per call at {rate}/s {cpu_ser2 / cpu_ser1:.2f}x, so {projected:.2f}x on a core per worker")
    print(f"goal, ser 1 worker >= {RATE_GOAL:.0%} of Kamailio's rate: {_verdict(share >= RATE_GOAL)} "
          f"({share:.1%})")
    print(f"goal, 2 workers >= {SCALING_GOAL}x 1 worker: on one core {_verdict(scaling >= SCALING_GOAL)} "
          f"({scaling:.2f}x); projected from CPU per call {_verdict(projected >= SCALING_GOAL)} "
          f"({projected:.2f}x)")
    common.print_ramps(WORK, results, plan)


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    common.main(WORK, __doc__.splitlines()[0], bench, profile_rate=300)
