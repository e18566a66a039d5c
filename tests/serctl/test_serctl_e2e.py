"""`serctl` driving the real `ser` over its FIFO: start, add, SIPp REGISTER, ul, ping, fifo
t_uac_dlg, restart, stop, and `moni` in a real terminal (tmux), on SQLite and MariaDB."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.ports import free_port
from tests.serctl.test_serctl import SERCTL
from tests.server.harness import Sipp, require, sipp_args

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"
PASSWORD = "e2e-pw-4711"


def registrar_config(directory: Path, port: int, db_url: str, db_mode: int) -> Path:
    """A digest-authenticating registrar that relays to registered users, 404 otherwise, with a FIFO."""
    config = directory / "ser.cfg"
    config.write_text(f"""
debug=3
children=2
listen=udp:{HOST}:{port}
fifo="{directory / 'ser_fifo'}"
loadmodule "/usr/lib/ser/modules/sl.so"
loadmodule "/usr/lib/ser/modules/tm.so"
loadmodule "/usr/lib/ser/modules/usrloc.so"
loadmodule "/usr/lib/ser/modules/registrar.so"
loadmodule "/usr/lib/ser/modules/auth.so"
loadmodule "/usr/lib/ser/modules/auth_db.so"
loadmodule "/usr/lib/ser/modules/domain.so"
modparam("domain", "db_mode", 1)
modparam("domain", "db_url", "{db_url}")
modparam("usrloc", "db_mode", {db_mode})
modparam("usrloc", "use_domain", 1)
modparam("registrar", "use_domain", 1)
modparam("usrloc", "db_url", "{db_url}")
modparam("auth_db", "db_url", "{db_url}")
route {{
    if (method=="REGISTER") {{
        if (!www_authorize("", "subscriber")) {{
            www_challenge("", "0");
            break;
        }};
        save("location");
        break;
    }};
    if (is_uri_host_local()) {{
        lookup("aliases");
    }};
    if (!lookup("location")) {{
        sl_send_reply("404", "Not Found");
        break;
    }};
    t_relay();
}}
""")
    return config


class Serctl:
    """serctl managing one ser.cfg: its environment names only that config, a pid file and the domain."""

    def __init__(self, directory: Path, config: Path):
        self.pid_file = directory / "ser.pid"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SER", "SQL_", "SIP_"))}
        self.env.update(SER_CFG=str(config), PID_FILE=str(self.pid_file), SERCTL_CONF=os.devnull,
                        SIP_DOMAIN=HOST, SER_NAMESERVER="127.0.0.1:9")

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(SERCTL), *args], env=self.env, capture_output=True, text=True, timeout=90,
                                stdin=subprocess.DEVNULL)
        assert "Traceback" not in result.stderr and PASSWORD not in result.stdout + result.stderr
        if ok:
            assert result.returncode == 0, result
        return result

    def kill_leftover(self) -> None:
        """After a failed test: the ser this test started, by its pid."""
        try:
            os.kill(int(self.pid_file.read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


@pytest.fixture
def managed(tmp_path, request):
    require("sipp")
    controls = []

    def make(db_url: str, db_mode: int = 1) -> tuple[Serctl, int]:
        port = free_port()
        control = Serctl(tmp_path, registrar_config(tmp_path, port, db_url, db_mode))
        controls.append(control)
        return control, port

    yield make
    for control in controls:
        control.kill_leftover()


def register(tmp_path: Path, port: int, contact_port: int, password: str = PASSWORD) -> int:
    sipp = Sipp(tmp_path, "register", [*sipp_args("serctl-register-uac", HOST, free_port()), f"{HOST}:{port}",
                                       "-s", "alice", "-au", "alice", "-ap", password,
                                       "-key", "contact_host", HOST, "-key", "contact_port", str(contact_port),
                                       "-m", "1", "-timeout", "20s", "-timeout_error"])
    return sipp.wait(40)


def uas(tmp_path: Path, scenario: str, port: int) -> Sipp:
    return Sipp(tmp_path, scenario, [*sipp_args(scenario, HOST, port), "-m", "1", "-timeout", "30s",
                                     "-timeout_error"])


def test_serctl_drives_a_real_ser(tmp_path, db_url, managed):
    serctl, port = managed(db_url)
    contact_port, ping_port, message_port = free_port(), free_port(), free_port()
    # No --db-url and no SER_DB_URL: serctl takes the db_url of the ser.cfg it manages.
    assert "created the SER schema" in serctl("db", "create").stdout
    serctl("add", "alice", PASSWORD, "alice@example.com")
    assert serctl("start").stdout.startswith("started ser (pid ")
    assert "ser is already running" in serctl("start", ok=False).stderr

    assert register(tmp_path, port, contact_port) == 0
    contacts = json.loads(serctl("ul", "show", "alice", "--json").stdout)
    assert [c["contact"] for c in contacts] == [f"sip:alice@{HOST}:{contact_port}"]
    assert 3500 < contacts[0]["expires"] <= 3600
    assert f"sip:alice@{HOST}:{contact_port}" in serctl("ul", "show").stdout

    options_uas = uas(tmp_path, "options-uas", ping_port)
    time.sleep(0.3)
    pinged = serctl("ping", f"sip:uas@{HOST}:{ping_port}").stdout
    assert pinged.startswith(f"sip:uas@{HOST}:{ping_port}: 200 OK in ") and pinged.endswith(" ms\n")
    assert options_uas.wait() == 0, options_uas.report()

    message_uas = uas(tmp_path, "serctl-message-uas", message_port)
    time.sleep(0.3)
    target = f"sip:uas@{HOST}:{message_port}"
    sent = serctl("fifo", "--json", "t_uac_dlg", "MESSAGE", target, ".", f"From: <sip:daemon@{HOST}>",
                  f"To: <{target}>", "Content-Type: text/plain", ".", "hello from serctl", ".")
    assert json.loads(sent.stdout)["code"] == 200
    assert message_uas.wait() == 0, message_uas.report()

    processes = json.loads(serctl("ps", "--json").stdout)
    assert any("fifo" in p["description"] for p in processes)

    assert serctl("ul", "rm", "alice").stdout == f"removed the contacts of alice@{HOST}\n"
    assert "404" in serctl("ul", "show", "alice", ok=False).stderr
    probe = Sipp(tmp_path, "probe", [*sipp_args("reg-options-404-uac", HOST, free_port()), f"{HOST}:{port}",
                                     "-s", "alice", "-m", "1", "-timeout", "20s", "-timeout_error"])
    assert probe.wait(40) == 0, probe.report()

    assert serctl("stop").stdout.startswith("stopped ser (pid ")
    assert "ser is not running" in serctl("ps", ok=False).stderr
    assert "ser is not running" in serctl("stop", ok=False).stderr


@pytest.mark.parametrize("db_mode", [1, 2])
def test_restart_keeps_registrations(tmp_path, sqlite_url, managed, db_mode):
    serctl, port = managed(sqlite_url, db_mode)
    serctl("db", "create")
    serctl("add", "alice", PASSWORD, "alice@example.com")
    serctl("start")
    contact_port = free_port()
    assert register(tmp_path, port, contact_port) == 0
    first_pid = int(serctl.pid_file.read_text())
    serctl("restart")
    assert int(serctl.pid_file.read_text()) != first_pid
    contacts = json.loads(serctl("ul", "show", "alice", "--json").stdout)
    assert [c["contact"] for c in contacts] == [f"sip:alice@{HOST}:{contact_port}"]
    serctl("stop")


def tmux(*args: str) -> str:
    return subprocess.run([require("tmux"), *args], capture_output=True, text=True, timeout=20, check=True).stdout


def test_moni_shows_a_live_screen_in_a_terminal(tmp_path, sqlite_url, managed):
    serctl, port = managed(sqlite_url)
    serctl("db", "create")
    serctl("start")
    session = f"serctl-moni-{os.getpid()}"
    env = [arg for key, value in serctl.env.items() if key in ("SER_CFG", "PID_FILE", "SERCTL_CONF")
           for arg in ("-e", f"{key}={value}")]
    # rich sizes itself by COLUMNS/LINES when they are set, rather than by the terminal.
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", *env, f"env -u COLUMNS -u LINES {SERCTL} moni")
    try:
        first = wait_for_screen(session, "Up time:")
        assert "Transactions" in first and "Registrations" in first and "'location' 0 0" in first
        assert "404: 0" in first and "Current: 0 (0 waiting)" in first
        probe = Sipp(tmp_path, "probe", [*sipp_args("reg-options-404-uac", HOST, free_port()), f"{HOST}:{port}",
                                         "-s", "nobody", "-m", "3", "-timeout", "20s", "-timeout_error"])
        assert probe.wait(40) == 0, probe.report()
        later = wait_for_screen(session, "404: 3")
        assert "total 2xx: 0   3xx: 0   4xx: 3" in later and "Up time:" in later
        tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 10
        while session_alive(session):
            assert time.monotonic() < deadline, "moni did not end on q"
            time.sleep(0.1)
    finally:
        if session_alive(session):
            tmux("kill-session", "-t", session)
    serctl("stop")


def wait_for_screen(session: str, text: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        screen = tmux("capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        assert time.monotonic() < deadline, f"{text!r} not on the screen:\n{screen}"
        time.sleep(0.2)


def session_alive(session: str) -> bool:
    return subprocess.run([require("tmux"), "has-session", "-t", session], capture_output=True).returncode == 0


def test_start_reports_why_ser_did_not_start(tmp_path):
    config = tmp_path / "ser.cfg"
    config.write_text('loadmodule "/usr/lib/ser/modules/sl.so"\nroute {\n    sl_send_reply("200");\n}\n')
    serctl = Serctl(tmp_path, config)
    message = serctl("start", ok=False).stderr
    assert message.startswith(f"serctl: {config}:3:5: error: ") and message.count("\n") == 1
    serctl.env["SER_CFG"] = str(tmp_path / "missing.cfg")
    assert "no ser.cfg at" in serctl("start", ok=False).stderr
    assert not serctl.pid_file.exists()


def test_serctl_administers_users_aliases_domains_and_contacts_of_a_running_ser(tmp_path, db_url, managed):
    serctl, port = managed(db_url)
    serctl("db", "create")
    serctl("add", "alice", PASSWORD, "alice@example.com")
    serctl("domain", "add", HOST)
    serctl("start")
    try:
        assert HOST in serctl("domain", "show").stdout
        serctl("domain", "add", "example.org")
        serctl("domain", "reload")
        assert "example.org" in json.dumps(json.loads(serctl("domain", "show", "--json").stdout))
        serctl("domain", "rm", "example.org")

        serctl("ul", "add", "alice", "sip:alice@192.0.2.7:5060")
        assert "sip:alice@192.0.2.7:5060" in serctl("usrloc", "show", "alice").stdout
        serctl("ul", "rm", "alice", "sip:alice@192.0.2.7:5060")
        assert "sip:alice@192.0.2.7" not in serctl("ul", "show", "alice", ok=False).stdout

        serctl("alias", "add", "sales", f"sip:alice@{HOST}")
        assert f"sip:alice@{HOST}" in serctl("alias", "show", "sales").stdout
        assert "is a subscriber" in serctl("alias", "add", "alice", "sip:x@example.com", ok=False).stderr
        serctl("alias", "rm", "sales")
        assert f"sip:alice@{HOST}" not in serctl("alias", "show", "sales", ok=False).stdout

        serctl("passwd", "alice", "new-" + PASSWORD)
        assert register(tmp_path, port, free_port(), password="new-" + PASSWORD) == 0
        serctl("acl", "grant", "alice", "local")
        assert "local" in serctl("acl", "show", "alice").stdout
        serctl("rm", "alice")
        assert "alice" not in serctl("ul", "show", "--json").stdout
        assert serctl("version").stdout.strip()
    finally:
        serctl("stop", ok=False)
