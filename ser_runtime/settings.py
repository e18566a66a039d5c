"""The server's settings: ser.cfg's global parameters plus the command line (language reference §4).

SER reads its globals while parsing; here `Settings.from_config` reads the
checked script's `GlobalParam` items in order (the last one wins, `dns` and
`rev_dns` OR-ed as in SER) and `apply_options` lays the `ser` flags on top.
`listeners()` turns `listen` lines into bound-address triples: a name is
resolved, an interface name becomes its addresses, and a line without a
protocol means every enabled one. With no `listen` at all SER takes every
IPv4 interface address.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from dataclasses import dataclass, field, fields, replace

from ser_runtime.context import PROTO_TCP, PROTO_TLS, PROTO_UDP
from ser_runtime.myself import SIP_PORT, Myself, normalize_host
from ser_script import ast
from ser_script.lexical import BOOL_WORDS

PROTO_NAMES = {PROTO_UDP: "udp", PROTO_TCP: "tcp", PROTO_TLS: "tls"}
_PROTOS = {"udp": (PROTO_UDP,), "tcp": (PROTO_TCP,), "tls": (PROTO_TLS,)}
TLS_PORT = 5061
_SIOCGIFADDR = 0x8915


class SettingsError(Exception):
    """A setting that cannot be used (an unresolvable listen name, a bad -l value)."""


@dataclass(frozen=True, slots=True)
class SocketSpec:
    """One `listen`/`alias` element as written: proto None = every enabled one, port None = default."""

    proto: str | None
    host: str
    port: int | None


@dataclass(frozen=True, slots=True)
class Listener:
    """A socket to bind: `ip` is numeric; `name` is how the config wrote it."""

    proto: int
    ip: str
    port: int
    name: str

    @property
    def family(self) -> int:
        return socket.AF_INET6 if ":" in self.ip else socket.AF_INET

    def __str__(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{PROTO_NAMES[self.proto]}:{host}:{self.port}"


@dataclass
class Settings:
    """Every global the runtime honours, with SER's defaults."""

    dialect: str = "0.9"
    debug: int = 2
    fork: bool = True
    log_stderror: bool = False
    log_facility: str = "LOG_DAEMON"
    children: int = 8
    user: str | None = None
    group: str | None = None
    chroot: str | None = None
    workdir: str | None = None
    listen: list[SocketSpec] = field(default_factory=list)
    alias: list[SocketSpec] = field(default_factory=list)
    port: int = SIP_PORT
    maxbuffer: int = 262144
    mhomed: bool = False
    check_via: bool = False
    dns: bool = False
    rev_dns: bool = False
    syn_branch: bool = True
    sip_warning: bool = True
    server_signature: bool = True
    reply_to_via: bool = False
    advertised_address: str | None = None
    advertised_port: int | None = None
    disable_tcp: bool = False
    tcp_accept_aliases: bool = False
    tcp_send_timeout: int = 10
    tcp_connect_timeout: int = 10
    tcp_connection_lifetime: int = 120
    tcp_max_connections: int = 2048
    tls_enabled: bool | None = None
    tls_port_no: int = TLS_PORT
    tls_method: str | None = None
    tls_verify: bool = False
    tls_require_certificate: bool = False
    tls_certificate: str | None = None
    tls_private_key: str | None = None
    tls_ca_list: str | None = None
    tls_handshake_timeout: int = 10
    dns_try_ipv6: bool = True
    dns_retr_time: int | None = None
    open_files_limit: int = -1
    disable_core_dump: bool = False
    exit_timeout: int = 60
    tos: int | None = None
    pid_file: str | None = None
    daemonize: bool = True
    # The control interface (SER 0.8/0.9's FIFO server; 0.9 also names them sock_*).
    fifo: str | None = None
    fifo_mode: int = 0o660
    fifo_dir: str = "/tmp/"
    fifo_user: str | None = None
    fifo_group: str | None = None

    @classmethod
    def from_config(cls, config: ast.Config) -> "Settings":
        settings = cls(dialect=config.dialect, debug=0 if config.dialect == "2.0" else 2)
        for item in config.items:
            if isinstance(item, ast.GlobalParam):
                settings._set(item.name, item.values)
        return settings

    def _set(self, name: str, values: list) -> None:
        name = _ALIASES.get(name, name)
        if name in ("listen", "alias"):
            getattr(self, name).extend(_socket_spec(v) for v in values)
        elif name in ("dns", "rev_dns"):
            setattr(self, name, getattr(self, name) or bool(_plain(values[0])))
        elif name in ("disable_tls", "tls_disable"):
            self.tls_enabled = not _plain(values[0])
        elif name in ("enable_tls", "tls_enable"):
            self.tls_enabled = bool(_plain(values[0]))
        elif name == "tls_log" and self.dialect == "0.9":
            self.tls_port_no = _plain(values[0])      # SER 0.9's scanner maps tls_log to tls_port_no
        elif name in _FIELD_TYPES:
            self._set_typed(name, _plain(values[0]))

    def _set_typed(self, name: str, value) -> None:
        kind = _FIELD_TYPES[name]
        if kind is bool:
            value = bool(value)
        elif kind is int:
            value = int(value)
        else:
            value = str(value)
        if name == "children" and value <= 0:
            value = 8
        setattr(self, name, value)
        if name == "port" and self.dialect == "0.8" and self.listen:
            # 0.8.x: port= also rewrites the most recently declared listen address.
            last = self.listen[-1]
            self.listen[-1] = replace(last, port=value)

    def apply_options(self, options) -> None:
        """The `ser` flags override the file (SER reads argv after the config)."""
        self.debug += options.debug
        if options.log_stderr:
            self.log_stderror = True
        if options.no_fork:
            self.daemonize = False
        for text in options.listen:
            self.listen.append(parse_socket_spec(text))
        for name in ("user", "group", "workdir", "pid_file"):
            if getattr(options, name) is not None:
                setattr(self, name, getattr(options, name))
        if options.processes is not None:
            if options.processes < 1:
                raise SettingsError(f"-n {options.processes}: the number of workers must be at least 1")
            self.children = options.processes
        if options.max_buffer is not None:
            self.maxbuffer = options.max_buffer
        self.dns = self.dns or options.dns
        self.rev_dns = self.rev_dns or options.rev_dns
        self.check_via = self.check_via or options.check_via

    @property
    def tls(self) -> bool:
        """TLS is on when asked for, or when a certificate is configured and it is not disabled."""
        if self.tls_enabled is not None:
            return self.tls_enabled
        return self.tls_certificate is not None

    def enabled_protos(self) -> tuple[int, ...]:
        protos = [PROTO_UDP]
        if not self.disable_tcp:
            protos.append(PROTO_TCP)
            if self.tls:
                protos.append(PROTO_TLS)
        return tuple(protos)

    def listeners(self) -> list[Listener]:
        """Every socket to bind, in config order, without duplicates."""
        specs = self.listen or [SocketSpec(None, ip, None) for ip in interface_addresses()]
        if not self.fork:
            specs = [spec for spec in specs if spec.host == specs[0].host]
        result: list[Listener] = []
        for spec in specs:
            protos = _PROTOS.get(spec.proto or "", self.enabled_protos())
            for proto in protos:
                if proto == PROTO_TLS and not self.tls:
                    raise SettingsError(f"listen {spec.host}: tls needs tls_certificate and tls_private_key")
                if proto == PROTO_TCP and self.disable_tcp:
                    continue
                port = spec.port or (self.tls_port_no if proto == PROTO_TLS else self.port)
                for ip in resolve_listen_host(spec.host):
                    listener = Listener(proto, ip, port, spec.host)
                    if listener not in result:
                        result.append(listener)
        return result

    def myself(self, listeners: list[Listener], extra_ports: list[tuple[str, int]] = ()) -> Myself:
        """`myself`: every listener by address and by written name, the aliases, the worker ports."""
        sockets = [(l.ip, l.port) for l in listeners] + [(l.name, l.port) for l in listeners]
        sockets += list(extra_ports)
        if self.advertised_address:
            sockets += [(self.advertised_address, self.advertised_port or l.port) for l in listeners]
        aliases = [(a.host, a.port) for a in self.alias]
        return Myself(sockets, aliases)


