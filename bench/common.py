"""What the SIPp-through-a-proxy benchmarks share: processes, CPU accounting, the ramp, the profile.

A benchmark is a `Workload`: a SIPp UAC and UAS scenario from the anchor
(/work/shared/bench/scenarios), a ser.cfg and the anchor's equivalent
Kamailio config (/work/shared/bench/kamailio, copied with only the listen
port changed, and the workload's text replacements). A server that
answers itself (a registrar) has no UAS; a workload's `setup` hook
prepares what a server needs before it starts (a database, SIPp's
injection file in the run directory). The method is the anchor's
(/work/shared/bench/README.md): every proxy is pinned to core 1
(`taskset -c 1`, so 2 workers share that core) and both SIPps to core 0
(one, without a UAS). For each server a ramp of short runs
(`-r R -rp 1000 -m R*seconds`) doubles the rate until a run is not clean,
then bisects between the last clean rate and the first failing one; a
confirm run at the best rate gives the figures (if it is not clean the rate
drops by 10%, up to four times). Clean: every call succeeded, no
retransmission, and the calls completed per second of SIPp's run reached
95% of the rate asked (a proxy that falls behind fills its buffer before it
loses anything). The UAC uses `-t un` unless the workload says otherwise,
one socket per call: `ser` spreads UDP over its workers with SO_REUSEPORT
by source address, so a single source socket would reach one worker only;
Kamailio gets the same transport. Every UDP receive buffer is 4 MiB (Kamailio's maxbuffer from
common.inc, the same for ser and SIPp's -buff_size). The proxy's CPU time
is utime+stime from /proc of its whole process tree (Kamailio's attendant
and timer processes, ser's supervisor) before and after a run, per
successful call; "others" is what other processes took of each core
meanwhile (the machine is shared, so every run first waits, up to two
minutes, for both cores to be nearly idle). Every run gets a new SIPp UAS.

The profile runs ser alone (fork=no: one process, no supervisor) with
cProfile switched on only inside Worker.serve, so start-up (parsing and
compiling ser.cfg) is not counted, at a fixed rate. Time in the standard
library and in built-ins counts for the group of our code that called it;
the time in epoll's poll is the wait for traffic, shown apart and left out
of shares.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
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
import timeit
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "bench"
SCENARIOS, KAMAILIO_CFG = SHARED / "scenarios", SHARED / "kamailio"
HOST = "127.0.0.1"
SERVER_CORE, SIPP_CORE = "1", "0"
KEEP_PACE = 0.95
QUIET, QUIET_WAIT = 0.15, 120.0  # the busiest core's share that counts as quiet; how long to wait for it
BUFFER = 4194304
TICK = os.sysconf("SC_CLK_TCK")

# ser_runtime.main with the profiler on only while Worker.serve runs; argv: the stats file, then ser's arguments.
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


@dataclasses.dataclass(frozen=True)
class Workload:
    """One benchmark: its SIPp scenarios and the two proxies' configurations.

    `ser_config` is a ser.cfg with the fields {processes} {buffer} {host}
    {port} {next_port} and those `setup` returns; `kamailio_define` gives
    the -A definition (none when empty) that points the Kamailio config at
    the UAS port, called with the port and `setup`'s fields as keywords;
    `kamailio_replace` are (text, replacement) pairs for the copy of the
    Kamailio config; `kamailio_options` are more of its command-line
    options. `uas` None: the server answers the UAC itself. `setup(stack,
    directory, server name)` runs before each server starts, leaves its
    clean-up on `stack` and returns more ser.cfg fields.
    """

    name: str
    unit: str
    messages: int  # SIP messages the proxy receives per unit (call or transaction)
    uac: Path
    uas: Path | None
    ser_config: str
    kamailio_cfg: str
    kamailio_define: Callable[..., str]
    sipp_options: tuple[str, ...] = ()
    kamailio_options: tuple[str, ...] = ()
    kamailio_replace: tuple[tuple[str, str], ...] = ()
    transport: str = "un"  # the UAC's SIPp -t
    setup: Callable[[ExitStack, Path, str], dict[str, str]] | None = None

    def prepare(self, stack: ExitStack, directory: Path, name: str) -> dict[str, str]:
        return self.setup(stack, directory, name) if self.setup else {}


@dataclasses.dataclass(frozen=True)
class Plan:
    start: int
    step_seconds: int
    refine: int
    confirm_seconds: int
    tries: int
    ceiling: int = 64000


DEFAULT = Plan(start=500, step_seconds=3, refine=2, confirm_seconds=10, tries=5)
QUICK = Plan(start=2000, step_seconds=1, refine=0, confirm_seconds=2, tries=1)


@dataclasses.dataclass
class Usage:
    """CPU seconds of the proxy's process tree and of both SIPps, busy seconds per core, UDP drops."""

    server: float
    sipp: float
    cores: list[float]
    drops: int
    wall: float

    @classmethod
    def now(cls, server: int, uas: int | None) -> "Usage":
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the UAC runs we have waited for
        uas_cpu = tree_cpu(uas) if uas else 0.0
        return cls(tree_cpu(server), uas_cpu + children.ru_utime + children.ru_stime, cores_busy(),
                   udp_drops(), time.monotonic())

    def __sub__(self, other: "Usage") -> "Usage":
        return Usage(self.server - other.server, self.sipp - other.sipp,
                     [a - b for a, b in zip(self.cores, other.cores)], self.drops - other.drops,
                     self.wall - other.wall)

    def others(self) -> str:
        """The share of each core that other processes took (core 0: SIPp's, core 1: the proxy's)."""
        ours = {int(SIPP_CORE): self.sipp, int(SERVER_CORE): self.server}
        return "/".join(f"{max(busy - ours.get(core, 0), 0) / self.wall:.0%}"
                        for core, busy in enumerate(self.cores))


