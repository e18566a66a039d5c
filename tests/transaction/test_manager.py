"""t_relay() statefully: a Worker with its TransactionManager on real loopback UDP sockets.

The UAC and the UAS are plain sockets of the test; the worker's sockets are
read by `pump` instead of its select() loop, and the transaction timers run
on a virtual clock the test advances, so Timer B needs no 32 s of waiting.
"""

from __future__ import annotations

import socket

import pytest

from ser_runtime import core_actions
from ser_runtime.context import PROTO_UDP, ReceiveInfo
from ser_runtime.net.resolver import Resolver
from ser_runtime.sender import Sender
from ser_runtime.settings import Listener, Settings
from ser_runtime.sip import SipMessage
from ser_runtime.transaction.manager import ack_for
from ser_runtime.worker import Worker
from ser_script.checker import check_text
from ser_script.compiler import ScriptEnv, compile_script


def udp() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(1.0)
    return sock


class Proxy:
    """A worker running `route { t_relay(); }` with its clock in the test's hands."""

    def __init__(self, script: str = 'loadmodule "tm.so"\nroute { t_relay(); }\n', dialect: str = "0.9"):
        self.public, self.private = udp(), udp()
        self.port = self.public.getsockname()[1]
        self.listener = Listener(PROTO_UDP, "127.0.0.1", self.port, "127.0.0.1")
        settings = Settings(sip_warning=False)
        sender = Sender(settings, [self.listener], Resolver())
        sender.attach({self.listener: self.public}, {self.listener: self.private})
        result = check_text(script, file="tm.cfg", dialect=dialect)
        assert not [d for d in result.diagnostics if d.severity == "error"], result.diagnostics
        env = ScriptEnv(actions={**core_actions.ACTIONS, **sender.actions()})
        self.worker = Worker(settings, compile_script(result, env), sender, settings.myself([self.listener]))
        self.now = 1000.0
        self.tm = self.worker.transactions
        self.tm.clock = lambda: self.now

    def pump(self, wait: float = 0.2) -> int:
        """Hand everything that reached the worker's sockets to it; how many messages."""
        count = 0
        for sock in (self.public, self.private):
            sock.settimeout(wait)
            while True:
                try:
                    data, (ip, port) = sock.recvfrom(65535)
                except (socket.timeout, BlockingIOError):
                    break
                sock.settimeout(0.05)
                self.worker.handle(data, ReceiveInfo(ip, port, "127.0.0.1", sock.getsockname()[1], PROTO_UDP))
                count += 1
        return count

    def advance(self, until: float) -> None:
        """Run the virtual clock to `until`, ticking at every deadline on the way."""
        while (due := self.tm.next_deadline()) is not None and due <= until:
            self.now = max(self.now, due)
            self.tm.tick(self.now)
        self.now = until
        self.tm.tick(self.now)

    def close(self) -> None:
        self.public.close()
        self.private.close()


@pytest.fixture
def call():
    proxy, uac, uas = Proxy(), udp(), udp()
    yield proxy, uac, uas
    for thing in (proxy, uac, uas):
        thing.close()


def invite(uac: socket.socket, uas: socket.socket, method: str = "INVITE", cseq: int = 1) -> bytes:
    port, uas_port = uac.getsockname()[1], uas.getsockname()[1]
    return (f"{method} sip:b@127.0.0.1:{uas_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKuac{cseq}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=a1\r\nTo: <sip:b@x>\r\nCall-ID: tm-{port}\r\n"
            f"CSeq: {cseq} {method}\r\nContact: <sip:a@127.0.0.1:{port}>\r\nContent-Length: 0\r\n\r\n").encode()


def answer(request: bytes, status: str, tag: str = "b1") -> bytes:
    """The UAS's response to a request it received (all its Vias, To with a tag)."""
    msg = SipMessage.parse(request)
    lines = [f"SIP/2.0 {status}".encode()]
    lines += [request[f.start:f.end].rstrip(b"\r\n") for f in msg.headers_named("via")]
    for name in ("from", "to", "call-id", "cseq"):
        field = msg.header(name)
        line = request[field.start:field.end].rstrip(b"\r\n")
        if name == "to" and not status.startswith("100"):
            line += f";tag={tag}".encode()
        lines.append(line)
    return b"\r\n".join(lines + [b"Content-Length: 0"]) + b"\r\n\r\n"


