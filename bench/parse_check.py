"""Parse + check time of ser.cfg files, side by side with `kamailio -c` on the same script.

Measures, in one run:
  * ser-check's parse + check of the largest corpus file (in process);
  * the same for a generated 5,000-line script, and `kamailio -c` checking the
    same script written in Kamailio's spelling (`exit` for `break`, bare module
    names), as a process, with our `ser-check` run as a process beside it;
and prints the ratios. Run: python bench/parse_check.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ser_script.checker import check_file, check_text

REPO = Path(__file__).resolve().parents[1]
LARGEST = REPO.parent / "shared" / "corpus" / "ser-cfg" / "07-ser-2.0-etc-ser-oob.cfg"
MODULES = ("sl", "tm", "rr", "maxfwd", "textops", "usrloc", "registrar")


def generate(lines: int, kamailio: bool) -> str:
    """A 0.9 script of about `lines` lines; Kamailio's spelling when asked."""
    stop = "exit" if kamailio else "break"
    header = ['#!KAMAILIO' if kamailio else '# generated', 'children=2', 'listen=udp:127.0.0.1:5060']
    header += [f'loadmodule "{m}.so"' if kamailio else f'loadmodule "/usr/lib/ser/modules/{m}.so"'
               for m in MODULES]
    main = ["route {", '\tif (!mf_process_maxfwd_header("10")) {',
            '\t\tsl_send_reply("483", "Too Many Hops");', f"\t\t{stop};", "\t}"]
    main += [f"\troute({n});" for n in range(1, 20)] + ["}"]
    body_per_route = max(1, (lines - len(header) - len(main) - 8) // 19)
    routes = []
    for n in range(1, 20):
        routes.append(f"route[{n}] {{")
        routes += _route_body(n, body_per_route, stop)
        routes.append("}")
    failure = ["failure_route[1] {", '\tif (t_check_status("486")) {', '\t\trewritehost("127.0.0.2");',
               "\t\tt_relay();", "\t}", "}"]
    return "\n".join(header + main + routes + failure) + "\n"


def _route_body(n: int, lines: int, stop: str) -> list[str]:
    body: list[str] = []
    i = 0
    while len(body) < lines:
        i += 1
        body += [
            f'\tif (method=="INVITE" && uri=~"^sip:{n}{i}[0-9]*@") {{',
            f"\t\tsetflag({(i % 30) + 1});",
            f'\t\trewritehost("host{i}.example.com");',
            f"\t\tstrip({i % 5});",
            f'\t\tprefix("{i}");',
            '\t\tappend_hf("P-hint: generated\\r\\n");',
            '\t\tt_on_failure("1");',
            "\t\tt_relay();",
            f"\t\t{stop};",
            f"\t}} else if (src_ip==127.0.{n}.{i % 250} && method==\"REGISTER\") {{",
            '\t\tsave("location");',
            f"\t\t{stop};",
            "\t};",
        ]
    return body


def best(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    check_file(LARGEST)  # build the parser tables once, as a long-running server does
    lines = LARGEST.read_text(errors="replace").count("\n")
    largest = best(runs, lambda: check_file(LARGEST))
    print(f"largest corpus file {LARGEST.name} ({lines} lines): parse+check {largest * 1000:.1f} ms "
          f"({largest / lines * 1e6:.1f} us/line)")

    ser_text, kam_text = generate(5000, kamailio=False), generate(5000, kamailio=True)
    ser_lines = ser_text.count("\n")
    result = check_text(ser_text, "generated.cfg", "0.9")
    assert not result.errors, result.errors[:3]
    generated = best(max(3, runs // 4), lambda: check_text(ser_text, "generated.cfg", "0.9"))
    print(f"generated script ({ser_lines} lines): parse+check {generated * 1000:.1f} ms "
          f"({generated / ser_lines * 1e6:.1f} us/line)")

    kamailio = shutil.which("kamailio")
    if kamailio is None:
        print("kamailio not installed (apt-get install kamailio): no peer ratio")
        return
    with tempfile.TemporaryDirectory() as tmp:
        ser_path, kam_path = Path(tmp, "ser.cfg"), Path(tmp, "kamailio.cfg")
        ser_path.write_text(ser_text)
        kam_path.write_text(kam_text)
        kam_run = subprocess.run([kamailio, "-M", "64", "-c", "-f", str(kam_path)], capture_output=True, text=True)
        assert kam_run.returncode == 0, kam_run.stderr[-2000:]
        kam_time = best(max(3, runs // 4), lambda: subprocess.run(
            [kamailio, "-M", "64", "-c", "-f", str(kam_path)], capture_output=True, check=True))
        ours = best(max(3, runs // 4), lambda: subprocess.run(
            [sys.executable, "-m", "ser_script.cli", "--dialect", "0.9", str(ser_path)],
            capture_output=True, check=True))
    print(f"same script, whole process: ser-check {ours * 1000:.0f} ms, kamailio -c {kam_time * 1000:.0f} ms; "
          f"ratio ser-check/kamailio = {ours / kam_time:.1f}x")
    print(f"in-process parse+check vs kamailio -c process: ratio {generated / kam_time:.1f}x")


if __name__ == "__main__":
    main()
