"""`myself`: is a host (and port) this server? (language reference §7.3; SER's check_self)

A host is ours when it names a listen socket (its address or the name it was
written with) on that socket's port, or an `alias` (any port when the alias
has none). Hosts compare case-insensitively; IPv6 brackets and spellings do
not matter. A URI without a port means 5060.
"""

from __future__ import annotations

import ipaddress
import socket

SIP_PORT = 5060


def normalize_host(host: str) -> str:
    """Lower-case, brackets removed, IPv6 in its canonical short form."""
    host = host.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host).compressed
        except ValueError:
            return host
    return host


class Myself:
    """The listen sockets and aliases, as (host, port) pairs; port None = any port."""

    def __init__(self, sockets: list[tuple[str, int]], aliases: list[tuple[str, int | None]] = ()):
        self.sockets = [(normalize_host(h), p) for h, p in sockets]
        self._pairs = frozenset(self.sockets) | frozenset(
            (normalize_host(h), p) for h, p in aliases if p is not None)
        self._any_port = frozenset(normalize_host(h) for h, p in aliases if p is None)
        self._addresses = frozenset(h for h, _ in self.sockets) | self._any_port | frozenset(
            normalize_host(h) for h, _ in aliases)

    @classmethod
    def default(cls, port: int = SIP_PORT) -> "Myself":
        """Without `listen`, SER listens everywhere; the names it then answers to."""
        names = ["127.0.0.1", "::1", "localhost", socket.gethostname()]
        return cls([(name, port) for name in names])

    def is_socket(self, host: str, port: int) -> bool:
        """A listen socket's address or name on its port (force_send_socket's check)."""
        return (normalize_host(host), port) in self.sockets

    def host_port(self, host: str, port: int | None) -> bool:
        """`uri==myself`: host and port (5060 when absent) match a socket or an alias."""
        host = normalize_host(host)
        return host in self._any_port or (host, port or SIP_PORT) in self._pairs

    def address(self, ip: str) -> bool:
        """`src_ip==myself`: ports are not compared."""
        return normalize_host(ip) in self._addresses
