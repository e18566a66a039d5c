"""The real `ser` as a digest-authenticating registrar front (auth, auth_db on SQLite) with real SIPp clients.

The script challenges every REGISTER without valid credentials and answers
200 with sl_send_reply once www_authorize accepts them (registrar's save is
not involved). SIPp answers the challenge with its own digest code.
"""

from __future__ import annotations

import hashlib

import pytest

from ser_runtime.db import open_db
from ser_runtime.db.schema import create_schema
from tests.ports import free_port
from tests.server.harness import SCENARIOS, Ser, Sipp, proxy_config, require

pytestmark = pytest.mark.slow

USERS = 5
SECRET = "e2e-nonce-secret-4711"


def auth_config(port: int, db_url: str) -> str:
    # The realm is left empty: the To host of the REGISTER, 127.0.0.1, which the ha1 column was made with.
    routing = """if (method=="REGISTER") {
        if (!www_authorize("", "subscriber")) {
            www_challenge("", "1");
            break;
        };
        consume_credentials();
        sl_send_reply("200", "OK");
        break;
    };
    sl_send_reply("403", "Only REGISTER here");"""
    modules = (f'loadmodule "/usr/lib/ser/modules/auth.so"\nloadmodule "/usr/lib/ser/modules/auth_db.so"\n'
               f'modparam("auth", "secret", "{SECRET}")\nmodparam("auth_db", "db_url", "{db_url}")\n')
    return proxy_config("127.0.0.1", port, routing, protos=("udp",), extra=modules)


def subscribers(db_url: str) -> None:
    db = open_db(db_url)
    create_schema(db)
    rows = []
    for i in range(USERS):
        user, password = f"user{i}", f"pw{i}"
        ha1 = hashlib.md5(f"{user}:127.0.0.1:{password}".encode()).hexdigest()
        rows.append((f"id{i}", user, "127.0.0.1", password, ha1))
    db.executemany("INSERT INTO subscriber (phplib_id, username, domain, password, ha1) VALUES (?, ?, ?, ?, ?)",
                   rows)
    db.close()


def register(tmp_path, port: int, scenario: str, password: str) -> Sipp:
    injection = tmp_path / f"{scenario}.csv"
    injection.write_text("SEQUENTIAL\n" + "".join(
        f"user{i};[authentication username=user{i} password={password.format(i=i)}]\n" for i in range(USERS)))
    return Sipp(tmp_path, scenario, ["-sf", str(SCENARIOS / f"{scenario}.xml"), "-inf", str(injection),
                                     "-i", "127.0.0.1", "-p", str(free_port()), f"127.0.0.1:{port}",
                                     "-m", str(USERS), "-r", "10", "-timeout", "30s", "-timeout_error",
                                     "-nostdin", "-trace_err", "-trace_msg"])


def test_sipp_registers_with_the_right_password_and_is_challenged_again_with_a_wrong_one(tmp_path, sqlite_url):
    require("sipp")
    subscribers(sqlite_url)
    port = free_port()
    with Ser(tmp_path, auth_config(port, sqlite_url)) as ser:
        right = register(tmp_path, port, "auth-register-uac", "pw{i}")
        assert right.wait() == 0, right.report() + ser.log
        wrong = register(tmp_path, port, "auth-wrong-password-uac", "not-pw{i}")
        assert wrong.wait() == 0, wrong.report() + ser.log
    messages = "".join(p.read_text(errors="replace") for p in tmp_path.glob("auth-wrong-password-uac*_messages.log"))
    assert "SIP/2.0 200" not in messages and messages.count("SIP/2.0 401 Unauthorized") >= 2 * USERS
    assert SECRET not in ser.log and "pw1" not in ser.log
