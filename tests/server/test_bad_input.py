"""The real `ser` fed broken, hostile and oversized input over UDP and TCP on loopback.

One `ser` process (two workers, udp+tcp on one free port) serves the whole
module. Its script answers requests for user "nobody" with 404 and forwards
the rest; every test sends raw bytes with plain sockets, checks the reply (or
that there is none) and that the server still answers a good request. At the
end the workers must be the ones that started (none crashed and was
replaced), no script failure was logged, and SIGTERM must stop the server
with exit code 0 and no traceback in its log.

"No reply" is checked without sleeping: after the bad datagram the same
socket sends a good OPTIONS. A source address always reaches the same
worker (SO_REUSEPORT hashes it), which handles datagrams in order, so a
reply to the bad datagram would arrive before the 404 to the good one.
"""

from __future__ import annotations

import random
import re
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ports import free_port
from tests.server.harness import Ser, proxy_config

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"
LIFETIME = 2          # tcp_connection_lifetime in the config
MAX_UDP_PAYLOAD = 65507  # the largest datagram IPv4 can carry (65535 minus IP and UDP headers)


def server_config(port: int) -> str:
    routing = """if (uri=~"^sip:nobody@") {
        sl_send_reply("404", "Not Here");
        break;
    };
    forward(uri:host, uri:port);"""
    return proxy_config(HOST, port, routing, extra=f"tcp_connection_lifetime={LIFETIME}\n")


# --- building requests and reading replies -----------------------------------------------------

def sip_request(port: int, *, method: str = "OPTIONS", user: str = "nobody", ruri: str | None = None,
                transport: str = "UDP", via: str | None = None, call_id: str | None = None,
                cseq: str | None = None, to_tag: str | None = None, omit: tuple = (),
                replace: dict | None = None, extra: tuple = (), body: bytes = b"",
                content_length: str | None = None) -> bytes:
    """A well-formed request from a client at 127.0.0.1:`port`, with the given changes."""
    token = uuid.uuid4().hex
    headers = {
        "Via": via or f"SIP/2.0/{transport} {HOST}:{port};rport;branch=z9hG4bK{token[:16]}",
        "From": f"<sip:tester@{HOST}>;tag={token[16:24]}",
        "To": f"<sip:{user}@{HOST}>" + (f";tag={to_tag}" if to_tag else ""),
        "Call-ID": call_id or f"{token}@{HOST}",
        "CSeq": cseq or f"1 {method}",
        "Max-Forwards": "70",
        "Content-Length": str(len(body)) if content_length is None else content_length,
    }
    headers.update(replace or {})
    lines = [f"{method} {ruri or f'sip:{user}@{HOST}'} SIP/2.0"]
    lines += [f"{name}: {value}" for name, value in headers.items() if name not in omit]
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def header_of(request: bytes, name: str) -> bytes:
    """The raw value of the first `name` header of a request we built."""
    match = re.search(rb"\r\n" + re.escape(name.encode()) + rb": ([^\r\n]*)\r\n", request)
    assert match, f"{name} not in {request!r}"
    return match.group(1)


@dataclass
class Reply:
    status: int
    reason: str
    headers: list[tuple[str, bytes]]
    raw: bytes

    def get(self, name: str) -> bytes | None:
        return next((value for key, value in self.headers if key == name.lower()), None)

    def all(self, name: str) -> list[bytes]:
        return [value for key, value in self.headers if key == name.lower()]

    @property
    def to_tag(self) -> str | None:
        match = re.search(rb";\s*tag=([^;>\s]+)", self.get("to") or b"")
        return match.group(1).decode() if match else None


def parse_reply(data: bytes) -> Reply:
    head, sep, _ = data.partition(b"\r\n\r\n")
    assert sep, f"no end of headers in what ser sent: {data!r}"
    lines = re.sub(rb"\r\n[ \t]+", b" ", head).split(b"\r\n")  # unfolded
    match = re.fullmatch(rb"SIP/2\.0 (\d{3}) (.*)", lines[0])
    assert match, f"not a SIP reply: {data!r}"
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        assert colon, f"bad header line {line!r} in {data!r}"
        headers.append((name.strip().decode().lower(), value.strip()))
    return Reply(int(match.group(1)), match.group(2).decode("utf-8", "replace"), headers, data)


