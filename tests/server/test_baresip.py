"""Real phones through the seed deployment's registrar: baresip and `examples/ser.cfg` (issue 6).

examples/ser.cfg runs as written but for its db_url: the listen address,
the number of workers and logging to stderr come from ser's command line
(-l, -n, -D -E), as an operator would give them. Users are created the
operator's way too, with `serctl add` for domain myserver.foobar.com.
Each phone's AOR keeps that domain while its outbound proxy is our ser on
loopback, so no name is ever resolved. ser does the signalling only: the
sound (RTP) goes from phone to phone, as the SDP that ser relays says.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.baresip import Baresip
from tests.ports import free_port
from tests.server.harness import Ser

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ser.cfg"
SERCTL = Path(sys.executable).with_name("serctl")
DOMAIN = "myserver.foobar.com"
USERS = {"alice": "alice-secret", "bob": "bob-secret"}


def example_config(db_url: str) -> str:
    """examples/ser.cfg with its db_url modparam pointing at `db_url`, and nothing else changed."""
    pattern = r'(modparam\("usrloc\|auth_db", "db_url", )"[^"]*"'
    config, count = re.subn(pattern, lambda match: f'{match.group(1)}"{db_url}"', EXAMPLE.read_text())
    assert count == 1, "examples/ser.cfg no longer has the db_url modparam this test replaces"
    return config


def serctl(db_url: str, *args: str) -> None:
    env = {**os.environ, "SIP_DOMAIN": DOMAIN}
    result = subprocess.run([str(SERCTL), "--db-url", db_url, *args], env=env, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, (args[:2], result.stderr)


def provision(db_url: str) -> None:
    serctl(db_url, "db", "create")
    for user, password in USERS.items():
        serctl(db_url, "add", user, password, f"{user}@{DOMAIN}")


class Deployment:
    """ser on examples/ser.cfg with its users, and the phones started against it.

    On exit the phones stop first, so that they unregister from a running ser.
    """

    def __init__(self, tmp_path: Path, db_url: str):
        self.tmp_path, self.db_url = tmp_path, db_url
        provision(db_url)
        self.port = free_port()
        self.phones: list[Baresip] = []
        self.ser = self._serve("ser")

    def _serve(self, name: str) -> Ser:
        return Ser(self.tmp_path, example_config(self.db_url), "-l", f"127.0.0.1:{self.port}", "-n", "2",
                   name=name).start()

    def restart(self) -> None:
        assert self.ser.stop() == 0, self.ser.log
        self.ser = self._serve("ser-restarted")

    def phone(self, user: str, password: str | None = None) -> Baresip:
        each = Baresip(self.tmp_path, f"sip:{user}@{DOMAIN}", password=password or USERS[user],
                       outbound=f"sip:127.0.0.1:{self.port}")
        self.phones.append(each)
        return each.start()

    def registered(self, user: str) -> Baresip:
        each = self.phone(user)
        event = each.wait_for("REGISTER_OK", timeout=20)
        assert event["param"].startswith("200"), event
        return each

    def __enter__(self) -> "Deployment":
        return self

    def __exit__(self, *exc) -> None:
        for each in self.phones:
            each.stop()
        code = self.ser.stop()
        if exc[0] is None:
            assert code == 0, self.ser.log


def call(alice: Baresip, bob: Baresip) -> None:
    """alice calls bob by his AOR; bob answers; both see the call up and its sound, then alice hangs up."""
    alice.dial(f"sip:bob@{DOMAIN}")
    incoming = bob.wait_for("CALL_INCOMING", timeout=20)
    assert incoming["peeruri"] == f"sip:alice@{DOMAIN}", incoming
    bob.answer()
    for each in (alice, bob):
        each.wait_for("CALL_ESTABLISHED", timeout=20)
        each.wait_for_media(timeout=20)
    alice.hangup()
    alice.wait_for("CALL_CLOSED", timeout=20)
    bob.wait_for("CALL_CLOSED", timeout=20)


def test_two_phones_call_each_other_directly(tmp_path):
    """The harness alone, with no ser: a failure here is baresip's setup, not the registrar's."""
    with Baresip(tmp_path, "sip:alice@127.0.0.1", regint=0) as alice, \
            Baresip(tmp_path, "sip:bob@127.0.0.1", regint=0, answermode="auto") as bob:
        alice.dial(f"sip:bob@127.0.0.1:{bob.sip_port}")
        for each in (alice, bob):
            each.wait_for("CALL_ESTABLISHED")
            each.wait_for_media()
        bob.hangup()
        for each in (alice, bob):
            each.wait_for("CALL_CLOSED")


def test_two_phones_register_and_call_through_the_example(tmp_path, db_url):
    with Deployment(tmp_path, db_url) as site:
        alice, bob = site.registered("alice"), site.registered("bob")
        call(alice, bob)
        # db_mode 2 writes the registrations back at exit: a new ser finds bob without a new REGISTER.
        site.restart()
        call(alice, bob)
    # Both INVITEs reached bob's registered Contact through lookup("location").
    assert bob.log.count("P-hint: usrloc applied") >= 2, bob.log
    assert alice.replies_to("INVITE")[-1] == 200 and set(bob.replies_to("BYE")) == {200}


def test_a_wrong_password_is_challenged_again_and_never_registered(tmp_path, sqlite_url):
    with Deployment(tmp_path, sqlite_url) as site:
        intruder = site.phone("alice", password="not-" + USERS["alice"])
        failed = intruder.wait_for("REGISTER_FAIL", timeout=20)
        assert failed["param"].startswith("401"), failed
        bob = site.registered("bob")
        bob.dial(f"sip:alice@{DOMAIN}")
        not_found = bob.wait_for("CALL_CLOSED", timeout=20)
        assert not_found["param"].startswith("404"), not_found
    answers = intruder.replies_to("REGISTER")
    assert len(answers) >= 2 and set(answers) == {401}, answers
    assert "wrong digest response for user 'alice'" in site.ser.log
    assert USERS["alice"] not in site.ser.log and "not-" + USERS["alice"] not in site.ser.log