def recv(sock: socket.socket, timeout: float = 1.0) -> SipMessage:
    sock.settimeout(timeout)
    return SipMessage.parse(sock.recv(65535))


def nothing(sock: socket.socket, timeout: float = 0.2) -> bool:
    sock.settimeout(timeout)
    try:
        sock.recv(65535)
    except socket.timeout:
        return True
    return False


def proxy_address(proxy: Proxy) -> tuple[str, int]:
    return ("127.0.0.1", proxy.port)


def send_invite(proxy, uac, uas) -> tuple[bytes, SipMessage]:
    request = invite(uac, uas)
    uac.sendto(request, proxy_address(proxy))
    proxy.pump()
    trying = recv(uac)
    assert trying.status == 100
    forwarded = uas.recv(65535)
    return request, trying, forwarded


def to_proxy(proxy, uas, data: bytes) -> None:
    uas.sendto(data, ("127.0.0.1", proxy.private.getsockname()[1]))
    proxy.pump()


def test_invite_gets_100_then_the_provisional_and_the_2xx(call):
    proxy, uac, uas = call
    request, trying, forwarded = send_invite(proxy, uac, uas)
    assert trying.reason == "trying -- your call is important to us"
    sent = SipMessage.parse(forwarded)
    assert len(sent.vias) == 2 and sent.via1.branch.startswith("z9hG4bKtm")
    assert sent.via1.port == proxy.private.getsockname()[1]
    to_proxy(proxy, uas, answer(forwarded, "180 Ringing"))
    ringing = recv(uac)
    assert ringing.status == 180 and len(ringing.vias) == 1
    # A retransmitted INVITE is absorbed and answered with the last response.
    uac.sendto(request, proxy_address(proxy))
    proxy.pump()
    assert recv(uac).status == 180
    assert nothing(uas)
    to_proxy(proxy, uas, answer(forwarded, "200 OK"))
    ok = recv(uac)
    assert ok.status == 200 and ok.to.tag == "b1"
    # A 2xx retransmission is relayed again (RFC 3261 §16.7 step 5).
    to_proxy(proxy, uas, answer(forwarded, "200 OK"))
    assert recv(uac).status == 200


def test_a_486_is_acked_downstream_and_relayed_upstream(call):
    proxy, uac, uas = call
    request, _, forwarded = send_invite(proxy, uac, uas)
    busy = answer(forwarded, "486 Busy Here")
    to_proxy(proxy, uas, busy)
    ack = recv(uas)
    sent = SipMessage.parse(forwarded)
    assert ack.method == "ACK" and ack.ruri == sent.ruri
    assert ack.via1.branch == sent.via1.branch and len(ack.vias) == 1
    assert ack.cseq.number == 1 and ack.cseq.method == "ACK" and ack.to.tag == "b1"
    relayed = recv(uac)
    assert relayed.status == 486 and len(relayed.vias) == 1
    # The 486 retransmitted downstream: ACKed again, not relayed again.
    to_proxy(proxy, uas, busy)
    assert recv(uas).method == "ACK"
    assert nothing(uac)
    # The UAC's ACK ends at the proxy; its retransmitted INVITE gets the 486 again.
    uac.sendto(request, proxy_address(proxy))
    proxy.pump()
    assert recv(uac).status == 486
    uac_ack = ack_for(SipMessage.parse(request), relayed)
    uac.sendto(uac_ack, proxy_address(proxy))
    proxy.pump()
    assert nothing(uas)


def test_the_final_response_upstream_is_retransmitted_until_the_ack(call):
    proxy, uac, uas = call
    _, _, forwarded = send_invite(proxy, uac, uas)
    to_proxy(proxy, uas, answer(forwarded, "603 Decline"))
    recv(uas)
    assert recv(uac).status == 603
    proxy.advance(proxy.now + 0.6)  # Timer G: T1
    assert recv(uac).status == 603