class UdpClient:
    """One UDP socket on 127.0.0.1 talking to the server."""

    def __init__(self, server: tuple[str, int]):
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()

    def request(self, **changes) -> bytes:
        return sip_request(self.port, **changes)

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def recv(self, timeout: float = 2.0) -> Reply | None:
        self.sock.settimeout(timeout)
        try:
            return parse_reply(self.sock.recv(65535))
        except socket.timeout:
            return None

    def drain(self) -> None:
        """Throw away whatever has arrived."""
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recv(65535)
        except BlockingIOError:
            pass

    def exchange(self, data: bytes, timeout: float = 2.0) -> Reply | None:
        self.send(data)
        return self.recv(timeout)

    def replies_before_probe(self, timeout: float = 3.0) -> list[Reply]:
        """Send a good OPTIONS; the replies that came before its 404 (each to something sent earlier)."""
        call_id = f"probe-{uuid.uuid4().hex}"
        probe = self.request(call_id=call_id)
        earlier = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Retransmitted like a UAC would, should a full receive buffer have dropped it.
            self.send(probe)
            resend = time.monotonic() + 1.0
            while (reply := self.recv(max(min(resend, deadline) - time.monotonic(), 0.01))) is not None:
                if reply.get("call-id") == call_id.encode():
                    assert reply.status == 404, reply.raw
                    return earlier
                earlier.append(reply)
        raise AssertionError(f"no answer to a good OPTIONS within {timeout} s (earlier: {earlier})")

    def expect_no_reply(self) -> None:
        """Nothing answers what was sent before, and this worker still answers a good request."""
        earlier = self.replies_before_probe()
        assert earlier == [], [r.raw for r in earlier]


@dataclass
class Server:
    ser: Ser
    port: int
    pids: list[int]

    @property
    def address(self) -> tuple[str, int]:
        return (HOST, self.port)

    def client(self) -> UdpClient:
        return UdpClient(self.address)

    def assert_alive(self) -> None:
        """A good OPTIONS for user nobody, from a new socket, gets the script's 404."""
        client = self.client()
        try:
            reply = client.exchange(client.request(), timeout=3.0)
            assert reply is not None, f"ser does not answer any more:\n{self.ser.log[-3000:]}"
            assert (reply.status, reply.reason) == (404, "Not Here"), reply.raw
        finally:
            client.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    port = free_port(HOST)
    ser = Ser(tmp_path_factory.mktemp("bad_input"), server_config(port), "--dialect", "2.0").start()
    try:
        deadline = time.monotonic() + 10
        while len(ser.worker_pids()) < 2:
            assert time.monotonic() < deadline, f"the workers did not start:\n{ser.log}"
            time.sleep(0.05)
        running = Server(ser, port, sorted(ser.worker_pids()))
        for _ in range(4):  # several source ports: most likely both workers
            running.assert_alive()
    except BaseException:
        ser.stop()
        raise
    yield running
    after = sorted(ser.worker_pids())
    code = ser.stop()
    log = ser.log
    assert code == 0, log[-5000:]
    assert after == running.pids, f"workers were replaced: {running.pids} -> {after}\n{log[-5000:]}"
    assert "starting a new one" not in log, log[-5000:]
    assert "internal error" not in log, log[-5000:]


@pytest.fixture
def client(server) -> UdpClient:
    udp = server.client()
    yield udp
    udp.close()


# --- UDP: what cannot be parsed is dropped -----------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"\n", b" "], ids=["empty", "ping", "lf", "space"])
def test_empty_datagram(server, client, data):
    client.send(data)
    client.expect_no_reply()
    server.assert_alive()


@pytest.mark.parametrize("seed", range(6))
def test_random_binary(server, client, seed):
    rng = random.Random(seed)
    client.send(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000))))
    client.expect_no_reply()
    server.assert_alive()


@pytest.mark.parametrize("seed", range(3))
def test_random_binary_after_a_good_start_line(server, client, seed):
    rng = random.Random(seed)
    garbage = bytes(rng.randrange(256) for _ in range(2000))
    client.send(f"OPTIONS sip:nobody@{HOST} SIP/2.0\r\n".encode() + garbage + b"\r\n\r\n")
    replies = client.replies_before_probe()
    assert all(reply.status == 400 for reply in replies), [r.raw for r in replies]
    server.assert_alive()


@pytest.mark.parametrize("raw", [
    b"Subject: \xff\xfe\xc3\x28 \xed\xa0\x80 \xc0\xaf",          # invalid, surrogate, overlong
    b"User-Agent: \xe2\x82",                                     # cut in the middle of a character
    b"X-Garbage: \x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a",
])
def test_utf8_garbage_in_an_unread_header_is_passed_through(server, client, raw):
    """Bytes nobody needs to read do not matter: the request is answered normally."""
    request = client.request()
    request = request.replace(b"\r\nMax-Forwards", b"\r\n" + raw + b"\r\nMax-Forwards")
    reply = client.exchange(request)
    assert reply is not None and reply.status == 404, reply
    server.assert_alive()


