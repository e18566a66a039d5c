"""Fuzzing SipMessage.parse and every accessor: only SipParseError may escape.

With atheris installed, libFuzzer runs coverage-guided in a child process,
seeded with the captures of sipdata.py and a dictionary of SIP tokens; a
crash makes it exit non-zero and leaves the input in the artifact directory.
Without atheris, hypothesis mutates the captures for the same time instead.
SER_SIP_FUZZ_SECONDS sets the time (default 20).
"""

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sip_exercise import read_everything
from sipdata import CAPTURES
from ser_runtime.sip import SipMessage, SipParseError

FUZZ_SECONDS = float(os.environ.get("SER_SIP_FUZZ_SECONDS", "20"))
HAVE_ATHERIS = importlib.util.find_spec("atheris") is not None
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

TOKENS = [
    b"\r\n", b"\r\n ", b"\n", b"\r\n\r\n", b"SIP/2.0", b"SIP/2.0/UDP ", b"INVITE", b"sip:",
    b"sips:", b"tel:", b"Via: ", b"v:", b"From: ", b"To: ", b"Contact: ", b"m:", b"*",
    b"Route: ", b"Record-Route: ", b"CSeq: ", b"Call-ID: ", b"Content-Length: ", b"l:",
    b"Max-Forwards: ", b"Expires: ", b"Content-Type: ", b";branch=z9hG4bK", b";rport",
    b";received=", b";tag=", b";lr", b";transport=tcp", b";expires=", b"<", b">", b"\"",
    b"\\\"", b"[2001:db8::1]", b":5060", b"@", b"%40", b"%ff", b"?", b"&", b",", b";", b"=",
]


def _dictionary_line(token: bytes) -> str:
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\x{b:02x}"
                         for b in token) + '"'


@pytest.mark.slow
def test_fuzz_parser(tmp_path):
    """Coverage-guided with atheris where it is installed (CI); mutation-based otherwise."""
    if HAVE_ATHERIS:
        _fuzz_with_atheris(tmp_path)
    else:
        _fuzz_with_hypothesis()


def _fuzz_with_atheris(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, data in enumerate(CAPTURES.values()):
        (corpus / f"seed{i}").write_bytes(data)
    dictionary = tmp_path / "sip.dict"
    dictionary.write_text("\n".join(_dictionary_line(t) for t in TOKENS) + "\n")
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE)]))
    run = subprocess.run(
        [sys.executable, str(HERE / "fuzz_target.py"), str(corpus),
         f"-max_total_time={int(FUZZ_SECONDS)}", "-timeout=5", "-rss_limit_mb=2048",
         "-max_len=4096", f"-dict={dictionary}", f"-artifact_prefix={artifacts}/",
         "-print_final_stats=1"],
        env=env, capture_output=True, text=True, timeout=FUZZ_SECONDS + 120)
    found = sorted(p.name for p in artifacts.iterdir())
    assert run.returncode == 0 and not found, run.stderr[-4000:] + f"\nartifacts: {found}"
    executed = re.search(r"stat::number_of_executed_units:\s*(\d+)", run.stderr)
    assert executed and int(executed.group(1)) > 1000, run.stderr[-2000:]
    print(f"atheris: {executed.group(1)} inputs in {FUZZ_SECONDS:.0f} s, no crash")


def _fuzz_with_hypothesis():
    from hypothesis import HealthCheck, given, settings, strategies as st

    mutation = st.tuples(st.sampled_from(["insert", "delete", "replace", "truncate"]),
                         st.integers(0, 1000), st.integers(0, 40),
                         st.binary(max_size=12) | st.sampled_from(TOKENS))

    @settings(max_examples=300, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(list(CAPTURES.values())), st.lists(mutation, max_size=6))
    def parse_mutated(seed, mutations):
        data = _mutated(seed, mutations)
        try:
            msg = SipMessage.parse(data)
        except SipParseError:
            return
        read_everything(msg)

    deadline = time.monotonic() + FUZZ_SECONDS
    while time.monotonic() < deadline:
        parse_mutated()


def _mutated(data: bytes, mutations) -> bytes:
    for kind, position, length, chunk in mutations:
        at = position % (len(data) + 1)
        if kind == "insert":
            data = data[:at] + chunk + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + length:]
        elif kind == "replace":
            data = data[:at] + chunk + data[at + len(chunk):]
        else:
            data = data[:at]
    return data
