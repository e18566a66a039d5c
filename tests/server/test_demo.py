"""The README's first command: examples/demo.sh sets up the SQLite demo and starts ser through
`serctl start`.

Run as a user would (a real shell, serctl and a daemonized ser), on a free
port and a temporary data directory; SIPp then registers the demo users
with their passwords, `serctl stop` stops it, and a second start keeps the
database as it is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ports import free_port
from tests.server.harness import SCENARIOS, Sipp, require

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class Demo:
    def __init__(self, tmp_path: Path, port: int):
        directory = tmp_path / "demo"
        self.env = {**os.environ, "PORT": str(port), "DEMO_DIR": str(directory), "BIN": str(BIN),
                    "SER_CFG": str(directory / "ser.cfg"), "PID_FILE": str(directory / "ser.pid")}
        self.env.pop("SER_DB_URL", None)

    def start(self) -> str:
        done = subprocess.run(["bash", str(REPO / "examples" / "demo.sh")], env=self.env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def serctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "serctl"), *args], env=self.env, capture_output=True, text=True,
                              timeout=60)

    def stop(self) -> None:
        self.serctl("stop")


def register(tmp_path: Path, port: int, users: dict[str, str]) -> Sipp:
    injection = tmp_path / "users.csv"
    injection.write_text("SEQUENTIAL\n" + "".join(
        f"{user};[authentication username={user} password={password}]\n" for user, password in users.items()))
    return Sipp(tmp_path, "demo-register", [
        "-sf", str(SCENARIOS / "auth-register-uac.xml"), "-inf", str(injection), "-i", "127.0.0.1",
        "-p", str(free_port()), f"127.0.0.1:{port}", "-m", str(len(users)), "-r", "10",
        "-timeout", "30s", "-timeout_error", "-nostdin", "-trace_err"])


def test_the_demo_starts_ser_through_serctl_with_demo_users_that_phones_register_as(tmp_path):
    require("sipp")
    port = free_port()
    demo = Demo(tmp_path, port)
    try:
        text = demo.start()
        assert "started ser (pid" in text and "user alice  password alice-secret" in text
        sipp = register(tmp_path, port, {"alice": "alice-secret", "bob": "bob-secret"})
        assert sipp.wait() == 0, sipp.report()
        processes = demo.serctl("ps")
        assert processes.returncode == 0 and "fifo server" in processes.stdout, processes.stderr
        assert demo.serctl("stop").stdout.startswith("stopped ser")
        again = demo.start()
        assert "created the SER schema" not in again  # the demo's data is kept
    finally:
        demo.stop()