@dataclasses.dataclass
class Step:
    """One SIPp UAC run and what it cost."""

    rate: int
    calls: int
    code: int
    ok: int
    failed: int
    retrans: int
    elapsed: float
    usage: Usage

    @property
    def achieved(self) -> float:
        """Calls completed per second of SIPp's run (its last answer included)."""
        return self.ok / self.elapsed if self.elapsed else 0.0

    @property
    def clean(self) -> bool:
        return (self.code == 0 and self.failed == 0 and self.retrans == 0 and self.ok == self.calls
                and self.achieved >= KEEP_PACE * self.rate)

    @property
    def cpu_us(self) -> float:
        """The proxy's CPU time per successful call."""
        return self.usage.server / max(self.ok, 1) * 1e6

    def text(self) -> str:
        return f"{self.rate} {self.verdict()} {self.achieved:.0f}/s, {self.cpu_us:.0f} µs"

    def verdict(self) -> str:
        problems = [f"{count} {what}" for count, what in ((self.failed, "failed"), (self.retrans, "retrans"),
                                                          (self.usage.drops, "UDP drops")) if count]
        if self.achieved < KEEP_PACE * self.rate:
            problems.append("behind")
        if self.code:
            problems.append(f"exit {self.code}")
        return "ok" if self.clean else f"FAIL ({', '.join(problems)})"


@dataclasses.dataclass
class Result:
    name: str
    workers: int
    confirm: Step
    ramp: list[Step]
    command: str
    at_rate: Step | None = None  # the extra run at a rate given to measure()


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


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the process, wait, then SIGKILL its whole process group (ours: start_new_session)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
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


def cores_busy() -> list[float]:
    """Busy seconds of each core since boot (/proc/stat: everything but idle and iowait)."""
    busy = []
    for line in Path("/proc/stat").read_text().splitlines()[1:]:
        if not line.startswith("cpu"):
            break
        ticks = [int(value) for value in line.split()[1:8]]
        busy.append((sum(ticks) - ticks[3] - ticks[4]) / TICK)
    return busy


def udp_drops() -> int:
    """The machine's count of UDP datagrams dropped on a full receive buffer (RcvbufErrors)."""
    header, values = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines()
                      if line.startswith("Udp:")]
    return int(values[header.index("RcvbufErrors")])


# --- the servers ----------------------------------------------------------------------------

def ser_config(work: Workload, path: Path, processes: str, port: int, next_port: int | None,
               fields: dict[str, str]) -> Path:
    path.write_text(work.ser_config.format(processes=processes, buffer=BUFFER, host=HOST, port=port,
                                           next_port=next_port, **fields))
    return path


def ser_argv(work: Workload, directory: Path, port: int, next_port: int | None, workers: int,
             fields: dict[str, str]) -> list[str]:
    config = ser_config(work, directory / f"ser-{workers}.cfg", f"children={workers}", port, next_port, fields)
    return [sys.executable, "-m", "ser_runtime.main", "-D", "-E", "-f", str(config)]


