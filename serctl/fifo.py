"""serctl's client of SER's FIFO interface (SER 0.9's scripts/sc and fifo_server.c).

As the original serctl: a private reply FIFO `ser_receiver_<pid>` in the server's
`fifo_dir` (/tmp/), then `:<command>:ser_receiver_<pid>`, one argument per line and an
empty line written to SER's FIFO; the reply is everything the server writes to the
reply FIFO until it closes it, its first line `<code> <text>`.

The reply FIFO is opened for reading before the request is sent, so the server's
non-blocking open for writing finds a reader; Linux reports no hang-up on it before a
writer has come, so polling waits for the server instead of seeing an early EOF.
"""

from __future__ import annotations

import errno
import os
import select
import time
from dataclasses import dataclass, field

REQUEST_LINE_MAX = 512  # fifo_server.c's limit on one line


class FifoError(Exception):
    """The FIFO cannot be used or did not answer; the message is one line."""


@dataclass
class Reply:
    code: int
    text: str
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 300

    @property
    def status(self) -> str:
        return f"{self.code} {self.text}"


class FifoClient:
    def __init__(self, path: str, reply_dir: str = "/tmp/", timeout: float = 10.0):
        self.path = path
        self.reply_dir = reply_dir
        self.timeout = timeout

    def call(self, command: str, *args: str) -> Reply:
        """Send one command and wait for its reply."""
        request = _request(command, args, self._reply_name())
        reply_path = os.path.join(self.reply_dir, self._reply_name())
        _make_reply_fifo(reply_path)
        try:
            reader = os.open(reply_path, os.O_RDONLY | os.O_NONBLOCK)
            try:
                self._send(request)
                return parse_reply(self._receive(reader), command)
            finally:
                os.close(reader)
        finally:
            _unlink(reply_path)

    def _reply_name(self) -> str:
        return f"ser_receiver_{os.getpid()}"

    def _send(self, request: bytes) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            raise FifoError(f"ser is not running: no FIFO at {self.path} (is fifo= set in ser.cfg?)") from None
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                raise FifoError(f"ser is not running: nobody reads the FIFO {self.path}") from None
            raise FifoError(f"cannot write to the FIFO {self.path}: {exc.strerror}") from None
        try:
            os.set_blocking(fd, True)
            os.write(fd, request)
        except OSError as exc:
            raise FifoError(f"cannot write to the FIFO {self.path}: {exc.strerror}") from None
        finally:
            os.close(fd)

    def _receive(self, reader: int) -> bytes:
        deadline = time.monotonic() + self.timeout
        poller = select.poll()
        poller.register(reader, select.POLLIN | select.POLLHUP)
        chunks = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise FifoError(f"ser did not answer on {self.path} within {self.timeout:g} s")
            if not poller.poll(left * 1000):
                continue
            chunk = os.read(reader, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _request(command: str, args: tuple[str, ...], reply_name: str) -> bytes:
    if not command or any(c in command for c in ":\n\r"):
        raise FifoError(f"bad FIFO command {command!r}")
    if any(c in arg for arg in args for c in "\r\n"):
        raise FifoError("a FIFO argument may not contain a line break")
    lines = [f":{command}:{reply_name}", *args]
    if any(len(line.encode()) >= REQUEST_LINE_MAX for line in lines):
        raise FifoError(f"a FIFO line is limited to {REQUEST_LINE_MAX - 1} bytes")
    return ("\n".join(lines) + "\n\n").encode()


def parse_reply(data: bytes, command: str) -> Reply:
    lines = data.decode("utf-8", "replace").splitlines()
    if not lines:
        raise FifoError(f"ser closed the reply to {command} without an answer")
    code, _, text = lines[0].partition(" ")
    if not (len(code) == 3 and code.isdigit()):
        raise FifoError(f"ser's reply to {command} has no status line: {lines[0][:80]!r}")
    return Reply(int(code), text.strip(), lines[1:])


def _make_reply_fifo(path: str) -> None:
    _unlink(path)
    try:
        os.mkfifo(path, 0o600)
        # The server may run as another user (ser -u): it only needs to write.
        os.chmod(path, 0o622)
    except OSError as exc:
        raise FifoError(f"cannot create the reply FIFO {path}: {exc.strerror}") from None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