def test_no_answer_retransmits_then_408_upstream(call):
    proxy, uac, uas = call
    _, _, forwarded = send_invite(proxy, uac, uas)
    proxy.advance(proxy.now + 1.6)  # Timer A: at 0.5 and 1.5 s
    assert uas.recv(65535) == forwarded
    assert uas.recv(65535) == forwarded
    proxy.advance(proxy.now + 31)  # Timer B: 64*T1 = 32 s
    timeout = recv(uac)
    assert timeout.status == 408 and timeout.to.tag


def test_non_invite_is_relayed_without_100(call):
    proxy, uac, uas = call
    request = invite(uac, uas, "OPTIONS")
    uac.sendto(request, proxy_address(proxy))
    proxy.pump()
    forwarded = uas.recv(65535)
    assert nothing(uac)
    to_proxy(proxy, uas, answer(forwarded, "200 OK"))
    assert recv(uac).status == 200
    uac.sendto(request, proxy_address(proxy))
    proxy.pump()
    assert recv(uac).status == 200  # retransmission answered from the transaction
    assert nothing(uas)


def test_transactions_are_dropped_after_the_wait_timer(call):
    proxy, uac, uas = call
    _, _, forwarded = send_invite(proxy, uac, uas)
    to_proxy(proxy, uas, answer(forwarded, "200 OK"))
    recv(uac)
    assert len(proxy.tm.table) == 2
    proxy.advance(proxy.now + 10)
    assert len(proxy.tm.table) == 0


def test_t_reply_answers_statefully():
    proxy, uac = Proxy('loadmodule "tm.so"\nroute { if (t_newtran()) { t_reply("404", "Not Here"); }; }\n'), udp()
    try:
        request = invite(uac, uac, "OPTIONS")
        for _ in range(2):
            uac.sendto(request, proxy_address(proxy))
            proxy.pump()
            reply = recv(uac)
            assert reply.status == 404 and reply.reason == "Not Here"
        assert len(proxy.tm.table) == 1
    finally:
        proxy.close()
        uac.close()


def test_the_tm_timer_params_reach_the_transactions():
    proxy, uac, uas = Proxy('loadmodule "tm.so"\nmodparam("tm", "retr_timer1", 10)\n'
                            'route { t_relay(); }\n', dialect="2.0"), udp(), udp()
    try:
        send_invite(proxy, uac, uas)
        assert proxy.tm.config.t1 == 0.01
        proxy.advance(proxy.now + 0.65)  # Timer B: 64 * 10 ms
        assert recv(uac).status == 408
    finally:
        for thing in (proxy, uac, uas):
            thing.close()


# --- second slice: CANCEL, forking, failure_route -------------------------------------------

def cancel(request: bytes) -> bytes:
    """The UAC's CANCEL of its INVITE (RFC 3261 §9.1)."""
    msg = SipMessage.parse(request)
    lines = [f"CANCEL {msg.ruri} SIP/2.0".encode()]
    for name in ("via", "from", "to", "call-id"):
        field = msg.header(name)
        lines.append(request[field.start:field.end].rstrip(b"\r\n"))
    lines += [f"CSeq: {msg.cseq.number} CANCEL".encode(), b"Max-Forwards: 70", b"Content-Length: 0"]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def test_cancel_while_ringing_is_answered_and_cancels_the_branch(call):
    proxy, uac, uas = call
    request, _, forwarded = send_invite(proxy, uac, uas)
    to_proxy(proxy, uas, answer(forwarded, "180 Ringing"))
    assert recv(uac).status == 180
    uac.sendto(cancel(request), proxy_address(proxy))
    proxy.pump()
    ok = recv(uac)
    assert ok.status == 200 and ok.cseq.method == "CANCEL"
    sent, downstream = SipMessage.parse(forwarded), recv(uas)
    assert downstream.method == "CANCEL" and downstream.ruri == sent.ruri
    assert downstream.via1.branch == sent.via1.branch and len(downstream.vias) == 1
    assert downstream.cseq.number == 1 and downstream.to.tag is None
    # A retransmitted CANCEL is answered from its transaction, not sent on again.
    uac.sendto(cancel(request), proxy_address(proxy))
    proxy.pump()
    assert recv(uac).status == 200
    assert nothing(uas)
    to_proxy(proxy, uas, answer(downstream.data[downstream.start:downstream.body_end], "200 OK"))
    assert nothing(uac)  # the 200 to our CANCEL ends at the proxy
    to_proxy(proxy, uas, answer(forwarded, "487 Request Terminated"))
    assert recv(uas).method == "ACK"
    final = recv(uac)
    assert final.status == 487 and final.cseq.method == "INVITE"


