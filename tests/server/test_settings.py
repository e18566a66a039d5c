"""ser.cfg globals and `ser` flags as the server's settings (language reference §4)."""

from __future__ import annotations

import argparse
import logging
import socket

import pytest

from ser_runtime import log
from ser_runtime.context import PROTO_TCP, PROTO_TLS, PROTO_UDP
from ser_runtime.server import bind
from ser_runtime.settings import Listener, Settings, SettingsError, SocketSpec, parse_socket_spec
from ser_script.checker import check_text
from tests.ports import free_port


def settings(text: str, dialect: str = "0.9") -> Settings:
    result = check_text(text + "route { drop; }\n", file="t.cfg", dialect=dialect)
    assert not result.errors, [d.message for d in result.errors]
    return Settings.from_config(result.config)


def options(**given) -> argparse.Namespace:
    values = dict(debug=0, log_stderr=False, no_fork=False, listen=[], user=None, group=None, workdir=None,
                  pid_file=None, processes=None, max_buffer=None, dns=False, rev_dns=False, check_via=False)
    return argparse.Namespace(**{**values, **given})


def test_defaults_follow_ser():
    s = settings("")
    assert (s.debug, s.children, s.port, s.fork, s.log_stderror, s.sip_warning) == (2, 8, 5060, True, False, True)
    assert settings("", "2.0").debug == 0


def test_values_and_aliases():
    s = settings('debug=4\nchildren=3\nlog_stderror=yes\nuid="ser"\nwdir="/tmp"\nsip_warning=no\n'
                 'check_via=yes\nserver_signature=off\nadvertised_address="sip.example.com"\n'
                 'advertised_port=5080\nlog_facility=LOG_LOCAL0\n')
    assert (s.debug, s.children, s.log_stderror, s.user, s.workdir) == (4, 3, True, "ser", "/tmp")
    assert (s.sip_warning, s.check_via, s.server_signature) == (False, True, False)
    assert (s.advertised_address, s.advertised_port, s.log_facility) == ("sip.example.com", 5080, "LOG_LOCAL0")


def test_children_zero_means_eight():
    assert settings("children=0\n").children == 8


def test_dns_and_rev_dns_cannot_be_switched_off_again():
    s = settings("dns=yes\ndns=no\nrev_dns=no\n")
    assert s.dns and not s.rev_dns


def test_listen_lines_accumulate_and_expand_to_enabled_protocols():
    s = settings("listen=127.0.0.1\nlisten=udp:[::1]:5070 tcp:127.0.0.1:5080\nport=5062\n")
    assert s.listeners() == [Listener(PROTO_UDP, "127.0.0.1", 5062, "127.0.0.1"),
                             Listener(PROTO_TCP, "127.0.0.1", 5062, "127.0.0.1"),
                             Listener(PROTO_UDP, "::1", 5070, "::1"),
                             Listener(PROTO_TCP, "127.0.0.1", 5080, "127.0.0.1")]


def test_disable_tcp_and_tls_port():
    assert [l.proto for l in settings("listen=127.0.0.1\ndisable_tcp=yes\n").listeners()] == [PROTO_UDP]
    s = settings('listen=127.0.0.1\ntls_certificate="c.pem"\ntls_private_key="k.pem"\ntls_port_no=5071\n')
    assert [(l.proto, l.port) for l in s.listeners()] == [(PROTO_UDP, 5060), (PROTO_TCP, 5060), (PROTO_TLS, 5071)]
    with pytest.raises(SettingsError, match="tls needs tls_certificate"):
        settings("listen=tls:127.0.0.1\n").listeners()


def test_interface_names_and_hostnames_resolve():
    names = [name for _, name in socket.if_nameindex()]
    assert "lo" in names
    assert settings('listen=udp:lo:5090\n').listeners() == [Listener(PROTO_UDP, "127.0.0.1", 5090, "lo")]
    assert Listener(PROTO_UDP, "127.0.0.1", 5091, "localhost") in settings(
        "listen=udp:localhost:5091\n").listeners()


def test_fork_no_keeps_the_first_address_only():
    s = settings("fork=no\nlisten=udp:127.0.0.1:5060 udp:127.0.0.2:5060\n")
    assert [l.ip for l in s.listeners()] == ["127.0.0.1"]


