"""Picking ports for servers the tests start on loopback."""

from __future__ import annotations

import random
import socket

_FIXED_PORTS = (20000, 32000)


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for UDP and TCP on `host`, below the kernel's ephemeral range.

    Ports the kernel hands out for port 0 (each worker's own port, SIPp's and
    the tests' client sockets) come from that range, so a port picked there
    could be taken again before the server binds it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(200):
        port = random.randrange(*_FIXED_PORTS)
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as udp, \
                    socket.socket(family, socket.SOCK_STREAM) as tcp:
                udp.bind((host, port))
                tcp.bind((host, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")
