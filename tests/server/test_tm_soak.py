"""A soak run of calls through the real `ser` (tm's t_relay): transaction memory stays bounded.

SIPp makes calls at CALL_RATE for SER_TM_SOAK_SECONDS (60 by default; the
issue's 10 minutes is SER_TM_SOAK_SECONDS=600).  Each worker's transaction
manager logs its table's size and high-water mark (`tm: N transactions (at
most P)`, debug level, at most once a second), which is what the test reads.

How long a transaction may live: a call's INVITE transactions end with the
200 (RFC 3261 §17.1.1.2, §17.2.1), its BYE server transaction waits Timer J
(64*T1) and its client one Timer K (T4, 5 s); then the table keeps each
`wt_timer` and sweeps every `delete_timer`.  So T1 is made small (SER 2.0's
retr_timer1, in ms) to keep the drain short, and after the load stops every
table must be empty within 64*T1 + wt_timer + delete_timer.  While it runs,
no table may hold more than CALL_RATE * 4 transactions per call * that
lifetime, and the workers' resident memory must not keep growing between
the steady state's start (every kind of transaction has come and gone) and
the end of the load.  `-s` prints the numbers.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.ports import free_port
from tests.server.harness import Ser, Sipp, require

pytestmark = pytest.mark.slow

BENCH = SHARED / "bench" / "scenarios"
SOAK_SECONDS = int(os.environ.get("SER_TM_SOAK_SECONDS", "60"))
CALL_RATE = 20                  # calls per second
T1, T4, WT_TIMER, DELETE_TIMER = 0.1, 5.0, 1.0, 1.0
LIFETIME = max(64 * T1, T4) + WT_TIMER + DELETE_TIMER   # the longest a transaction may stay
REPORT_LAG = 2.0                # the size line comes at most once a second, from a loop that wakes each second
RSS_GROWTH_LIMIT_KB = 16 * 1024
STATS_LINE = re.compile(rb"ser\[(\d+)\] DEBUG: tm: (\d+) transactions \(at most (\d+)\)")


def soak_config(port: int, uas_port: int) -> str:
    """A record-routing stateful proxy in SER 2.0's dialect, whose tm counts in milliseconds."""
    return f"""
debug=4
log_stderror=yes
children=2
listen=udp:127.0.0.1:{port}
loadmodule "/usr/lib/ser/modules/sl.so"
loadmodule "/usr/lib/ser/modules/maxfwd.so"
loadmodule "/usr/lib/ser/modules/rr.so"
loadmodule "/usr/lib/ser/modules/tm.so"
modparam("tm", "retr_timer1", {int(T1 * 1000)})
modparam("tm", "wt_timer", {int(WT_TIMER * 1000)})
modparam("tm", "delete_timer", {int(DELETE_TIMER * 1000)})

route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        drop;
    }}
    if (loose_route()) {{
        t_relay();
        drop;
    }}
    if (method=="INVITE") {{
        record_route();
    }}
    if (uri==myself) {{
        rewritehostport("127.0.0.1:{uas_port}");
    }}
    t_relay();
}}
"""


class TableSizes:
    """The `tm:` lines of ser's log, read as it grows: per worker the last size and the peak."""

    def __init__(self, log: Path):
        self.log = log
        self.offset = 0
        self.size: dict[int, int] = {}
        self.peak: dict[int, int] = {}

    def read(self) -> "TableSizes":
        with open(self.log, "rb") as f:
            f.seek(self.offset)
            text = f.read()
        text = text[:text.rfind(b"\n") + 1]   # a line being written is read next time
        self.offset += len(text)
        for pid, size, peak in STATS_LINE.findall(text):
            self.size[int(pid)], self.peak[int(pid)] = int(size), int(peak)
        return self

    def drained(self) -> bool:
        return bool(self.size) and not any(self.size.values())


def rss_kb(pids: list[int]) -> dict[int, int]:
    """VmRSS of each process, from /proc."""
    sizes = {}
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes[pid] = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))
    return sizes


def test_no_transaction_outlives_its_wait_time_after_a_run_of_calls(tmp_path):
    require("sipp")
    assert BENCH.is_dir(), f"the shared SIPp scenarios are missing at {BENCH}"
    port, uas_port = free_port(), free_port()
    calls = CALL_RATE * SOAK_SECONDS
    common = ["-i", "127.0.0.1", "-m", str(calls), "-nostdin", "-trace_err"]
    callee = Sipp(tmp_path, "callee", ["-sf", str(BENCH / "call-uas.xml"), "-p", str(uas_port), *common])
    caller = None
    try:
        with Ser(tmp_path, soak_config(port, uas_port), "--dialect", "2.0") as ser:
            sizes = TableSizes(ser.log_path)
            caller = Sipp(tmp_path, "caller", ["-sf", str(BENCH / "call-uac.xml"), "-p", str(free_port()),
                                               f"127.0.0.1:{port}", "-r", str(CALL_RATE), "-timeout",
                                               f"{SOAK_SECONDS + 60}s", "-timeout_error", *common])
            # The steady state: every kind of transaction has lived its whole life at least once.
            time.sleep(min(LIFETIME + 5, SOAK_SECONDS / 2))
            workers = ser.worker_pids()
            rss_start = rss_kb(workers)
            assert caller.wait(SOAK_SECONDS + 90) == 0, caller.report()
            rss_end = rss_kb(workers)
            deadline = time.monotonic() + LIFETIME + REPORT_LAG + 3
            while not sizes.read().drained() and time.monotonic() < deadline:
                time.sleep(0.5)
            assert callee.wait(30) == 0, callee.report()
    finally:
        for sipp in (callee, caller):
            if sipp is not None:
                sipp.kill()
    summary = (f"{calls} calls; table sizes left {sizes.size}, peaks {sizes.peak}; "
               f"RSS kB at the start {rss_start}, at the end {rss_end}")
    print(summary)
    assert sizes.drained(), summary
    # The sum of the workers' peaks bounds the peak of the sum.
    assert sum(sizes.peak.values()) <= CALL_RATE * 4 * (LIFETIME + REPORT_LAG), summary
    assert all(rss_end[pid] - rss_start[pid] < RSS_GROWTH_LIMIT_KB for pid in workers), summary