def test_utf8_garbage_in_the_from_display_name_is_copied_as_is(server, client):
    request = client.request(replace={"From": '"\xff\xfe" <sip:tester@127.0.0.1>;tag=abc'})
    request = request.replace('"\xff\xfe"'.encode(), b'"\xff\xfe\xc3\x28"')
    reply = client.exchange(request)
    assert reply is not None and reply.status == 404, reply
    assert reply.get("from") == b'"\xff\xfe\xc3\x28" <sip:tester@127.0.0.1>;tag=abc'
    server.assert_alive()


def test_utf8_garbage_in_the_request_line_is_dropped(server, client):
    client.send(client.request().replace(b"sip:nobody@", b"sip:\xff\xfe@", 1))
    client.expect_no_reply()
    server.assert_alive()


@pytest.mark.parametrize("data", [
    b"OPTIONS sip:nobody@127.0.0.1 SIP/2.0",
    b"OPTIONS sip:nobody@127.0.0.1 SIP/2.0\r\n",
    b"OPTIONS sip:nobody@127.0.0.1 SIP/2.0\r\n\r\n",   # complete, but without a Via: nowhere to reply
], ids=["no-line-end", "no-empty-line", "no-headers"])
def test_request_line_only(server, client, data):
    client.send(data)
    client.expect_no_reply()
    server.assert_alive()


@pytest.mark.parametrize("cut", [40, 100, 150, -30, -4, -2])
def test_truncated_in_the_headers(server, client, cut):
    request = client.request()
    client.send(request[:cut])
    client.expect_no_reply()
    server.assert_alive()


def test_content_length_larger_than_the_body_is_dropped(server, client):
    client.send(client.request(body=b"v=0\r\n", content_length="500"))
    client.expect_no_reply()
    server.assert_alive()


def test_content_length_smaller_than_the_body_is_accepted(server, client):
    """Bytes past Content-Length are ignored (RFC 3261 §18.3)."""
    request = client.request(body=b"v=0\r\n", content_length="2")
    reply = client.exchange(request + b"trailing junk \x00\xff")
    assert reply is not None and reply.status == 404, reply
    server.assert_alive()


def test_conflicting_content_lengths_are_dropped(server, client):
    client.send(client.request(body=b"v=0\r\n", extra=("Content-Length: 2",)))
    client.expect_no_reply()
    server.assert_alive()


@pytest.mark.parametrize("value", ["abc", "-1", "1e3", "0x10", "99999999999999999999", "", "5 5"])
def test_content_length_not_a_number(server, client, value):
    client.send(client.request(content_length=value))
    replies = client.replies_before_probe()
    # Dropped, as the framing refuses it; a 400 would be acceptable too.
    assert all(reply.status == 400 for reply in replies), [r.raw for r in replies]
    server.assert_alive()


def test_largest_datagram_with_a_valid_request(server, client):
    """A request padded with a body to the largest UDP payload still gets its 404."""
    request = client.request(body=b"", content_length="00000")
    body = b"x" * (MAX_UDP_PAYLOAD - len(request))
    request = client.request(body=body, content_length=f"{len(body):05d}")
    assert len(request) == MAX_UDP_PAYLOAD
    reply = client.exchange(request, timeout=3.0)
    assert reply is not None and reply.status == 404, reply
    server.assert_alive()


@pytest.mark.parametrize("fill", [b"A", b"\x00", b"\r\n"], ids=["letters", "nul", "crlf"])
def test_largest_datagram_of_garbage(server, client, fill):
    client.send((fill * MAX_UDP_PAYLOAD)[:MAX_UDP_PAYLOAD])
    client.expect_no_reply()
    server.assert_alive()


def test_too_many_headers(server, client):
    request = client.request(extra=tuple(f"X-Filler-{i}: {i}" for i in range(300)))
    client.send(request)
    replies = client.replies_before_probe()
    assert all(reply.status == 400 for reply in replies), [r.raw for r in replies]
    server.assert_alive()


def test_as_many_headers_as_allowed(server, client):
    request = client.request(extra=tuple(f"X-Filler-{i}: {i}" for i in range(256 - 7)))
    assert request.count(b"\r\n") - 2 == 256
    reply = client.exchange(request)
    assert reply is not None and reply.status == 404, reply
    server.assert_alive()


