"""Where to send a SIP request: server location per RFC 3263 (SRV per RFC 2782).

`Resolver.resolve_uri` turns a SIP or SIPS URI into the ordered list of
(transport, IP, port) targets to try; `resolve_host` does the same for the
fixed host of SER's `forward(host, port)`. A numeric host needs no DNS, a
host with a port only A/AAAA records. Otherwise the transport comes from the
URI or from NAPTR records (§4.1), which lead to SRV records ordered by
priority and weight (§4.2, RFC 2782), with A/AAAA records on the default
port as the last resort.

Nameservers come from SER_NAMESERVER or /etc/resolv.conf. Addresses come
from /etc/hosts first, as the C library's "files dns" order has it, so
"localhost" never leaves the machine. Answers, negative
ones included, are cached per Resolver for their TTL. Every failure is a
ResolveError with a one-line message.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import random
import time
from collections import OrderedDict
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from ser_runtime.context import PROTO_NUMBERS, PROTO_TCP, PROTO_TLS, PROTO_UDP
from ser_runtime.myself import SIP_PORT, normalize_host
from ser_runtime.sip import SipParseError, SipUri
from ser_runtime.sip.uri import split_hostport

SIPS_PORT = 5061
DNS_PORT = 53
# RFC 2308 §5 takes the negative TTL from the SOA; servers such as dnsmasq
# send none, and a short wait keeps a fixed typo from lingering.
NEGATIVE_TTL = 10
HOSTS_FILE = "/etc/hosts"

_A, _AAAA, _SRV, _NAPTR, _SOA = (dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.SRV,
                                 dns.rdatatype.NAPTR, dns.rdatatype.SOA)
_PROTO_NAMES = {number: name for name, number in PROTO_NUMBERS.items()}
_SRV_PREFIXES = {PROTO_UDP: "_sip._udp.", PROTO_TCP: "_sip._tcp.", PROTO_TLS: "_sips._tcp."}
_NAPTR_SERVICES = {b"SIP+D2U": PROTO_UDP, b"SIP+D2T": PROTO_TCP, b"SIPS+D2T": PROTO_TLS}


@dataclass(frozen=True, slots=True)
class Target:
    """One place to send a request to."""

    proto: int
    ip: str
    port: int


class ResolveError(Exception):
    """No target could be found; the message is one line, fit for the log."""


def default_port(proto: int) -> int:
    return SIPS_PORT if proto == PROTO_TLS else SIP_PORT


def parse_nameservers(text: str) -> list[tuple[str, int]]:
    """SER_NAMESERVER's comma-separated "ip[:port]" / "[ipv6][:port]" list (ValueError if bad)."""
    return [_parse_nameserver(item.strip()) for item in text.split(",")]


def _parse_nameserver(item: str) -> tuple[str, int]:
    try:
        host, port = split_hostport(item)
        ip = str(ipaddress.ip_address(normalize_host(host)))
    except (SipParseError, ValueError):
        ip = port = None
    if ip is None or port == "0":
        raise ValueError(f"SER_NAMESERVER: {item!r} is not ip:port or [ipv6]:port")
    return ip, DNS_PORT if port is None else int(port)