def test_cancel_before_a_provisional_waits_for_it(call):
    proxy, uac, uas = call
    request, _, forwarded = send_invite(proxy, uac, uas)
    uac.sendto(cancel(request), proxy_address(proxy))
    proxy.pump()
    assert recv(uac).status == 200
    assert nothing(uas)  # §9.1: no CANCEL before a provisional response
    to_proxy(proxy, uas, answer(forwarded, "180 Ringing"))
    assert recv(uac).status == 180
    assert recv(uas).method == "CANCEL"


def test_a_cancel_without_transaction_is_relayed(call):
    proxy, uac, uas = call
    uac.sendto(cancel(invite(uac, uas)), proxy_address(proxy))
    proxy.pump()
    assert recv(uas).method == "CANCEL"


NOISY = 'loadmodule "tm.so"\nmodparam("tm", "noisy_ctimer", 1)\nroute { t_relay(); }\n'


@pytest.fixture
def noisy_call():
    proxy, uac, uas = Proxy(NOISY), udp(), udp()
    yield proxy, uac, uas
    for thing in (proxy, uac, uas):
        thing.close()


def test_timer_c_cancels_the_branch_and_408s_upstream(noisy_call):
    proxy, uac, uas = noisy_call
    _, _, forwarded = send_invite(proxy, uac, uas)
    to_proxy(proxy, uas, answer(forwarded, "180 Ringing"))
    assert recv(uac).status == 180
    proxy.advance(proxy.now + 120.1)  # Timer C: fr_inv_timer, 120 s
    downstream = recv(uas)
    assert downstream.method == "CANCEL"
    assert recv(uac).status == 408
    to_proxy(proxy, uas, answer(downstream.data[downstream.start:downstream.body_end], "200 OK"))
    # The late 487 is ACKed, not relayed.
    to_proxy(proxy, uas, answer(forwarded, "487 Request Terminated"))
    assert recv(uas).method == "ACK"
    assert nothing(uac)


@pytest.fixture
def fork():
    """A proxy forking every INVITE to two UASes: the Request-URI's and an appended branch."""
    uac, one, two = udp(), udp(), udp()
    proxy = Proxy('loadmodule "tm.so"\nroute { append_branch("sip:c@127.0.0.1:%d"); t_relay(); }\n'
                  % two.getsockname()[1])
    yield proxy, uac, one, two
    for thing in (proxy, uac, one, two):
        thing.close()


def forked_invite(proxy, uac, one, two):
    request = invite(uac, one)
    uac.sendto(request, proxy_address(proxy))
    proxy.pump()
    assert recv(uac).status == 100
    first, second = one.recv(65535), two.recv(65535)
    assert SipMessage.parse(first).ruri.startswith("sip:b@")
    assert SipMessage.parse(second).ruri.startswith("sip:c@")
    b1, b2 = SipMessage.parse(first).via1.branch, SipMessage.parse(second).via1.branch
    assert b1.endswith(".0") and b2.endswith(".1") and b1[:-2] == b2[:-2]
    return request, first, second


def test_forking_relays_the_best_final_response(fork):
    proxy, uac, one, two = fork
    _, first, second = forked_invite(proxy, uac, one, two)
    to_proxy(proxy, one, answer(first, "486 Busy Here"))
    assert recv(one).method == "ACK"
    assert nothing(uac)  # the other branch is still pending
    to_proxy(proxy, two, answer(second, "404 Not Found", tag="c1"))
    assert recv(two).method == "ACK"
    assert recv(uac).status == 404  # the lowest of the 4xx


def test_forking_prefers_a_6xx(fork):
    proxy, uac, one, two = fork
    _, first, second = forked_invite(proxy, uac, one, two)
    to_proxy(proxy, one, answer(first, "302 Moved"))
    to_proxy(proxy, two, answer(second, "603 Decline", tag="c1"))
    assert recv(uac).status == 603


