"""Per-message cost of parsing a SIP message and running SER 0.9's etc/ser.cfg main route on it.

Measures, in one run, for a REGISTER and an INVITE (µs per message, best of
--runs timings of --number messages each):
  * parsing alone;
  * parse + the compiled route (ser_script.compiler), what `ser` runs;
  * parse + the same bound script run by the tree walker (ser_script.interpreter);
and prints compiled vs tree walk (the peer measured in the same run) and
compiled vs the 15 µs budget of issue 3. It also times `sum(range(1000))`
so that figures from machines of different speed can be compared (about
8 µs on a current desktop core with CPython 3.11).

The script's own actions and the maxfwd and textops functions are the real
ones. The functions that need the network or the location database (sl, tm,
rr, registrar) are replaced by stand-ins that only return the code the real
one would return on this traffic; they are what issues 4 to 6 add.
Run: python bench/route_cost.py [--runs N] [--number N]
"""

from __future__ import annotations

import argparse
import timeit
from pathlib import Path

from ser_runtime.context import ReceiveInfo, RouteContext
from ser_runtime.myself import Myself
from ser_runtime.sip import SipMessage
from ser_script.checker import check_file
from ser_script.compiler import ScriptEnv, compile_script
from ser_script.interpreter import TreeWalker

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO.parent / "shared" / "corpus" / "ser-cfg" / "04-ser-0.9.x-etc-ser.cfg"
BUDGET_US = 15.0

REGISTER = (
    b"REGISTER sip:example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds7;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: Bob <sip:bob@example.com>;tag=456248\r\n"
    b"To: Bob <sip:bob@example.com>\r\n"
    b"Call-ID: 843817637684230@998sdasdh09\r\n"
    b"CSeq: 1826 REGISTER\r\n"
    b"Contact: <sip:bob@192.0.2.4:5060>\r\n"
    b"Expires: 7200\r\n"
    b"User-Agent: baresip\r\n"
    b"Content-Length: 0\r\n\r\n"
)
INVITE = (
    b"INVITE sip:bob@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@example.com>\r\n"
    b"From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 142\r\n\r\n"
    b"v=0\r\no=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\ns=-\r\n"
    b"c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)
RCV = ReceiveInfo("192.0.2.4", 5060, "192.0.2.1", 5060)

# What sl, tm, rr and registrar would return for this traffic: no Route set
# (loose_route false), no alias (lookup("aliases") false), bob registered.
STAND_INS = {
    "sl_send_reply": lambda ctx, code, reason: 0,
    "sl_reply_error": lambda ctx: 0,
    "record_route": lambda ctx: 1,
    "loose_route": lambda ctx: -1,
    "save": lambda ctx, table: 0,
    "lookup": lambda ctx, table: -1 if table == "aliases" else 1,
    "t_relay": lambda ctx: 1,
}


def _runner(route):
    def one(data: bytes) -> int:
        return route(RouteContext(SipMessage.parse(data), RCV))
    return one


def _best_us(function, data: bytes, runs: int, number: int) -> float:
    timer = timeit.Timer(lambda: function(data))
    return min(timer.repeat(repeat=runs, number=number)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    options = parser.parse_args()
    result = check_file(SCRIPT, "0.9")
    env = ScriptEnv(myself=Myself([("192.0.2.1", 5060), ("example.com", 5060)]), bind=STAND_INS)
    compiled = compile_script(result, env).route()
    walked = TreeWalker(result, env).run
    speed = min(timeit.repeat("sum(range(1000))", number=10000, repeat=options.runs)) / 10000 * 1e6
    print(f"script: {SCRIPT.name} (SER 0.9), {options.runs} runs of {options.number} messages; "
          f"sum(range(1000)) takes {speed:.1f} µs here")
    print(f"{'message':10} {'parse':>8} {'compiled':>10} {'tree walk':>10} {'walk/comp':>10} {'comp/15µs':>10}")
    for name, data in (("REGISTER", REGISTER), ("INVITE", INVITE)):
        parse = _best_us(SipMessage.parse, data, options.runs, options.number)
        fast = _best_us(_runner(compiled), data, options.runs, options.number)
        slow = _best_us(_runner(walked), data, options.runs, options.number)
        print(f"{name:10} {parse:7.2f}µs {fast:8.2f}µs {slow:8.2f}µs {slow / fast:9.2f}x "
              f"{fast / BUDGET_US:9.2f}x")


if __name__ == "__main__":
    main()
