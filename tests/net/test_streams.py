"""The stream transport on real sockets: framing, keep-alives, limits, timeouts and TLS.

Every test runs the transport in a real selector loop in the test thread
(`Harness.pump`); peers are ordinary blocking sockets, or threads where a
peer must block (TLS handshakes).  Timeouts use a fake clock given to tick.
"""

from __future__ import annotations

import logging
import os
import random
import selectors
import socket
import resource
import ssl
import subprocess
import threading
import time

import pytest

from ser_runtime.context import PROTO_TCP, PROTO_TLS, ReceiveInfo
from ser_runtime.net import tls
from ser_runtime.net import streams
from ser_runtime.net.streams import StreamLimits, StreamTransport
from ser_runtime.sip.message import stream_message_length

DEADLINE = 3.0


def sip(n: int, body: bytes = b"") -> bytes:
    return (b"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
            b"Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK%d\r\n"
            b"Call-ID: %d@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: %d\r\n\r\n" % (n, n, len(body))) + body


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    """One transport on its own selector, with the messages it delivered."""

    def __init__(self, limits=StreamLimits(), server_tls=None, client_tls=None, on_message=None):
        self.clock = Clock()
        self.selector = selectors.DefaultSelector()
        self.messages: list[tuple[bytes, ReceiveInfo]] = []
        self.transport = StreamTransport(self.selector, on_message or self.record, limits,
                                         server_tls=server_tls, client_tls=client_tls, clock=self.clock)
        self.sockets: list[socket.socket] = []

    def record(self, message: bytes, rcv: ReceiveInfo) -> None:
        self.messages.append((message, rcv))

    def listen(self, proto=PROTO_TCP, host="127.0.0.1") -> tuple[str, int]:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((host, 0))
        sock.listen(64)
        self.transport.listen(sock, proto)
        return sock.getsockname()[:2]

    def client(self, address, rcvbuf: int | None = None) -> socket.socket:
        sock = socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(DEADLINE)
        sock.connect(address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sockets.append(sock)
        return sock

    def step(self, timeout: float = 0.02) -> None:
        for key, events in self.selector.select(timeout):
            key.data(events)

    def pump(self, until, timeout: float = DEADLINE) -> None:
        deadline = time.monotonic() + timeout
        while not until():
            assert time.monotonic() < deadline, "condition not reached in time"
            self.step()

    def recv(self, sock: socket.socket, n: int) -> bytes:
        """Read n bytes from a peer socket while the loop runs."""
        data = bytearray()

        def enough() -> bool:
            chunk = poll(sock, 65536, 0)
            if chunk is None:
                return False
            data.extend(chunk)
            return len(data) >= n or not chunk

        self.pump(enough)
        return bytes(data)

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        self.transport.tick(self.clock.now)

    def close(self) -> None:
        self.transport.close()
        for sock in self.sockets:
            sock.close()
        self.selector.close()


def poll(sock: socket.socket, size: int, flags: int) -> bytes | None:
    """A non-blocking recv on a socket with a timeout (which would wait despite MSG_DONTWAIT)."""
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return sock.recv(size, flags)
    except BlockingIOError:
        return None
    except ConnectionResetError:
        return b""
    finally:
        sock.settimeout(timeout)


def peer_closed(sock: socket.socket) -> bool:
    return poll(sock, 1, socket.MSG_PEEK) == b""


@pytest.fixture
def make():
    made: list[Harness] = []

    def factory(**kwargs) -> Harness:
        made.append(Harness(**kwargs))
        return made[-1]

    yield factory
    for harness in made:
        harness.close()


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """Two self-signed certificates: (cert, key) and a second pair for mismatch tests."""
    directory = tmp_path_factory.mktemp("tls")
    pairs = []
    for name in ("a", "b"):
        cert, key = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True)
        pairs.append((str(cert), str(key)))
    return pairs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- TCP -------------------------------------------------------------------

def test_receives_one_message(make):
    h = make()
    address = h.listen()
    client = h.client(address)
    client.sendall(sip(1))
    h.pump(lambda: h.messages)
    message, rcv = h.messages[0]
    assert message == sip(1)
    assert rcv == ReceiveInfo("127.0.0.1", client.getsockname()[1], "127.0.0.1", address[1], PROTO_TCP)


