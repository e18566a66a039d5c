"""Counters and process ids shared by every process of one `ser` (SER's shared-memory statistics).

The supervisor maps one anonymous shared memory block before forking:
a pid slot per process (supervisor, workers, timer, control process), and
a block of counters per process that counts (the workers, the control
process, which sends t_uac requests, and the timer process, which expires
bindings). Each process writes only its own counter block, so no lock is
needed; `t_stats`, `sl_stats`, `ul_stats` and `ps` in the control process
read and sum them. A counter is a plain index increment on
`counters`, this process's block (a private list until `attach`), so the
per-message path makes no system call.
"""

from __future__ import annotations

import mmap

# tm (SER's t_stats): gauges the owner overwrites, then totals.
TM_CURRENT, TM_WAITING, TM_TOTAL, TM_LOCAL, TM_REPLIED = range(5)
TM_COMPLETED = {6: 5, 5: 6, 4: 7, 3: 8, 2: 9}
# sl (SER's sl_stats): these codes by themselves, the rest of 2xx-6xx by class, anything else
# as xxx; `failures` when a reply could not be sent.
SL_CODES = (200, 202, 300, 301, 302, 400, 401, 403, 404, 407, 408, 483, 500)
SL_BASE = 10
SL_CODE = {code: SL_BASE + i for i, code in enumerate(SL_CODES)}
SL_CLASS = {cls: SL_BASE + len(SL_CODES) + cls - 2 for cls in range(2, 7)}
SL_OTHER = SL_BASE + len(SL_CODES) + 5
SL_FAILURES = SL_OTHER + 1
# usrloc: bindings expired (counted by the timer process).
UL_EXPIRED = SL_FAILURES + 1
COUNTERS = UL_EXPIRED + 1

# This process's counters: a private list until the supervisor attaches it to its shared block.
counters = [0] * COUNTERS


def count_sl_reply(code: int, sent: bool) -> None:
    """One reply sl made: by code when SER named it, else by class."""
    if not sent:
        counters[SL_FAILURES] += 1
        return
    counters[SL_CODE.get(code, SL_CLASS.get(code // 100, SL_OTHER))] += 1


class SharedStats:
    """The shared block: `processes` pid slots and `blocks` counter blocks."""

    def __init__(self, processes: int, blocks: int):
        self.processes, self.blocks = processes, blocks
        self._map = mmap.mmap(-1, 8 * (processes + blocks * COUNTERS))
        self._view = memoryview(self._map).cast("q")

    def attach(self, block: int) -> None:
        """In a forked process: this process counts into `block` from now on."""
        global counters
        start = self.processes + block * COUNTERS
        counters = self._view[start:start + COUNTERS]

    def set_pid(self, slot: int, pid: int) -> None:
        self._view[slot] = pid

    def pids(self) -> list[int]:
        return list(self._view[:self.processes])

    def total(self, index: int) -> int:
        """One counter summed over every block."""
        return sum(self._view[self.processes + b * COUNTERS + index] for b in range(self.blocks))

    def totals(self) -> list[int]:
        return [self.total(i) for i in range(COUNTERS)]


def sl_lines(t: list[int]) -> list[str]:
    """sl_stats' reply text (SER's sl_stats.c)."""
    def by_code(*codes):
        return " ".join(f"{code}: {t[SL_CODE[code]]}" for code in codes)
    return [f"{by_code(200, 202)} 2xx: {t[SL_CLASS[2]]}",
            f"{by_code(300, 301, 302)} 3xx: {t[SL_CLASS[3]]}",
            f"{by_code(400, 401, 403, 404, 407, 408, 483)} 4xx: {t[SL_CLASS[4]]}",
            f"{by_code(500)} 5xx: {t[SL_CLASS[5]]}",
            f"6xx: {t[SL_CLASS[6]]}",
            f"xxx: {t[SL_OTHER]}",
            f"failures: {t[SL_FAILURES]}"]


def sl_json(t: list[int]) -> dict:
    result = {str(code): t[SL_CODE[code]] for code in SL_CODES}
    result.update({f"{cls}xx": t[SL_CLASS[cls]] for cls in range(2, 7)})
    result.update(xxx=t[SL_OTHER], failures=t[SL_FAILURES])
    return result


def tm_json(t: list[int]) -> dict:
    return {"current": t[TM_CURRENT], "waiting": t[TM_WAITING], "total": t[TM_TOTAL], "local": t[TM_LOCAL],
            "replied_locally": t[TM_REPLIED],
            "completed": {f"{cls}xx": t[TM_COMPLETED[cls]] for cls in (6, 5, 4, 3, 2)}}


def tm_lines(t: list[int]) -> list[str]:
    """t_stats' reply text (SER's t_stats.c, its spelling included: serweb parses it)."""
    c = TM_COMPLETED
    return [f"Current: {t[TM_CURRENT]} ({t[TM_WAITING]} waiting) Total: {t[TM_TOTAL]} ({t[TM_LOCAL]} local)",
            f"Replied localy: {t[TM_REPLIED]}",
            f"Completion status 6xx: {t[c[6]]}, 5xx: {t[c[5]]}, 4xx: {t[c[4]]}, 3xx: {t[c[3]]},2xx: {t[c[2]]}"]
