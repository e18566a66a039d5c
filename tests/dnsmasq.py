"""A real dnsmasq on 127.0.0.1 for tests: it answers only from the records it is given.

`--local=/#/` makes every other name NXDOMAIN, so no query leaves the machine.
Under CI=true a missing dnsmasq fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import pytest

from tests.ports import free_port

DNSMASQ = shutil.which("dnsmasq") or shutil.which("dnsmasq", path="/usr/sbin:/sbin")


def require_dnsmasq() -> None:
    if DNSMASQ is None:
        message = "dnsmasq is not installed (Debian: dnsmasq-base, see .ci/run)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


class Dnsmasq:
    """A dnsmasq on 127.0.0.1 answering only from `records`, logging its queries."""

    def __init__(self, records: list[str], directory: Path, ttl: int = 60):
        self.port = free_port()
        self.log = directory / "queries.log"
        self._markers = 0
        argv = [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--pid-file",
                "--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.1",
                f"--port={self.port}", "--local=/#/", f"--local-ttl={ttl}", "--log-queries",
                f"--log-facility={self.log}", *records]
        if os.geteuid() == 0:
            # Else it runs as "nobody", who cannot create the log in pytest's private tmp dir.
            argv.append("--user=root")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        try:
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def _ask(self, name: str, rdtype: str, timeout: float) -> None:
        query = dns.message.make_query(name, rdtype)
        dns.query.udp(query, "127.0.0.1", port=self.port, timeout=timeout)

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + 5
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"dnsmasq exited: {self.proc.stderr.read().strip()}")
            try:
                return self._ask("ready.invalid", "A", 0.1)
            except (dns.exception.Timeout, OSError):
                if time.monotonic() > deadline:
                    pytest.fail("dnsmasq did not answer within 5 s")
                time.sleep(0.02)

    def queries(self) -> list[str]:
        """Every query logged so far as "TYPE name"; a marker query shows the log is complete."""
        self._markers += 1
        marker = f"marker{self._markers}.invalid"
        self._ask(marker, "TXT", 1.0)
        deadline = time.monotonic() + 2
        while marker not in (text := self.log.read_text()):
            assert time.monotonic() < deadline, "dnsmasq did not log the marker query"
            time.sleep(0.01)
        logged = re.findall(r"query\[(\w+)\] (\S+) from", text)
        return [f"{rdtype} {name}" for rdtype, name in logged if not name.endswith(".invalid")]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()