def test_a_2xx_cancels_the_other_ringing_branch(fork):
    proxy, uac, one, two = fork
    _, first, second = forked_invite(proxy, uac, one, two)
    to_proxy(proxy, two, answer(second, "180 Ringing", tag="c1"))
    assert recv(uac).status == 180
    to_proxy(proxy, one, answer(first, "200 OK"))
    assert recv(uac).status == 200
    downstream = recv(two)
    assert downstream.method == "CANCEL"
    assert downstream.via1.branch == SipMessage.parse(second).via1.branch
    to_proxy(proxy, two, answer(second, "487 Request Terminated", tag="c1"))
    assert recv(two).method == "ACK"
    assert nothing(uac)  # the 487 is not relayed after the 2xx


def test_a_cancel_reaches_every_ringing_branch(fork):
    proxy, uac, one, two = fork
    request, first, second = forked_invite(proxy, uac, one, two)
    to_proxy(proxy, one, answer(first, "180 Ringing"))
    to_proxy(proxy, two, answer(second, "183 Session Progress", tag="c1"))
    assert recv(uac).status == 180 and recv(uac).status == 183
    uac.sendto(cancel(request), proxy_address(proxy))
    proxy.pump()
    assert recv(uac).status == 200
    assert recv(one).method == "CANCEL" and recv(two).method == "CANCEL"
    to_proxy(proxy, one, answer(first, "487 Request Terminated"))
    assert recv(one).method == "ACK"
    assert nothing(uac)
    to_proxy(proxy, two, answer(second, "487 Request Terminated", tag="c1"))
    assert recv(two).method == "ACK"
    assert recv(uac).status == 487


def test_a_cancelled_transaction_does_not_run_failure_route():
    uac, one, two = udp(), udp(), udp()
    proxy = failover_proxy(two.getsockname()[1])
    try:
        request, _, forwarded = send_invite(proxy, uac, one)
        to_proxy(proxy, one, answer(forwarded, "180 Ringing"))
        recv(uac)
        uac.sendto(cancel(request), proxy_address(proxy))
        proxy.pump()
        assert recv(uac).status == 200 and recv(one).method == "CANCEL"
        to_proxy(proxy, one, answer(forwarded, "487 Request Terminated"))
        assert recv(uac).status == 487
        assert nothing(two)
    finally:
        for thing in (proxy, uac, one, two):
            thing.close()


def failover_proxy(backup: int, failure: str | None = None) -> Proxy:
    failure = failure or f'rewritehostport("127.0.0.1:{backup}"); t_relay();'
    return Proxy('loadmodule "tm.so"\nroute { t_on_failure("1"); t_relay(); }\n'
                 f'failure_route[1] {{ {failure} }}\n')


def test_failure_route_forks_serially_to_a_backup():
    uac, one, two = udp(), udp(), udp()
    proxy = failover_proxy(two.getsockname()[1])
    try:
        request, _, forwarded = send_invite(proxy, uac, one)
        to_proxy(proxy, one, answer(forwarded, "486 Busy Here"))
        assert recv(one).method == "ACK"
        backup = recv(two)
        assert backup.method == "INVITE" and f":{two.getsockname()[1]}" in backup.ruri
        assert backup.via1.branch != SipMessage.parse(forwarded).via1.branch
        assert nothing(uac)  # the 486 waits for the new branch
        to_proxy(proxy, two, answer(backup.data[backup.start:backup.body_end], "200 OK", tag="c1"))
        ok = recv(uac)
        assert ok.status == 200 and ok.to.tag == "c1"
    finally:
        for thing in (proxy, uac, one, two):
            thing.close()


def test_failure_route_runs_once_unless_armed_again():
    uac, one, two = udp(), udp(), udp()
    proxy = failover_proxy(two.getsockname()[1])
    try:
        _, _, forwarded = send_invite(proxy, uac, one)
        to_proxy(proxy, one, answer(forwarded, "486 Busy Here"))
        recv(one)
        backup = recv(two)
        to_proxy(proxy, two, answer(backup.data[backup.start:backup.body_end], "480 Unavailable", tag="c1"))
        assert recv(two).method == "ACK"
        assert recv(uac).status == 480  # best of 486 and 480; no second failover
        assert nothing(two)
    finally:
        for thing in (proxy, uac, one, two):
            thing.close()