def kamailio_argv(work: Workload, directory: Path, port: int, next_port: int | None, workers: int,
                  fields: dict[str, str]) -> list[str]:
    """The anchor's config with the listen port and the workload's replacements changed; -DD: stay in
    the foreground, with children."""
    config_dir, runtime = directory / f"kamailio-{workers}", directory / f"kamailio-{workers}" / "run"
    runtime.mkdir(parents=True)
    listen = (f"listen=udp:{HOST}:5060", f"listen=udp:{HOST}:{port}")
    (config_dir / "common.inc").write_text(_replaced(KAMAILIO_CFG / "common.inc", (listen,)))
    config = config_dir / work.kamailio_cfg
    config.write_text(_replaced(KAMAILIO_CFG / work.kamailio_cfg, work.kamailio_replace))
    define = work.kamailio_define(next_port, **fields)
    return ["kamailio", "-DD", "-E", "-f", str(config), "-n", str(workers), "-Y", str(runtime),
            *(["-A", define] if define else []), *work.kamailio_options]


def _replaced(path: Path, replacements: tuple[tuple[str, str], ...]) -> str:
    text = path.read_text()
    for old, new in replacements:
        if old not in text:
            raise RuntimeError(f"{path} no longer has {old}")
        text = text.replace(old, new)
    return text


SERVERS = {"ser": (ser_argv, "listening on"), "kamailio": (kamailio_argv, "Listening on")}


def start_server(stack: ExitStack, work: Workload, directory: Path, name: str, workers: int,
                 next_port: int | None) -> tuple[subprocess.Popen, int, str]:
    """Start a proxy pinned to SERVER_CORE, after the workload's setup; (process, its port, its command line)."""
    build, ready = SERVERS[name]
    port, fields = free_udp_port(), work.prepare(stack, directory, name)
    argv = ["taskset", "-c", SERVER_CORE, *build(work, directory, port, next_port, workers, fields)]
    log = directory / f"{name}-{workers}.log"
    process = spawn(argv, log, REPO)
    stack.callback(stop, process)
    wait_for_text(process, log, ready)
    return process, port, shlex.join(argv)


# --- SIPp -----------------------------------------------------------------------------------

def sipp_base(work: Workload, scenario: Path) -> list[str]:
    return ["taskset", "-c", SIPP_CORE, "sipp", "-sf", str(scenario), "-i", HOST, "-nostdin",
            "-buff_size", str(BUFFER), *work.sipp_options]


def uas_argv(work: Workload, port: int | str) -> list[str]:
    return [*sipp_base(work, work.uas), "-p", str(port), "-t", "u1"]


def start_uas(work: Workload, directory: Path, port: int) -> subprocess.Popen:
    process = spawn(uas_argv(work, port), directory / "uas.log", directory)
    time.sleep(0.5)
    if process.poll() is not None:
        raise RuntimeError(f"SIPp UAS exited:\n{(directory / 'uas.log').read_text()[-2000:]}")
    return process


def uac_argv(work: Workload, port: int, rate: int, calls: int, seconds: int, stat: Path) -> list[str]:
    max_socket = resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 100
    return [*sipp_base(work, work.uac), "-t", work.transport, "-max_socket", str(max_socket), f"{HOST}:{port}",
            "-r", str(rate), "-rp", "1000", "-m", str(calls), "-recv_timeout", "4000",
            "-timeout", f"{seconds + 20}s", "-timeout_error", "-trace_stat", "-stf", str(stat), "-fd", "1"]


