"""The `ser` process: workers, crashes, SIGHUP, SIGTERM, flags, bind errors, DNS (the real binary on loopback)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.dnsmasq import Dnsmasq, require_dnsmasq
from tests.ports import free_port
from tests.server.harness import Ser, Sipp, require, sipp_args, udp_exchange

pytestmark = pytest.mark.slow


def config(port: int, reply: str = '"404", "Not Here"', extra: str = "") -> str:
    return f"""
log_stderror=yes
children=2
listen=udp:127.0.0.1:{port}
{extra}
loadmodule "/usr/lib/ser/modules/sl.so"
route {{
    sl_send_reply({reply});
}}
"""


def options(call_id: str = "c1", ruri: str = "sip:u@127.0.0.1") -> bytes:
    return (f"OPTIONS {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK{call_id}\r\n"
            f"From: <sip:a@x>;tag=1\r\nTo: <sip:u@x>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n"
            f"Content-Length: 0\r\n\r\n").encode()


def status_line(port: int, call_id: str = "c1", ruri: str = "sip:u@127.0.0.1") -> str | None:
    answer = udp_exchange(options(call_id, ruri), ("127.0.0.1", port))
    return answer.split(b"\r\n", 1)[0].decode() if answer else None


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_children_workers_answer_and_sigterm_stops_them(tmp_path):
    port = free_port()
    with Ser(tmp_path, config(port)) as ser:
        pids = ser.worker_pids()
        assert len(pids) == 2
        # Several source ports, so SO_REUSEPORT spreads them over both workers.
        assert all(status_line(port, f"c{i}") == "SIP/2.0 404 Not Here" for i in range(8))
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)


def test_a_crashed_worker_is_logged_and_replaced(tmp_path):
    port = free_port()
    with Ser(tmp_path, config(port)) as ser:
        victim = ser.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: len(ser.worker_pids()) == 2 and victim not in ser.worker_pids())
        assert "was killed by signal SIGKILL; starting a new one" in ser.log
        assert all(status_line(port, f"c{i}") == "SIP/2.0 404 Not Here" for i in range(8))


def test_sighup_reloads_a_clean_config_and_keeps_the_old_one_otherwise(tmp_path):
    port = free_port()
    with Ser(tmp_path, config(port)) as ser:
        ser.config.write_text(config(port) + "route {\n")
        ser.signal(signal.SIGHUP)
        wait_for(lambda: "not reloaded" in ser.log)
        assert ser.log.count("not reloaded") == 1 and "ser.cfg:" in ser.log
        assert status_line(port) == "SIP/2.0 404 Not Here"
        ser.config.write_text(config(port, '"403", "Go Away"'))
        ser.signal(signal.SIGHUP)
        wait_for(lambda: "reloaded" in ser.log.replace("not reloaded", ""))
        wait_for(lambda: status_line(port, "c2") == "SIP/2.0 403 Go Away")


def test_fork_no_runs_one_process(tmp_path):
    port = free_port()
    with Ser(tmp_path, config(port, extra="fork=no")) as ser:
        assert ser.worker_pids() == []
        assert status_line(port) == "SIP/2.0 404 Not Here"


def test_pid_file_and_daemon_mode(tmp_path):
    port = free_port()
    pid_file = tmp_path / "ser.pid"
    path = tmp_path / "d.cfg"
    path.write_text(config(port))
    started = subprocess.run([sys.executable, "-m", "ser_runtime.main", "-f", str(path), "-P", str(pid_file)],
                             capture_output=True, text=True, timeout=30)
    assert started.returncode == 0, started.stderr
    wait_for(pid_file.exists, timeout=30)
    pid = int(pid_file.read_text())     # written whole: see process.write_pid_file
    try:
        assert status_line(port) == "SIP/2.0 404 Not Here"
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not pid_file.exists(), timeout=30)


def test_a_sigterm_as_soon_as_the_pid_file_appears_stops_the_server(tmp_path):
    """serctl stop may come at any moment after the pid file appears, even before the workers run."""
    port = free_port()
    pid_file = tmp_path / "ser.pid"
    path = tmp_path / "d.cfg"
    path.write_text(config(port))
    started = subprocess.run([sys.executable, "-m", "ser_runtime.main", "-f", str(path), "-P", str(pid_file)],
                             capture_output=True, text=True, timeout=30)
    assert started.returncode == 0, started.stderr
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    os.kill(int(pid_file.read_text()), signal.SIGTERM)
    wait_for(lambda: not pid_file.exists(), timeout=30)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", port))     # the workers are gone with it


def test_a_busy_port_is_one_line_and_a_nonzero_exit(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        path = tmp_path / "busy.cfg"
        path.write_text(config(port))
        result = subprocess.run([sys.executable, "-m", "ser_runtime.main", "-D", "-E", "-f", str(path)],
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip() == f"ser: cannot start: cannot bind udp:127.0.0.1:{port}: Address already in use"


@pytest.mark.parametrize("args,message", [
    (["-l", "udp:127.0.0.1:99999"], "bad port '99999'"),
    (["-n", "0"], "the number of workers must be at least 1"),
    (["-n", "x"], "argument -n: invalid int value"),
])
def test_bad_flags_are_one_line(tmp_path, args, message):
    path = tmp_path / "f.cfg"
    path.write_text(config(free_port()))
    result = subprocess.run([sys.executable, "-m", "ser_runtime.main", "-D", "-E", "-f", str(path), *args],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_command_line_listen_and_workers(tmp_path):
    port = free_port()
    text = config(port).replace(f"listen=udp:127.0.0.1:{port}\n", "")
    with Ser(tmp_path, text, "-l", f"udp:127.0.0.1:{port}", "-n", "3") as ser:
        assert len(ser.worker_pids()) == 3
        assert status_line(port) == "SIP/2.0 404 Not Here"


def test_forward_by_dns_srv_to_a_sipp_uas(tmp_path):
    """forward(uri:host) with a domain resolves its SRV record (RFC 3263) on a real dnsmasq."""
    require("sipp")
    require_dnsmasq()
    port, uas_port = free_port(), free_port()
    dns = Dnsmasq([f"--srv-host=_sip._udp.pbx.test,host.pbx.test,{uas_port}",
                   "--host-record=host.pbx.test,127.0.0.1"], tmp_path)
    try:
        text = f"""
