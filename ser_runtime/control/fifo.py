"""SER's FIFO server protocol (fifo_server.c of SER 0.8/0.9; serctl's side in scripts/sc).

A request written into the server's FIFO (`fifo` in ser.cfg):

    :<command>:<reply-fifo-name>
    <argument line>...
    <empty line>

The first line is at most 512 bytes; the reply name is a bare file name
(no `/`, `.` or `\\`), taken in `fifo_dir` (default /tmp/); an empty name
asks for no reply. Lines are right-trimmed. Commands with blocks
(t_uac_dlg's headers and body) end each block with a "." line, and an
empty line inside the body does not end the request. A request that
cannot be answered (bad first line, bad reply name) is logged and skipped
up to its empty line, so the stream stays in step.

The reply goes to the client's reply FIFO, which must exist, be a FIFO,
not a symbolic link and have one link; it is opened non-blocking and
retried 4 times 80 ms apart if the client is not reading yet; then
`<code> <text>` and one line per body line, and the close is the end.
"""

from __future__ import annotations

import errno
import grp
import logging
import os
import pwd
import select
import stat
import time

from stdlib_modules.exports import Deferred, Reply

LOG = logging.getLogger("ser.control")
MAX_FIRST_LINE = 512
MAX_LINE = 1 << 20
OPEN_TRIES, OPEN_PAUSE = 4, 0.08
WRITE_TIMEOUT = 5.0
_BAD_NAME_CHARS = "/.\\"


class FifoError(Exception):
    """The FIFO cannot be made: one line."""


def create(path: str, mode: int, user: str | None, group: str | None) -> tuple[int, int]:
    """At start-up: replace `path` by a new FIFO; return (read fd, write fd), both kept open so the
    FIFO never reads end-of-file and requests wait in it while the control process is replaced."""
    try:
        if os.path.lexists(path):
            os.unlink(path)
        os.mkfifo(path, 0o600)
        os.chmod(path, mode)
        if user is not None or group is not None:
            os.chown(path, pwd.getpwnam(user).pw_uid if user else -1, grp.getgrnam(group).gr_gid if group else -1)
        reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        writer = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except KeyError as exc:
        raise FifoError(f"fifo {path}: no such user or group {exc}") from None
    except OSError as exc:
        raise FifoError(f"fifo {path}: {exc.strerror or exc}") from None
    return reader, writer


class Request:
    """One request being read: its command, reply name and argument lines."""

    def __init__(self, name: str, reply_to: str, shape: tuple[int, int]):
        self.name, self.reply_to = name, reply_to
        self.plain, self.blocks = shape
        self.args: list[str] = []
        self._plain_seen = 0
        self._blocks_done = 0

    def feed(self, line: str) -> bool:
        """Take one argument line; True when the request is complete."""
        in_block = self._plain_seen >= self.plain and self._blocks_done < self.blocks
        if not in_block:
            if line == "":
                return True
            self._plain_seen += 1
            self.args.append(line)
            return False
        last_block = self._blocks_done == self.blocks - 1
        if line == "" and not last_block:
            line = "."  # headers may also end with an empty line
        self.args.append(line)
        if line == ".":
            self._blocks_done += 1
        return False


class FifoServer:
    """Reads requests from the FIFO's read end and answers them; `readable` is the selector callback."""

    def __init__(self, fd: int, fifo_dir: str, dispatcher, control):
        self.fd = fd
        self.fifo_dir = fifo_dir
        self.dispatcher = dispatcher
        self.control = control
        self._buffer = b""
        self._request: Request | None = None
        self._skipping = False

    def readable(self, events: int = 0) -> None:
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        if len(self._buffer) > MAX_LINE:
            LOG.error("fifo: a line longer than %d bytes dropped", MAX_LINE)
            self._buffer, self._skipping, self._request = b"", True, None
        for raw in lines:
            self._line(raw.decode("utf-8", "replace").rstrip(" \t\r\n"), len(raw))

    def _line(self, line: str, size: int) -> None:
        if self._skipping:
            self._skipping = line != ""
        elif self._request is None:
            self._first_line(line, size)
        elif self._request.feed(line):
            request, self._request = self._request, None
            self._run(request)

    def _first_line(self, line: str, size: int) -> None:
        if line == "":
            return  # blank lines between requests
        problem = first_line_problem(line, size)
        if problem is None:
            name, _, reply_to = line[1:].partition(":")
            command = self.dispatcher.find(name)
            shape = (command.lines, command.blocks) if command else (0, 0)
            self._request = Request(name, reply_to, shape)
            return
        LOG.error("fifo: request refused: %s", problem)
        self._skipping = True

    def _run(self, request: Request) -> None:
        LOG.debug("fifo: %s (%d argument lines)", request.name, len(request.args))
        result = self.dispatcher.run(request.name, request.args, self.control)
        if not request.reply_to:
            return
        path = os.path.join(self.fifo_dir, request.reply_to)
        if isinstance(result, Deferred):
            result.then(lambda reply: write_reply(path, reply))
        else:
            write_reply(path, result)


def first_line_problem(line: str, size: int) -> str | None:
    """Why a request's first line is refused (SER's checks), or None."""
    if size > MAX_FIRST_LINE:
        return f"first line longer than {MAX_FIRST_LINE} bytes"
    if len(line) < 3 or line[0] != ":" or ":" not in line[1:]:
        return f"bad first line {line[:60]!r}: ':<command>:<reply fifo>' expected"
    reply_to = line[1:].partition(":")[2]
    if any(c in reply_to for c in _BAD_NAME_CHARS):
        return f"reply fifo name {reply_to[:60]!r} has one of / . \\"
    return None


def reply_text(reply: Reply) -> bytes:
    lines = [f"{reply.code} {reply.text}", *reply.body]
    return ("\n".join(lines) + "\n").encode("utf-8", "replace")


def write_reply(path: str, reply: Reply) -> bool:
    """Write the reply into the client's FIFO; False (logged) when it cannot be."""
    fd = _open_reply(path)
    if fd is None:
        return False
    try:
        _write_all(fd, reply_text(reply), time.monotonic() + WRITE_TIMEOUT)
        return True
    except OSError as exc:
        LOG.error("fifo: cannot write the reply to %s: %s", path, exc.strerror or exc)
        return False
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes, deadline: float) -> None:
    """A client that stops reading a long reply holds the loop up to the deadline, no longer."""
    view = memoryview(data)
    while view:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([], [fd], [], left)[1]:
            raise TimeoutError(errno.ETIMEDOUT, "the client does not read its reply")
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            continue


def _open_reply(path: str) -> int | None:
    try:
        info = os.lstat(path)
    except OSError as exc:
        LOG.error("fifo: reply fifo %s: %s", path, exc.strerror or exc)
        return None
    if not stat.S_ISFIFO(info.st_mode) or info.st_nlink != 1:
        LOG.error("fifo: reply fifo %s refused: not a FIFO with one link", path)
        return None
    for attempt in range(OPEN_TRIES):
        try:
            return os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError as exc:
            if exc.errno != errno.ENXIO or attempt == OPEN_TRIES - 1:
                LOG.error("fifo: cannot open the reply fifo %s: %s", path, exc.strerror or exc)
                return None
            time.sleep(OPEN_PAUSE)
    return None