@dataclasses.dataclass
class Bed:
    """A running proxy and the UAS port behind it: `run(rate, seconds)` is one UAC run through it.

    Every run gets a new UAS: the calls a failed run leaves in a UAS (200s
    retransmitted for half a minute, calls waiting for a BYE) would
    otherwise load the proxy and the UAS during the next runs. No UAS
    (uas_port None) when the workload has none.
    """

    work: Workload
    directory: Path
    server: subprocess.Popen
    port: int
    uas_port: int | None

    def run(self, rate: int, seconds: int) -> Step:
        """One UAC run of rate*seconds calls, with the CPU time used around it."""
        if self.server.poll() is not None:
            raise RuntimeError("the proxy is no longer running")
        calls = rate * seconds
        stat = self.directory / f"stat-{rate}-{time.monotonic_ns()}.csv"
        wait_for_quiet()
        uas = start_uas(self.work, self.directory, self.uas_port) if self.work.uas else None
        uas_pid = uas.pid if uas else None
        try:
            before = Usage.now(self.server.pid, uas_pid)
            with open(self.directory / "uac.log", "a") as out:
                code = subprocess.call(uac_argv(self.work, self.port, rate, calls, seconds, stat),
                                       cwd=self.directory, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
            usage = Usage.now(self.server.pid, uas_pid) - before
        finally:
            if uas:
                stop(uas)
        last = _last_stat(stat)
        settle(self.server.pid)
        return Step(rate, calls, code, int(last.get("SuccessfulCall(C)", 0)), int(last.get("FailedCall(C)", 0)),
                    int(last.get("Retransmissions(C)", 0)), _elapsed(last), usage)


def settle(pid: int, timeout: float = 5.0) -> None:
    """Wait until the proxy is idle: what an overloaded run left in its buffers is handled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = tree_cpu(pid)
        time.sleep(0.2)
        if tree_cpu(pid) - before < 0.02:
            return


def wait_for_quiet() -> None:
    """Wait (up to QUIET_WAIT) until other engineers' jobs leave both cores nearly idle."""
    deadline, waited = time.monotonic() + QUIET_WAIT, False
    while True:
        before = cores_busy()
        time.sleep(1.0)
        busiest = max(b - a for a, b in zip(before, cores_busy()))
        if busiest < QUIET or time.monotonic() > deadline:
            break
        if not waited:
            print(f"  (waiting for a quiet machine: a core is {busiest:.0%} busy)", file=sys.stderr, flush=True)
            waited = True


def _elapsed(row: dict[str, str]) -> float:
    """Seconds from SIPp's start to its last statistics line (the fields end in an epoch time)."""
    try:
        return float(row["CurrentTime"].split()[-1]) - float(row["StartTime"].split()[-1])
    except (KeyError, ValueError, IndexError):
        return 0.0


def _last_stat(path: Path) -> dict[str, str]:
    try:
        rows = list(csv.DictReader(path.open(), delimiter=";"))
    except FileNotFoundError:
        return {}
    return rows[-1] if rows else {}


# --- the method -----------------------------------------------------------------------------

def ramp(run, plan: Plan) -> tuple[int, list[Step]]:
    """Double until a run is not clean, then bisect; the best clean rate and every step."""
    steps, good, bad, rate = [], None, None, plan.start
    while rate <= plan.ceiling and bad is None:
        steps.append(progress(run(rate, plan.step_seconds)))
        good, bad = (rate, None) if steps[-1].clean else (good, rate)
        rate *= 2
    for _ in range(plan.refine if good and bad else 0):
        middle = round((good + bad) / 200) * 100
        steps.append(progress(run(middle, plan.step_seconds)))
        good, bad = (middle, bad) if steps[-1].clean else (good, middle)
    return good or plan.start // 2, steps


def confirm(run, rate: int, plan: Plan) -> Step:
    """A longer run at `rate`; 10% lower when it is not clean, up to plan.tries runs."""
    for _ in range(plan.tries):
        step = progress(run(rate, plan.confirm_seconds), "confirm")
        if step.clean:
            break
        rate = round(rate * 0.9 / 100) * 100
    return step


def progress(step: Step, what: str = "ramp") -> Step:
    print(f"  {what} {step.text()}", file=sys.stderr, flush=True)
    return step


def measure(work: Workload, directory: Path, uas_port: int | None, name: str, workers: int, plan: Plan,
            at_rate: int | None = None) -> Result:
    """Ramp and confirm one server; then, with `at_rate`, one more confirm-length run at that rate."""
    print(f"{name}, {workers} worker(s):", file=sys.stderr, flush=True)
    with ExitStack() as stack:
        server, port, command = start_server(stack, work, directory, name, workers, uas_port)
        bed = Bed(work, directory, server, port, uas_port)
        warm = bed.run(200, 1)
        if not warm.clean:
            raise RuntimeError(f"{name} does not forward: {warm.text()}; see {directory}")
        best, steps = ramp(bed.run, plan)
        result = Result(name, workers, confirm(bed.run, best, plan), steps, command)
        if at_rate is not None:
            result.at_rate = progress(bed.run(at_rate, plan.confirm_seconds), "at rate")
        return result


# --- output ---------------------------------------------------------------------------------

def machine() -> str:
    kamailio = subprocess.run(["kamailio", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    sipp = subprocess.run(["sipp", "-v"], capture_output=True, text=True).stdout.strip().splitlines()[0]
    speed = min(timeit.repeat("sum(range(1000))", number=10000, repeat=5)) / 10000 * 1e6
    return (f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
            f"{kamailio.strip()}, {sipp.strip()}; proxy on core {SERVER_CORE}, SIPp on core {SIPP_CORE}; "
            f"sum(range(1000)) takes {speed:.1f} µs here")


def revision() -> str:
    """The commit of the code measured, and whether the runtime differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = git("status", "--porcelain", "--", "ser_runtime", "ser_script", "stdlib_modules")
    return f"ser at commit {git('rev-parse', '--short', 'HEAD')}" + (" with uncommitted changes" if dirty else "")


def print_table(work: Workload, rows: list[tuple[str, Step]]) -> None:
    """One line per (label, run): rate, messages, CPU per unit, CPU shares."""
    unit = work.unit[:5]
    print(f"\n{'server':16} {unit + '/s':>8} {'SIP msg/s':>10} {'CPU µs/' + unit:>13} "
          f"{'1e6/CPU µs':>11} {'proxy CPU':>10} {'SIPp CPU':>9} {'others c0/c1':>13}  run")
    for label, step in rows:
        usage = step.usage
        print(f"{label:16} {step.achieved:>8.0f} {work.messages * step.achieved:>10.0f} "
              f"{step.cpu_us:>13.1f} {1e6 / step.cpu_us:>9.0f}/s {usage.server / usage.wall:>10.0%} "
              f"{usage.sipp / usage.wall:>9.0%} {usage.others():>13}  {'clean' if step.clean else 'NOT CLEAN'}")


def print_ramps(work: Workload, results: list[Result], plan: Plan) -> None:
    if not plan.refine:
        print("(no bisection in this mode: each rate is only known to a factor of 2; the CPU ratio holds)")
    print(f"\nramps (rate asked: verdict, rate carried, proxy CPU per {work.unit}):")
    for r in results:
        print(f"  {r.name}-{r.workers}: " + "; ".join(s.text() for s in r.ramp))
    print("\ncommands:")
    for r in results:
        print(f"  {r.command}")
    uac = uac_argv(work, 0, 0, 0, plan.confirm_seconds, Path("stat.csv"))
    print(f"  UAC: {shlex.join(uac)} (port, -r, -m per run)")
    if work.uas:
        print(f"  UAS: {shlex.join(uas_argv(work, 'PORT'))}")


# --- profile --------------------------------------------------------------------------------

GROUPS = (
    ("parse", ("ser_runtime/sip/",)),
    ("tm", ("ser_runtime/transaction/", "stdlib_modules/tm.py")),
    ("auth", ("stdlib_modules/auth.py", "stdlib_modules/auth_db.py", "stdlib_modules/digest.py")),
    ("registrar", ("stdlib_modules/registrar.py", "stdlib_modules/usrloc.py")),
    ("db", ("ser_runtime/db/", "stdlib_modules/_db_module.py")),
    ("script", (".cfg", "ser_script/", "stdlib_modules/", "ser_runtime/conditions.py",
                "ser_runtime/core_actions.py", "ser_runtime/context.py", "ser_runtime/myself.py")),
    ("send", ("ser_runtime/sender.py", "ser_runtime/forward.py", "ser_runtime/net/")),
    ("replies", ("ser_runtime/replies.py",)),
    ("syscalls/loop", ("ser_runtime/worker.py",)),
)
IDLE = "epoll wait"
BUILTIN_GROUPS = (("'sendto'", "send"), ("'recvfrom'", "syscalls/loop"), ("'poll' of 'select.epoll'", IDLE))


def own_group(function: tuple) -> str | None:
    """The group of our code (or of a socket call); None for the standard library and other built-ins."""
    filename, _, name = function
    if filename == "~":
        return next((group for text, group in BUILTIN_GROUPS if text in name), None)
    if not (filename.endswith(".cfg") or filename.startswith(str(REPO))):
        return None
    return next((group for group, parts in GROUPS if any(p in filename for p in parts)), "other")


def shares(stats: pstats.Stats, function: tuple, seen: frozenset = frozenset()) -> dict[str, float]:
    """How `function`'s own time divides among the groups: library code counts for its callers."""
    group = own_group(function)
    if group is not None:
        return {group: 1.0}
    callers = stats.stats[function][4]
    total = sum(tt for _, _, tt, _ in callers.values())
    if function in seen or not total:
        return {"other": 1.0}
    result: dict[str, float] = {}
    for caller, (_, _, tt, _) in callers.items():
        for name, share in shares(stats, caller, seen | {function}).items():
            result[name] = result.get(name, 0.0) + share * tt / total
    return result


def breakdown(stats: pstats.Stats) -> dict[str, float]:
    """Own time per group, seconds."""
    totals: dict[str, float] = {}
    for function, (_, _, tottime, _, _) in stats.stats.items():
        for group, share in shares(stats, function).items():
            totals[group] = totals.get(group, 0.0) + share * tottime
    return totals


def profile(work: Workload, rate: int, seconds: int) -> None:
    with tempfile.TemporaryDirectory(prefix=f"{work.name}-") as tmp, ExitStack() as stack:
        directory = Path(tmp)
        stats_file, port = directory / "ser.prof", free_udp_port()
        uas_port = free_udp_port() if work.uas else None
        fields = work.prepare(stack, directory, "ser")
        config = ser_config(work, directory / "ser-profile.cfg", "fork=no", port, uas_port, fields)
        argv = ["taskset", "-c", SERVER_CORE, sys.executable, "-c", PROFILED_SER, str(stats_file),
                "-D", "-E", "-f", str(config)]
        log = directory / "ser-profile.log"
        server = spawn(argv, log, REPO)
        stack.callback(stop, server)
        wait_for_text(server, log, "listening on")
        step = progress(Bed(work, directory, server, port, uas_port).run(rate, seconds), "profiled run")
        stop(server)
        _print_profile(work, pstats.Stats(str(stats_file)), step)
    print(f"\ncommand: {shlex.join(argv[:4])} PROFILED_SER ser.prof -D -E -f ser.cfg (fork=no)")


def _print_profile(work: Workload, stats: pstats.Stats, step: Step) -> None:
    groups, calls, unit = breakdown(stats), max(step.ok, 1), work.unit
    idle = groups.pop(IDLE, 0.0)
    busy = stats.total_tt - idle
    print(f"\nser 1 process under cProfile, {step.text()} (profiler included): {busy:.2f} s busy "
          f"({busy / calls * 1e6:.0f} µs per {unit}), {idle:.2f} s waiting in epoll")
    for group, seconds in sorted(groups.items(), key=lambda item: -item[1]):
        print(f"  {group:14} {seconds / busy:6.1%} {seconds / calls * 1e6:8.1f} µs/{unit}")
    print(f"\n{'tottime':>8} {'per ' + unit:>10} {'calls/' + unit:>11}  function")
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:25]
    for (filename, line, name), (_, ncalls, tottime, _, _) in rows:
        where = name if filename == "~" else f"{_short(filename)}:{line}({name})"
        print(f"{tottime:7.2f}s {tottime / calls * 1e6:8.1f}µs {ncalls / calls:11.2f}  {where}")


def _short(filename: str) -> str:
    path = Path(filename)
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else path.name


# --- main -----------------------------------------------------------------------------------

def main(works: Workload | tuple[Workload, ...], description: str, bench: Callable[[Plan], None],
         profile_rate: int) -> None:
    """The command line every benchmark shares: a full run, --quick, or --profile (of each workload, or one)."""
    works = works if isinstance(works, tuple) else (works,)
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short smoke run: no bisection, 2 s confirm")
    parser.add_argument("--seconds", type=int, help="length of the confirm run (and of the profiled run)")
    parser.add_argument("--profile", action="store_true", help="profile ser (1 process) instead")
    parser.add_argument("--rate", type=int, default=profile_rate, help=f"rate of the profiled run ({works[0].unit}s/s)")
    if len(works) > 1:
        parser.add_argument("--workload", choices=[work.name for work in works], help="profile only this one")
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up as Ctrl-C does
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"date: {datetime.datetime.now():%Y-%m-%d %H:%M}; {revision()}; {machine()}")
    plan = QUICK if options.quick else DEFAULT
    if options.seconds:
        plan = dataclasses.replace(plan, confirm_seconds=options.seconds)
    chosen = getattr(options, "workload", None)
    try:
        if not options.profile:
            bench(plan)
            return
        for work in (work for work in works if chosen in (None, work.name)):
            if len(works) > 1:
                print(f"\n== {work.name}")
            profile(work, options.rate, plan.confirm_seconds)
    except KeyboardInterrupt:
        sys.exit("interrupted; every process started here is stopped")
