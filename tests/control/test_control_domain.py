"""domain's control commands: domain_reload makes every process read the table again, domain_dump lists it."""

from __future__ import annotations

import pytest

from ser_runtime.db import open_db
from ser_runtime.db.schema import create_schema
from tests.control.control_server import ControlledSer

pytestmark = pytest.mark.slow


def domain_params(url: str, mode: int) -> str:
    return ('loadmodule "/usr/lib/ser/modules/domain.so"\n'
            f'modparam("domain", "db_url", "{url}")\nmodparam("domain", "db_mode", {mode})\n')


def test_domain_reload_and_dump(tmp_path, sqlite_url):
    db = open_db(sqlite_url)
    create_schema(db)
    db.execute("INSERT INTO domain (domain) VALUES (?)", ("one.example",))
    with ControlledSer(tmp_path, domain_params(sqlite_url, 1)) as ser:
        assert ser.fifo.call("domain_dump") == ["200 OK", "one.example"]
        db.execute("INSERT INTO domain (domain) VALUES (?)", ("Two.Example",))
        assert ser.fifo.call("domain_dump") == ["200 OK", "one.example"]
        assert ser.fifo.call("domain_reload") == ["200 OK"]
        assert ser.fifo.call("domain_dump") == ["200 OK", "one.example", "two.example"]
        rpc = ser.jsonrpc()
        try:
            assert rpc.call("domain_reload")["result"] == {"domains": 2}
            assert rpc.call("domain_dump")["result"] == ["one.example", "two.example"]
        finally:
            rpc.close()
    db.close()


def test_domain_reload_without_the_cache_is_refused(tmp_path, sqlite_url):
    db = open_db(sqlite_url)
    create_schema(db)
    db.close()
    with ControlledSer(tmp_path, domain_params(sqlite_url, 0)) as ser:
        assert ser.fifo.call("domain_reload") == [
            "400 domain_reload needs db_mode 1 (the domain table is not cached)"]
