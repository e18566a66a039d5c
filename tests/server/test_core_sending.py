"""The sending core actions in a running `ser`, seen from plain sockets on loopback.

forward's Via (own port, branch, advertised address and port), send/send_tcp
(the bytes as received), force_rport, force_send_socket, and SER 2.0's
onsend_route and unnamed onreply_route.
"""

from __future__ import annotations

import re
import socket

import pytest

from tests.ports import free_port
from tests.server.harness import Ser

pytestmark = pytest.mark.slow


def request(user: str, port: int, via_port: int = 9, rport: bool = False) -> bytes:
    rport_param = ";rport" if rport else ""
    return (f"MESSAGE sip:{user}@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{via_port}{rport_param};branch=z9hG4bK{user}\r\n"
            f"From: <sip:a@x>;tag=1\r\nTo: <sip:{user}@x>\r\nCall-ID: {user}@test\r\nCSeq: 1 MESSAGE\r\n"
            f"Content-Length: 5\r\n\r\nhello").encode()


class Sink:
    """A UDP socket standing in for the next hop."""

    def __init__(self, host: str = "127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, free_port(host)))
        self.sock.settimeout(3)
        self.port = self.sock.getsockname()[1]

    def receive(self) -> tuple[bytes, tuple]:
        return self.sock.recvfrom(65535)

    def silent(self, timeout: float = 0.5) -> bool:
        self.sock.settimeout(timeout)
        try:
            self.sock.recv(65535)
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(3)
        return False


def script(port: int, routes: str, extra: str = "") -> str:
    return f"""
log_stderror=yes
children=1
listen=udp:127.0.0.1:{port}
{extra}
{routes}
"""


def vias(data: bytes) -> list[str]:
    return re.findall(r"^Via: (.*)\r$", data.decode(), re.MULTILINE)


def send(port: int, data: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.sendto(data, ("127.0.0.1", port))


def test_forward_names_the_workers_own_port_and_advertised_values(tmp_path):
    port, sink = free_port(), Sink()
    routes = f"""route {{
    if (uri=~"^sip:adv@") {{
        set_advertised_address("proxy.example.com");
        set_advertised_port(5999);
    }};
    force_rport();
    forward(127.0.0.1, {sink.port});
}}"""
    with Ser(tmp_path, script(port, routes)):
        send(port, request("plain", port))
        data, source = sink.receive()
        top, second = vias(data)
        assert top == f"SIP/2.0/UDP 127.0.0.1:{source[1]};branch={top.split('branch=')[1]}"
        assert source[1] != port and top.split("branch=")[1].startswith("z9hG4bK")
        assert second.endswith(";received=127.0.0.1;rport=" + second.split("rport=")[1])
        send(port, request("adv", port))
        data, _ = sink.receive()
        assert vias(data)[0].startswith("SIP/2.0/UDP proxy.example.com:5999;branch=z9hG4bK")


def test_global_advertised_address(tmp_path):
    port, sink = free_port(), Sink()
    routes = f"route {{ forward(127.0.0.1, {sink.port}); }}"
    with Ser(tmp_path, script(port, routes, 'advertised_address="sip.example.org"\nadvertised_port=5070')):
        send(port, request("u", port))
        assert vias(sink.receive()[0])[0].startswith("SIP/2.0/UDP sip.example.org:5070;")


def test_send_and_send_tcp_pass_the_bytes_unchanged(tmp_path):
    port, sink = free_port(), Sink()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(1)
    listener.settimeout(3)
    routes = f"""route {{
    if (uri=~"^sip:tcp@") {{ send_tcp(127.0.0.1, {listener.getsockname()[1]}); break; }};
    send(127.0.0.1, {sink.port});
}}"""
    extra = f"listen=tcp:127.0.0.1:{port}"
    with Ser(tmp_path, script(port, routes, extra)), listener:
        sent = request("udp", port)
        send(port, sent)
        assert sink.receive()[0] == sent
        sent = request("tcp", port)
        send(port, sent)
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(3)
            received = b""
            while len(received) < len(sent):
                received += connection.recv(65535)
        assert received == sent


def test_force_send_socket_picks_the_listener(tmp_path):
    port, sink = free_port(), Sink()
    routes = f"""route {{
    force_send_socket(udp:127.0.0.2:{port});
    forward(127.0.0.1, {sink.port});
}}"""
    with Ser(tmp_path, script(port, routes, f"listen=udp:127.0.0.2:{port}")):
        send(port, request("u", port))
        data, source = sink.receive()
        assert source[0] == "127.0.0.2"
        assert vias(data)[0].startswith(f"SIP/2.0/UDP 127.0.0.2:{source[1]};")


def test_2_0_onsend_route_can_stop_a_send(tmp_path):
    port, allowed, blocked = free_port(), Sink(), Sink()
    routes = f"""route {{
    if (uri=~"^sip:blocked@") {{ forward(127.0.0.1, {blocked.port}); }}
    else {{ forward(127.0.0.1, {allowed.port}); }}
}}
onsend_route {{
    if (to_port=={blocked.port}) {{ drop; }}
}}"""
    with Ser(tmp_path, script(port, routes), "--dialect", "2.0"):
        send(port, request("blocked", port))
        send(port, request("allowed", port))
        assert b"sip:allowed@" in allowed.receive()[0]
        assert blocked.silent()


def test_2_0_unnamed_onreply_route_sees_every_reply(tmp_path):
    port, upstream = free_port(), Sink()
    routes = """route { drop; }
onreply_route {
    if (status=="183") { drop; }
}"""
    with Ser(tmp_path, script(port, routes), "--dialect", "2.0"):
        for code in (183, 200):
            reply = (f"SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKa\r\n"
                     f"Via: SIP/2.0/UDP 127.0.0.1:{upstream.port};branch=z9hG4bKb\r\n"
                     f"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: r@test\r\n"
                     f"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()
            send(port, reply)
        data = upstream.receive()[0]
        assert data.startswith(b"SIP/2.0 200 X\r\n") and vias(data) == [
            f"SIP/2.0/UDP 127.0.0.1:{upstream.port};branch=z9hG4bKb"]
        assert upstream.silent()


def test_check_via_drops_a_reply_whose_top_via_is_not_ours(tmp_path):
    port, upstream = free_port(), Sink()
    with Ser(tmp_path, script(port, "route { drop; }", "check_via=yes")) as ser:
        for host in ("192.0.2.1", "127.0.0.1"):
            reply = (f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP {host}:{port};branch=z9hG4bKa\r\n"
                     f"Via: SIP/2.0/UDP 127.0.0.1:{upstream.port};branch=z9hG4bKb\r\n"
                     f"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: {host}\r\n"
                     f"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()
            send(port, reply)
        assert b"Call-ID: 127.0.0.1" in upstream.receive()[0]
        assert upstream.silent()
    assert "is not ours" in ser.log


def test_sl_reply_carries_append_to_reply_headers(tmp_path):
    port = free_port()
    routes = '''loadmodule "/usr/lib/ser/modules/sl.so"
loadmodule "/usr/lib/ser/modules/textops.so"
route {
    append_to_reply("X-Reason: testing\\r\\n");
    sl_send_reply("403", "Not Today");
}'''
    with Ser(tmp_path, script(port, routes)), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.bind(("127.0.0.1", 0))
        client.settimeout(3)
        client.sendto(request("u", port, via_port=client.getsockname()[1]), ("127.0.0.1", port))
        reply = client.recv(65535)
    assert reply.startswith(b"SIP/2.0 403 Not Today\r\n") and b"\r\nX-Reason: testing\r\n" in reply