def test_several_messages_in_one_write(make):
    h = make()
    client = h.client(h.listen())
    client.sendall(sip(1) + b"\r\n" + sip(2, b"v=0\r\n") + sip(3))
    h.pump(lambda: len(h.messages) == 3)
    assert [m for m, _ in h.messages] == [sip(1), sip(2, b"v=0\r\n"), sip(3)]


def test_message_split_byte_by_byte(make):
    h = make()
    client = h.client(h.listen())
    message = sip(7, b"body bytes")
    for byte in message:
        client.send(bytes([byte]))
        h.step(0)
    h.pump(lambda: h.messages)
    h.step(0.05)
    assert [m for m, _ in h.messages] == [message]


def test_stream_cut_at_random_points(make):
    h = make()
    client = h.client(h.listen())
    rng = random.Random(5)
    messages = [sip(n, b"b" * rng.choice((0, 1, 2, 500, 3000))) for n in range(60)]
    stream = b"".join(rng.choice((b"", b"\r\n")) + m for m in messages)
    pos = 0
    while pos < len(stream):
        size = rng.choice((1, 2, 3, 7, 100, 1500, 9000))
        client.sendall(stream[pos:pos + size])
        pos += size
        h.step(0)
    h.pump(lambda: len(h.messages) == len(messages))
    assert [m for m, _ in h.messages] == messages


def test_slowly_arriving_message_is_not_reframed_on_every_read(make, monkeypatch):
    calls = []

    def counting(buffer):
        calls.append(len(buffer))
        return stream_message_length(buffer)

    monkeypatch.setattr(streams, "stream_message_length", counting)
    h = make()
    client = h.client(h.listen())
    message = sip(8, b"b" * 30000)
    for start in range(0, len(message), 250):
        client.send(message[start:start + 250])
        h.step(0)
    h.pump(lambda: h.messages)
    assert [m for m, _ in h.messages] == [message]
    assert len(calls) <= 3


def test_keepalive_ping_answered_with_pong(make):
    h = make()
    client = h.client(h.listen())
    client.sendall(b"\r\n\r\n")
    assert h.recv(client, 2) == b"\r\n"
    client.sendall(b"\r\n")
    h.step(0.05)
    client.sendall(b"\r\n")
    assert h.recv(client, 2) == b"\r\n"
    # A lone CRLF before a message is a keep-alive, not a ping; the message arrives without it.
    client.sendall(b"\r\n" + sip(1))
    h.pump(lambda: h.messages)
    assert h.messages[0][0] == sip(1)
    client.sendall(b"\r\n\r\n")
    assert h.recv(client, 2) == b"\r\n"
    for piece in (b"\r", b"\n\r", b"\n\r\n\r\n\r", b"\n"):  # two pings cut at odd places
        client.sendall(piece)
        h.step(0.02)
    assert h.recv(client, 4) == b"\r\n\r\n"
    assert h.transport.connections == 1


def test_reply_goes_back_on_the_same_connection(make):
    h = make()
    client = h.client(h.listen())
    client.sendall(sip(1))
    h.pump(lambda: h.messages)
    rcv = h.messages[0][1]
    reply = b"SIP/2.0 200 OK\r\n\r\n"
    assert h.transport.send(PROTO_TCP, rcv.src_ip, rcv.src_port, reply)
    assert h.recv(client, len(reply)) == reply
    assert h.transport.connections == 1


def test_outgoing_connection_delivers_queued_data_and_receives(make):
    h = make()
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        assert h.transport.send(PROTO_TCP, "127.0.0.1", port, sip(1))
        assert h.transport.send(PROTO_TCP, "127.0.0.1", port, sip(2))
        assert h.transport.connections == 1
        server.settimeout(DEADLINE)
        peer, peer_address = server.accept()
        h.sockets.append(peer)
        assert h.recv(peer, len(sip(1) + sip(2))) == sip(1) + sip(2)
        peer.sendall(sip(3))
        h.pump(lambda: h.messages)
        message, rcv = h.messages[0]
        assert message == sip(3)
        assert rcv == ReceiveInfo("127.0.0.1", port, "127.0.0.1", peer_address[1], PROTO_TCP)