@pytest.mark.parametrize("name", ["Subject", "From", "Via"])
def test_header_line_of_10000_bytes(server, client, name):
    if name == "Subject":
        request = client.request(extra=("Subject: " + "s" * 10_000,))
    elif name == "From":
        request = client.request(replace={"From": f'"{"f" * 10_000}" <sip:tester@{HOST}>;tag=1'})
    else:
        request = client.request(via=f"SIP/2.0/UDP {HOST}:{client.port};rport;x={'v' * 10_000}")
    client.send(request)
    replies = client.replies_before_probe()
    assert all(reply.status == 400 for reply in replies), [r.raw for r in replies]
    server.assert_alive()


def test_long_header_line_within_the_limit(server, client):
    reply = client.exchange(client.request(extra=("Subject: " + "s" * 8000,)))
    assert reply is not None and reply.status == 404, reply
    server.assert_alive()


@pytest.mark.parametrize("injected", [
    b"Subject: hello\rVia: SIP/2.0/UDP 192.0.2.1:5060",          # bare CR before a smuggled header
    b"Subject: hello\r\rX-Smuggled: yes",
    b"Subject: he\x00llo",                                        # NUL in a value
    b"X-Nul\x00Name: value",                                      # NUL in a name
], ids=["bare-cr", "double-cr", "nul-value", "nul-name"])
def test_header_injection_is_dropped(server, client, injected):
    request = client.request().replace(b"\r\nMax-Forwards", b"\r\n" + injected + b"\r\nMax-Forwards")
    client.send(request)
    client.expect_no_reply()
    server.assert_alive()


def test_nul_in_the_call_id_is_dropped(server, client):
    client.send(client.request(call_id="abc").replace(b"Call-ID: abc", b"Call-ID: a\x00bc"))
    client.expect_no_reply()
    server.assert_alive()


# --- UDP: requests with a broken header get 400 ------------------------------------------------

def assert_copied(reply: Reply, request: bytes, port: int, *, missing: str | None = None) -> None:
    """The 400 copies From, Call-ID, CSeq (those present) and the Via, with received=/rport=."""
    for name in ("From", "Call-ID", "CSeq"):
        if name != missing:
            assert reply.get(name) == header_of(request, name), (name, reply.raw)
    via = header_of(request, "Via")
    assert reply.all("via") == [via.replace(b";rport", b"") + f";received={HOST};rport={port}".encode()], \
        reply.raw


@pytest.mark.parametrize("name", ["Call-ID", "From", "To", "CSeq"])
def test_missing_header_gets_400_naming_it(server, client, name):
    request = client.request(omit=(name,))
    reply = client.exchange(request)
    assert reply is not None, f"no 400 for a request without {name}"
    assert reply.status == 400 and name in reply.reason, reply.raw
    assert_copied(reply, request, client.port, missing=name)
    client.expect_no_reply()
    server.assert_alive()


def test_cseq_method_mismatch_gets_400(server, client):
    request = client.request(cseq="1 INVITE")
    reply = client.exchange(request)
    assert reply is not None and reply.status == 400, reply
    assert "CSeq" in reply.reason, reply.raw
    assert_copied(reply, request, client.port)
    server.assert_alive()


@pytest.mark.parametrize("value", ["abc", "-1", "256", "99999999999999999999", ""])
def test_bad_max_forwards_gets_400(server, client, value):
    request = client.request(replace={"Max-Forwards": value})
    reply = client.exchange(request)
    assert reply is not None and reply.status == 400, reply
    assert "Max-Forwards" in reply.reason, reply.raw
    assert_copied(reply, request, client.port)
    server.assert_alive()


@pytest.mark.parametrize("ruri", ["sip:@@@", "nobody", "sip:nobody@", "sip:nobody@[::1",
                                  "sip:nobody@127.0.0.1:99999", "sip:nobody@127.0.0.1:abc", "http://example.com/"])
def test_bad_request_uri_gets_400(server, client, ruri):
    request = client.request(ruri=ruri)
    reply = client.exchange(request)
    assert reply is not None and reply.status == 400, reply
    assert_copied(reply, request, client.port)
    server.assert_alive()


