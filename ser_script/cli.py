"""`ser-check FILE`: check a ser.cfg without starting anything.

Exit status: 0 clean (warnings allowed), 1 errors, 2 usage or I/O problem.
Diagnostics go to standard output as `file:line:col: severity: message` with
the source line and a caret; in colour on a terminal, plain when piped, and as
a JSON document with `--format json`.
"""

from __future__ import annotations

import sys

import click
import msgspec
from rich.console import Console
from rich.markup import escape

from ser_script.checker import CheckResult, check_file
from ser_script.compiler import fixup_diagnostics
from ser_script.diagnostics import Diagnostic

EXIT_CLEAN, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


class _Report(msgspec.Struct):
    file: str
    dialect: str
    dialect_reason: str
    errors: int
    warnings: int
    diagnostics: list[Diagnostic]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dialect", type=click.Choice(["0.8", "0.9", "2.0"]),
              help="SER version the file is written for (default: detected from the file).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--no-warnings", is_flag=True, help="Report errors only.")
def main(file: str, dialect: str | None, output_format: str, no_warnings: bool) -> None:
    """Check a SER route script (ser.cfg) the way SER does at start-up, and more."""
    try:
        result = check_file(file, dialect)
    except OSError as exc:
        click.echo(f"ser-check: cannot read {file}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
    result.diagnostics += fixup_diagnostics(result)
    if no_warnings:
        result.diagnostics = result.errors
    if output_format == "json":
        sys.stdout.buffer.write(msgspec.json.encode(_report(result)) + b"\n")
    else:
        _print_text(result)
    sys.exit(EXIT_ERRORS if result.errors else EXIT_CLEAN)


def _report(result: CheckResult) -> _Report:
    return _Report(result.file, result.dialect, result.dialect_reason, len(result.errors),
                   len(result.warnings), result.diagnostics)


def _print_text(result: CheckResult) -> None:
    console = Console(highlight=False, soft_wrap=True)
    lines = result.source.splitlines()
    for diagnostic in result.diagnostics:
        if console.is_terminal:
            _print_rich(console, diagnostic, lines)
        else:
            console.out(diagnostic.render(lines), highlight=False)
    summary = (f"{result.file}: {len(result.errors)} error(s), {len(result.warnings)} warning(s) "
               f"(dialect {result.dialect}: {result.dialect_reason})")
    console.print(escape(summary), style="bold" if console.is_terminal else None)


def _print_rich(console: Console, diagnostic: Diagnostic, lines: list[str]) -> None:
    colour = "red" if diagnostic.is_error else "yellow"
    rendered = diagnostic.render(lines).split("\n")
    console.print(f"[bold]{escape(diagnostic.location())}:[/bold] "
                  f"[bold {colour}]{diagnostic.severity}:[/bold {colour}] {escape(diagnostic.message)}")
    for line in rendered[1:]:
        console.print(escape(line), style=colour if line.strip() == "^" else None)


def run() -> None:
    """Entry point that turns any unexpected failure into one line and exit 2."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # the last guard: a bug must not print a traceback at a user
        click.echo(f"ser-check: internal error: {exc!r}", err=True)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    run()
