"""Stateless OPTIONS forwarding through our `ser` and through Kamailio 5.6, 1 and 2 workers, in one run.

SIPp's UAC sends OPTIONS to the proxy, the proxy forwards them to SIPp's UAS
and relays the 200 back by its Via: one transaction is two SIP messages
through the proxy (four datagrams). Both proxies run the same route:
Max-Forwards check, then forward(127.0.0.1, UAS port). Kamailio runs the
anchor's /work/shared/bench/kamailio/proxy-stateless.cfg and common.inc,
copied into a temporary directory with only the listen port changed.
Scenarios: /work/shared/bench/scenarios/options-uac.xml and options-uas.xml.
The method (ramp, bisection, confirm run, CPU from /proc) and --profile
are bench/common.py's.

Run: python bench/options_forward.py [--quick] [--seconds N] [--profile [--rate R]]
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
route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); break; }};
    forward({host}, {next_port});
}}
"""

WORK = common.Workload(
    name="options-forward", unit="transaction", messages=2,
    uac=common.SCENARIOS / "options-uac.xml", uas=common.SCENARIOS / "options-uas.xml",
    ser_config=SER_CONFIG, kamailio_cfg="proxy-stateless.cfg",
    kamailio_define=lambda next_port: f"NEXTPORT={next_port}")


def report(results: list[common.Result], plan: common.Plan) -> None:
    common.print_table(WORK, [(f"{r.name} {r.workers}w", r.confirm) for r in results])
    by_key = {(r.name, r.workers): r.confirm for r in results}
    print()
    for workers in (1, 2):
        ser, kam = by_key[("ser", workers)], by_key[("kamailio", workers)]
        print(f"ser/kamailio, {workers} worker(s): rate {ser.achieved / kam.achieved:.1%}; "
              f"CPU per transaction {ser.cpu_us / kam.cpu_us:.2f}x (so {kam.cpu_us / ser.cpu_us:.1%} "
              f"of Kamailio's rate on an equal share of CPU)")
    share = by_key[("ser", 1)].achieved / by_key[("kamailio", 1)].achieved
    print(f"goal, ser 1 worker >= 50% of Kamailio 1 worker's rate: {'met' if share >= 0.5 else 'NOT met'} "
          f"({share:.1%})")
    common.print_ramps(WORK, results, plan)


def bench(plan: common.Plan) -> None:
    results = []
    with tempfile.TemporaryDirectory(prefix=f"{WORK.name}-") as tmp:
        directory = Path(tmp)
        uas_port = common.free_udp_port()
        for workers in (1, 2):
            for name in ("ser", "kamailio"):
                results.append(common.measure(WORK, directory, uas_port, name, workers, plan))
    report(results, plan)


if __name__ == "__main__":
    common.main(WORK, __doc__.splitlines()[0], bench, profile_rate=1000)
