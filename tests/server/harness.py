"""Running the real `ser` and real SIPp on loopback, for the end-to-end tests.

Under CI=true a missing tool fails the test instead of skipping it. Every
address used is loopback; ports are picked free for both UDP and TCP.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"
READY_TEXT = "listening on"


def require(tool: str) -> str:
    """The path of a tool the test needs; fail under CI, skip elsewhere, when it is missing."""
    path = shutil.which(tool) or next((p for p in (f"/usr/sbin/{tool}", f"/usr/bin/{tool}")
                                       if os.access(p, os.X_OK)), None)
    if path is None:
        message = f"{tool} is not installed (Debian: see .ci/run)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def proxy_config(host: str, port: int, routing: str, protos=("udp", "tcp"), extra: str = "") -> str:
    """A stateless proxy: the Max-Forwards check, then `routing` (ser.cfg statements)."""
    listens = "".join(f"listen={proto}:{hostport(host, port)}\n" for proto in protos)
    return f"""
debug=3
log_stderror=yes
children=2
{listens}{extra}
loadmodule "/usr/lib/ser/modules/sl.so"
loadmodule "/usr/lib/ser/modules/maxfwd.so"

route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        break;
    }};
    {routing}
}}
"""


class Ser:
    """One `ser -D -E` process on a generated ser.cfg; `stop()` checks it exits cleanly."""

    def __init__(self, directory: Path, config: str, *args: str, name: str = "ser", env: dict | None = None):
        directory.mkdir(parents=True, exist_ok=True)
        self.config = directory / f"{name}.cfg"
        self.config.write_text(config)
        self.log_path = directory / f"{name}.log"
        self.args = args
        # No test may query a DNS server off this machine: unless a test starts its own,
        # names resolve from /etc/hosts only (port 9 on loopback answers nothing).
        self.env = {"SER_NAMESERVER": "127.0.0.1:9", **os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> "Ser":
        log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ser_runtime.main", "-D", "-E", "-f", str(self.config), *self.args],
            stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while READY_TEXT not in self.log:
            if self.process.poll() is not None:
                raise AssertionError(f"ser exited with {self.process.returncode}:\n{self.log}")
            if time.monotonic() > deadline:
                raise AssertionError(f"ser did not start in {timeout} s:\n{self.log}")
            time.sleep(0.05)
        return self

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def worker_pids(self) -> list[int]:
        """The supervisor's children, from /proc."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; the exit code. Fails on a hang or a Python traceback in the log."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
                raise AssertionError(f"ser did not stop on SIGTERM within {timeout} s:\n{self.log}")
        assert "Traceback" not in self.log, self.log
        return self.process.returncode

    def __enter__(self) -> "Ser":
        return self.start()

    def __exit__(self, *exc) -> None:
        code = self.stop()
        if exc[0] is None:
            assert code == 0, self.log


def sipp_args(scenario: str, local: str, port: int, transport: str = "u1") -> list[str]:
    """The common SIPp arguments: a scenario (file or built-in), its address and transport."""
    path = SCENARIOS / f"{scenario}.xml"
    chosen = ["-sf", str(path)] if path.exists() else ["-sn", scenario]
    sockets = ["-max_socket", "100"] if transport in ("un", "tn") else []
    return [*chosen, "-i", local, "-p", str(port), "-t", transport, *sockets, "-nostdin", "-trace_err"]


class Sipp:
    """A SIPp process; `wait()` returns its exit code (0: every call succeeded)."""

    def __init__(self, directory: Path, name: str, args: list[str]):
        self.directory = directory
        self.name = name
        log = open(directory / f"{name}.out", "w")
        self.process = subprocess.Popen([require("sipp"), *args], cwd=directory, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

    def wait(self, timeout: float = 60.0) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"sipp {self.name} did not finish in {timeout} s:\n{self.report()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def report(self) -> str:
        """SIPp's own output and error log, for assertion messages."""
        texts = [(self.directory / f"{self.name}.out").read_text(errors="replace")[-3000:]]
        texts += [p.read_text(errors="replace")[-3000:] for p in self.directory.glob("*_errors.log")]
        return "\n".join(texts)


def udp_exchange(data: bytes, server: tuple[str, int], timeout: float = 3.0,
                 local: str = "127.0.0.1") -> bytes | None:
    """Send one datagram and return the first answer, or None when nothing came back."""
    family = socket.AF_INET6 if ":" in local else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((local, 0))
        sock.settimeout(timeout)
        sock.sendto(data, server)
        try:
            return sock.recv(65535)
        except socket.timeout:
            return None