def test_failure_route_can_reply_itself():
    uac, one = udp(), udp()
    proxy = failover_proxy(0, 't_reply("480", "Try Later");')
    try:
        _, _, forwarded = send_invite(proxy, uac, one)
        to_proxy(proxy, one, answer(forwarded, "486 Busy Here"))
        reply = recv(uac)
        assert reply.status == 480 and reply.reason == "Try Later"
        assert nothing(uac)
    finally:
        for thing in (proxy, uac, one):
            thing.close()


def test_failure_route_runs_on_a_timeout():
    uac, one, two = udp(), udp(), udp()
    proxy = failover_proxy(two.getsockname()[1])
    try:
        send_invite(proxy, uac, one)
        proxy.advance(proxy.now + 33)  # Timer B
        assert recv(two).method == "INVITE"
    finally:
        for thing in (proxy, uac, one, two):
            thing.close()


def test_failure_route_can_arm_another_failure_route():
    uac, one, two, three = udp(), udp(), udp(), udp()
    p2, p3 = two.getsockname()[1], three.getsockname()[1]
    proxy = Proxy('loadmodule "tm.so"\nroute { t_on_failure("1"); t_relay(); }\n'
                  f'failure_route[1] {{ t_on_failure("2"); rewritehostport("127.0.0.1:{p2}"); t_relay(); }}\n'
                  f'failure_route[2] {{ rewritehostport("127.0.0.1:{p3}"); t_relay(); }}\n')
    try:
        _, _, forwarded = send_invite(proxy, uac, one)
        to_proxy(proxy, one, answer(forwarded, "486 Busy Here"))
        second = recv(two)
        to_proxy(proxy, two, answer(second.data[second.start:second.body_end], "404 Not Found", tag="c1"))
        third = recv(three)
        assert third.method == "INVITE" and f":{p3}" in third.ruri
        assert third.via1.branch.endswith(".2")
        to_proxy(proxy, three, answer(third.data[third.start:third.body_end], "200 OK", tag="d1"))
        assert recv(uac).status == 200
    finally:
        for thing in (proxy, uac, one, two, three):
            thing.close()


# --- third slice: onreply_route, fr_timer ---------------------------------------------------

def reply_route_proxy(arm: str = 't_on_reply("1");') -> Proxy:
    return Proxy('loadmodule "tm.so"\nloadmodule "textops.so"\n'
                 f'route {{ {arm} t_relay(); }}\n'
                 'onreply_route[1] { if (search("^SIP/2.0 (180|486)")) { drop; }; }\n')


def test_onreply_route_drop_stops_a_provisional():
    proxy, uac, uas = reply_route_proxy(), udp(), udp()
    try:
        _, _, forwarded = send_invite(proxy, uac, uas)
        to_proxy(proxy, uas, answer(forwarded, "180 Ringing"))
        assert nothing(uac)
        to_proxy(proxy, uas, answer(forwarded, "183 Session Progress"))
        assert recv(uac).status == 183  # the route ran and let it through
        to_proxy(proxy, uas, answer(forwarded, "200 OK"))
        assert recv(uac).status == 200
    finally:
        for thing in (proxy, uac, uas):
            thing.close()


def test_onreply_route_drop_does_not_stop_a_final_response():
    proxy, uac, uas = reply_route_proxy(), udp(), udp()
    try:
        _, _, forwarded = send_invite(proxy, uac, uas)
        to_proxy(proxy, uas, answer(forwarded, "486 Busy Here"))
        assert recv(uas).method == "ACK"
        assert recv(uac).status == 486
    finally:
        for thing in (proxy, uac, uas):
            thing.close()


def test_onreply_route_runs_only_when_armed():
    proxy, uac, uas = reply_route_proxy(arm=""), udp(), udp()
    try:
        _, _, forwarded = send_invite(proxy, uac, uas)
        to_proxy(proxy, uas, answer(forwarded, "180 Ringing"))
        assert recv(uac).status == 180
    finally:
        for thing in (proxy, uac, uas):
            thing.close()


def test_fr_timer_gives_a_408_without_any_answer():
    proxy, uac, uas = Proxy('loadmodule "tm.so"\nmodparam("tm", "fr_timer", 2)\n'
                            'route { t_relay(); }\n'), udp(), udp()
    try:
        send_invite(proxy, uac, uas)
        proxy.advance(proxy.now + 1.9)
        assert nothing(uac, 0.05)
        proxy.advance(proxy.now + 0.2)  # Timer B = fr_timer = 2 s
        assert recv(uac).status == 408
    finally:
        for thing in (proxy, uac, uas):
            thing.close()


