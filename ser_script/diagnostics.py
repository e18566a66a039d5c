"""Diagnostics: what the parser and the checker say about a ser.cfg.

Printed as `file:line:col: severity: message` followed by the source line and
a caret, the way compilers do; `as_json` gives the same for editors and CI.
"""

from __future__ import annotations

import msgspec

ERROR = "error"
WARNING = "warning"


class Diagnostic(msgspec.Struct, frozen=True):
    file: str
    line: int
    col: int
    severity: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def render(self, source_lines: list[str]) -> str:
        """The diagnostic with its source line and a caret under the column."""
        head = f"{self.location()}: {self.severity}: {self.message}"
        if not 1 <= self.line <= len(source_lines):
            return head
        source = source_lines[self.line - 1].rstrip("\r\n").expandtabs(1)
        return f"{head}\n    {source}\n    {' ' * (self.col - 1)}^"


def sort_key(diagnostic: Diagnostic) -> tuple[int, int, int]:
    return (diagnostic.line, diagnostic.col, 0 if diagnostic.is_error else 1)


def as_json(diagnostics: list[Diagnostic]) -> bytes:
    return msgspec.json.encode(diagnostics)
