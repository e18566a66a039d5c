"""The real-world ser.cfg corpus: every file parses and checks clean in its dialect.

The dialect of each file comes from its target in SOURCES.md. 33-mediaproxy.cfg
calls functions of modules it never loads; SER would refuse to start it, so
each such call must be an error at its own line.
"""

import re

import pytest

from ser_script.checker import check_file
from ser_script.parser import lark_parser, parse_file
from tests.conftest import CORPUS

UNLOADED_CALLS = "33-mediaproxy.cfg"


def _targets() -> dict[str, str]:
    targets = {}
    for line in (CORPUS / "SOURCES.md").read_text().splitlines():
        match = re.match(r"\| (\d\d-\S+\.cfg) \|[^|]*\| ([^|]+) \|", line)
        if match:
            targets[match.group(1)] = match.group(2).strip()
    return targets


def dialect_of(target: str) -> str:
    """SOURCES.md targets such as '0.8.9', '0.8.11–0.9', '2.0 (dev, 2006)' as a dialect."""
    if target.startswith("2.0"):
        return "2.0"
    if target.startswith("0.8") and "0.9" not in target:
        return "0.8"
    return "0.9"


TARGETS = _targets()


def test_every_corpus_file_is_listed():
    files = sorted(p.name for p in CORPUS.glob("*.cfg"))
    assert files == sorted(TARGETS)
    assert len(files) == 39


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_corpus_file_parses(name):
    result = parse_file(CORPUS / name, dialect_of(TARGETS[name]))
    assert result.ok, [d.message for d in result.diagnostics]


@pytest.mark.parametrize("name", sorted(set(TARGETS) - {UNLOADED_CALLS}))
def test_corpus_file_checks_clean(name):
    result = check_file(CORPUS / name, dialect_of(TARGETS[name]))
    assert result.errors == [], "\n".join(f"{d.line}:{d.col} {d.message}" for d in result.errors)


def test_mediaproxy_calls_to_unloaded_modules_are_errors():
    path = CORPUS / UNLOADED_CALLS
    result = check_file(path, "0.9")
    loaded = re.findall(r'^loadmodule\s+"[^"]*/(\w+)\.so"', path.read_text(), re.M)
    assert result.errors
    for error in result.errors:
        match = re.fullmatch(r"'(\w+)' belongs to module '(\w+)', which is not loaded", error.message)
        assert match, error.message
        assert match.group(2) not in loaded
        source_line = path.read_text().splitlines()[error.line - 1]
        assert source_line[error.col - 1:].startswith(match.group(1) + "(")


def test_detected_dialect_matches_sources_where_the_file_says_so():
    for name, target in TARGETS.items():
        detected = parse_file(CORPUS / name).dialect
        if dialect_of(target) == "2.0":
            assert detected == "2.0", name
        if detected == "2.0":
            assert dialect_of(target) == "2.0", name


def test_grammar_builds_in_strict_mode():
    """No shift/reduce or reduce/reduce conflict, no colliding terminals."""
    assert lark_parser(strict=True) is not None