class Resolver:
    """RFC 3263 server location with a TTL-honouring cache of its own (one per worker)."""

    def __init__(self, nameservers: list[tuple[str, int]] | None = None, *, try_ipv6: bool = True,
                 timeout: float = 2.0, cache_size: int = 1024, clock=time.monotonic,
                 rng: random.Random | None = None, hosts_file: str = HOSTS_FILE):
        self.try_ipv6 = try_ipv6
        self._dns = _dns_resolver(nameservers, timeout)
        self.nameservers = [(ns.address, ns.port) for ns in self._dns.nameservers]
        self._cache = _Cache(cache_size, clock)
        self._rng = rng or random.Random()
        self._hosts_file = hosts_file

    @classmethod
    def from_environment(cls, **kwargs) -> "Resolver":
        """nameservers from the SER_NAMESERVER environment variable ("ip:port" or "[v6]:port",
        comma-separated) when set, else the system's /etc/resolv.conf."""
        text = os.environ.get("SER_NAMESERVER", "").strip()
        return cls(parse_nameservers(text) if text else None, **kwargs)

    def resolve_uri(self, uri: SipUri, proto: int | None = None) -> list[Target]:
        """RFC 3263 §4.1 (transport) and §4.2 (port and IP): ordered list of targets to try.
        `proto` forces the transport (forward_tcp etc.); None = choose per RFC 3263 §4.1."""
        if uri.is_tel or not uri.host:
            raise ResolveError(f"no host to send to in {uri}")
        if proto is None:
            proto = _uri_transport(uri)
        return self._locate(uri.host, uri.port, proto, uri.is_secure)

    def resolve_host(self, host: str, port: int | None, proto: int) -> list[Target]:
        """For SER's `forward(host, port)` with a fixed host: if port is None do SRV for the
        given proto (_sip._udp / _sip._tcp / _sips._tcp), else A/AAAA only."""
        return self._locate(host, port, proto, proto == PROTO_TLS)

    def _locate(self, host: str, port: int | None, proto: int | None, secure: bool) -> list[Target]:
        host = normalize_host(host).rstrip(".")
        if proto is not None and proto not in _SRV_PREFIXES:
            raise ResolveError(f"cannot send to {host} over {_PROTO_NAMES.get(proto, proto)}")
        fallback = proto if proto is not None else PROTO_TLS if secure else PROTO_UDP
        if _is_ip(host):
            return [Target(fallback, host, default_port(fallback) if port is None else port)]
        if port is not None:
            return self._address_targets(host, port, fallback, "A/AAAA")
        if proto is not None:
            targets = self._srv_targets(_SRV_PREFIXES[proto] + host, proto)
        else:
            targets = self._naptr_targets(host, secure) or self._first_srv_targets(host, secure)
        return targets or self._address_targets(host, default_port(fallback), fallback,
                                                "SRV/A/AAAA")

    def _naptr_targets(self, domain: str, secure: bool) -> list[Target]:
        """§4.1: the first usable NAPTR record (by order, then preference) with SRV records."""
        for record in sorted(self._records(domain, _NAPTR), key=lambda r: (r.order, r.preference)):
            proto = _NAPTR_SERVICES.get(record.service.upper())
            # Only "s" records point at SRV names; the others need rewrite rules SIP does not use.
            if proto is None or record.flags.lower() != b"s" or (secure and proto != PROTO_TLS):
                continue
            targets = self._srv_targets(record.replacement.to_text(), proto)
            if targets:
                return targets
        return []

    def _first_srv_targets(self, domain: str, secure: bool) -> list[Target]:
        """§4.1 without NAPTR: the first transport, in our order of preference, with SRV records."""
        for proto in (PROTO_TLS,) if secure else (PROTO_UDP, PROTO_TCP, PROTO_TLS):
            targets = self._srv_targets(_SRV_PREFIXES[proto] + domain, proto)
            if targets:
                return targets
        return []

    def _srv_targets(self, name: str, proto: int) -> list[Target]:
        """The targets of the SRV records at `name` in RFC 2782 order; [] when there are none."""
        answered = self._records(name, _SRV)
        records = [record for record in answered if record.target != dns.name.root]
        if answered and not records:
            raise ResolveError(f"{name.rstrip('.')}: service not available (SRV target '.')")
        targets = [Target(proto, ip, record.port) for record in _srv_order(records, self._rng)
                   for ip in self._addresses(record.target.to_text())]
        # §4.2 falls back to A/AAAA only when there are no SRV records at all.
        if records and not targets:
            raise ResolveError(f"no A/AAAA record for the SRV targets of {name.rstrip('.')}")
        return targets

    def _address_targets(self, host: str, port: int, proto: int, looked_for: str) -> list[Target]:
        addresses = self._addresses(host)
        if not addresses:
            raise ResolveError(f"no {looked_for} record for {host}")
        return [Target(proto, ip, port) for ip in addresses]

    def _addresses(self, host: str) -> list[str]:
        """The addresses /etc/hosts gives, else the A then AAAA records (glibc's "files dns" order)."""
        found = _hosts_addresses(self._hosts_file, host.rstrip("."), self.try_ipv6)
        if found:
            return found
        rdtypes = (_A, _AAAA) if self.try_ipv6 else (_A,)
        return [record.address for rdtype in rdtypes for record in self._records(host, rdtype)]

    def _records(self, name: str, rdtype: int) -> tuple:
        key = _cache_key(name, rdtype)
        records = self._cache.get(key)
        if records is None:
            response, records, ttl = self._query(name, rdtype)
            self._cache.put(key, records, ttl)
            self._remember_additional(response)
        return records

    def _query(self, name: str, rdtype: int):
        """(response, records, ttl) from the nameservers; no records for NXDOMAIN or NODATA."""
        what = f"{name.rstrip('.')} {dns.rdatatype.to_text(rdtype)}"
        try:
            answer = self._dns.resolve(dns.name.from_text(name), rdtype, search=False,
                                       raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN as exc:
            response = next(iter(exc.responses().values()), None)
            return response, (), _negative_ttl(response)
        except dns.exception.Timeout:
            raise ResolveError(f"DNS timeout looking up {what}") from None
        except dns.exception.DNSException as exc:
            reason = " ".join(str(exc).split())
            raise ResolveError(f"DNS lookup of {what} failed: {reason}") from None
        if answer.rrset is None:
            return answer.response, (), _negative_ttl(answer.response)
        return answer.response, tuple(answer.rrset), answer.chaining_result.minimum_ttl

    def _remember_additional(self, response) -> None:
        """SRV answers usually carry their targets' addresses (RFC 2782); keep them for later."""
        for rrset in response.additional if response is not None else ():
            if rrset.rdtype in (_A, _AAAA, _SRV):
                self._cache.put(_cache_key(rrset.name.to_text(), rrset.rdtype), tuple(rrset),
                                rrset.ttl)


def _dns_resolver(nameservers: list[tuple[str, int]] | None,
                  timeout: float) -> dns.resolver.Resolver:
    try:
        resolver = dns.resolver.Resolver(configure=nameservers is None)
    except dns.resolver.NoResolverConfiguration:
        # What the C library does when resolv.conf names no server.
        resolver = dns.resolver.Resolver(configure=False)
        nameservers = [("127.0.0.1", DNS_PORT)]
    if nameservers is None:
        nameservers = [(ns, resolver.port) for ns in resolver.nameservers]
    resolver.nameservers = [dns.nameserver.Do53Nameserver(normalize_host(ip), port)
                            for ip, port in nameservers]
    # One bound for the whole lookup, retries included: a worker must not hang on DNS.
    resolver.timeout = resolver.lifetime = timeout
    return resolver


def _uri_transport(uri: SipUri) -> int | None:
    """§4.1: the transport= parameter; for sips: only TCP (meaning TLS, RFC 3261 §26.2.2) or TLS."""
    name = uri.transport
    if name is None:
        return None
    proto = PROTO_NUMBERS.get(name)
    if uri.is_secure:
        proto = PROTO_TLS if proto in (PROTO_TCP, PROTO_TLS) else None
    if proto not in _SRV_PREFIXES:
        raise ResolveError(f"cannot send to {uri} over {name}")
    return proto


def _srv_order(records: list, rng: random.Random) -> list:
    """RFC 2782: lowest priority first; within a priority, a weighted random order."""
    ordered = []
    for priority in sorted({record.priority for record in records}):
        # Weight 0 first, as RFC 2782 asks; sorted so a seeded rng gives a repeatable order.
        pending = sorted((r for r in records if r.priority == priority),
                         key=lambda r: (r.weight != 0, r.target, r.port))
        while pending:
            pick = rng.randint(0, sum(record.weight for record in pending))
            running = 0
            for index, record in enumerate(pending):
                running += record.weight
                if running >= pick:
                    ordered.append(pending.pop(index))
                    break
    return ordered


def _negative_ttl(response) -> int:
    """RFC 2308 §5: the SOA's TTL capped by its minimum field, when the server sent one."""
    for rrset in response.authority if response is not None else ():
        if rrset.rdtype == _SOA:
            return min(rrset.ttl, rrset[0].minimum)
    return NEGATIVE_TTL


def _hosts_addresses(path: str, host: str, try_ipv6: bool) -> list[str]:
    """The addresses a hosts(5) file gives `host`, IPv4 first."""
    try:
        with open(path, encoding="utf-8", errors="replace") as hosts:
            lines = hosts.readlines()
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if len(fields) > 1 and host in (name.lower() for name in fields[1:]) and _is_ip(fields[0]):
            address = normalize_host(fields[0])
            if address not in found and (try_ipv6 or ":" not in address):
                found.append(address)
    return sorted(found, key=lambda address: ":" in address)


@functools.lru_cache(maxsize=4096)
def _is_ip(host: str) -> bool:
    # Cached: every reply forwarded asks this about the same few addresses.
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _cache_key(name: str, rdtype: int) -> tuple[str, int]:
    return name.lower().rstrip("."), rdtype


class _Cache:
    """Records by (name, type) until their TTL runs out; the oldest entry goes when full."""

    def __init__(self, size: int, clock):
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[tuple[str, int], tuple[float, tuple]] = OrderedDict()

    def get(self, key: tuple[str, int]) -> tuple | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, records = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        return records

    def put(self, key: tuple[str, int], records: tuple, ttl: float) -> None:
        self._entries.pop(key, None)
        self._entries[key] = (self._clock() + max(ttl, 1), records)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
