"""`ser`: the SIP Express Router command line, with the original flags.

`ser -c -f ser.cfg` checks the configuration and exits, as SER does. Starting
binds every listen socket, compiles the routes (running every fixup) and
forks the workers (server.py). A script calling a function that has no body
yet is refused at start, naming it, rather than run with calls that would
silently do nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ser_runtime import log
from ser_runtime.process import become, daemonize, remove_pid_file, write_pid_file
from ser_runtime.server import StartError, Supervisor
from ser_script.checker import CheckResult, check_file
from ser_script.compiler import fixup_diagnostics

LOG = logging.getLogger("ser.core")

VERSION = "ser 0.1.0 (Python) - compatible with SER 0.8, 0.9 and 2.0 route scripts"
DEFAULT_CONFIG = "/etc/ser/ser.cfg"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        self.exit(2, f"ser: {message} (see ser -h)\n")


def _arguments() -> _Parser:
    parser = _Parser(prog="ser", add_help=False, description="SIP Express Router")
    add = parser.add_argument
    add("-f", dest="config", default=DEFAULT_CONFIG, help="configuration file")
    add("-c", dest="check", action="store_true", help="check the configuration and exit")
    add("-D", dest="no_fork", action="store_true", help="do not fork into the background")
    add("-E", dest="log_stderr", action="store_true", help="log to standard error")
    add("-d", dest="debug", action="count", default=0, help="raise the debug level (repeatable)")
    add("-l", dest="listen", action="append", default=[], help="listen on this address")
    add("-n", dest="processes", type=int, help="number of worker processes")
    add("-P", dest="pid_file", help="write the process id to this file")
    add("-u", dest="user", help="run as this user")
    add("-g", dest="group", help="run as this group")
    add("-w", dest="workdir", help="working directory")
    add("-b", dest="max_buffer", type=int, help="maximum receive buffer size")
    add("-m", dest="memory", type=int, help="shared memory size in MB (accepted, unused)")
    add("-r", dest="dns", action="store_true", help="add received= when the Via host does not resolve")
    add("-R", dest="rev_dns", action="store_true", help="same, using reverse DNS")
    add("-v", dest="check_via", action="store_true", help="check the Via of replies")
    add("-V", dest="version", action="store_true", help="print the version and exit")
    add("-h", dest="help", action="store_true", help="print this help and exit")
    add("--dialect", choices=("0.8", "0.9", "2.0"), help="SER version the script is written for")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = _arguments()
    options = parser.parse_args(argv)
    if options.help:
        parser.print_help()
        sys.exit(0)
    if options.version:
        print(VERSION)
        sys.exit(0)
    try:
        result = check_file(options.config, options.dialect)
    except OSError as exc:
        sys.exit(f"ser: cannot read {options.config}: {exc.strerror or exc}")
    result.diagnostics += fixup_diagnostics(result)
    _print_diagnostics(result)
    if result.errors:
        sys.exit(f"ser: {options.config}: {len(result.errors)} error(s), not starting")
    if options.check:
        print(f"ser: {options.config}: configuration is valid (dialect {result.dialect})")
        sys.exit(0)
    sys.exit(serve(options))


def serve(options) -> int:
    """Bind, fork the workers and supervise them until SIGTERM; the exit code."""
    try:
        supervisor = Supervisor(options.config, options, options.dialect)
    except StartError as exc:
        sys.exit(f"ser: cannot start: {exc}")
    settings = supervisor.settings
    log.setup(settings.debug, settings.log_stderror, settings.log_facility)
    try:
        become(settings)
    except (OSError, ValueError) as exc:
        sys.exit(f"ser: cannot start: {exc}")
    listening = ", ".join(supervisor.describe())
    if settings.fork and settings.daemonize:
        daemonize()
        supervisor.adopt_pid()
    if settings.fork:
        supervisor.catch_signals()
    write_pid_file(settings.pid_file)
    try:
        if not settings.fork:
            LOG.warning("listening on %s (one process: fork=no)", listening)
            supervisor.run_alone()
            return 0
        supervisor.start_workers()
        LOG.warning("listening on %s with %d workers", listening, supervisor.workers_count)
        return supervisor.supervise()
    finally:
        remove_pid_file(settings.pid_file)


def _print_diagnostics(result: CheckResult) -> None:
    lines = result.source.splitlines()
    for diagnostic in result.diagnostics:
        print(diagnostic.render(lines), file=sys.stderr)


if __name__ == "__main__":
    main()
