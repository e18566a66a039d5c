"""The control interface's parts without a server: FIFO request reading, replies, counters."""

from __future__ import annotations

import os
import time

from ser_runtime.control import fifo, stats
from ser_runtime.control.commands import Control, Dispatcher
from ser_runtime.control.fifo import FifoServer, first_line_problem, reply_text, write_reply
from stdlib_modules import tm, usrloc
from stdlib_modules.exports import Command, Reply


def test_first_line_rules():
    assert first_line_problem(":ps:reply", 9) is None
    assert first_line_problem(":ps:", 4) is None      # no reply wanted
    assert "bad first line" in first_line_problem("ps:reply", 8)
    assert "bad first line" in first_line_problem(":p", 2)
    assert "/ . \\" in first_line_problem(":ps:a.b", 7)
    assert "512" in first_line_problem(":ps:" + "x" * 600, 604)


def test_sl_counters_by_code_then_class():
    shared = stats.SharedStats(processes=2, blocks=2)
    for block, codes in enumerate(((200, 404, 404, 486), (183, 404, 699, 302))):
        shared.attach(block)
        for code in codes:
            stats.count_sl_reply(code, True)
    stats.count_sl_reply(500, False)
    assert stats.sl_lines(shared.totals()) == [
        "200: 1 202: 0 2xx: 0", "300: 0 301: 0 302: 1 3xx: 0",
        "400: 0 401: 0 403: 0 404: 3 407: 0 408: 0 483: 0 4xx: 1", "500: 0 5xx: 0", "6xx: 1", "xxx: 1",
        "failures: 1"]
    stats.counters = [0] * stats.COUNTERS


def test_q_text_follows_ser():
    assert [usrloc.q_text(q) for q in (-1, 0, 1000, 500, 250, 5)] == ["", "0", "1", "0.5", "0.25", "0.005"]


def test_a_body_block_may_hold_empty_lines_and_the_request_ends_after_its_blocks(tmp_path):
    seen = []
    dispatcher = Dispatcher([(tm.EXPORTS, None)])
    shape = dispatcher.find("t_uac_dlg")
    dispatcher.table["rec"] = (Command("rec", lambda state, args, control: seen.append(args),
                                       lines=shape.lines, blocks=shape.blocks), None)
    read, write = os.pipe()
    os.set_blocking(read, False)
    server = FifoServer(read, str(tmp_path), dispatcher, None)
    os.write(write, b":rec:\nMESSAGE\nsip:a@b\n.\nFrom: x\nTo: y\n\nline 1\n\nline 3\n.\n\n:rec:\n\n")
    server.readable()
    assert seen == [["MESSAGE", "sip:a@b", ".", "From: x", "To: y", ".", "line 1", "", "line 3", "."], []]


def test_a_reply_is_written_only_into_a_fifo(tmp_path):
    path = tmp_path / "reply"
    os.mkfifo(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    assert write_reply(str(path), Reply(200, "ok", ("a", "b")))
    assert os.read(fd, 100) == b"200 ok\na\nb\n" == reply_text(Reply(200, "ok", ("a", "b")))
    os.close(fd)
    link = tmp_path / "link"
    link.symlink_to(path)
    assert not write_reply(str(link), Reply(200, "ok"))
    assert not write_reply(str(tmp_path / "missing"), Reply(200, "ok"))


def test_a_failing_command_costs_one_500_and_ps_reads_the_pid_slots():
    def boom(state, args, control):
        raise RuntimeError("bug")
    dispatcher = Dispatcher()
    dispatcher.table["boom"] = (Command("boom", boom), None)
    shared = stats.SharedStats(processes=3, blocks=1)
    shared.set_pid(0, 100)
    shared.set_pid(2, 102)
    control = Control(shared, ["attendant", "receiver child=0", "fifo server"], os.getpid(), 0.0)
    assert dispatcher.run("BOOM", [], control) == Reply(500, "boom failed: RuntimeError")
    assert dispatcher.run("ps", [], control).body == ("0\t100\tattendant", "2\t102\tfifo server")


def test_a_client_that_stops_reading_a_long_reply_is_given_up(tmp_path, monkeypatch):
    monkeypatch.setattr(fifo, "WRITE_TIMEOUT", 0.3)
    path = tmp_path / "reply"
    os.mkfifo(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        started = time.monotonic()
        assert not write_reply(str(path), Reply(200, "ok", ("x" * 1000,) * 300))
        assert time.monotonic() - started < 3
    finally:
        os.close(fd)