@pytest.mark.parametrize("name,value", [
    ("CSeq", "abc OPTIONS"),
    ("CSeq", "99999999999 OPTIONS"),
    ("Call-ID", "has spaces in it"),
    ("Call-ID", "caf\u00e9@host"),
], ids=["cseq-number", "cseq-too-large", "call-id-spaces", "call-id-utf8"])
def test_malformed_header_gets_400(server, client, name, value):
    """worker.request_problem: a header transactions rely on that cannot be parsed gets 400."""
    request = client.request(replace={name: value})
    reply = client.exchange(request, timeout=1.0)
    assert reply is not None, f"no reply to a request with a malformed {name}: {value!r}"
    assert reply.status == 400 and reply.reason.startswith("Bad Request"), reply.raw
    assert reply.get(name) == header_of(request, name), reply.raw  # copied as received
    assert reply.get("via") is not None and reply.get("cseq") == header_of(request, "CSeq"), reply.raw
    client.expect_no_reply()
    server.assert_alive()


@pytest.mark.parametrize("name,value", [
    ("To", "<<<garbage"),
    ("From", "<<<garbage"),
    ("From", '"unterminated <sip:tester@127.0.0.1>;tag=1'),
], ids=["to", "from", "from-quote"])
def test_malformed_from_or_to_passes_unchanged_to_the_script(server, client, name, value):
    """RFC 3261 §16.3: what the proxy does not use is ignored and kept; here the script answers 404."""
    request = client.request(replace={name: value})
    reply = client.exchange(request, timeout=1.0)
    assert reply is not None and reply.status == 404, reply
    assert reply.get(name).startswith(header_of(request, name)), reply.raw
    client.expect_no_reply()
    server.assert_alive()


def test_400_without_rport_goes_to_the_via_port_and_copies_the_via_unchanged(server, client):
    via = f"SIP/2.0/UDP {HOST}:{client.port};branch=z9hG4bK-norport"
    request = client.request(via=via, omit=("Call-ID",))
    reply = client.exchange(request)
    assert reply is not None and reply.status == 400, reply
    assert reply.all("via") == [via.encode()], reply.raw
    server.assert_alive()


def test_400_copies_every_via_and_adds_received_for_a_foreign_sent_by(server, client):
    top = "SIP/2.0/UDP client.invalid:5070;branch=z9hG4bK-top;rport"
    second = "SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-second"
    request = client.request(via=top, omit=("CSeq",), extra=(f"Via: {second}",))
    reply = client.exchange(request)
    assert reply is not None and reply.status == 400, reply
    assert reply.all("via") == [
        f"SIP/2.0/UDP client.invalid:5070;branch=z9hG4bK-top;received={HOST};rport={client.port}".encode(),
        second.encode()], reply.raw
    server.assert_alive()


def test_missing_via_is_dropped(server, client):
    client.send(client.request(omit=("Via",)))
    client.expect_no_reply()
    server.assert_alive()


@pytest.mark.parametrize("via", ["garbage", "SIP/2.0/UDP", "SIP/2.0/UDP 127.0.0.1:99999;rport", ""])
def test_unparsable_via_is_dropped(server, client, via):
    client.send(client.request(via=via) if via else client.request(replace={"Via": ""}))
    client.expect_no_reply()
    server.assert_alive()


