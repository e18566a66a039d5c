"""A finished transaction's memory goes back at once (manager.py's `_unlink` and
`_drop_stale_timers`), and `stats` shows the table's size and high-water mark.

Calls go through a Worker on real loopback sockets with a virtual clock, as
in test_manager.py; the collector is switched off, so what is freed is freed
by reference counting, as a finished transaction must be.
"""

from __future__ import annotations

import gc
import weakref

import pytest

from ser_runtime.context import PROTO_UDP, ReceiveInfo
from ser_runtime.sip import SipMessage
from tests.transaction.test_manager import Proxy, answer, invite, udp


@pytest.fixture
def no_collector():
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def make_call(proxy: Proxy, uac, uas, cseq: int) -> weakref.ref:
    """INVITE, 180 (which arms Timer C, 120 s), 200: a weak reference to its server transaction."""
    request = invite(uac, uas, cseq=cseq).replace(b"Call-ID: tm-", f"Call-ID: {cseq}-tm-".encode())
    proxy.worker.handle(request, ReceiveInfo("127.0.0.1", uac.getsockname()[1], "127.0.0.1", proxy.port))
    forwarded = uas.recv(65535)
    from_uas = ReceiveInfo("127.0.0.1", uas.getsockname()[1], "127.0.0.1", proxy.private.getsockname()[1],
                           PROTO_UDP)
    for status in ("180 Ringing", "200 OK"):
        proxy.worker.handle(answer(forwarded, status), from_uas)
    return weakref.ref(proxy.tm.lookup(SipMessage.parse(request)))


def test_finished_calls_are_freed_after_the_wait_timer_without_the_collector(no_collector):
    proxy, uac, uas = Proxy(), udp(), udp()
    try:
        calls = [make_call(proxy, uac, uas, cseq) for cseq in range(1, 101)]
        assert proxy.tm.stats() == {"transactions": 200, "peak": 200}
        proxy.advance(proxy.now + 10)   # past wt_timer + delete_timer, long before Timer C's 120 s
        assert proxy.tm.stats() == {"transactions": 0, "peak": 200}
        assert [call for call in calls if call() is not None] == []
    finally:
        for thing in (proxy, uac, uas):
            thing.close()
