"""Stateless OPTIONS forwarding through our `ser` and through Kamailio 5.6, 1 and 2 workers, in one run.

SIPp's UAC sends OPTIONS to the proxy, the proxy forwards them to SIPp's UAS
and relays the 200 back by its Via: one transaction is two SIP messages
through the proxy (four datagrams). Both proxies run the same route:
Max-Forwards check, then forward(127.0.0.1, UAS port). Kamailio runs the
anchor's /work/shared/bench/kamailio/proxy-stateless.cfg and common.inc,
copied into a temporary directory with only the listen port changed.
Scenarios: /work/shared/bench/scenarios/options-uac.xml and options-uas.xml.

Method (/work/shared/bench/README.md): every proxy is pinned to core 1
(`taskset -c 1`, so 2 workers share that core) and both SIPps to core 0.
For each server a ramp of short runs (`-r R -rp 1000 -m R*seconds`) doubles
the rate until a run has a failed call or a retransmission, then bisects
between the last clean rate and the first failing one; a confirm run at the
best rate gives the figures (if it is not clean the rate drops by 10%, up
to three times). A rate that SIPp itself cannot offer (below 95% of the
target) ends the ramp and is marked "SIPp". The UAC uses `-t un`, one
socket per call: `ser` spreads UDP over its workers with SO_REUSEPORT by
source address, so a single source socket would reach one worker only;
Kamailio gets the same transport. The server's CPU time is utime+stime
from /proc of its whole process tree (Kamailio's attendant and timer
processes, ser's supervisor) before and after the confirm run, per
successful transaction.

--profile instead runs ser alone (fork=no: one process, no supervisor)
with cProfile switched on only inside Worker.serve, so start-up (parsing
and compiling ser.cfg) is not counted, at a fixed --rate, and prints where
the time goes, by group and by function.

Run: python bench/options_forward.py [--quick] [--seconds N] [--profile [--rate R]]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import platform
import pstats
import resource
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "bench"
UAC, UAS = SHARED / "scenarios" / "options-uac.xml", SHARED / "scenarios" / "options-uas.xml"
KAMAILIO_CFG = SHARED / "kamailio"
HOST = "127.0.0.1"
SERVER_CORE, SIPP_CORE = "1", "0"
SIPP_SHORTFALL = 0.95
TICK = os.sysconf("SC_CLK_TCK")

SER_CONFIG = """debug=0
log_stderror=yes
{processes}
listen=udp:{host}:{port}
loadmodule "/usr/lib/ser/modules/sl.so"
loadmodule "/usr/lib/ser/modules/maxfwd.so"
route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); break; }};
    forward({host}, {next_port});
}}
"""

# ser_runtime.main with the profiler on only while Worker.serve runs; argv: stats file, ser's arguments.
PROFILED_SER = """import cProfile, sys
from ser_runtime import main, worker
profile, serve = cProfile.Profile(), worker.Worker.serve
def profiled(*args, **kwargs):
    profile.enable()
    try:
        return serve(*args, **kwargs)
    finally:
        profile.disable()
        profile.dump_stats(sys.argv[1])
worker.Worker.serve = profiled
main.main(sys.argv[2:])
"""


@dataclass(frozen=True)
class Plan:
    start: int
    step_seconds: int
    refine: int
    confirm_seconds: int
    ceiling: int = 64000


DEFAULT = Plan(start=500, step_seconds=3, refine=2, confirm_seconds=10)
QUICK = Plan(start=1000, step_seconds=1, refine=0, confirm_seconds=2)


@dataclass
class Step:
    """One SIPp UAC run and the server's CPU time during it."""

    rate: int
    calls: int
    code: int
    ok: int
    failed: int
    retrans: int
    achieved: float
    cpu: float

    @property
    def clean(self) -> bool:
        return self.code == 0 and self.failed == 0 and self.retrans == 0 and self.ok == self.calls

    @property
    def sipp_bound(self) -> bool:
        return self.achieved < SIPP_SHORTFALL * self.rate

    def text(self) -> str:
        if self.clean:
            return f"{self.rate} ok" + (f" (SIPp offered {self.achieved:.0f}/s)" if self.sipp_bound else "")
        return f"{self.rate} FAIL (failed {self.failed}, retrans {self.retrans}, exit {self.code})"


@dataclass
class Result:
    name: str
    workers: int
    confirm: Step
    ramp: list[Step] = field(default_factory=list)
    command: str = ""


# --- processes ------------------------------------------------------------------------------

