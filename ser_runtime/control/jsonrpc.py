"""The control commands as JSON-RPC 2.0 (https://www.jsonrpc.org/specification) on a Unix stream socket.

The socket is `<fifo>.jsonrpc`, beside the FIFO, with its mode and owner.
Framing: one JSON object per line (UTF-8, "\\n" after each request and
each response); a connection may carry many requests, and responses can
come out of order (t_uac_dlg answers when its SIP reply arrives): match
them by `id`. `method` is a command name; `params` is an array of the
argument lines the FIFO request would carry (numbers are taken as their
text), t_uac_dlg's "." block ends included. `result` is the command's
JSON form; a status of 400 or more is an error whose `code` is that
status, with `data` {"lines": [...]}. An unknown command is -32601, a
request that is not JSON -32700, one without a method -32600.
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import socket

from stdlib_modules.exports import Deferred, Reply

LOG = logging.getLogger("ser.control")
MAX_REQUEST = 1 << 20
SEND_TIMEOUT = 5.0


def listen(path: str, mode: int) -> socket.socket:
    """At start-up: the listening socket at `path` (an old one is replaced). OSError if it cannot be."""
    if os.path.lexists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    os.chmod(path, mode)
    sock.listen(16)
    return sock


def result_of(reply: Reply):
    return reply.data if reply.data is not None else {"text": reply.text, "lines": list(reply.body)}


class JsonRpcServer:
    """Accepts connections on `sock` and answers their requests; `acceptable` is the selector callback."""

    def __init__(self, sock: socket.socket, selector: selectors.BaseSelector, dispatcher, control):
        self.sock = sock
        self.selector = selector
        self.dispatcher = dispatcher
        self.control = control
        sock.setblocking(False)

    def acceptable(self, events: int = 0) -> None:
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return
        conn.settimeout(SEND_TIMEOUT)
        buffer = bytearray()
        self.selector.register(conn, selectors.EVENT_READ, lambda ev: self._readable(conn, buffer))

    def _readable(self, conn: socket.socket, buffer: bytearray) -> None:
        try:
            data = conn.recv(65536)
        except (BlockingIOError, socket.timeout):
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn)
            return
        buffer += data
        while b"\n" in buffer:
            line, _, rest = bytes(buffer).partition(b"\n")
            buffer[:] = rest
            if line.strip():
                self._request(conn, line)
        if len(buffer) > MAX_REQUEST:
            self._send(conn, _error(None, -32600, "request too long"))
            self._close(conn)

    def _close(self, conn: socket.socket) -> None:
        try:
            self.selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()

    def _request(self, conn: socket.socket, line: bytes) -> None:
        try:
            request = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            self._send(conn, _error(None, -32700, "parse error"))
            return
        if not isinstance(request, dict):
            self._send(conn, _error(None, -32600, "a request is one JSON object"))
            return
        rid = request.get("id")
        method, params = request.get("method"), request.get("params", [])
        if not isinstance(method, str) or request.get("jsonrpc") != "2.0":
            self._send(conn, _error(rid, -32600, "invalid request: jsonrpc 2.0 and a method expected"))
            return
        if not isinstance(params, list) or any(isinstance(p, (dict, list)) for p in params):
            self._send(conn, _error(rid, -32602, "params: an array of argument lines expected"))
            return
        if self.dispatcher.find(method) is None:
            self._send(conn, _error(rid, -32601, f"command '{method}' not available"))
            return
        args = [p if isinstance(p, str) else json.dumps(p) for p in params]
        result = self.dispatcher.run(method, args, self.control)
        if "id" not in request:
            return  # a notification
        if isinstance(result, Deferred):
            result.then(lambda reply: self._send(conn, _response(rid, reply)))
        else:
            self._send(conn, _response(rid, result))

    def _send(self, conn: socket.socket, message: dict) -> None:
        if conn.fileno() < 0:
            return  # the client left before its answer came
        try:
            conn.sendall(json.dumps(message).encode() + b"\n")
        except OSError as exc:
            LOG.warning("jsonrpc: cannot answer a client: %s", exc.strerror or exc)
            self._close(conn)


def _response(rid, reply: Reply) -> dict:
    if reply.code >= 400:
        return _error(rid, reply.code, reply.text, {"lines": list(reply.body)})
    return {"jsonrpc": "2.0", "id": rid, "result": result_of(reply)}


def _error(rid, code: int, message: str, data=None) -> dict:
    error = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": rid, "error": error}
