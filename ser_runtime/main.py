"""`ser`: the SIP Express Router command line, with the original flags.

`ser -c -f ser.cfg` checks the configuration and exits, as SER does. Starting
compiles the routes (running every fixup) and needs every function the
script calls to be implemented; until the runtime issues land, `ser` names
what is missing and refuses to start rather than run a script whose calls
would silently do nothing.
"""

from __future__ import annotations

import argparse
import sys

from ser_script.checker import CheckResult, check_file
from ser_script.compiler import ScriptEnv, compile_script, config_myself, fixup_diagnostics

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
    missing = not_implemented(result)
    if missing:
        sys.exit("ser: cannot start: not implemented yet: " + ", ".join(missing))
    sys.exit("ser: cannot start: the SIP runtime is not implemented yet")


def _print_diagnostics(result: CheckResult) -> None:
    lines = result.source.splitlines()
    for diagnostic in result.diagnostics:
        print(diagnostic.render(lines), file=sys.stderr)


def not_implemented(result: CheckResult) -> list[str]:
    """Unavailable modules, then 'name() (module)' for each called function that has no body."""
    env = ScriptEnv(myself=config_myself(result.config), stub_missing=True)
    compiled = compile_script(result, env)
    unavailable = [f"module {m.name} ({m.unavailable})" for m in result.modules if m.unavailable]
    return unavailable + sorted(compiled.missing)


if __name__ == "__main__":
    main()
