"""usrloc: db_mode 0-3 on a real SQLite file and the real MariaDB, the start-up load, write-back by the
timer, expiry, and the memory store shared by forked processes."""

from __future__ import annotations

import os
import time
from datetime import timezone

import pytest

from ser_runtime.db import open_db
from ser_runtime.db.schema import create_schema
from stdlib_modules import usrloc
from stdlib_modules.exports import ModuleStartError
from stdlib_modules.usrloc import FL_NAT, FL_PERMANENT, Binding, Record

PARAMS = usrloc.EXPORTS.param_values({}, "0.9")


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch):
    """Each test is a fresh `ser` start: a new memory store."""
    monkeypatch.setattr(usrloc, "_memory", None)
    monkeypatch.setattr(usrloc, "_exit_state", None)
    yield
    if usrloc._memory is not None:
        usrloc._memory.remove()


@pytest.fixture
def schema(db_url):
    db = open_db(db_url)
    create_schema(db)
    yield db
    db.close()


def started(db_mode: int, db_url: str = "sqlite:///unused", tables=("location",), **params):
    """usrloc as `ser` runs it: init, the tables registrar's fixups name, start."""
    state = usrloc.EXPORTS.init({**PARAMS, "db_mode": db_mode, "db_url": db_url, **params})
    for name in tables:
        state.table(name)
    usrloc.EXPORTS.start(state)
    return state


def save(table, aor: str, *bindings: Binding, now: float | None = None, remove: tuple = ()) -> None:
    with table.hold(aor, now or time.time()) as record:
        for binding in bindings:
            record.put(binding)
        for contact in remove:
            record.remove(contact)


def binding(contact: str, seconds: int = 600, **fields) -> Binding:
    return Binding(contact, int(time.time()) + seconds, modified=time.time(), **fields)


def db_contacts(db, aor: str = "alice") -> list[str]:
    return sorted(row[0] for row in db.query("SELECT contact FROM location WHERE username=?", (aor,)))


A, B = "sip:alice@192.0.2.10", "sip:alice@192.0.2.11"


def test_mode_0_keeps_bindings_in_memory_only():
    table = started(0).table("location")
    save(table, "alice", binding(A, q=500, callid="c1", cseq=3, flags=FL_NAT, user_agent="phone",
                                 received="sip:198.51.100.1:5062"))
    [found] = table.lookup("alice", time.time())
    assert (found.contact, found.q, found.callid, found.cseq, found.flags, found.user_agent, found.received) == \
        (A, 500, "c1", 3, FL_NAT, "phone", "sip:198.51.100.1:5062")
    assert table.lookup("bob", time.time()) == []


def test_the_memory_store_is_shared_with_forked_workers():
    table = started(0).table("location")
    pid = os.fork()
    if pid == 0:
        try:
            save(table, "alice", binding(A))
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert [b.contact for b in table.lookup("alice", time.time())] == [A]


def test_a_reload_keeps_the_registrations():
    save(started(0).table("location"), "alice", binding(A))
    again = started(0).table("location")
    assert [b.contact for b in again.lookup("alice", time.time())] == [A]


def test_the_timer_expires_bindings_but_never_permanent_ones():
    state = started(0)
    table = state.table("location")
    now = time.time()
    save(table, "alice", binding(A, 5), Binding(B, 0, flags=FL_PERMANENT, modified=now))
    assert len(table.lookup("alice", now + 10)) == 1  # lookup hides the expired one already
    usrloc.expire(state, now + 10)
    assert [b.contact for b in table.lookup("alice", now - 100)] == [B]


def test_desc_time_order_puts_the_latest_update_first():
    table = started(0, desc_time_order=1).table("location")
    save(table, "alice", Binding(A, int(time.time()) + 600, q=900, modified=1.0),
         Binding(B, int(time.time()) + 600, q=100, modified=2.0))
    assert [b.contact for b in table.lookup("alice", time.time())] == [B, A]


