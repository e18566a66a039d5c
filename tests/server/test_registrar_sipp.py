"""The real `ser` as a registrar: SIPp registers a UAS, other SIPp clients reach it through lookup.

With children=2 the REGISTER and the requests (each from its own port,
`-t un`) land on different workers, which see the same registrations;
two `ser` instances sharing one MariaDB in db_mode 3 route each other's
registered users.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ser_runtime.db import open_db
from ser_runtime.db.schema import create_schema
from tests.ports import free_port
from tests.server.harness import Ser, Sipp, proxy_config, require, sipp_args

pytestmark = pytest.mark.slow

CALLS = 10
HOST = "127.0.0.1"


def registrar_config(port: int, usrloc_params: str = "", relay: str = "forward(uri:host, uri:port);") -> str:
    """save() for REGISTER; anything else goes where lookup() finds its user, or gets 404."""
    routing = f"""if (method=="REGISTER") {{
        save("location");
        break;
    }};
    if (!lookup("location")) {{
        sl_send_reply("404", "Not Found");
        break;
    }};
    {relay}"""
    modules = ('loadmodule "/usr/lib/ser/modules/usrloc.so"\nloadmodule "/usr/lib/ser/modules/registrar.so"\n'
               'loadmodule "/usr/lib/ser/modules/tm.so"\n' + usrloc_params)
    return proxy_config(HOST, port, routing, protos=("udp",), extra=modules)


def register(tmp_path, name: str, proxy_port: int, uas_port: int, scenario: str = "reg-uac") -> None:
    sipp = Sipp(tmp_path, name, [*sipp_args(scenario, HOST, free_port(), "u1"), f"{HOST}:{proxy_port}",
                                 "-s", "alice", "-key", "contact_host", HOST, "-key", "contact_port", str(uas_port),
                                 "-m", "1", "-timeout", "15s", "-timeout_error"])
    assert sipp.wait(30) == 0, f"{scenario} failed:\n{sipp.report()}"


def options(tmp_path, name: str, proxy_port: int, scenario: str = "options-uac", calls: int = CALLS) -> None:
    sipp = Sipp(tmp_path, name, [*sipp_args(scenario, HOST, free_port(), "un"), f"{HOST}:{proxy_port}",
                                 "-s", "alice", "-m", str(calls), "-r", "20", "-timeout", "30s",
                                 "-timeout_error"])
    assert sipp.wait() == 0, f"{scenario} failed:\n{sipp.report()}"


def test_requests_reach_the_registered_uas_from_every_worker_until_it_unregisters(tmp_path):
    require("sipp")
    port, uas_port = free_port(), free_port()
    with Ser(tmp_path, registrar_config(port)):
        uas = Sipp(tmp_path, "options-uas", [*sipp_args("options-uas", HOST, uas_port), "-m", str(CALLS)])
        try:
            register(tmp_path, "reg-uac", port, uas_port)
            options(tmp_path, "options-uac", port)
            assert uas.wait(15) == 0, uas.report()
        finally:
            uas.kill()
        register(tmp_path, "reg-unregister-uac", port, uas_port, "reg-unregister-uac")
        options(tmp_path, "reg-options-404-uac", port, "reg-options-404-uac", calls=4)


def test_lookup_forks_to_every_registered_contact_through_t_relay(tmp_path):
    require("sipp")
    port, first_port, second_port = free_port(), free_port(), free_port()
    with Ser(tmp_path, registrar_config(port, relay="t_relay();")):
        uases = [Sipp(tmp_path, f"options-uas-{n}", [*sipp_args("options-uas", HOST, uas_port), "-m", "4"])
                 for n, uas_port in enumerate((first_port, second_port))]
        try:
            register(tmp_path, "reg-uac-1", port, first_port)
            register(tmp_path, "reg-uac-2", port, second_port)
            options(tmp_path, "options-uac", port, calls=4)
            for uas in uases:
                assert uas.wait(15) == 0, uas.report()
        finally:
            for uas in uases:
                uas.kill()


def test_two_servers_sharing_one_mysql_database_route_each_others_users(tmp_path, mysql_url):
    require("sipp")
    db = open_db(mysql_url)
    create_schema(db)
    db.close()
    params = f'modparam("usrloc", "db_mode", 3)\nmodparam("usrloc", "db_url", "{mysql_url}")\n'
    port_a, port_b, uas_port = free_port(), free_port(), free_port()
    with Ser(tmp_path / "a", registrar_config(port_a, params)), \
            Ser(tmp_path / "b", registrar_config(port_b, params)):
        uas = Sipp(tmp_path, "options-uas", [*sipp_args("options-uas", HOST, uas_port), "-m", str(CALLS)])
        try:
            register(tmp_path, "reg-uac", port_a, uas_port)
            options(tmp_path, "options-uac", port_b)
            assert uas.wait(15) == 0, uas.report()
        finally:
            uas.kill()


def test_write_back_reaches_the_database_at_exit_and_the_next_start_loads_it(tmp_path, sqlite_url):
    require("sipp")
    db = open_db(sqlite_url)
    create_schema(db)
    params = (f'modparam("usrloc", "db_mode", 2)\nmodparam("usrloc", "db_url", "{sqlite_url}")\n'
              'modparam("usrloc", "timer_interval", 3600)\n')
    port, uas_port = free_port(), free_port()
    with Ser(tmp_path / "first", registrar_config(port, params)):
        register(tmp_path, "reg-uac", port, uas_port)
        assert db.query("SELECT contact FROM location") == []
    assert db.query("SELECT contact FROM location") == [(f"sip:alice@{HOST}:{uas_port}",)]
    with Ser(tmp_path / "second", registrar_config(port, params)):
        uas = Sipp(tmp_path, "options-uas", [*sipp_args("options-uas", HOST, uas_port), "-m", "2"])
        try:
            options(tmp_path, "options-uac", port, calls=2)
            assert uas.wait(15) == 0, uas.report()
        finally:
            uas.kill()
    db.close()


def test_a_database_without_the_schema_stops_the_start_with_one_line(tmp_path, sqlite_url):
    params = f'modparam("usrloc", "db_mode", 1)\nmodparam("usrloc", "db_url", "{sqlite_url}")\n'
    config = tmp_path / "ser.cfg"
    config.write_text(registrar_config(free_port(), params))
    done = subprocess.run([sys.executable, "-m", "ser_runtime.main", "-D", "-E", "-f", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    [line] = [l for l in done.stderr.splitlines() if "cannot start" in l]
    assert "usrloc" in line and "serctl db create" in line