def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def spawn(argv: list[str], log: Path, cwd: Path) -> subprocess.Popen:
    """A process in its own session (Ctrl-C reaches only us), output to `log`."""
    with open(log, "w") as out:
        return subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def stop(process: subprocess.Popen, signum: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Signal the process, wait, then SIGKILL its whole process group (ours: start_new_session)."""
    if process.poll() is None:
        process.send_signal(signum)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def wait_for_text(process: subprocess.Popen, log: Path, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{process.args[0]} did not start:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)


def tree_cpu(pid: int) -> float:
    """utime+stime in seconds of `pid` and all its descendants (live ones)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK + sum(tree_cpu(int(child)) for child in children)


# --- the servers ----------------------------------------------------------------------------

def ser_config(path: Path, processes: str, port: int, next_port: int) -> Path:
    path.write_text(SER_CONFIG.format(processes=processes, host=HOST, port=port, next_port=next_port))
    return path


def ser_argv(directory: Path, port: int, next_port: int, workers: int) -> list[str]:
    config = ser_config(directory / f"ser-{workers}.cfg", f"children={workers}", port, next_port)
    return [sys.executable, "-m", "ser_runtime.main", "-D", "-E", "-f", str(config)]


def kamailio_argv(directory: Path, port: int, next_port: int, workers: int) -> list[str]:
    """The anchor's config with only the listen port changed; -DD: stay in the foreground, with children."""
    config_dir, runtime = directory / f"kamailio-{workers}", directory / f"kamailio-{workers}" / "run"
    runtime.mkdir(parents=True)
    common = (KAMAILIO_CFG / "common.inc").read_text()
    (config_dir / "common.inc").write_text(common.replace(f"listen=udp:{HOST}:5060", f"listen=udp:{HOST}:{port}"))
    config = config_dir / "proxy-stateless.cfg"
    config.write_text((KAMAILIO_CFG / "proxy-stateless.cfg").read_text())
    return ["kamailio", "-DD", "-E", "-f", str(config), "-n", str(workers), "-Y", str(runtime),
            "-A", f"NEXTPORT={next_port}"]


SERVERS = {"ser": (ser_argv, "listening on"), "kamailio": (kamailio_argv, "Listening on")}


def start_server(stack: ExitStack, directory: Path, name: str, workers: int, next_port: int,
                 argv: list[str] | None = None) -> tuple[subprocess.Popen, int, str]:
    """Start a proxy pinned to SERVER_CORE; (process, its port, its command line)."""
    build, ready = SERVERS[name]
    port = free_udp_port()
    command = build(directory, port, next_port, workers)
    argv = ["taskset", "-c", SERVER_CORE, *(argv or command)]
    log = directory / f"{name}-{workers}.log"
    process = spawn(argv, log, REPO)
    stack.callback(stop, process)
    wait_for_text(process, log, ready)
    return process, port, shlex.join(argv)


# --- SIPp -----------------------------------------------------------------------------------

def sipp_base(scenario: Path) -> list[str]:
    return ["taskset", "-c", SIPP_CORE, "sipp", "-sf", str(scenario), "-i", HOST, "-nostdin"]


def start_uas(stack: ExitStack, directory: Path) -> tuple[subprocess.Popen, int]:
    port = free_udp_port()
    process = spawn([*sipp_base(UAS), "-p", str(port), "-t", "u1"], directory / "uas.log", directory)
    stack.callback(stop, process)
    time.sleep(0.5)
    if process.poll() is not None:
        raise RuntimeError(f"SIPp UAS exited:\n{(directory / 'uas.log').read_text()[-2000:]}")
    return process, port


def uac_argv(port: int, rate: int, calls: int, seconds: int, stat: Path) -> list[str]:
    max_socket = resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 100
    return [*sipp_base(UAC), "-t", "un", "-max_socket", str(max_socket), f"{HOST}:{port}",
            "-r", str(rate), "-rp", "1000", "-m", str(calls), "-recv_timeout", "4000",
            "-timeout", f"{seconds + 20}s", "-timeout_error", "-trace_stat", "-stf", str(stat), "-fd", "1"]


def run_uac(directory: Path, server: subprocess.Popen, uas: subprocess.Popen, port: int, rate: int,
            seconds: int) -> Step:
    """One UAC run of rate*seconds calls; the server's CPU time around it."""
    if server.poll() is not None or uas.poll() is not None:
        raise RuntimeError("the proxy or the SIPp UAS is no longer running")
    calls = rate * seconds
    stat = directory / f"stat-{rate}-{time.monotonic_ns()}.csv"
    before = tree_cpu(server.pid)
    with open(directory / "uac.log", "a") as out:
        code = subprocess.call(uac_argv(port, rate, calls, seconds, stat), cwd=directory, stdout=out,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    cpu = tree_cpu(server.pid) - before
    last = _last_stat(stat)
    time.sleep(0.5)  # let stray datagrams drain before the next run
    return Step(rate, calls, code, int(last.get("SuccessfulCall(C)", 0)), int(last.get("FailedCall(C)", 0)),
                int(last.get("Retransmissions(C)", 0)), float(last.get("CallRate(C)", 0)), cpu)


def _last_stat(path: Path) -> dict[str, str]:
    try:
        rows = list(csv.DictReader(path.open(), delimiter=";"))
    except FileNotFoundError:
        return {}
    return rows[-1] if rows else {}


# --- the method -----------------------------------------------------------------------------

def ramp(run, plan: Plan) -> tuple[int, list[Step]]:
    """Double until a failure (or SIPp's limit), then bisect; the best clean rate and every step."""
    steps, good, bad, rate = [], None, None, plan.start
    while rate <= plan.ceiling:
        steps.append(run(rate, plan.step_seconds))
        _progress(steps[-1])
        if not steps[-1].clean:
            bad = rate
            break
        good = rate
        if steps[-1].sipp_bound:
            break
        rate *= 2
    for _ in range(plan.refine if good and bad else 0):
        middle = round((good + bad) / 200) * 100
        steps.append(run(middle, plan.step_seconds))
        _progress(steps[-1])
        good, bad = (middle, bad) if steps[-1].clean else (good, middle)
    return good or plan.start // 2, steps


def confirm(run, rate: int, plan: Plan) -> Step:
    """A longer run at `rate`; 10% lower when it is not clean, at most three tries."""
    for _ in range(3):
        step = run(rate, plan.confirm_seconds)
        _progress(step, "confirm")
        if step.clean:
            return step
        rate = round(rate * 0.9 / 100) * 100
    return step


def _progress(step: Step, what: str = "ramp") -> None:
    print(f"  {what} {step.text()}, server CPU {step.cpu:.2f} s", file=sys.stderr, flush=True)


def measure(directory: Path, uas: subprocess.Popen, uas_port: int, name: str, workers: int,
            plan: Plan) -> Result:
    print(f"{name}, {workers} worker(s):", file=sys.stderr, flush=True)
    with ExitStack() as stack:
        server, port, command = start_server(stack, directory, name, workers, uas_port)

        def run(rate, seconds):
            return run_uac(directory, server, uas, port, rate, seconds)
        warm = run(200, 1)
        if not warm.clean:
            raise RuntimeError(f"{name} does not forward: {warm.text()}; see {directory}")
        best, steps = ramp(run, plan)
        return Result(name, workers, confirm(run, best, plan), steps, command)


# --- output ---------------------------------------------------------------------------------

def machine() -> str:
    kamailio = subprocess.run(["kamailio", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    sipp = subprocess.run(["sipp", "-v"], capture_output=True, text=True).stdout.strip().splitlines()[0]
    return (f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
            f"{kamailio.strip()}, {sipp.strip()}; proxy on core {SERVER_CORE}, SIPp on core {SIPP_CORE}")


def report(results: list[Result], plan: Plan) -> None:
    print(f"\n{'server':10} {'workers':>7} {'trans/s':>8} {'SIP msg/s':>10} {'CPU µs/trans':>13} "
          f"{'server CPU':>11}  limit")
    for r in results:
        step = r.confirm
        load = step.cpu / plan.confirm_seconds * 100
        limit = "SIPp" if step.sipp_bound else ("proxy" if step.clean else "NOT CLEAN")
        print(f"{r.name:10} {r.workers:>7} {step.achieved:>8.0f} {2 * step.achieved:>10.0f} "
              f"{_per_call_us(step):>13.1f} {load:>10.0f}%  {limit}")
    by_key = {(r.name, r.workers): r.confirm for r in results}
    print()
    for workers in (1, 2):
        ser, kam = by_key[("ser", workers)], by_key[("kamailio", workers)]
        print(f"ser/kamailio, {workers} worker(s): rate {ser.achieved / kam.achieved:.1%}, "
              f"CPU per transaction {_per_call_us(ser) / _per_call_us(kam):.1f}x")
    share = by_key[("ser", 1)].achieved / by_key[("kamailio", 1)].achieved
    print(f"goal, ser 1 worker >= 50% of Kamailio 1 worker: {'met' if share >= 0.5 else 'NOT met'} ({share:.1%})")
    print("\nramps:")
    for r in results:
        print(f"  {r.name}-{r.workers}: " + "; ".join(s.text() for s in r.ramp))
    print("\ncommands:")
    for r in results:
        print(f"  {r.command}")
    print(f"  UAC: {shlex.join(uac_argv(0, 0, 0, plan.confirm_seconds, Path('stat.csv')))} (port, -r, -m per run)")
    print(f"  UAS: {shlex.join([*sipp_base(UAS), '-p', 'PORT', '-t', 'u1'])}")


def _per_call_us(step: Step) -> float:
    return step.cpu / max(step.ok, 1) * 1e6


def bench(plan: Plan) -> None:
    results = []
    with tempfile.TemporaryDirectory(prefix="options-forward-") as tmp, ExitStack() as stack:
        directory = Path(tmp)
        uas, uas_port = start_uas(stack, directory)
        for workers in (1, 2):
            for name in ("ser", "kamailio"):
                results.append(measure(directory, uas, uas_port, name, workers, plan))
    report(results, plan)


# --- profile --------------------------------------------------------------------------------

GROUPS = (
    ("parse", ("ser_runtime/sip/",)),
    ("script", (".cfg", "ser_script/", "stdlib_modules/", "ser_runtime/conditions.py",
                "ser_runtime/core_actions.py", "ser_runtime/context.py", "ser_runtime/myself.py")),
    ("send", ("ser_runtime/sender.py", "ser_runtime/forward.py", "ser_runtime/net/")),
    ("syscalls/loop", ("selectors.py", "ser_runtime/worker.py")),
)
BUILTIN_GROUPS = (("'sendto'", "send"), ("'recvfrom'", "syscalls/loop"), ("'poll'", "syscalls/loop"))


def group_of(function: tuple) -> str | None:
    """The group of a Python function by its file; None for a built-in (it goes with its callers)."""
    filename, _, name = function
    if filename == "~":
        return next((group for text, group in BUILTIN_GROUPS if text in name), None)
    return next((group for group, parts in GROUPS if any(p in filename for p in parts)), "other")


def breakdown(stats: pstats.Stats) -> dict[str, float]:
    """Self time per group; a built-in's time is split over its callers' groups."""
    totals: dict[str, float] = {}
    for function, (_, _, tottime, _, callers) in stats.stats.items():
        group = group_of(function)
        if group is not None:
            totals[group] = totals.get(group, 0.0) + tottime
            continue
        for caller, (_, _, caller_tt, _) in callers.items():
            key = group_of(caller) or "other"
            totals[key] = totals.get(key, 0.0) + caller_tt
    return totals


def profile(rate: int, seconds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="options-forward-") as tmp, ExitStack() as stack:
        directory = Path(tmp)
        uas, uas_port = start_uas(stack, directory)
        stats_file, port = directory / "ser.prof", free_udp_port()
        config = ser_config(directory / "ser-profile.cfg", "fork=no", port, uas_port)
        argv = ["taskset", "-c", SERVER_CORE, sys.executable, "-c", PROFILED_SER, str(stats_file),
                "-D", "-E", "-f", str(config)]
        log = directory / "ser-profile.log"
        server = spawn(argv, log, REPO)
        stack.callback(stop, server)
        wait_for_text(server, log, "listening on")
        step = run_uac(directory, server, uas, port, rate, seconds)
        _progress(step, "profiled run")
        stop(server)
        _print_profile(pstats.Stats(str(stats_file)), step)
    print(f"\ncommand: {shlex.join(argv[:4])} PROFILED_SER ser.prof -D -E -f ser.cfg (fork=no)")


def _print_profile(stats: pstats.Stats, step: Step) -> None:
    total = stats.total_tt
    calls = max(step.ok, 1)
    print(f"\nser 1 process under cProfile, {step.text()}: {total:.2f} s profiled, "
          f"{total / calls * 1e6:.0f} µs per transaction (profiler included)")
    for group, seconds in sorted(breakdown(stats).items(), key=lambda item: -item[1]):
        print(f"  {group:14} {seconds / total:6.1%} {seconds / calls * 1e6:8.1f} µs/trans")
    print(f"\n{'tottime':>8} {'per trans':>10} {'calls/trans':>11}  function")
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:20]
    for (filename, line, name), (_, ncalls, tottime, _, _) in rows:
        where = name if filename == "~" else f"{_short(filename)}:{line}({name})"
        print(f"{tottime:7.2f}s {tottime / calls * 1e6:8.1f}µs {ncalls / calls:11.2f}  {where}")


def _short(filename: str) -> str:
    path = Path(filename)
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else path.name


# --- main -----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run, under a minute")
    parser.add_argument("--seconds", type=int, help="length of the confirm run (and of the profiled run)")
    parser.add_argument("--profile", action="store_true", help="profile ser (1 process) instead")
    parser.add_argument("--rate", type=int, default=1000, help="rate of the profiled run (transactions/s)")
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up as Ctrl-C does
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"date: {datetime.datetime.now():%Y-%m-%d %H:%M}; {machine()}")
    plan = QUICK if options.quick else DEFAULT
    if options.seconds:
        plan = Plan(plan.start, plan.step_seconds, plan.refine, options.seconds)
    if options.profile:
        profile(options.rate, plan.confirm_seconds)
    else:
        bench(plan)


if __name__ == "__main__":
    main()