def test_outgoing_connection_binds_the_local_address(make):
    h = make()
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(DEADLINE)
        port = server.getsockname()[1]
        assert h.transport.send(PROTO_TCP, "127.0.0.1", port, sip(1), local=("127.0.0.2", 5060))
        peer, peer_address = server.accept()
        h.sockets.append(peer)
        assert peer_address[0] == "127.0.0.2" and peer_address[1] != 5060
        assert h.recv(peer, len(sip(1))) == sip(1)


def test_ipv6_loopback(make):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    h = make()
    try:
        address = h.listen(host="::1")
    except OSError:
        pytest.skip("no ::1")
    client = h.client(address)
    client.sendall(sip(1))
    h.pump(lambda: h.messages)
    rcv = h.messages[0][1]
    assert (rcv.src_ip, rcv.dst_ip, rcv.dst_port) == ("::1", "::1", address[1])
    assert h.transport.send(PROTO_TCP, "[0:0:0:0:0:0:0:1]", rcv.src_port, b"pong")
    assert h.recv(client, 4) == b"pong"
    assert h.transport.connections == 1


# -- bad input ---------------------------------------------------------------

def test_missing_content_length_closes(make, caplog):
    h = make()
    client = h.client(h.listen())
    client.sendall(sip(1).replace(b"Content-Length: 0\r\n", b""))
    with caplog.at_level(logging.WARNING, logger="ser.tcp"):
        h.pump(lambda: peer_closed(client))
    assert h.messages == [] and h.transport.connections == 0
    assert any("Content-Length" in record.getMessage() for record in caplog.records)


def test_oversized_message_closes(make):
    h = make()
    client = h.client(h.listen())
    client.sendall(b"OPTIONS sip:x SIP/2.0\r\nX-Big: " + b"a" * 70000)
    h.pump(lambda: peer_closed(client))
    assert h.messages == [] and h.transport.connections == 0


def test_garbage_closes_only_that_connection(make):
    h = make()
    address = h.listen()
    bad, good = h.client(address), h.client(address)
    bad.sendall(bytes(range(256)) + b"\r\n\r\n")
    h.pump(lambda: peer_closed(bad))
    good.sendall(sip(2))
    h.pump(lambda: h.messages)
    assert [m for m, _ in h.messages] == [sip(2)]
    assert h.transport.connections == 1


def test_failing_handler_keeps_the_connection(make, caplog):
    received = []

    def explode(message, rcv):
        received.append(message)
        raise RuntimeError("script error")

    h = make(on_message=explode)
    client = h.client(h.listen())
    with caplog.at_level(logging.DEBUG, logger="ser.tcp"):
        client.sendall(sip(1) + sip(2))
        h.pump(lambda: len(received) == 2)
    assert not peer_closed(client) and h.transport.connections == 1
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2 and all(r.exc_info is None for r in warnings)
    assert "script error" in warnings[0].getMessage()


# -- slow, silent and misbehaving peers -----------------------------------------

def test_silent_client_closed_after_lifetime(make):
    h = make(limits=StreamLimits(lifetime=5))
    client = h.client(h.listen())
    h.pump(lambda: h.transport.connections == 1)
    h.advance(4)
    assert h.transport.connections == 1
    client.sendall(b"\r\n")  # any traffic renews the lifetime
    h.step(0.05)
    h.advance(4)
    assert h.transport.connections == 1
    h.advance(2)
    assert h.transport.connections == 0
    h.pump(lambda: peer_closed(client))


def test_stalled_client_does_not_block_others(make):
    h = make()
    address = h.listen()
    slow, fast = h.client(address), h.client(address)
    message = sip(1, b"x" * 100)
    slow.sendall(message[:60])
    h.step(0.05)
    fast.sendall(sip(2))
    h.pump(lambda: h.messages)
    assert [m for m, _ in h.messages] == [sip(2)]
    slow.sendall(message[60:])
    h.pump(lambda: len(h.messages) == 2)
    assert h.messages[1][0] == message


def test_peer_that_never_reads_hits_max_queued(make):
    h = make(limits=StreamLimits(max_queued=256 * 1024))
    client = h.client(h.listen(), rcvbuf=4096)
    client.sendall(sip(1))
    h.pump(lambda: h.messages)
    rcv = h.messages[0][1]
    chunk = b"x" * 65536
    start = time.monotonic()
    sends = 0
    while h.transport.send(PROTO_TCP, rcv.src_ip, rcv.src_port, chunk):
        sends += 1
        assert sends < 400, "the queue limit never applied"
    assert time.monotonic() - start < 2
    assert sends > 0 and h.transport.connections == 0


