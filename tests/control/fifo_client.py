"""Test clients of ser's control interface: the FIFO exactly as SER's serctl spoke it, and JSON-RPC.

`Fifo.call` makes a private reply FIFO in `fifo_dir` (mkfifo), opens it
for reading, writes `:<cmd>:<reply name>`, one line per argument and an
empty line into the server's FIFO, then reads the reply to end-of-file.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import socket
import time
from pathlib import Path

_names = itertools.count()


class Fifo:
    def __init__(self, fifo: Path, fifo_dir: Path):
        self.fifo = fifo
        self.fifo_dir = fifo_dir

    def send_raw(self, text: str) -> None:
        fd = os.open(self.fifo, os.O_WRONLY)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)

    def reply_fifo(self) -> tuple[str, Path]:
        name = f"ser_receiver_{os.getpid()}_{next(_names)}"
        path = self.fifo_dir / name
        os.mkfifo(path, 0o600)
        return name, path

    def call(self, command: str, *lines: str, timeout: float = 15.0) -> list[str]:
        """The reply's lines: the status line first."""
        name, path = self.reply_fifo()
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            try:
                self.send_raw("".join(f"{line}\n" for line in (f":{command}:{name}", *lines)) + "\n")
                return read_to_eof(fd, timeout).decode().splitlines()
            finally:
                os.close(fd)
        finally:
            path.unlink()


def read_to_eof(fd: int, timeout: float) -> bytes:
    """Everything the server writes into the reply FIFO, up to its close."""
    data, deadline = b"", time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no complete reply in {timeout} s; got {data!r}")
        readable, _, _ = select.select([fd], [], [], left)
        if not readable:
            continue
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            continue
        if not chunk:
            return data
        data += chunk


class JsonRpc:
    """One connection to the JSON-RPC socket: newline-delimited JSON objects."""

    def __init__(self, path: Path, timeout: float = 15.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buffer = b""
        self.ids = itertools.count(1)

    def send(self, message) -> None:
        data = message if isinstance(message, bytes) else json.dumps(message).encode()
        self.sock.sendall(data + b"\n")

    def receive(self) -> dict:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("the server closed the connection")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)

    def call(self, method: str, *params) -> dict:
        rid = next(self.ids)
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": list(params)})
        answer = self.receive()
        assert answer["id"] == rid, answer
        return answer

    def close(self) -> None:
        self.sock.close()
