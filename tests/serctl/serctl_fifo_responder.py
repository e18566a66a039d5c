"""A tiny FIFO server speaking SER 0.9's FIFO protocol, for testing serctl's client without ser.

It reads `:command:reply_name`, argument lines and an empty line from a real named pipe,
records the request and writes `handler(command, args)` (the status line, then payload
lines) to the reply FIFO in `reply_dir`, as fifo_server.c does.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable

Handler = Callable[[str, list[str]], list[str] | None]


class FifoResponder:
    def __init__(self, directory: Path, handler: Handler, reply_dir: str = "/tmp/"):
        self.path = str(directory / "ser_fifo")
        self.reply_dir = reply_dir
        self.handler = handler
        self.requests: list[tuple[str, str, list[str]]] = []
        os.mkfifo(self.path, 0o600)
        # Read and write: the pipe never sees EOF between clients, as SER keeps it open too.
        self._fd = os.open(self.path, os.O_RDWR)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        os.write(self._fd, b":__stop__:\n\n")
        self._thread.join(5)
        os.close(self._fd)
        os.unlink(self.path)

    def __enter__(self) -> "FifoResponder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _serve(self) -> None:
        with os.fdopen(os.dup(self._fd), "r") as stream:
            while True:
                command, reply_name = stream.readline().rstrip("\n")[1:].split(":", 1)
                if command == "__stop__":
                    return
                args = []
                while (line := stream.readline().rstrip("\n")) != "":
                    args.append(line)
                self.requests.append((command, reply_name, args))
                answer = self.handler(command, args)
                if answer is not None:
                    self._reply(reply_name, answer)

    def _reply(self, name: str, lines: list[str]) -> None:
        fd = os.open(os.path.join(self.reply_dir, name), os.O_WRONLY | os.O_NONBLOCK)
        os.set_blocking(fd, True)
        os.write(fd, "".join(line + "\n" for line in lines).encode())
        os.close(fd)