def test_peer_that_never_reads_hits_send_timeout(make):
    h = make(limits=StreamLimits(max_queued=16 << 20, send_timeout=5))
    client = h.client(h.listen(), rcvbuf=4096)
    client.sendall(sip(1))
    h.pump(lambda: h.messages)
    rcv = h.messages[0][1]
    assert all(h.transport.send(PROTO_TCP, rcv.src_ip, rcv.src_port, b"x" * (1 << 20)) for _ in range(10))
    h.step(0.05)
    h.advance(3)
    assert h.transport.connections == 1
    h.advance(3)
    assert h.transport.connections == 0


def test_connect_to_closed_port_fails_without_blocking(make):
    h = make()
    port = free_port()
    start = time.monotonic()
    h.transport.send(PROTO_TCP, "127.0.0.1", port, sip(1))
    h.pump(lambda: h.transport.connections == 0, timeout=1)
    assert time.monotonic() - start < 1
    assert not h.transport.send(PROTO_TLS, "127.0.0.1", port, sip(1))  # no client TLS context
    assert not h.transport.send(PROTO_TCP, "not-an-address", port, sip(1))


def test_connect_timeout(make):
    h = make(limits=StreamLimits(connect_timeout=5))
    # A listener with a full accept queue drops further SYNs, so our connect stays pending.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    h.sockets.append(server)
    filler = h.client(server.getsockname())
    assert h.transport.send(PROTO_TCP, "127.0.0.1", server.getsockname()[1], sip(1))
    h.step(0.1)
    h.advance(4)
    assert h.transport.connections == 1
    h.advance(2)
    assert h.transport.connections == 0
    assert not peer_closed(filler)


def test_max_connections(make):
    h = make(limits=StreamLimits(max_connections=2))
    address = h.listen()
    first, second = h.client(address), h.client(address)
    h.pump(lambda: h.transport.connections == 2)
    third = h.client(address)
    h.pump(lambda: peer_closed(third))
    assert not peer_closed(first) and not peer_closed(second)
    assert h.transport.connections == 2
    assert not h.transport.send(PROTO_TCP, "127.0.0.1", free_port(), sip(1))


def test_accept_out_of_descriptors_pauses_the_listener(make, caplog):
    h = make()
    address = h.listen()
    client = h.client(address)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowest_free = os.dup(0)
    os.close(lowest_free)
    # New descriptors take the lowest free number, which must stay below the limit: none can be made.
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))
    try:
        with caplog.at_level(logging.ERROR, logger="ser.tcp"):
            for _ in range(5):  # would spin on a readable listener if it were not paused
                h.step(0.01)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert len(caplog.records) == 1 and h.transport.connections == 0
    h.advance(1)
    h.pump(lambda: h.transport.connections == 1)
    client.sendall(sip(1))
    h.pump(lambda: h.messages)


def test_alias_reaches_the_connection(make):
    h = make()
    client = h.client(h.listen())
    client.sendall(sip(1))
    h.pump(lambda: h.messages)
    rcv = h.messages[0][1]
    assert h.transport.add_alias(PROTO_TCP, "127.0.0.1", 5999, rcv)
    assert h.transport.send(PROTO_TCP, "127.0.0.1", 5999, b"via alias")
    assert h.recv(client, 9) == b"via alias"
    assert h.transport.connections == 1
    unknown = ReceiveInfo("127.0.0.1", 1, "127.0.0.1", 5060, PROTO_TCP)
    assert not h.transport.add_alias(PROTO_TCP, "127.0.0.1", 5998, unknown)


# -- TLS ---------------------------------------------------------------------