log_stderror=yes
children=2
listen=udp:127.0.0.1:{port}
route {{
    rewritehostport("pbx.test");
    forward(uri:host, uri:port);
}}
"""
        with Ser(tmp_path, text, env={"SER_NAMESERVER": f"127.0.0.1:{dns.port}"}):
            uas = Sipp(tmp_path, "uas", [*sipp_args("options-uas", "127.0.0.1", uas_port), "-m", "5"])
            try:
                uac = Sipp(tmp_path, "uac", [*sipp_args("options-uac", "127.0.0.1", free_port()),
                                             f"127.0.0.1:{port}", "-s", "x", "-m", "5", "-timeout", "20s",
                                             "-timeout_error"])
                assert uac.wait() == 0, uac.report()
                assert uas.wait(10) == 0, uas.report()
            finally:
                uas.kill()
        assert "SRV _sip._udp.pbx.test" in dns.queries()
    finally:
        dns.stop()


def test_the_example_stateless_proxy_runs(tmp_path):
    example = (Path(__file__).resolve().parents[2] / "examples" / "stateless.cfg").read_text()
    port = free_port()
    with Ser(tmp_path, example.replace(":5060", f":{port}")):
        assert status_line(port, ruri=f"sip:u@localhost:{port}") == "SIP/2.0 404 Not Found"


def test_user_and_group_are_dropped_to_after_binding(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to change user")
    port = free_port()
    with Ser(tmp_path, config(port), "-u", "nobody", "-g", "nogroup", "-w", str(tmp_path)) as ser:
        for pid in [ser.process.pid, *ser.worker_pids()]:
            status = open(f"/proc/{pid}/status").read()
            uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
            assert uid_line.split()[1:] == [str(65534)] * 4
        assert status_line(port) == "SIP/2.0 404 Not Here"


def test_a_fixed_forward_host_must_resolve_at_start(tmp_path):
    require_dnsmasq()
    dns = Dnsmasq(["--host-record=next.pbx.test,127.0.0.1"], tmp_path)
    try:
        port = free_port()
        text = (f"log_stderror=yes\nlisten=udp:127.0.0.1:{port}\n"
                f"route {{\n\tforward(next.pbx.test, 5070);\n\tforward(nowhere.pbx.test, 5070);\n}}\n")
        path = tmp_path / "r.cfg"
        path.write_text(text)
        result = subprocess.run([sys.executable, "-m", "ser_runtime.main", "-D", "-E", "-f", str(path)],
                                capture_output=True, text=True, timeout=30,
                                env={**os.environ, "SER_NAMESERVER": f"127.0.0.1:{dns.port}"})
    finally:
        dns.stop()
    assert result.returncode == 1
    assert f"{path}:5:10: error: cannot resolve nowhere.pbx.test:" in result.stderr, result.stderr
    assert "next.pbx.test" not in result.stderr and "Traceback" not in result.stderr


def test_an_unknown_user_is_one_line(tmp_path):
    path = tmp_path / "u.cfg"
    path.write_text(config(free_port()))
    result = subprocess.run([sys.executable, "-m", "ser_runtime.main", "-D", "-E", "-f", str(path),
                             "-u", "no-such-user-here"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip() == "ser: cannot start: unknown user 'no-such-user-here'"


def test_fork_no_writes_and_removes_the_pid_file(tmp_path):
    port = free_port()
    pid_file = tmp_path / "one.pid"
    with Ser(tmp_path, config(port, extra="fork=no"), "-P", str(pid_file)) as ser:
        assert int(pid_file.read_text()) == ser.process.pid
    assert not pid_file.exists()
