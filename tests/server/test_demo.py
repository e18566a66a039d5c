"""The README's first command: examples/demo.sh sets up the SQLite demo and starts ser on it.

Run as a user would (a real shell, serctl and ser processes), on a free port
and a temporary data directory; SIPp then registers the demo users with
their passwords, and a second start keeps the database as it is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ports import free_port
from tests.server.harness import SCENARIOS, Sipp, require

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


class Demo:
    def __init__(self, tmp_path: Path, port: int):
        self.log = tmp_path / "demo.out"
        env = {**os.environ, "PORT": str(port), "DEMO_DIR": str(tmp_path / "demo"),
               "BIN": str(Path(sys.executable).parent)}
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(["bash", str(REPO / "examples" / "demo.sh")], env=env, stdout=out,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while "listening on" not in self.text():
            assert self.process.poll() is None, self.text()
            assert time.monotonic() < deadline, self.text()
            time.sleep(0.1)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(15)


def register(tmp_path: Path, port: int, users: dict[str, str]) -> Sipp:
    injection = tmp_path / "users.csv"
    injection.write_text("SEQUENTIAL\n" + "".join(
        f"{user};[authentication username={user} password={password}]\n" for user, password in users.items()))
    return Sipp(tmp_path, "demo-register", [
        "-sf", str(SCENARIOS / "auth-register-uac.xml"), "-inf", str(injection), "-i", "127.0.0.1",
        "-p", str(free_port()), f"127.0.0.1:{port}", "-m", str(len(users)), "-r", "10",
        "-timeout", "30s", "-timeout_error", "-nostdin", "-trace_err"])


def test_the_demo_starts_ser_with_demo_users_that_phones_register_as(tmp_path):
    require("sipp")
    port = free_port()
    demo = Demo(tmp_path, port)
    try:
        demo.wait_listening()
        assert "user alice  password alice-secret" in demo.text()
        sipp = register(tmp_path, port, {"alice": "alice-secret", "bob": "bob-secret"})
        assert sipp.wait() == 0, sipp.report() + demo.text()
    finally:
        demo.stop()
    again = Demo(tmp_path, port)
    try:
        again.wait_listening()
        assert "created the SER schema" not in again.text()  # the demo's data is kept
    finally:
        again.stop()
