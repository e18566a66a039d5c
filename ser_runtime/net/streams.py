"""SIP over TCP and TLS: every stream connection of one worker process.

A worker runs one single-threaded selector loop; `StreamTransport` owns
the listening sockets and all accepted and opened connections, and never
blocks that loop.  Sockets are non-blocking, connects and TLS handshakes
are driven by selector events, buffers are bounded and `tick` closes
connections that stay silent, never finish connecting or handshaking, or
stop draining what we send.

Messages are framed as RFC 3261 §18 asks for streams: by Content-Length
(§18.3), through `stream_message_length`.  CR/LF runs between messages
are keep-alives; a double-CRLF ping is answered with a single CRLF pong
(RFC 5626 §4.4.1).  Connections are keyed by (proto, peer ip, peer port),
with SER's force_tcp_alias adding further keys for one connection.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import re
import selectors
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Callable

from ser_runtime.context import PROTO_TCP, PROTO_TLS, ReceiveInfo
from ser_runtime.sip.errors import SipParseError
from ser_runtime.sip.framing import EMPTY_LINE, MAX_MESSAGE, Layout, index_message
from ser_runtime.sip.message import stream_message_length

LOG = logging.getLogger("ser.tcp")

_READ, _WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
_RECV_SIZE = 65536
_SEND_CHUNK = 65536
# Bounded so that a flood of connection attempts cannot starve the other sockets.
_ACCEPTS_PER_EVENT = 64
_CONNECT_PENDING = {0, errno.EINPROGRESS, errno.EAGAIN}
_CRLF_RUN = re.compile(rb"[\r\n]*")
_PING, _PONG = b"\r\n\r\n", b"\r\n"
_PROTO_NAMES = {PROTO_TCP: "tcp", PROTO_TLS: "tls"}

_CONNECTING, _HANDSHAKE, _OPEN = "connecting", "handshake", "open"


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """SER's tcp_* and tls_* limits; times in seconds."""

    connect_timeout: float = 10.0     # SER tcp_connect_timeout
    send_timeout: float = 10.0        # SER tcp_send_timeout: queued data with no progress for this long -> close
    lifetime: float = 120.0           # idle connection lifetime (SER tcp_connection_lifetime)
    handshake_timeout: float = 10.0   # tls_handshake_timeout
    max_connections: int = 2048       # tcp_max_connections; beyond it new accepts are closed at once
    max_queued: int = 1 << 20         # bytes queued for sending per connection; beyond it -> close


class _Connection:
    """One TCP or TLS connection: its socket, buffers, state and timestamps."""

    __slots__ = ("sock", "proto", "peer", "local", "keys", "state", "inbuf", "need", "scanned", "outbuf", "events",
                 "handler", "since", "last_active", "last_progress", "handshake_wants", "retry_len",
                 "read_blocked_on_write", "write_blocked_on_read", "closed")

    def __init__(self, sock: socket.socket, proto: int, peer: tuple[str, int], state: str, now: float):
        self.sock = sock
        self.proto = proto
        self.peer = peer
        self.local: tuple[str, int] = ("", 0)
        self.keys = {(proto, *peer)}
        self.state = state
        self.inbuf = bytearray()
        # For the message at the start of inbuf: its full length once its headers are in (else 0),
        # and how many of its bytes hold no empty line; both spare rescanning a slowly growing buffer.
        self.need = 0
        self.scanned = 0
        self.outbuf = bytearray()
        self.events = 0
        self.handler: Callable[[int], None] | None = None
        self.since = self.last_active = self.last_progress = now
        self.handshake_wants = _READ
        # A TLS write that failed with WANT_* must be retried with the same length (OpenSSL's rule).
        self.retry_len = 0
        self.read_blocked_on_write = False
        self.write_blocked_on_read = False
        self.closed = False

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.proto, *self.peer)

    @property
    def name(self) -> str:
        return f"{_PROTO_NAMES[self.proto]}:{_format(self.peer)}"

    def receive_info(self) -> ReceiveInfo:
        return ReceiveInfo(self.peer[0], self.peer[1], self.local[0], self.local[1], self.proto)

    def wanted_events(self) -> int:
        if self.state == _CONNECTING:
            return _WRITE
        if self.state == _HANDSHAKE:
            return self.handshake_wants
        if (self.outbuf and not self.write_blocked_on_read) or self.read_blocked_on_write:
            return _READ | _WRITE
        return _READ


