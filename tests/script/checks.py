"""Helpers shared by the ser.cfg language tests: check a text, read its diagnostics."""

from ser_script.checker import CheckResult, check_text


def check(text: str, dialect: str = "0.9") -> CheckResult:
    return check_text(text, file="t.cfg", dialect=dialect)


def summary(result: CheckResult) -> list[tuple[int, int, str, str]]:
    return [(d.line, d.col, d.severity, d.message) for d in result.diagnostics]


def assert_clean(result: CheckResult) -> None:
    assert summary(result) == []


def assert_only(result: CheckResult, line: int, col: int, severity: str, *words: str) -> None:
    """Exactly one diagnostic, at line:col, whose message holds every word."""
    found = summary(result)
    assert len(found) == 1, found
    assert found[0][:3] == (line, col, severity), found
    for word in words:
        assert word in found[0][3], (word, found[0][3])


def assert_first_error(result: CheckResult, line: int, col: int, *words: str) -> None:
    errors = [(d.line, d.col, d.message) for d in result.errors]
    assert errors, summary(result)
    assert errors[0][:2] == (line, col), errors
    for word in words:
        assert word in errors[0][2], (word, errors[0][2])
