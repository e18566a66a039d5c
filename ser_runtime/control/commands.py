"""The control commands: SER's core FIFO commands and the table every front end dispatches through.

Core commands follow fifo_server.c of SER 0.9 (`print`, `uptime`,
`version`, `which`, `ps`, `arg`, `pwd`, `kill`); modules add theirs with
`commands` in their export table (stdlib_modules/exports.py Command).
Names match case-insensitively. A command that fails unexpectedly costs
one `500` reply and a log line, never the control process.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field

from ser_runtime.control.stats import SharedStats
from ser_runtime.replies import SERVER
from stdlib_modules.exports import Command, CommandError, Deferred, Reply

LOG = logging.getLogger("ser.control")


@dataclass
class Control:
    """What commands reach in the control process: the shared counters and pids, this process's
    transactions (t_uac), how to stop the server."""

    stats: SharedStats
    process_names: list[str]
    supervisor_pid: int
    started: float
    transactions: object = None
    argv: list[str] = field(default_factory=lambda: list(sys.argv))

    def processes(self) -> list[tuple[int, int, str]]:
        """(index, pid, description) of every process running now."""
        pids = self.stats.pids()
        return [(i, pid, name) for i, (pid, name) in enumerate(zip(pids, self.process_names)) if pid]


def _print(state, args: list[str], control: Control) -> Reply:
    if not args:
        raise CommandError(400, "print: text expected")
    return Reply(200, "ok", (args[0],), {"text": args[0]})


def _uptime(state, args, control: Control) -> Reply:
    now = time.time()
    up = int(now - control.started)
    return Reply(200, "ok", (f"Now: {time.ctime(now)}", f"Up Since: {time.ctime(control.started)}",
                             f"Up time: {up} [sec]"),
                 {"now": int(now), "up_since": int(control.started), "uptime": up})


def _version(state, args, control) -> Reply:
    return Reply(200, "ok", (f"Server: {SERVER}",), {"server": SERVER})


def _ps(state, args, control: Control) -> Reply:
    rows = control.processes()
    return Reply(200, "ok", tuple(f"{i}\t{pid}\t{name}" for i, pid, name in rows),
                 [{"index": i, "pid": pid, "description": name} for i, pid, name in rows])


def _arg(state, args, control: Control) -> Reply:
    return Reply(200, "ok", tuple(control.argv), list(control.argv))


def _pwd(state, args, control) -> Reply:
    cwd = os.getcwd()
    return Reply(200, "ok", (cwd,), {"cwd": cwd})


def _kill(state, args, control: Control) -> Reply:
    LOG.warning("control: kill: stopping the server")
    os.kill(control.supervisor_pid, signal.SIGTERM)
    return Reply(200, "killing now...")


CORE = (
    Command("print", _print, "echo one line"),
    Command("uptime", _uptime, "the time now, since start-up and the difference"),
    Command("version", _version, "the Server header"),
    Command("ps", _ps, "the processes: index, pid, description"),
    Command("arg", _arg, "ser's command line, one argument per line"),
    Command("pwd", _pwd, "the working directory"),
    Command("kill", _kill, "stop the server"),
)


class Dispatcher:
    """Every command by lower-case name, with the state its handler gets."""

    def __init__(self, modules=()):
        self.table: dict[str, tuple[Command, object]] = {}
        which = Command("which", self._which, "the commands, one per line")
        for command in (*CORE, which):
            self.table[command.name.lower()] = (command, None)
        for module, state in modules:
            for command in module.commands:
                self.table[command.name.lower()] = (command, state)

    def find(self, name: str) -> Command | None:
        found = self.table.get(name.lower())
        return found[0] if found else None

    def _which(self, state, args, control) -> Reply:
        names = [command.name for command, _ in self.table.values()]
        return Reply(200, "ok", tuple(names), names)

    def run(self, name: str, args: list[str], control: Control) -> Reply | Deferred:
        found = self.table.get(name.lower())
        if found is None:
            return Reply(500, f"command '{name}' not available")
        command, state = found
        try:
            return command.handler(state, args, control)
        except CommandError as exc:
            return Reply(exc.code, exc.text)
        except Exception as exc:  # one bad command must not take the control process down
            LOG.error("control: %s failed: %s: %s", command.name, type(exc).__name__, exc)
            LOG.debug("traceback", exc_info=True)
            return Reply(500, f"{command.name} failed: {type(exc).__name__}")