class StreamTransport:
    """All TCP/TLS connections of one worker, driven by its selector loop."""

    def __init__(self, selector: selectors.BaseSelector, on_message: Callable[[bytes, ReceiveInfo], None],
                 limits: StreamLimits = StreamLimits(), server_tls: ssl.SSLContext | None = None,
                 client_tls: ssl.SSLContext | None = None, clock: Callable[[], float] = time.monotonic):
        self._selector = selector
        self._on_message = on_message
        self._limits = limits
        self._server_tls = server_tls
        self._client_tls = client_tls
        self._clock = clock
        self._listeners: dict[socket.socket, int] = {}
        self._paused: list[socket.socket] = []
        self._conns: set[_Connection] = set()
        self._by_key: dict[tuple[int, str, int], _Connection] = {}

    @property
    def connections(self) -> int:
        return len(self._conns)

    def listen(self, sock: socket.socket, proto: int) -> None:
        """Take over a bound, listening socket (PROTO_TCP or PROTO_TLS); registers it non-blocking."""
        if proto not in _PROTO_NAMES:
            raise ValueError(f"not a stream protocol: {proto}")
        if proto == PROTO_TLS and self._server_tls is None:
            raise ValueError("a TLS listener needs a server TLS context")
        sock.setblocking(False)
        self._listeners[sock] = proto
        self._watch_listener(sock)

    def send(self, proto: int, ip: str, port: int, data: bytes, *, local: tuple[str, int] | None = None) -> bool:
        """Queue `data` on the connection to (proto, ip, port): an existing one (accepted or opened, or an alias),
        else open one non-blocking (bound to `local` address when given, port 0). False (and a logged reason)
        when it cannot be sent: too many connections, queue full, immediate connect error."""
        if proto not in _PROTO_NAMES:
            LOG.warning("cannot send over protocol %s: not a stream protocol", proto)
            return False
        try:
            key = (proto, _normalize(ip), port)
        except ValueError:
            LOG.warning("cannot send to %s:%s: not an IP address", ip, port)
            return False
        conn = self._by_key.get(key) or self._connect(key, local)
        return conn is not None and self._queue(conn, data)

    def add_alias(self, proto: int, ip: str, port: int, rcv: ReceiveInfo) -> bool:
        """SER's force_tcp_alias: make (proto, ip, port) also reach the connection the message `rcv` came on."""
        try:
            conn = self._by_key.get((rcv.proto, _normalize(rcv.src_ip), rcv.src_port))
            key = (proto, _normalize(ip), port)
        except ValueError:
            return False
        if conn is None:
            LOG.info("no connection from %s:%s to alias", rcv.src_ip, rcv.src_port)
            return False
        conn.keys.add(key)
        self._by_key[key] = conn
        return True

    def tick(self, now: float) -> None:
        """Close connections past their timeouts (connect, handshake, send, idle lifetime)."""
        while self._paused:
            self._watch_listener(self._paused.pop())
        for conn in list(self._conns):
            reason = self._expired(conn, now)
            if reason:
                LOG.info("%s: %s; closing", conn.name, reason)
                self._close(conn)

    def close(self) -> None:
        """Close everything (worker shutdown)."""
        for conn in list(self._conns):
            self._close(conn)
        for sock in self._listeners:
            if sock not in self._paused:
                _unregister(self._selector, sock)
            sock.close()
        self._listeners.clear()
        self._paused.clear()

    # -- accepting ---------------------------------------------------------

    def _watch_listener(self, sock: socket.socket) -> None:
        self._selector.register(sock, _READ, lambda events: self._accept(sock))

    def _accept(self, listener: socket.socket) -> None:
        for _ in range(_ACCEPTS_PER_EVENT):
            proto = self._listeners.get(listener)
            if proto is None:  # closed meanwhile, by close() from a message handler
                return
            try:
                sock, address = listener.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                # Out of descriptors the listener stays readable; retrying at once would spin.
                LOG.error("accept failed: %s; not accepting until the next tick", exc)
                _unregister(self._selector, listener)
                self._paused.append(listener)
                return
            self._adopt(sock, proto, address)

    def _adopt(self, sock: socket.socket, proto: int, address: tuple) -> None:
        peer = (_normalize(address[0]), address[1])
        if len(self._conns) >= self._limits.max_connections:
            LOG.warning("%s: refused, already %d connections", _format(peer), len(self._conns))
            sock.close()
            return
        try:
            _prepare(sock)
            if proto == PROTO_TLS:
                sock = self._server_tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            conn = _Connection(sock, proto, peer, _HANDSHAKE if proto == PROTO_TLS else _OPEN, self._clock())
            conn.local = _address(sock.getsockname())
        except OSError as exc:
            LOG.info("%s: cannot take the connection: %s", _format(peer), exc)
            sock.close()
            return
        self._add(conn)
        # One step of the state machine: it registers the socket, and a TLS handshake may progress already.
        self._handle(conn, 0)

    # -- connecting --------------------------------------------------------

    def _connect(self, key: tuple[int, str, int], local: tuple[str, int] | None) -> _Connection | None:
        proto, ip, port = key
        name = f"{_PROTO_NAMES[proto]}:{_format((ip, port))}"
        if len(self._conns) >= self._limits.max_connections:
            LOG.warning("%s: not connecting, already %d connections", name, len(self._conns))
            return None
        if proto == PROTO_TLS and self._client_tls is None:
            LOG.warning("%s: not connecting, no client TLS context", name)
            return None
        try:
            sock = _connecting_socket(ip, port, local)
        except OSError as exc:
            LOG.warning("%s: cannot connect: %s", name, exc)
            return None
        conn = _Connection(sock, proto, (ip, port), _CONNECTING, self._clock())
        self._add(conn)
        self._update(conn)
        return conn

    def _connected(self, conn: _Connection) -> None:
        error = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            LOG.warning("%s: connect failed: %s", conn.name, os.strerror(error))
            self._close(conn)
            return
        conn.local = _address(conn.sock.getsockname())
        if conn.proto == PROTO_TCP:
            self._open(conn)
            return
        # Wrapping replaces the socket object; the selector must watch the new one.
        _unregister(self._selector, conn.sock)
        conn.events = 0
        conn.sock = self._client_tls.wrap_socket(conn.sock, server_side=False, do_handshake_on_connect=False,
                                                 server_hostname=None)
        conn.state = _HANDSHAKE
        conn.since = self._clock()
        self._handshake(conn)

    def _handshake(self, conn: _Connection) -> None:
        try:
            conn.sock.do_handshake()
        except ssl.SSLWantReadError:
            conn.handshake_wants = _READ
        except ssl.SSLWantWriteError:
            conn.handshake_wants = _WRITE
        except OSError as exc:
            LOG.info("%s: TLS handshake failed: %s", conn.name, exc)
            self._close(conn)
        else:
            self._open(conn)
            if not conn.closed:
                # Application data that came with the handshake may sit in OpenSSL's buffer, invisible to select.
                self._read(conn)

    def _open(self, conn: _Connection) -> None:
        conn.state = _OPEN
        conn.last_active = conn.last_progress = self._clock()
        if conn.outbuf:
            self._flush(conn)

    # -- events ------------------------------------------------------------

    def _add(self, conn: _Connection) -> None:
        conn.handler = lambda events: self._handle(conn, events)
        self._conns.add(conn)
        self._by_key[conn.key] = conn

    def _handle(self, conn: _Connection, events: int) -> None:
        if conn.closed:
            return
        try:
            if conn.state == _CONNECTING:
                self._connected(conn)
            elif conn.state == _HANDSHAKE:
                self._handshake(conn)
            else:
                if events & _READ or conn.read_blocked_on_write:
                    self._read(conn)
                if conn.outbuf and not conn.closed:
                    self._flush(conn)
        except OSError as exc:
            LOG.info("%s: %s; closing", conn.name, exc)
            self._close(conn)
        self._update(conn)

    def _update(self, conn: _Connection) -> None:
        if conn.closed:
            return
        wanted = conn.wanted_events()
        if wanted == conn.events:
            return
        if conn.events:
            self._selector.modify(conn.sock, wanted, conn.handler)
        else:
            self._selector.register(conn.sock, wanted, conn.handler)
        conn.events = wanted

    # -- receiving ---------------------------------------------------------

    def _read(self, conn: _Connection) -> None:
        data = self._receive(conn)
        if data is None:
            return
        if not data:
            LOG.debug("%s: closed by the peer", conn.name)
            self._close(conn)
            return
        conn.last_active = self._clock()
        conn.inbuf += data
        self._frame(conn)

    def _receive(self, conn: _Connection) -> bytes | None:
        """What the socket has (b"" at end of stream), or None when nothing can be read yet."""
        conn.read_blocked_on_write = False
        sock = conn.sock
        try:
            data = sock.recv(_RECV_SIZE)
            if conn.proto == PROTO_TLS:
                # Decrypted bytes left in OpenSSL's buffer never make the socket readable again.
                while data and sock.pending():
                    data += sock.recv(sock.pending())
        except (BlockingIOError, ssl.SSLWantReadError):
            return None
        except ssl.SSLWantWriteError:
            conn.read_blocked_on_write = True
            return None
        return data

    def _frame(self, conn: _Connection) -> None:
        buf = conn.inbuf
        pos = 0
        while not conn.closed:
            pos = self._keepalives(conn, pos)
            if conn.closed or not self._may_be_complete(conn, pos):
                break
            # The framer never looks past one maximal message, so it need not copy the whole buffer.
            window = bytes(buf[pos:pos + MAX_MESSAGE + 1])
            try:
                length = stream_message_length(window)
            except SipParseError as exc:
                LOG.warning("%s: cannot frame the stream (%s); closing", conn.name, exc)
                self._close(conn)
                return
            if length is None:
                conn.need = _incomplete_length(window)
                break
            conn.need = conn.scanned = 0
            self._deliver(conn, window[:length])
            pos += length
        del buf[:pos]

    def _may_be_complete(self, conn: _Connection, pos: int) -> bool:
        """Whether the framer could find a whole message at `pos`, judged from the new bytes only."""
        buf = conn.inbuf
        if conn.need:
            return len(buf) - pos >= conn.need
        if len(buf) - pos > MAX_MESSAGE:
            return True  # for the framer to refuse
        # An empty line straddling the previous end starts at most two bytes before it.
        if EMPTY_LINE.search(buf, pos + max(conn.scanned - 2, 0)) is None:
            conn.scanned = len(buf) - pos
            return False
        return True

    def _keepalives(self, conn: _Connection, pos: int) -> int:
        """Skip the CR/LF run at `pos`, answering each ping in it with a pong."""
        buf = conn.inbuf
        end = _CRLF_RUN.match(buf, pos).end()
        pings, after = 0, pos
        while (found := buf.find(_PING, after, end)) >= 0:
            pings, after = pings + 1, found + len(_PING)
        if end == len(buf):
            # A ping cut short by the end of what has arrived: keep its start for the next read.
            end -= next((n for n in (3, 2, 1) if buf.endswith(_PING[:n], after)), 0)
        if end > pos:
            conn.scanned = 0
        if pings:
            self._queue(conn, _PONG * pings)
        return end

    def _deliver(self, conn: _Connection, message: bytes) -> None:
        try:
            self._on_message(message, conn.receive_info())
        except Exception as exc:
            LOG.warning("%s: handling a received message failed: %s: %s", conn.name, type(exc).__name__, exc)
            LOG.debug("handler traceback", exc_info=True)

    # -- sending -----------------------------------------------------------

    def _queue(self, conn: _Connection, data: bytes) -> bool:
        if len(conn.outbuf) + len(data) > self._limits.max_queued:
            LOG.warning("%s: more than %d bytes waiting to be sent; closing", conn.name, self._limits.max_queued)
            self._close(conn)
            return False
        if not conn.outbuf:
            conn.last_progress = self._clock()
        conn.outbuf += data
        if conn.state == _OPEN:
            self._flush(conn)
            self._update(conn)
        return not conn.closed

    def _flush(self, conn: _Connection) -> None:
        conn.write_blocked_on_read = False
        while conn.outbuf:
            chunk = conn.outbuf[:conn.retry_len or _SEND_CHUNK]
            try:
                sent = conn.sock.send(chunk)
            except (BlockingIOError, ssl.SSLWantWriteError):
                conn.retry_len = len(chunk)
                return
            except ssl.SSLWantReadError:
                conn.retry_len = len(chunk)
                conn.write_blocked_on_read = True
                return
            except OSError as exc:
                LOG.info("%s: send failed: %s; closing", conn.name, exc)
                self._close(conn)
                return
            conn.retry_len = 0
            del conn.outbuf[:sent]
            conn.last_progress = conn.last_active = self._clock()

    # -- closing -----------------------------------------------------------

    def _expired(self, conn: _Connection, now: float) -> str | None:
        limits = self._limits
        if conn.state == _CONNECTING:
            return "connect timeout" if now - conn.since > limits.connect_timeout else None
        if conn.state == _HANDSHAKE:
            return "TLS handshake timeout" if now - conn.since > limits.handshake_timeout else None
        if conn.outbuf:
            return "send timeout" if now - conn.last_progress > limits.send_timeout else None
        return "idle lifetime over" if now - conn.last_active > limits.lifetime else None

    def _close(self, conn: _Connection) -> None:
        if conn.closed:
            return
        conn.closed = True
        self._conns.discard(conn)
        for key in conn.keys:
            if self._by_key.get(key) is conn:
                del self._by_key[key]
        if conn.events:
            _unregister(self._selector, conn.sock)
        try:
            conn.sock.close()
        except OSError:
            pass