def run_in_thread(target) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = target()
        except Exception as exc:  # reported by the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_tls_server_receives_and_replies(make, certs):
    cert, key = certs[0]
    h = make(server_tls=tls.server_context(cert, key), limits=StreamLimits(max_queued=16 << 20))
    address = h.listen(PROTO_TLS)
    message = sip(1, b"s" * 50000)  # several TLS records
    # Larger than the socket buffers, so that the transport's TLS writes stall and resume.
    reply = b"".join(sip(n, b"r" * 60000) for n in range(100))

    def client():
        context = ssl.create_default_context(cafile=cert)
        context.check_hostname = False
        with socket.socket() as raw:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            raw.settimeout(DEADLINE)
            raw.connect(address)
            with context.wrap_socket(raw) as sock:
                sock.sendall(message)
                time.sleep(0.1)
                data = bytearray()
                while len(data) < len(reply):
                    data += sock.recv(65536)
                return bytes(data)

    thread, outcome = run_in_thread(client)
    h.pump(lambda: h.messages)
    received, rcv = h.messages[0]
    assert received == message and rcv.proto == PROTO_TLS and rcv.dst_port == address[1]
    assert h.transport.send(PROTO_TLS, rcv.src_ip, rcv.src_port, reply)
    h.pump(lambda: not thread.is_alive())
    assert outcome == {"result": reply}


def test_tls_client_sends_and_receives(make, certs):
    cert, key = certs[0]
    h = make(client_tls=tls.client_context(ca_list=cert, verify=True))
    server = socket.create_server(("127.0.0.1", 0))
    h.sockets.append(server)
    server.settimeout(DEADLINE)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    expected = sip(1) + sip(2)

    def serve():
        raw, _ = server.accept()
        with context.wrap_socket(raw, server_side=True) as sock:
            data = b""
            while len(data) < len(expected):
                data += sock.recv(65536)
            sock.sendall(sip(3))
            sock.recv(1)  # until the transport closes
            return data

    thread, outcome = run_in_thread(serve)
    port = server.getsockname()[1]
    assert h.transport.send(PROTO_TLS, "127.0.0.1", port, sip(1))
    assert h.transport.send(PROTO_TLS, "127.0.0.1", port, sip(2))
    h.pump(lambda: h.messages)
    message, rcv = h.messages[0]
    assert message == sip(3) and (rcv.src_port, rcv.proto) == (port, PROTO_TLS)
    h.transport.close()
    h.pump(lambda: not thread.is_alive())
    assert outcome == {"result": expected}


def test_tls_handshake_timeout(make, certs):
    cert, key = certs[0]
    h = make(server_tls=tls.server_context(cert, key), limits=StreamLimits(handshake_timeout=5))
    client = h.client(h.listen(PROTO_TLS))
    h.pump(lambda: h.transport.connections == 1)
    h.advance(4)
    assert h.transport.connections == 1
    h.advance(2)
    assert h.transport.connections == 0
    h.pump(lambda: peer_closed(client))


def test_tls_listener_survives_a_plain_text_client(make, certs):
    cert, key = certs[0]
    h = make(server_tls=tls.server_context(cert, key))
    address = h.listen(PROTO_TLS)
    plain = h.client(address)
    plain.sendall(sip(1))
    h.pump(lambda: h.transport.connections == 0)
    assert h.messages == []


def test_tls_config_errors(certs, tmp_path):
    (cert, key), (_, other_key) = certs
    with pytest.raises(tls.TlsConfigError, match="not found"):
        tls.server_context(str(tmp_path / "missing.pem"), key)
    with pytest.raises(tls.TlsConfigError, match="does not match"):
        tls.server_context(cert, other_key)
    with pytest.raises(tls.TlsConfigError, match="SSLv2"):
        tls.server_context(cert, key, method="SSLv2")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(tls.TlsConfigError, match="junk.pem: no usable PEM certificate"):
        tls.server_context(str(junk), key)
    with pytest.raises(tls.TlsConfigError, match="junk.pem: no usable PEM private key"):
        tls.server_context(cert, str(junk))
    encrypted = tmp_path / "encrypted.pem"
    subprocess.run(["openssl", "pkey", "-in", key, "-aes256", "-passout", "pass:secret", "-out", str(encrypted)],
                   check=True, capture_output=True)
    with pytest.raises(tls.TlsConfigError, match="encrypted"):
        tls.server_context(cert, str(encrypted))
    with pytest.raises(tls.TlsConfigError, match="unknown method"):
        tls.server_context(cert, key, method="DTLSv1")
    for method in ("sslv23", "TLSv1", None):
        assert tls.server_context(cert, key, method=method).minimum_version == ssl.TLSVersion.TLSv1_2
    context = tls.server_context(cert, key, ca_list=cert, require_certificate=True)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert tls.client_context().verify_mode == ssl.CERT_NONE