def test_port_rewrites_the_last_listen_in_0_8():
    s = settings("listen=127.0.0.1\nport=5070\n", "0.8")
    assert s.listen == [SocketSpec(None, "127.0.0.1", 5070)]


def test_0_9_tls_log_sets_the_tls_port():
    assert settings("tls_log=5099\n").tls_port_no == 5099


def test_myself_has_names_addresses_aliases_and_worker_ports():
    s = settings("listen=udp:localhost:5090\nalias=example.com\n")
    myself = s.myself(s.listeners(), [("127.0.0.1", 40000)])
    assert myself.host_port("localhost", 5090) and myself.host_port("127.0.0.1", 5090)
    assert myself.host_port("example.com", 1234) and myself.host_port("127.0.0.1", 40000)
    assert not myself.host_port("127.0.0.1", 5091)


def test_flags_override_the_file():
    s = settings("debug=1\nchildren=4\n")
    s.apply_options(options(debug=2, log_stderr=True, no_fork=True, listen=["tcp:127.0.0.1:5099"],
                            processes=2, max_buffer=1024, check_via=True, pid_file="/tmp/p"))
    assert (s.debug, s.log_stderror, s.daemonize, s.children, s.maxbuffer) == (3, True, False, 2, 1024)
    assert s.check_via and s.pid_file == "/tmp/p"
    assert s.listen == [SocketSpec("tcp", "127.0.0.1", 5099)]


@pytest.mark.parametrize("text,spec", [
    ("127.0.0.1", SocketSpec(None, "127.0.0.1", None)),
    ("udp:127.0.0.1:5070", SocketSpec("udp", "127.0.0.1", 5070)),
    ("[::1]:5070", SocketSpec(None, "::1", 5070)),
    ("tls:[::1]", SocketSpec("tls", "::1", None)),
    ("*:lo:*", SocketSpec(None, "lo", None)),
])
def test_command_line_sockets(text, spec):
    assert parse_socket_spec(text) == spec


@pytest.mark.parametrize("text", ["udp:127.0.0.1:0", "127.0.0.1:x", "udp:"])
def test_bad_command_line_sockets(text):
    with pytest.raises(SettingsError):
        parse_socket_spec(text)


@pytest.fixture
def ser_logger():
    """log.setup reconfigures the "ser" logger; give the next tests the one they had."""
    logger = logging.getLogger("ser")
    saved = (logger.level, logger.propagate, list(logger.handlers), logging.raiseExceptions)
    yield
    logger.level, logger.propagate, logger.handlers[:], logging.raiseExceptions = saved


def test_syslog_gets_ser_levels_under_the_facility(tmp_path, ser_logger):
    address = str(tmp_path / "log")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as syslog:
        syslog.bind(address)
        syslog.settimeout(2)
        log.setup(debug=2, to_stderr=False, facility="LOG_LOCAL0", syslog_address=address)
        logging.getLogger("ser.core").info("hidden at debug=2")
        logging.getLogger("ser.core").warning("shown")
        line = syslog.recv(1024)
    # LOG_LOCAL0 (16) * 8 + warning (4) = <132>
    assert line.startswith(b"<132>ser[") and b"WARNING: shown" in line


def test_without_syslog_logging_falls_back_to_stderr(tmp_path, capsys, ser_logger):
    log.setup(debug=2, to_stderr=False, syslog_address=str(tmp_path / "missing"))
    logging.getLogger("ser.core").error("still seen")
    err = capsys.readouterr().err
    assert "syslog is not reachable" in err and "still seen" in err


def test_tos_core_dumps_and_exit_timeout(tmp_path):
    s = settings(f"listen=udp:127.0.0.1:{free_port()}\ntos=16\ndisable_core_dump=yes\nexit_timeout=3\n", "2.0")
    assert (s.tos, s.disable_core_dump, s.exit_timeout) == (16, True, 3)
    sockets = bind(s, 1)
    try:
        for sock in sockets.all():
            assert sock.getsockopt(socket.IPPROTO_IP, socket.IP_TOS) == 16
    finally:
        sockets.close()