def test_mode_1_writes_through_and_removes_through(schema, db_url):
    table = started(1, db_url).table("location")
    save(table, "alice", binding(A, q=250), binding(B))
    assert db_contacts(schema) == [A, B]
    [(q, expires)] = schema.query("SELECT q, expires FROM location WHERE contact=?", (A,))
    assert q == pytest.approx(0.25)
    assert abs(expires.replace(tzinfo=timezone.utc).timestamp() - time.time() - 600) < 5
    save(table, "alice", remove=(A,))
    assert db_contacts(schema) == [B]


def test_mode_1_and_2_load_the_database_at_start(schema, db_url):
    save(started(3, db_url).table("location"), "alice", binding(A, q=700, received="sip:198.51.100.1"))
    for mode in (1, 2):
        usrloc._memory = None
        [found] = started(mode, db_url).table("location").lookup("alice", time.time())
        assert (found.contact, found.q, found.received) == (A, 700, "sip:198.51.100.1")
        usrloc._memory.remove()


def test_mode_2_writes_back_on_the_timer(schema, db_url):
    state = started(2, db_url)
    table = state.table("location")
    save(table, "alice", binding(A), binding(B))
    assert db_contacts(schema) == []
    usrloc.expire(state, time.time())
    assert db_contacts(schema) == [A, B]
    save(table, "alice", binding(B, 900, cseq=7), remove=(A,))
    usrloc.expire(state, time.time())
    assert db_contacts(schema) == [B]
    assert schema.query("SELECT cseq FROM location WHERE contact=?", (B,)) == [(7,)]


def test_save_memory_never_reaches_the_database(schema, db_url):
    table = started(1, db_url).table("location")
    with table.hold("alice", time.time(), memory_only=True) as record:
        record.put(binding(A))
    assert db_contacts(schema) == []
    assert [b.contact for b in table.lookup("alice", time.time())] == [A]


def test_mode_3_reads_and_writes_the_database_only(schema, db_url):
    state = started(3, db_url)
    assert state.memory is None
    table = state.table("location")
    save(table, "alice", binding(A, q=100), binding(B, q=900))
    assert db_contacts(schema) == [A, B]
    schema.execute("DELETE FROM location WHERE contact=?", (B,))
    assert [b.contact for b in table.lookup("alice", time.time())] == [A]


def test_mode_3_expiry_deletes_expired_rows(schema, db_url):
    state = started(3, db_url)
    save(state.table("location"), "alice", binding(A, 5), binding(B, 600))
    usrloc.expire(state, time.time() + 60)
    assert db_contacts(schema) == [B]


def test_use_domain_stores_user_and_domain_apart(schema, db_url):
    table = started(3, db_url, use_domain=1).table("location")
    save(table, "alice@example.com", binding(A))
    save(table, "alice@example.net", binding(B))
    assert schema.query("SELECT username, domain FROM location WHERE contact=?", (A,)) == [("alice", "example.com")]
    assert [b.contact for b in table.lookup("alice@example.net", time.time())] == [B]


def test_an_old_table_version_refuses_to_start(schema, db_url):
    schema.execute("UPDATE version SET table_version=? WHERE table_name=?", (5, "location"))
    with pytest.raises(ModuleStartError, match="location has version 5"):
        started(1, db_url)


def test_a_missing_schema_refuses_to_start(sqlite_url):
    with pytest.raises(ModuleStartError, match="serctl db create"):
        started(3, sqlite_url)


def test_mode_0_never_touches_the_database():
    started(0, "mysql://ser:secret@127.0.0.1:9/none")


def test_a_record_tracks_the_last_change_per_contact():
    record = Record("alice", [binding(A)])
    record.put(binding(B))
    record.remove(A)
    assert set(record.bindings) == {B} and record.changes[A] is None


def test_a_table_name_sql_cannot_take_refuses_to_start_in_the_database_modes(schema, db_url):
    with pytest.raises(ModuleStartError, match="foo.bar.com"):
        started(3, db_url, tables=("foo.bar.com",))
    started(0, tables=("foo.bar.com",))
