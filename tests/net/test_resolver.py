"""RFC 3263 server location (ser_runtime.net.resolver) against a real dnsmasq on loopback.

dnsmasq answers only from the records below and says NXDOMAIN for every
other name, so no query leaves the machine. Its query log shows which
lookups the resolver made.
"""

from __future__ import annotations

import contextlib
import random
import socket
import time
from pathlib import Path

import pytest

from ser_runtime.context import PROTO_SCTP, PROTO_TCP, PROTO_TLS, PROTO_UDP
from ser_runtime.net.resolver import ResolveError, Resolver, Target, parse_nameservers
from ser_runtime.sip import SipUri
from tests.dnsmasq import Dnsmasq, require_dnsmasq


RECORDS = [
    "--host-record=sip1.example.test,127.0.0.2,::2",
    "--host-record=sip2.example.test,127.0.0.3",
    "--host-record=sip3.example.test,127.0.0.4",
    "--host-record=plain.example.test,127.0.0.5,::5",
    "--host-record=both.example.test,127.0.0.9",
    "--srv-host=_sip._udp.both.example.test,sip1.example.test,5070",
    # SRV for all three transports, for TCP and TLS, for TLS only.
    "--srv-host=_sip._udp.srv.example.test,sip1.example.test,5070",
    "--srv-host=_sip._tcp.srv.example.test,sip2.example.test,5071",
    "--srv-host=_sips._tcp.srv.example.test,sip3.example.test,5072",
    "--srv-host=_sip._tcp.tcp.example.test,sip2.example.test,5080",
    "--srv-host=_sips._tcp.tcp.example.test,sip3.example.test,5081",
    "--srv-host=_sips._tcp.tls.example.test,sip3.example.test,5082",
    # NAPTR: a non-"s" record and an SCTP one come first but must be skipped;
    # TCP wins over UDP on preference within order 10.
    "--naptr-record=naptr.example.test,1,10,u,SIP+D2U,!^.*$!sip:info@example.test!",
    "--naptr-record=naptr.example.test,5,10,s,SIP+D2S,,_sip._sctp.naptr.example.test",
    "--naptr-record=naptr.example.test,10,20,s,SIP+D2U,,_sip._udp.naptr.example.test",
    "--naptr-record=naptr.example.test,10,10,s,SIP+D2T,,_sip._tcp.naptr.example.test",
    "--naptr-record=naptr.example.test,30,10,s,SIPS+D2T,,_sips._tcp.naptr.example.test",
    "--srv-host=_sip._sctp.naptr.example.test,sip1.example.test,5090",
    "--srv-host=_sip._tcp.naptr.example.test,sip2.example.test,5091",
    "--srv-host=_sip._udp.naptr.example.test,sip1.example.test,5092",
    "--srv-host=_sips._tcp.naptr.example.test,sip3.example.test,5093",
    # The first NAPTR record's SRV name has no records: the next one is used.
    "--naptr-record=naptr2.example.test,10,10,s,SIP+D2T,,_sip._tcp.naptr2.example.test",
    "--naptr-record=naptr2.example.test,20,10,s,SIP+D2U,,_sip._udp.naptr2.example.test",
    "--srv-host=_sip._udp.naptr2.example.test,sip1.example.test,5094",
    "--srv-host=_sip._udp.prio.example.test,sip1.example.test,6001,20",
    "--srv-host=_sip._udp.prio.example.test,sip2.example.test,6002,10",
    "--srv-host=_sip._udp.prio.example.test,sip3.example.test,6003,30",
    "--srv-host=_sip._udp.weight.example.test,sip1.example.test,6001,10,90",
    "--srv-host=_sip._udp.weight.example.test,sip2.example.test,6002,10,10",
    "--srv-host=_sip._udp.zero.example.test,sip1.example.test,6003,10,0",
    "--srv-host=_sip._udp.zero.example.test,sip2.example.test,6004,10,100",
    # No target: dnsmasq answers "0 0 1 ." (service not available).
    "--srv-host=_sip._udp.dot.example.test",
]

SIP1 = ["127.0.0.2", "::2"]


def start_dnsmasq(records: list[str], directory: Path, ttl: int = 60) -> Dnsmasq:
    require_dnsmasq()
    return Dnsmasq(records, directory, ttl)