@pytest.mark.parametrize("whose", ["ours", "foreign"])
def test_reply_with_a_single_via_is_dropped(server, client, whose):
    host, port = (HOST, server.port) if whose == "ours" else ("192.0.2.1", 5060)
    reply = (f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP {host}:{port};branch=z9hG4bKsl0123.0\r\n"
             f"From: <sip:a@{HOST}>;tag=1\r\nTo: <sip:nobody@{HOST}>;tag=2\r\nCall-ID: r-{whose}\r\n"
             f"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()
    client.send(reply)
    client.expect_no_reply()
    server.assert_alive()


@pytest.mark.parametrize("status", [b"SIP/2.0 999 Nine", b"SIP/2.0 abc Letters", b"SIP/2.0", b"SIP/9 200 OK"])
def test_reply_with_a_bad_status_line_is_dropped(server, client, status):
    client.send(status + f"\r\nVia: SIP/2.0/UDP {HOST}:{server.port}\r\nContent-Length: 0\r\n\r\n".encode())
    client.expect_no_reply()
    server.assert_alive()


def test_ack_without_call_id_gets_no_reply(server, client):
    client.send(client.request(method="ACK", omit=("Call-ID",)))
    client.expect_no_reply()
    server.assert_alive()


def test_ack_with_a_bad_cseq_gets_no_reply(server, client):
    client.send(client.request(method="ACK", cseq="1 INVITE"))
    client.expect_no_reply()
    server.assert_alive()


def test_404_keeps_the_to_tag_of_the_request(server, client):
    reply = client.exchange(client.request(to_tag="abc123"))
    assert reply is not None and reply.status == 404, reply
    assert reply.get("to") == f"<sip:nobody@{HOST}>;tag=abc123".encode(), reply.raw
    server.assert_alive()


def test_retransmission_gets_the_same_to_tag(server, client):
    request = client.request()
    first = client.exchange(request)
    second = client.exchange(request)
    other = client.exchange(client.request())
    assert first is not None and second is not None and other is not None
    assert first.status == second.status == 404
    assert first.to_tag and first.to_tag == second.to_tag, (first.raw, second.raw)
    assert other.to_tag != first.to_tag
    # The ACK to that 404 ends at ser (it is not forwarded, not answered).
    ack = request.replace(b"OPTIONS sip:", b"ACK sip:", 1).replace(b" OPTIONS\r\n", b" ACK\r\n")
    ack = ack.replace(f"<sip:nobody@{HOST}>\r\n".encode(), f"<sip:nobody@{HOST}>;tag={first.to_tag}\r\n".encode())
    client.send(ack)
    client.expect_no_reply()
    server.assert_alive()


def test_lf_only_line_ends_are_accepted(server, client):
    reply = client.exchange(client.request().replace(b"\r\n", b"\n"))
    assert reply is not None and reply.status == 404, reply
    server.assert_alive()


def test_keepalive_crlfs_before_a_request_are_skipped(server, client):
    reply = client.exchange(b"\r\n\r\n\r\n" + client.request())
    assert reply is not None and reply.status == 404, reply
    server.assert_alive()


def test_compact_header_names_are_understood_and_copied(server, client):
    request = (f"OPTIONS sip:nobody@{HOST} SIP/2.0\r\nv: SIP/2.0/UDP {HOST}:{client.port};rport;branch=z9hG4bKc\r\n"
               f"f: <sip:tester@{HOST}>;tag=c1\r\nt: <sip:nobody@{HOST}>\r\ni: compact-{uuid.uuid4().hex}\r\n"
               f"cSeQ: 7 OPTIONS\r\nmax-forwards: 70\r\nl: 0\r\n\r\n").encode()
    reply = client.exchange(request)
    assert reply is not None and reply.status == 404, reply
    assert reply.get("i") == header_of(request, "i") and reply.get("f") == b"<sip:tester@127.0.0.1>;tag=c1"
    assert reply.get("v") == f"SIP/2.0/UDP {HOST}:{client.port};branch=z9hG4bKc;received={HOST};" \
                             f"rport={client.port}".encode(), reply.raw
    assert reply.get("t").startswith(b"<sip:nobody@127.0.0.1>;tag="), reply.raw
    server.assert_alive()


def test_folded_headers_are_understood(server, client):
    request = client.request(cseq="1\r\n OPTIONS", replace={"To": f"\r\n\t<sip:nobody@{HOST}>"})
    reply = client.exchange(request)
    assert reply is not None and reply.status == 404, reply
    assert reply.get("cseq") == b"1 OPTIONS" and reply.to_tag, reply.raw
    server.assert_alive()


def test_max_forwards_zero_gets_483(server, client):
    reply = client.exchange(client.request(replace={"Max-Forwards": "0"}))
    assert reply is not None and reply.status == 483, reply
    server.assert_alive()


# --- TCP -----------------------------------------------------------------------------------

def tcp_connect(server: Server, timeout: float = 3.0) -> socket.socket:
    sock = socket.create_connection(server.address, timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def tcp_request(sock: socket.socket, **changes) -> bytes:
    return sip_request(sock.getsockname()[1], transport="TCP", **changes)


def read_messages(sock: socket.socket, count: int, timeout: float = 3.0) -> list[Reply]:
    """`count` replies from a stream, framed by their Content-Length."""
    buffer = b""
    replies = []
    deadline = time.monotonic() + timeout
    while len(replies) < count:
        head_end = buffer.find(b"\r\n\r\n")
        if head_end >= 0:
            match = re.search(rb"\r\nContent-Length:\s*(\d+)", buffer[:head_end], re.IGNORECASE)
            assert match, f"a reply without Content-Length on a stream: {buffer[:head_end]!r}"
            end = head_end + 4 + int(match.group(1))
            if len(buffer) >= end:
                replies.append(parse_reply(buffer[:end]))
                buffer = buffer[end:]
                continue
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"only {len(replies)} of {count} replies in {timeout} s"
        sock.settimeout(remaining)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        assert data, f"ser closed the connection after {len(replies)} of {count} replies"
        buffer += data
    return replies


def closed_by_peer(sock: socket.socket, timeout: float) -> tuple[bool, bytes]:
    """Whether the peer closes within `timeout`, and whatever it sent before."""
    received = b""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False, received
        sock.settimeout(remaining)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return False, received
        except ConnectionResetError:
            return True, received
        if not data:
            return True, received
        received += data


def assert_tcp_alive(server: Server, timeout: float = 3.0) -> None:
    with tcp_connect(server, timeout) as sock:
        sock.sendall(tcp_request(sock))
        [reply] = read_messages(sock, 1, timeout)
        assert reply.status == 404, reply.raw


def test_tcp_good_request(server):
    with tcp_connect(server) as sock:
        request = tcp_request(sock)
        sock.sendall(request)
        [reply] = read_messages(sock, 1)
        assert reply.status == 404 and reply.get("call-id") == header_of(request, "Call-ID")


def test_tcp_without_content_length_is_closed(server):
    with tcp_connect(server) as sock:
        sock.sendall(tcp_request(sock, omit=("Content-Length",)))
        closed, data = closed_by_peer(sock, 3.0)
        assert closed, "ser kept a connection it cannot frame"
        assert data == b"", data
    assert_tcp_alive(server)
    server.assert_alive()


@pytest.mark.parametrize("seed", range(3))
def test_tcp_binary_garbage_is_closed(server, seed):
    rng = random.Random(seed)
    garbage = bytes(rng.randrange(256) for _ in range(3000))
    with tcp_connect(server) as sock:
        sock.sendall(garbage.lstrip(b"\r\n") + b"\r\n\r\n")
        closed, data = closed_by_peer(sock, 3.0)
        assert closed, "ser kept a connection carrying garbage"
    assert_tcp_alive(server)


def test_tcp_oversized_message_without_an_empty_line_is_closed(server):
    with tcp_connect(server) as sock:
        try:
            sock.sendall(b"OPTIONS sip:nobody@127.0.0.1 SIP/2.0\r\nX: " + b"a" * 70_000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed, _ = closed_by_peer(sock, 3.0)
        assert closed, "ser buffers a message past MAX_MESSAGE"
    assert_tcp_alive(server)


def test_tcp_content_length_past_the_maximum_is_closed_at_once(server):
    """A server that waited for the announced 99,999 bytes would hold the connection open."""
    with tcp_connect(server) as sock:
        sock.sendall(tcp_request(sock, content_length="99999"))
        started = time.monotonic()
        closed, data = closed_by_peer(sock, 3.0)
        assert closed and data == b"", data
        assert time.monotonic() - started < 1.0
    assert_tcp_alive(server)


def test_tcp_garbage_after_a_good_request_closes_only_after_its_reply(server):
    with tcp_connect(server) as sock:
        sock.sendall(tcp_request(sock) + b"\x00\xff garbage \x01\r\n\r\n")
        [reply] = read_messages(sock, 1)
        assert reply.status == 404
        closed, _ = closed_by_peer(sock, 3.0)
        assert closed
    assert_tcp_alive(server)


def test_tcp_stalled_client_does_not_block_others(server):
    with tcp_connect(server) as stalled:
        request = tcp_request(stalled)
        stalled.sendall(request[:len(request) // 2])
        started = time.monotonic()
        with tcp_connect(server, timeout=1.0) as other:
            other.sendall(tcp_request(other))
            [reply] = read_messages(other, 1, timeout=1.0)
        assert reply.status == 404
        assert time.monotonic() - started < 1.0
        # The stalled one is not answered, nor closed, before its lifetime.
        stalled.setblocking(False)
        with pytest.raises(BlockingIOError):
            stalled.recv(1)
    server.assert_alive()


def test_tcp_stalled_body_does_not_block_others(server):
    with tcp_connect(server) as stalled:
        stalled.sendall(tcp_request(stalled, body=b"v=0\r\n", content_length="1000"))
        with tcp_connect(server, timeout=1.0) as other:
            other.sendall(tcp_request(other))
            [reply] = read_messages(other, 1, timeout=1.0)
        assert reply.status == 404


def test_tcp_silent_client_is_closed_after_the_lifetime(server):
    with tcp_connect(server) as sock:
        started = time.monotonic()
        closed, data = closed_by_peer(sock, 6.0)
        elapsed = time.monotonic() - started
    assert closed, "an idle connection outlived tcp_connection_lifetime by far"
    assert data == b""
    assert LIFETIME - 0.5 <= elapsed <= 6.0, elapsed
    assert_tcp_alive(server)


def test_tcp_500_idle_connections(server):
    idle = []
    try:
        for _ in range(500):
            idle.append(socket.create_connection(server.address, timeout=3.0))
        started = time.monotonic()
        assert_tcp_alive(server)
        server.assert_alive()
        assert time.monotonic() - started < 3.0
    finally:
        for sock in idle:
            sock.close()


def test_tcp_pipelined_burst(server):
    with tcp_connect(server) as sock:
        call_ids = [f"burst-{i}-{uuid.uuid4().hex}" for i in range(20)]
        burst = b"".join(tcp_request(sock, call_id=call_id, cseq=f"{i + 1} OPTIONS")
                         for i, call_id in enumerate(call_ids))
        sock.sendall(burst)
        replies = read_messages(sock, 20, timeout=5.0)
    assert [reply.status for reply in replies] == [404] * 20
    assert [reply.get("call-id").decode() for reply in replies] == call_ids
    assert [reply.get("cseq") for reply in replies] == [f"{i + 1} OPTIONS".encode() for i in range(20)]


def test_tcp_keepalives_between_messages(server):
    """CRLF pings get a CRLF pong; keep-alive bytes between requests do not disturb the framing."""
    with tcp_connect(server) as sock:
        sock.sendall(b"\r\n\r\n")
        sock.settimeout(2.0)
        assert sock.recv(2) == b"\r\n"
        sock.sendall(b"\r\n" + tcp_request(sock) + b"\r\n" + tcp_request(sock))
        assert [reply.status for reply in read_messages(sock, 2)] == [404, 404]


def test_tcp_400_for_a_missing_header(server):
    with tcp_connect(server) as sock:
        request = tcp_request(sock, omit=("Call-ID",))
        sock.sendall(request)
        [reply] = read_messages(sock, 1)
        assert reply.status == 400 and "Call-ID" in reply.reason, reply.raw
        # The connection stays usable.
        sock.sendall(tcp_request(sock))
        [reply] = read_messages(sock, 1)
        assert reply.status == 404


# --- memory -----------------------------------------------------------------------------------

def vm_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def assorted_bad_datagrams(port: int, count: int) -> list[bytes]:
    rng = random.Random(1234)
    base = sip_request(port)
    makers = [
        lambda: bytes(rng.randrange(256) for _ in range(rng.randrange(1, 1500))),
        lambda: base[:rng.randrange(1, len(base) - 4)],
        lambda: sip_request(port, omit=(rng.choice(["Call-ID", "From", "To", "CSeq", "Via"]),)),
        lambda: sip_request(port, replace={"Max-Forwards": "abc"}),
        lambda: sip_request(port, content_length=str(rng.randrange(100, 9999))),
        lambda: sip_request(port, ruri=f"sip:{'@' * rng.randrange(1, 50)}"),
        lambda: sip_request(port, extra=tuple(f"X-{i}: {i}" for i in range(300))),
        lambda: sip_request(port, extra=("Subject: " + "s" * 9000,)),
        lambda: base.replace(b"\r\nMax-Forwards", b"\r\nX: a\rb\r\nMax-Forwards"),
        lambda: sip_request(port, method="ACK", omit=("Call-ID",)),
        lambda: sip_request(port, cseq=f"{rng.randrange(10**12)} OPTIONS"),
        lambda: b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n",
    ]
    return [rng.choice(makers)() for _ in range(count)]


def test_memory_stays_bounded_under_bad_input(server):
    clients = [server.client() for _ in range(8)]
    try:
        def flood(count: int) -> None:
            for i, data in enumerate(assorted_bad_datagrams(clients[0].port, count)):
                clients[i % len(clients)].send(data)
                if i % 20 == 19:
                    time.sleep(0.002)  # keep the receive buffers from overflowing
                    for client in clients:
                        client.drain()
            for client in clients:
                # Every worker has handled what came from this client once the probe is answered.
                client.replies_before_probe(timeout=10.0)

        flood(300)  # warm up: first-time allocations are not growth
        before = {pid: vm_rss_kb(pid) for pid in server.pids}
        flood(2000)
        after = {pid: vm_rss_kb(pid) for pid in server.pids}
    finally:
        for client in clients:
            client.close()
    growth = {pid: (after[pid] - before[pid]) / 1024 for pid in server.pids}
    assert all(mb < 20 for mb in growth.values()), f"RSS growth in MB per worker: {growth}"
    server.assert_alive()
