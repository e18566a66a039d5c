"""`serctl moni`: SER 0.9's monitor screen (scripts/sc `moni`), drawn with rich.

Every WATCH_PERIOD seconds it sends the FIFO commands `version`, `uptime`, `t_stats`,
`sl_stats` and `ul_stats` and shows each answer in its own panel; `q` or Ctrl-C ends
it, as does an optional number of refreshes. A command the server lacks (module not
loaded) shows its error in its panel; losing the server shows at the top and the
screen keeps trying.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import sys
import termios
import time
import tty
from datetime import datetime

from rich.console import Console
from rich.layout import Layout
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

from serctl.fifo import FifoClient, FifoError

_COUNTER = re.compile(r"\b([2-6](?:\d\d|xx)):\s*(\d+)")
PANELS = (("uptime", "Uptime"), ("t_stats", "Transactions"), ("ul_stats", "Registrations"),
          ("sl_stats", "Stateless replies by class"))


def run(fifo: FifoClient, period: float, loops: int | None) -> None:
    """Refreshes the screen until `q`, Ctrl-C or `loops` refreshes."""
    fifo.call("version")  # a server that is not running is an error before the screen opens
    count = 0
    with _keys() as key_pressed, Live(console=Console(), screen=True, auto_refresh=False) as live:
        try:
            while loops is None or count < loops:
                count += 1
                live.update(screen(fifo, period), refresh=True)
                if key_pressed(period) == "q":
                    break
        except KeyboardInterrupt:
            pass  # Ctrl-C is the usual way out of a monitor, not a failure


def screen(fifo: FifoClient, period: float) -> Layout:
    version, down = _answer(fifo, "version")
    header = Text.assemble((" SER monitor ", "bold reverse"), f"  {version.plain}  ",
                           (datetime.now().strftime("%Y-%m-%d %H:%M:%S"), "bold"),
                           f"  every {period:g} s, q to quit")
    if down:
        header.append("\n " + version.plain, style="bold red")
    layout = Layout()
    layout.split_column(Layout(Panel(header), size=4 if down else 3), Layout(name="body"))
    panels = [Panel(_answer(fifo, command)[0], title=title, title_align="left") for command, title in PANELS]
    layout["body"].split_column(Layout(name="top"), Layout(name="bottom"))
    layout["top"].split_row(*(Layout(panel) for panel in panels[:2]))
    layout["bottom"].split_row(*(Layout(panel) for panel in panels[2:]))
    return layout


def reply_classes(lines: list[str]) -> dict[str, int]:
    """sl_stats per class: its `404: n` counters plus its `4xx: n`, which counts the codes it does not list."""
    classes = {f"{digit}xx": 0 for digit in "23456"}
    for code, count in _COUNTER.findall(" ".join(lines)):
        if f"{code[0]}xx" in classes:
            classes[f"{code[0]}xx"] += int(count)
    return classes


def _answer(fifo: FifoClient, command: str) -> tuple[Text, bool]:
    """The reply's lines, or its error in red; True when the server is unreachable."""
    try:
        reply = fifo.call(command)
    except FifoError as exc:
        return Text(str(exc), style="red"), True
    if not reply.ok:
        return Text(reply.status, style="red"), False
    text = Text("\n".join(reply.lines) or reply.text)
    if command == "sl_stats":
        summary = "   ".join(f"{name}: {count}" for name, count in reply_classes(reply.lines).items())
        text = Text.assemble(("total " + summary + "\n\n", "bold"), text)
    return text, False


@contextlib.contextmanager
def _keys():
    """A function that waits up to `timeout` seconds for a key; stdin in cbreak mode on a terminal."""
    if not sys.stdin.isatty():
        yield lambda timeout: time.sleep(timeout)
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)

    def key_pressed(timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if select.select([fd], [], [], left)[0]:
                key = os.read(fd, 1).decode(errors="replace").lower()
                if key == "q":
                    return key
        return None

    try:
        yield key_pressed
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