@pytest.fixture(scope="module")
def dnsmasq(tmp_path_factory):
    server = start_dnsmasq(RECORDS, tmp_path_factory.mktemp("dnsmasq"))
    yield server
    server.stop()


@pytest.fixture
def resolver(dnsmasq) -> Resolver:
    return Resolver([dnsmasq.address], timeout=1.0, rng=random.Random(1))


@pytest.fixture(scope="module")
def silent_server():
    """A bound UDP socket nobody reads: queries to it are never answered."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()


def uri(text: str) -> SipUri:
    return SipUri.parse(text)


def targets(proto: int, ips: list[str], port: int) -> list[Target]:
    return [Target(proto, ip, port) for ip in ips]


def logged(dnsmasq: Dnsmasq, action):
    """What `action()` returns and the queries dnsmasq saw meanwhile."""
    before = len(dnsmasq.queries())
    result = action()
    return result, dnsmasq.queries()[before:]


@contextlib.contextmanager
def raises_one_line(match: str):
    with pytest.raises(ResolveError, match=match) as info:
        yield info
    assert "\n" not in str(info.value)


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# Numeric hosts

@pytest.mark.parametrize("text, expected", [
    ("sip:192.0.2.1", Target(PROTO_UDP, "192.0.2.1", 5060)),
    ("sip:alice@192.0.2.1:5070;transport=tcp", Target(PROTO_TCP, "192.0.2.1", 5070)),
    ("sip:192.0.2.1;transport=tls", Target(PROTO_TLS, "192.0.2.1", 5061)),
    ("sips:192.0.2.1", Target(PROTO_TLS, "192.0.2.1", 5061)),
    ("sip:[2001:DB8:0::1]", Target(PROTO_UDP, "2001:db8::1", 5060)),
    ("sips:[2001:db8::1]:5080", Target(PROTO_TLS, "2001:db8::1", 5080)),
])
def test_numeric_host_needs_no_dns(silent_server, text, expected):
    resolver = Resolver([silent_server], timeout=3.0)
    started = time.monotonic()
    assert resolver.resolve_uri(uri(text)) == [expected]
    assert time.monotonic() - started < 0.5


def test_numeric_host_in_resolve_host(silent_server):
    resolver = Resolver([silent_server], timeout=3.0)
    assert resolver.resolve_host("192.0.2.1", None, PROTO_TCP) == [
        Target(PROTO_TCP, "192.0.2.1", 5060)]
    assert resolver.resolve_host("[::1]", None, PROTO_TLS) == [Target(PROTO_TLS, "::1", 5061)]
    assert resolver.resolve_host("192.0.2.1", 5080, PROTO_UDP) == [
        Target(PROTO_UDP, "192.0.2.1", 5080)]


# Transport and port choice

def test_explicit_port_uses_only_address_records(resolver, dnsmasq):
    found, queries = logged(dnsmasq,
                            lambda: resolver.resolve_uri(uri("sip:both.example.test:5999")))
    assert found == [Target(PROTO_UDP, "127.0.0.9", 5999)]
    assert queries == ["A both.example.test", "AAAA both.example.test"]
    # Without the port the SRV record wins.
    assert resolver.resolve_uri(uri("sip:both.example.test")) == targets(PROTO_UDP, SIP1, 5070)


@pytest.mark.parametrize("text, expected", [
    ("sip:srv.example.test;transport=tcp", targets(PROTO_TCP, ["127.0.0.3"], 5071)),
    ("sip:srv.example.test;transport=TLS", targets(PROTO_TLS, ["127.0.0.4"], 5072)),
    ("sip:srv.example.test;transport=udp", targets(PROTO_UDP, SIP1, 5070)),
    ("sips:srv.example.test;transport=tcp", targets(PROTO_TLS, ["127.0.0.4"], 5072)),
    ("sip:plain.example.test;transport=tcp", targets(PROTO_TCP, ["127.0.0.5", "::5"], 5060)),
    ("sip:plain.example.test;transport=tls", targets(PROTO_TLS, ["127.0.0.5", "::5"], 5061)),
    ("sip:plain.example.test:5070;transport=tcp", targets(PROTO_TCP, ["127.0.0.5", "::5"], 5070)),
])
def test_transport_parameter(resolver, text, expected):
    assert resolver.resolve_uri(uri(text)) == expected


def test_transport_parameter_skips_naptr(resolver, dnsmasq):
    _, queries = logged(dnsmasq,
                        lambda: resolver.resolve_uri(uri("sip:naptr.example.test;transport=udp")))
    assert queries[0] == "SRV _sip._udp.naptr.example.test"
    assert not any(q.startswith("NAPTR") for q in queries)


@pytest.mark.parametrize("text", [
    "sip:srv.example.test;transport=sctp",
    "sip:srv.example.test;transport=ws",
    "sips:srv.example.test;transport=udp",
])
def test_unsupported_transport(resolver, text):
    with raises_one_line("cannot send to"):
        resolver.resolve_uri(uri(text))


def test_sips_means_tls_on_5061(resolver):
    assert resolver.resolve_uri(uri("sips:plain.example.test")) == targets(
        PROTO_TLS, ["127.0.0.5", "::5"], 5061)
    assert resolver.resolve_uri(uri("sips:srv.example.test")) == targets(
        PROTO_TLS, ["127.0.0.4"], 5072)


def test_tel_uri_has_no_host(resolver):
    with raises_one_line("no host"):
        resolver.resolve_uri(uri("tel:+1-201-555-0123"))


# NAPTR and SRV

def test_naptr_leads_to_srv_and_addresses(resolver, dnsmasq):
    found, queries = logged(dnsmasq, lambda: resolver.resolve_uri(uri("sip:naptr.example.test")))
    assert found == targets(PROTO_TCP, ["127.0.0.3"], 5091)
    # sip2's A record came in the SRV answer's additional section; only AAAA was asked for.
    assert queries == ["NAPTR naptr.example.test", "SRV _sip._tcp.naptr.example.test",
                       "AAAA sip2.example.test"]


def test_naptr_for_sips_uses_only_sips_d2t(resolver):
    assert resolver.resolve_uri(uri("sips:naptr.example.test")) == targets(
        PROTO_TLS, ["127.0.0.4"], 5093)


def test_naptr_without_srv_moves_to_next_record(resolver):
    assert resolver.resolve_uri(uri("sip:naptr2.example.test")) == targets(PROTO_UDP, SIP1, 5094)


@pytest.mark.parametrize("host, expected", [
    ("srv.example.test", targets(PROTO_UDP, SIP1, 5070)),
    ("tcp.example.test", targets(PROTO_TCP, ["127.0.0.3"], 5080)),
    ("tls.example.test", targets(PROTO_TLS, ["127.0.0.4"], 5082)),
])
def test_srv_without_naptr_tries_udp_tcp_tls(resolver, host, expected):
    assert resolver.resolve_uri(uri(f"sip:{host}")) == expected


def test_srv_without_naptr_query_order(resolver, dnsmasq):
    _, queries = logged(dnsmasq, lambda: resolver.resolve_uri(uri("sip:tls.example.test")))
    assert queries[:4] == ["NAPTR tls.example.test", "SRV _sip._udp.tls.example.test",
                           "SRV _sip._tcp.tls.example.test", "SRV _sips._tcp.tls.example.test"]


def test_srv_priority_order(resolver):
    assert resolver.resolve_uri(uri("sip:prio.example.test")) == [
        Target(PROTO_UDP, "127.0.0.3", 6002), Target(PROTO_UDP, "127.0.0.2", 6001),
        Target(PROTO_UDP, "::2", 6001), Target(PROTO_UDP, "127.0.0.4", 6003)]


def first_ports(resolver: Resolver, text: str, rounds: int) -> list[int]:
    return [resolver.resolve_uri(uri(text))[0].port for _ in range(rounds)]


def test_srv_weights(dnsmasq):
    resolver = Resolver([dnsmasq.address], rng=random.Random(7))
    firsts = first_ports(resolver, "sip:weight.example.test", 1000)
    assert 850 < firsts.count(6001) < 950  # weight 90 of 100
    assert {t.port for t in resolver.resolve_uri(uri("sip:weight.example.test"))} == {6001, 6002}


def test_srv_weight_zero_is_rarely_first(dnsmasq):
    resolver = Resolver([dnsmasq.address], rng=random.Random(7))
    firsts = first_ports(resolver, "sip:zero.example.test", 1000)
    assert 0 < firsts.count(6003) < 30  # RFC 2782: picked first only on a random 0, 1 in 101


def test_srv_order_repeats_with_the_same_seed(dnsmasq):
    runs = [first_ports(Resolver([dnsmasq.address], rng=random.Random(3)),
                        "sip:weight.example.test", 30) for _ in range(2)]
    assert runs[0] == runs[1]
    assert set(runs[0]) == {6001, 6002}


def test_srv_target_dot_means_not_available(resolver):
    with raises_one_line("not available"):
        resolver.resolve_host("dot.example.test", None, PROTO_UDP)
    with raises_one_line("not available"):
        resolver.resolve_uri(uri("sip:dot.example.test"))


def test_no_naptr_no_srv_falls_back_to_address_records(resolver):
    assert resolver.resolve_uri(uri("sip:plain.example.test")) == targets(
        PROTO_UDP, ["127.0.0.5", "::5"], 5060)
    assert resolver.resolve_host("plain.example.test", None, PROTO_TCP) == targets(
        PROTO_TCP, ["127.0.0.5", "::5"], 5060)


def test_nxdomain(resolver):
    with raises_one_line("^no SRV/A/AAAA record for nowhere.example.test$"):
        resolver.resolve_uri(uri("sip:nowhere.example.test"))
    with raises_one_line("^no A/AAAA record for nowhere.example.test$"):
        resolver.resolve_host("nowhere.example.test", 5060, PROTO_UDP)


def test_forced_protocol(resolver, dnsmasq):
    assert resolver.resolve_uri(uri("sip:srv.example.test"), PROTO_TCP) == targets(
        PROTO_TCP, ["127.0.0.3"], 5071)
    # forward_tls overrides the URI's own transport parameter.
    assert resolver.resolve_uri(uri("sip:srv.example.test;transport=udp"), PROTO_TLS) == targets(
        PROTO_TLS, ["127.0.0.4"], 5072)
    assert resolver.resolve_host("srv.example.test", None, PROTO_TLS) == targets(
        PROTO_TLS, ["127.0.0.4"], 5072)
    _, queries = logged(dnsmasq,
                        lambda: resolver.resolve_uri(uri("sip:naptr.example.test"), PROTO_UDP))
    assert queries[0] == "SRV _sip._udp.naptr.example.test"
    with raises_one_line("over sctp"):
        resolver.resolve_host("srv.example.test", None, PROTO_SCTP)


def test_resolve_host_with_port_uses_only_address_records(resolver, dnsmasq):
    found, queries = logged(dnsmasq,
                            lambda: resolver.resolve_host("both.example.test", 5070, PROTO_TCP))
    assert found == [Target(PROTO_TCP, "127.0.0.9", 5070)]
    assert queries == ["A both.example.test", "AAAA both.example.test"]


def test_without_ipv6(dnsmasq):
    resolver = Resolver([dnsmasq.address], try_ipv6=False)
    found, queries = logged(dnsmasq, lambda: (
        resolver.resolve_uri(uri("sip:srv.example.test")),
        resolver.resolve_uri(uri("sip:plain.example.test:5070"))))
    assert found == ([Target(PROTO_UDP, "127.0.0.2", 5070)], [Target(PROTO_UDP, "127.0.0.5", 5070)])
    assert not any(q.startswith("AAAA") for q in queries)


# Cache

def test_cache_answers_until_the_ttl_runs_out(tmp_path):
    records = ["--srv-host=_sip._udp.cache.example.test,sip1.example.test,5070",
               "--host-record=sip1.example.test,127.0.0.2,::2"]
    server = start_dnsmasq(records, tmp_path, ttl=30)
    clock = FakeClock()
    resolver = Resolver([server.address], timeout=0.3, clock=clock)
    try:
        expected = targets(PROTO_UDP, SIP1, 5070)
        assert resolver.resolve_uri(uri("sip:cache.example.test")) == expected
    finally:
        server.stop()
    clock.now += 9
    assert resolver.resolve_uri(uri("sip:cache.example.test")) == expected
    # The addresses came from the SRV answer's additional section, with its TTL.
    assert resolver.resolve_host("sip1.example.test", 5070, PROTO_UDP) == expected
    clock.now += 2  # the NXDOMAIN for the NAPTR query is kept 10 s
    with raises_one_line("cache.example.test NAPTR"):
        resolver.resolve_uri(uri("sip:cache.example.test"))
    assert resolver.resolve_host("sip1.example.test", 5070, PROTO_UDP) == expected
    clock.now += 20  # past the 30 s TTL
    with raises_one_line("sip1.example.test A"):
        resolver.resolve_host("sip1.example.test", 5070, PROTO_UDP)


def test_cache_size_evicts_the_oldest(dnsmasq):
    resolver = Resolver([dnsmasq.address], cache_size=2)
    resolver.resolve_host("plain.example.test", 5060, PROTO_UDP)
    resolver.resolve_host("both.example.test", 5060, PROTO_UDP)
    _, queries = logged(dnsmasq, lambda: (
        resolver.resolve_host("both.example.test", 5060, PROTO_UDP),
        resolver.resolve_host("plain.example.test", 5060, PROTO_UDP)))
    assert queries == ["A plain.example.test", "AAAA plain.example.test"]


# Failures and fallbacks

def test_timeout(silent_server):
    resolver = Resolver([silent_server], timeout=0.5)
    for resolve in (lambda: resolver.resolve_uri(uri("sip:example.test")),
                    lambda: resolver.resolve_host("example.test", 5060, PROTO_UDP)):
        started = time.monotonic()
        with raises_one_line("DNS timeout looking up example.test"):
            resolve()
        assert time.monotonic() - started < 1.0


def test_localhost_from_the_hosts_file(resolver):
    expected = Target(PROTO_UDP, "127.0.0.1", 5060)
    assert expected in resolver.resolve_host("localhost", 5060, PROTO_UDP)
    assert expected in resolver.resolve_uri(uri("sip:localhost"))


def test_hosts_file_comes_before_dns(dnsmasq, tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("# test hosts\n"
                     "::7 pbx.example.test\n"
                     "127.0.0.7  PBX.example.test pbx  # the PBX\n"
                     "#127.0.0.8 pbx.example.test\n"
                     "127.0.0.99 plain.example.test\n")
    resolver = Resolver([dnsmasq.address], hosts_file=str(hosts))
    assert resolver.resolve_uri(uri("sip:pbx.example.test")) == targets(
        PROTO_UDP, ["127.0.0.7", "::7"], 5060)
    # The hosts file wins over DNS, which also knows plain.example.test (127.0.0.5).
    assert resolver.resolve_host("plain.example.test", 5060, PROTO_UDP) == [
        Target(PROTO_UDP, "127.0.0.99", 5060)]
    resolver = Resolver([dnsmasq.address], hosts_file=str(hosts), try_ipv6=False)
    assert resolver.resolve_host("pbx.example.test", 5060, PROTO_UDP) == [
        Target(PROTO_UDP, "127.0.0.7", 5060)]


# Configuration

def test_from_environment_uses_ser_nameserver(dnsmasq, monkeypatch):
    monkeypatch.setenv("SER_NAMESERVER", f"127.0.0.1:{dnsmasq.port}")
    resolver = Resolver.from_environment(try_ipv6=False)
    assert resolver.nameservers == [dnsmasq.address]
    assert resolver.resolve_uri(uri("sip:plain.example.test")) == [
        Target(PROTO_UDP, "127.0.0.5", 5060)]


def test_parse_nameservers():
    assert parse_nameservers("[::1]:5353, 127.0.0.1:53,[2001:DB8::1],192.0.2.1") == [
        ("::1", 5353), ("127.0.0.1", 53), ("2001:db8::1", 53), ("192.0.2.1", 53)]


@pytest.mark.parametrize("value", ["ns.example.test:53", "::1", "127.0.0.1:0",
                                   "127.0.0.1:70000", "127.0.0.1,", "[::1"])
def test_malformed_ser_nameserver(monkeypatch, value):
    monkeypatch.setenv("SER_NAMESERVER", value)
    with pytest.raises(ValueError, match=r"^SER_NAMESERVER: '.*' is not ip:port or \[ipv6\]:port$"):
        Resolver.from_environment()


def test_from_environment_without_ser_nameserver(monkeypatch):
    monkeypatch.delenv("SER_NAMESERVER", raising=False)
    resolver = Resolver.from_environment()
    assert resolver.nameservers  # from /etc/resolv.conf, or 127.0.0.1:53 without one
    assert resolver.resolve_uri(uri("sip:192.0.2.1")) == [Target(PROTO_UDP, "192.0.2.1", 5060)]
