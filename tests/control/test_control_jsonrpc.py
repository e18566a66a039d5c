"""The JSON-RPC 2.0 socket beside the FIFO: the same commands, JSON results, JSON-RPC errors."""

from __future__ import annotations

import os

import pytest

from ser_runtime.replies import SERVER
from tests.control.control_server import ControlledSer

pytestmark = pytest.mark.slow


def test_core_commands_and_errors_over_jsonrpc(tmp_path):
    with ControlledSer(tmp_path) as ser:
        rpc = ser.jsonrpc()
        try:
            assert rpc.call("print", "hi")["result"] == {"text": "hi"}
            assert rpc.call("version")["result"] == {"server": SERVER}
            assert rpc.call("pwd")["result"] == {"cwd": os.getcwd()}
            assert rpc.call("uptime")["result"]["uptime"] >= 0
            assert "ul_add" in rpc.call("WHICH")["result"]
            processes = rpc.call("ps")["result"]
            assert {p["pid"] for p in processes} == {ser.ser.process.pid, *ser.ser.worker_pids()}
            assert any(p["description"] == "fifo server" for p in processes)
            assert "-f" in rpc.call("arg")["result"]

            assert rpc.call("nosuch")["error"] == {"code": -32601, "message": "command 'nosuch' not available"}
            assert rpc.call("print")["error"]["code"] == 400
            rpc.send(b"{not json")
            assert rpc.receive()["error"]["code"] == -32700
            rpc.send({"jsonrpc": "2.0", "id": 7, "params": []})
            assert rpc.receive() == {"jsonrpc": "2.0", "id": 7, "error": {
                "code": -32600, "message": "invalid request: jsonrpc 2.0 and a method expected"}}
            rpc.send({"jsonrpc": "2.0", "id": 8, "method": "print", "params": {"text": "x"}})
            assert rpc.receive()["error"]["code"] == -32602
            rpc.send({"jsonrpc": "2.0", "method": "print", "params": ["a notification"]})
            rpc.send(b'{"jsonrpc": "2.0", "id": 9, "method": "print", "params": ["one"]}\n'
                     b'{"jsonrpc": "2.0", "id": 10, "method": "print", "params": ["two"]}')
            assert [rpc.receive()["id"], rpc.receive()["id"]] == [9, 10]
        finally:
            rpc.close()
        assert ser.fifo.call("print", "fifo too") == ["200 ok", "fifo too"]
