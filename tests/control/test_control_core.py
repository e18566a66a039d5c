"""The core FIFO commands of a running `ser` (SER's fifo_server.c), through a serctl-style client."""

from __future__ import annotations

import os
import signal
import time

import pytest

from ser_runtime.replies import SERVER
from tests.control.control_server import ControlledSer

pytestmark = pytest.mark.slow


def test_core_commands_answer_as_ser_did(tmp_path):
    with ControlledSer(tmp_path) as ser:
        fifo = ser.fifo
        assert fifo.call("print", "hello there") == ["200 ok", "hello there"]
        assert fifo.call("version") == ["200 ok", f"Server: {SERVER}"]
        uptime = fifo.call("uptime")
        assert uptime[0] == "200 ok" and uptime[1].startswith("Now: ") and uptime[2].startswith("Up Since: ")
        assert uptime[3].startswith("Up time: ") and uptime[3].endswith(" [sec]")
        which = fifo.call("which")
        assert which[0] == "200 ok"
        assert {"print", "ps", "kill", "ul_add", "ul_dump", "t_uac_dlg", "t_stats", "sl_stats"} <= set(which[1:])
        assert fifo.call("pwd") == ["200 ok", os.getcwd()]
        arg = fifo.call("arg")
        assert arg[0] == "200 ok" and "-f" in arg and str(ser.ser.config) in arg
        assert fifo.call("PRINT", "case") == ["200 ok", "case"]


def test_ps_lists_every_process_and_follows_a_respawned_worker(tmp_path):
    with ControlledSer(tmp_path) as ser:
        rows = [line.split("\t") for line in ser.fifo.call("ps")[1:]]
        pids = {int(pid): name for _, pid, name in rows}
        assert pids[ser.ser.process.pid] == "attendant"
        assert set(pids) == {ser.ser.process.pid, *ser.ser.worker_pids()}
        names = sorted(pids.values())
        assert names[:1] == ["attendant"] and "fifo server" in names and "timer" in names
        assert sum(name.startswith("receiver child=") for name in names) == 2
        worker = next(pid for pid, name in pids.items() if name.startswith("receiver child=0"))
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while True:
            rows = [line.split("\t") for line in ser.fifo.call("ps")[1:]]
            now = {int(pid): name for _, pid, name in rows}
            if worker not in now and len(now) == len(pids):
                break
            assert time.monotonic() < deadline, now
            time.sleep(0.2)
        assert set(now) == {ser.ser.process.pid, *ser.ser.worker_pids()}


def test_the_control_process_is_replaced_when_it_dies(tmp_path):
    with ControlledSer(tmp_path) as ser:
        rows = [line.split("\t") for line in ser.fifo.call("ps")[1:]]
        control = next(int(pid) for _, pid, name in rows if name == "fifo server")
        os.kill(control, signal.SIGKILL)
        assert ser.fifo.call("print", "back", timeout=20) == ["200 ok", "back"]
        assert "the control process" in ser.ser.log


def test_kill_stops_the_server(tmp_path):
    ser = ControlledSer(tmp_path)
    ser.ser.start()
    try:
        assert ser.fifo.call("kill") == ["200 killing now..."]
        assert ser.ser.process.wait(20) == 0
    finally:
        ser.ser.stop()
