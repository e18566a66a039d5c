"""Malformed control requests get SER's error replies or a logged drop, and the next request still works."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.control.control_server import ControlledSer, registrar_config
from tests.ports import free_port

pytestmark = pytest.mark.slow


def test_bad_requests_are_refused_and_the_stream_stays_in_step(tmp_path):
    with ControlledSer(tmp_path) as ser:
        fifo = ser.fifo
        assert fifo.call("nosuch", "x") == ["500 command 'nosuch' not available"]
        assert fifo.call("print") == ["400 print: text expected"]
        assert fifo.call("ul_add", "location", "alice")[0].startswith("400 ")
        assert fifo.call("ul_show_contact", "nowhere", "alice")[0] == (
            "400 Table 'nowhere' not found in memory, use save(\"nowhere\") or lookup(\"nowhere\") "
            "in the configuration script first")
        assert fifo.call("ul_add", "location", "alice", "sip:a@h", "soon", "1.0", "0", "0")[0] == \
            "400 expires 'soon' is not a number"
        assert fifo.call("t_uac_dlg", "OPTIONS", "sip:x@127.0.0.1", ".", "To: <sip:x@127.0.0.1>", ".", ".") \
            == ["400 t_uac_dlg: the From and To header fields are needed"]
        assert fifo.call("t_uac_dlg", "MESSAGE", "sip:x@127.0.0.1", ".", "From: <sip:d@h>", "To: <sip:x@h>", ".",
                         "a body", ".") == ["400 t_uac_dlg: Content-Type missing"]

        fifo.send_raw("no colon here\nan argument\n\n")
        fifo.send_raw(":x\n\n")
        fifo.send_raw(":print:../../etc/evil\nhi\n\n")
        fifo.send_raw(":print:" + "r" * 600 + "\nhi\n\n")
        assert fifo.call("print", "still here") == ["200 ok", "still here"]

        regular = ser.fifo_dir / "not_a_fifo"
        regular.write_text("")
        fifo.send_raw(":print:not_a_fifo\nhi\n\n")
        assert fifo.call("print", "and here") == ["200 ok", "and here"]
        assert regular.read_text() == ""
        log = ser.ser.log
        for text in ("bad first line 'no colon here'", "bad first line ':x'", "has one of / . \\",
                     "first line longer than 512 bytes", "not a FIFO with one link"):
            assert text in log, log


def test_a_client_that_does_not_read_its_reply_does_not_stop_the_server(tmp_path):
    with ControlledSer(tmp_path) as ser:
        name, path = ser.fifo.reply_fifo()
        ser.fifo.send_raw(f":print:{name}\nnobody reads this\n\n")
        assert ser.fifo.call("print", "next") == ["200 ok", "next"]
        assert "cannot open the reply fifo" in ser.ser.log


def test_a_fifo_that_cannot_be_made_is_one_line_and_a_nonzero_exit(tmp_path):
    fifo = tmp_path / "missing" / "ser_fifo"
    path = tmp_path / "ser.cfg"
    path.write_text(registrar_config(free_port(), fifo, tmp_path))
    result = subprocess.run([sys.executable, "-m", "ser_runtime.main", "-D", "-E", "-f", str(path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip() == f"ser: cannot start: fifo {fifo}: No such file or directory"