_ALIASES = {"uid": "user", "gid": "group", "wdir": "workdir", "mem_log": "memlog",
            "ser_kill_timeout": "exit_timeout", "sock_mode": "fifo_mode", "sock_user": "fifo_user",
            "sock_group": "fifo_group"}
_FIELD_TYPES = {f.name: {"bool": bool, "int": int}.get(str(f.type).split(" ")[0], str)
                for f in fields(Settings) if f.name not in ("listen", "alias", "dialect")}


def _plain(value):
    """A parameter value as a Python value: numbers and yes/no as ints, names and strings as text."""
    if isinstance(value, ast.Num):
        return value.value
    if isinstance(value, ast.Name):
        return BOOL_WORDS.get(value.name.lower(), value.name)
    if isinstance(value, ast.Str):
        return value.value
    if isinstance(value, ast.Host):
        return value.name
    if isinstance(value, ast.Ip):
        return value.text
    raise SettingsError(f"unexpected value {value!r}")


def _socket_spec(value) -> SocketSpec:
    proto, port = None, None
    if isinstance(value, ast.Socket):
        proto = value.proto.lower() if value.proto and value.proto != "*" else None
        port = value.port.value if isinstance(value.port, ast.Num) else None
        value = value.addr
    return SocketSpec(proto, str(_plain(value)).strip("[]"), port)


def parse_socket_spec(text: str) -> SocketSpec:
    """`[proto:]addr[:port]` as given to `-l`; IPv6 in brackets."""
    proto = None
    head, sep, rest = text.partition(":")
    if sep and head.lower() in ("udp", "tcp", "tls", "*"):
        proto, text = (None if head == "*" else head.lower()), rest
    port = None
    if text.startswith("["):
        host, _, after = text[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else None
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, None
    if port_text not in (None, "*"):
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SettingsError(f"-l {text}: bad port {port_text!r}")
        port = int(port_text)
    if not host:
        raise SettingsError(f"-l {text}: no address")
    return SocketSpec(proto, host, port)


def resolve_listen_host(host: str) -> list[str]:
    """A listen host as numeric addresses: an IP as is, an interface's address, or a name resolved."""
    try:
        return [normalize_host(str(ipaddress.ip_address(host)))]
    except ValueError:
        pass
    address = _interface_address(host)
    if address:
        return [address]
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except OSError as exc:
        raise SettingsError(f"listen {host}: cannot resolve ({exc.strerror or exc})") from None
    return list(dict.fromkeys(normalize_host(info[4][0]) for info in infos))


def interface_addresses() -> list[str]:
    """The IPv4 address of every interface that has one (SER's default listen list)."""
    addresses = [_interface_address(name) for _, name in socket.if_nameindex()]
    return [a for a in addresses if a] or ["127.0.0.1"]


def _interface_address(name: str) -> str | None:
    if len(name) > 15 or name not in {n for _, n in socket.if_nameindex()}:
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            answer = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, struct.pack("256s", name.encode()))
        except OSError:
            return None
    return socket.inet_ntoa(answer[20:24])