def _incomplete_length(window: bytes) -> int:
    """The full length of the message whose headers `window` holds but not all of its body."""
    layout = Layout()
    index_message(window, 0, layout)
    return layout.body_start + layout.content_length


def _connecting_socket(ip: str, port: int, local: tuple[str, int] | None) -> socket.socket:
    """A non-blocking socket whose connect is under way; OSError when it failed at once."""
    sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
    try:
        _prepare(sock)
        if local:
            sock.bind((local[0], 0))
        error = sock.connect_ex((ip, port))
        if error not in _CONNECT_PENDING:
            raise OSError(error, os.strerror(error))
    except OSError:
        sock.close()
        raise
    return sock


def _prepare(sock: socket.socket) -> None:
    sock.setblocking(False)
    # Each send is a whole message; Nagle would only delay the next one.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _unregister(selector: selectors.BaseSelector, sock: socket.socket) -> None:
    try:
        selector.unregister(sock)
    except (KeyError, ValueError):
        pass


def _normalize(ip: str) -> str:
    """The canonical text of an IP address: IPv6 compressed, no brackets."""
    return ipaddress.ip_address(ip.strip("[]")).compressed


def _address(sockname: tuple) -> tuple[str, int]:
    return _normalize(sockname[0]), sockname[1]


def _format(address: tuple[str, int]) -> str:
    ip, port = address
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