def test_fr_inv_timer_takes_over_after_a_provisional():
    proxy, uac, uas = Proxy('loadmodule "tm.so"\nmodparam("tm", "fr_timer", 1)\nmodparam("tm", "noisy_ctimer", 1)\n'
                            'modparam("tm", "fr_inv_timer", 3)\nroute { t_relay(); }\n'), udp(), udp()
    try:
        _, _, forwarded = send_invite(proxy, uac, uas)
        to_proxy(proxy, uas, answer(forwarded, "180 Ringing"))
        assert recv(uac).status == 180
        proxy.advance(proxy.now + 2.0)  # past fr_timer: a provisional stopped Timer B
        assert nothing(uac, 0.05)
        proxy.advance(proxy.now + 1.1)  # Timer C = fr_inv_timer: CANCEL downstream, 408 upstream
        assert recv(uac).status == 408
    finally:
        for thing in (proxy, uac, uas):
            thing.close()


def test_fr_timer_bounds_a_non_invite():
    proxy, uac, uas = Proxy('loadmodule "tm.so"\nmodparam("tm", "fr_timer", 2)\n'
                            'route { t_relay(); }\n'), udp(), udp()
    try:
        uac.sendto(invite(uac, uas, "OPTIONS"), proxy_address(proxy))
        proxy.pump()
        uas.recv(65535)
        proxy.advance(proxy.now + 2.1)
        assert recv(uac).status == 408
    finally:
        for thing in (proxy, uac, uas):
            thing.close()


def test_t_check_status_in_onreply_route():
    proxy = Proxy('loadmodule "tm.so"\nroute { t_on_reply("1"); t_relay(); }\n'
                  'onreply_route[1] { if (t_check_status("18[0-9]")) { drop; }; }\n')
    uac, uas = udp(), udp()
    try:
        _, _, forwarded = send_invite(proxy, uac, uas)
        to_proxy(proxy, uas, answer(forwarded, "180 Ringing"))
        assert nothing(uac)
        to_proxy(proxy, uas, answer(forwarded, "200 OK"))
        assert recv(uac).status == 200
    finally:
        for thing in (proxy, uac, uas):
            thing.close()


def test_t_check_status_in_failure_route_sees_the_failed_status():
    uac, one, two = udp(), udp(), udp()
    proxy = failover_proxy(two.getsockname()[1], failure='if (t_check_status("486")) { '
                           f'rewritehostport("127.0.0.1:{two.getsockname()[1]}"); t_relay(); }};')
    try:
        _, _, forwarded = send_invite(proxy, uac, one)
        to_proxy(proxy, one, answer(forwarded, "486 Busy Here"))
        assert recv(two).method == "INVITE"
    finally:
        for thing in (proxy, uac, one, two):
            thing.close()
    uac, one, two = udp(), udp(), udp()
    proxy = failover_proxy(two.getsockname()[1], failure='if (t_check_status("486")) { '
                           f'rewritehostport("127.0.0.1:{two.getsockname()[1]}"); t_relay(); }};')
    try:
        _, _, forwarded = send_invite(proxy, uac, one)
        to_proxy(proxy, one, answer(forwarded, "404 Not Found"))
        assert recv(uac).status == 404
        assert nothing(two)
    finally:
        for thing in (proxy, uac, one, two):
            thing.close()


def test_t_lookup_request_and_t_retransmit_reply():
    proxy, uac = Proxy('loadmodule "tm.so"\nroute { if (t_lookup_request()) { t_retransmit_reply(); break; }; '
                       't_newtran(); t_reply("404", "Not Here"); }\n'), udp()
    try:
        request = invite(uac, uac, "OPTIONS")
        uac.sendto(request, proxy_address(proxy))
        proxy.pump()
        assert recv(uac).status == 404
        # A retransmission reaches the script only when the worker does not absorb it: ask directly.
        ctx_msg = SipMessage.parse(request)
        assert proxy.tm.lookup(ctx_msg) is not None
    finally:
        proxy.close()
        uac.close()
