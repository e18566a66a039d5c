"""`serctl start`, `stop` and `restart` (SER 0.9's scripts/sc): ser run with `-P PID_FILE`.

`start` refuses while the pid file names a live process, runs `ser -P PID_FILE -f SER_CFG`
(ser detaches itself once its sockets are bound) and waits until it answers: the FIFO
`version` command when the FIFO is configured, else the pid file of a live process.
`stop` sends SIGTERM to the pid in the pid file and waits until the process is gone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from serctl.fifo import FifoClient, FifoError

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
POLL = 0.1


class DaemonError(Exception):
    """Why ser could not be started or stopped; one line."""


def running_pid(pid_file: str) -> int | None:
    """The pid in `pid_file` when that process is alive."""
    try:
        pid = int(Path(pid_file).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


def ser_command(configured: str) -> str:
    """The `ser` next to this serctl (the same installation) unless SER names another."""
    if configured == "ser":
        sibling = Path(sys.argv[0]).resolve().with_name("ser")
        if sibling.exists():
            return str(sibling)
    found = shutil.which(configured)
    if not found:
        raise DaemonError(f"cannot find the ser program {configured!r}: set SER to its path")
    return found


def start(ser: str, config: str, pid_file: str, fifo: FifoClient | None) -> int:
    """Starts ser and waits until it answers; its pid."""
    pid = running_pid(pid_file)
    if pid:
        raise DaemonError(f"ser is already running (pid {pid} in {pid_file})")
    if not os.path.isfile(config):
        raise DaemonError(f"no ser.cfg at {config}: give --config or set SER_CFG")
    with tempfile.TemporaryFile("w+") as errors:
        launcher = subprocess.run([ser, "-P", pid_file, "-f", config], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=errors, timeout=START_TIMEOUT)
        if launcher.returncode != 0:
            errors.seek(0)
            raise DaemonError(_reason(errors.read()) or f"ser exited with status {launcher.returncode}")
    return _wait_until_answering(pid_file, fifo)


def stop(pid_file: str) -> int:
    """SIGTERM to the pid in `pid_file`, then waits until it is gone; that pid."""
    pid = running_pid(pid_file)
    if not pid:
        raise DaemonError(f"ser is not running (no live process in {pid_file})")
    try:
        os.kill(pid, signal.SIGTERM)
    except PermissionError:
        raise DaemonError(f"not allowed to stop ser (pid {pid})") from None
    deadline = time.monotonic() + STOP_TIMEOUT
    while _alive(pid):
        if time.monotonic() > deadline:
            raise DaemonError(f"ser (pid {pid}) did not stop within {STOP_TIMEOUT:g} s")
        time.sleep(POLL)
    return pid


def _wait_until_answering(pid_file: str, fifo: FifoClient | None) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    reason = f"no pid in {pid_file}"
    while time.monotonic() < deadline:
        pid = running_pid(pid_file)
        if pid:
            if fifo is None:
                return pid
            try:
                fifo.call("version")
                return pid
            except FifoError as exc:
                reason = str(exc)
        time.sleep(POLL)
    raise DaemonError(f"ser did not answer within {START_TIMEOUT:g} s: {reason}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is gone for our purpose: only its parent's wait is missing.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _reason(text: str) -> str:
    """ser's first `file:line:col: error:` line, else its last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if ": error: " in line]
    return (errors or lines[-1:] or [""])[0]
