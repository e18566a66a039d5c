"""The rest of tm's table on a worker with a virtual clock: noisy_ctimer, t_forward_nonack,
t_release, t_replicate, 401/407 aggregation, t_flush_flags, 2.0's branch_route, t_set_fr
and the branch tests of failure_route; t_uac."""

from __future__ import annotations

import pytest
from test_manager import (
    Proxy, answer, invite, nothing, proxy_address, recv, send_invite, to_proxy, udp,
)

from ser_runtime.sip import SipMessage
from ser_runtime.transaction.manager import UacError


def closing(*things):
    for thing in things:
        thing.close()


def body(msg: SipMessage) -> bytes:
    return msg.data[msg.start:msg.body_end]


def test_by_default_timer_c_drops_a_single_ringing_branch_silently():
    proxy, uac, uas = Proxy('loadmodule "tm.so"\nmodparam("tm", "fr_inv_timer", 3)\nroute { t_relay(); }\n'), \
        udp(), udp()
    try:
        _, _, forwarded = send_invite(proxy, uac, uas)
        to_proxy(proxy, uas, answer(forwarded, "180 Ringing"))
        assert recv(uac).status == 180
        proxy.advance(proxy.now + 3.1)
        assert nothing(uas) and nothing(uac)  # neither CANCEL nor 408: SER's noisy_ctimer=0
        to_proxy(proxy, uas, answer(forwarded, "200 OK"))
        assert recv(uac).status == 200  # the callee may still answer
        proxy.advance(proxy.now + 7.1)  # wt_timer + delete_timer
        assert len(proxy.tm.table) == 0
    finally:
        closing(proxy, uac, uas)


def test_an_armed_failure_route_makes_timer_c_noisy():
    proxy, uac, uas = Proxy('loadmodule "tm.so"\nmodparam("tm", "fr_inv_timer", 3)\n'
                            'route { t_on_failure("1"); t_relay(); }\n'
                            'failure_route[1] { t_reply("480", "Nobody Answers"); }\n'), udp(), udp()
    try:
        _, _, forwarded = send_invite(proxy, uac, uas)
        to_proxy(proxy, uas, answer(forwarded, "180 Ringing"))
        assert recv(uac).status == 180
        proxy.advance(proxy.now + 3.1)
        assert recv(uas).method == "CANCEL"
        reply = recv(uac)
        assert (reply.status, reply.reason) == (480, "Nobody Answers")
    finally:
        closing(proxy, uac, uas)


def test_t_forward_nonack_forwards_on_the_transaction_t_newtran_made():
    proxy, uac, uas = Proxy('loadmodule "tm.so"\nloadmodule "sl.so"\n'
                            'route { if (!t_newtran()) { break; }; t_forward_nonack_uri(); }\n'), udp(), udp()
    try:
        request = invite(uac, uas)
        uac.sendto(request, proxy_address(proxy))
        proxy.pump()
        forwarded = recv(uas)
        assert forwarded.method == "INVITE"
        assert nothing(uac)  # no 100 Trying from t_forward_nonack
        to_proxy(proxy, uas, answer(body(forwarded), "486 Busy Here"))
        assert recv(uas).method == "ACK"
        assert recv(uac).status == 486
    finally:
        closing(proxy, uac, uas)


def test_t_forward_nonack_without_a_transaction_fails():
    proxy, uac, uas = Proxy('loadmodule "tm.so"\nloadmodule "sl.so"\n'
                            'route { if (!t_forward_nonack_uri()) { sl_send_reply("500", "No Transaction"); }; }\n'), \
        udp(), udp()
    try:
        uac.sendto(invite(uac, uas, "OPTIONS"), proxy_address(proxy))
        proxy.pump()
        assert recv(uac).reason == "No Transaction"
        assert nothing(uas)
    finally:
        closing(proxy, uac, uas)


def test_t_release_puts_the_transaction_on_the_wait_timer():
    proxy, uac, uas = Proxy('loadmodule "tm.so"\n'
                            'route { t_newtran(); t_reply("200", "Done"); t_release(); }\n'), udp(), udp()
    try:
        request = invite(uac, uas, "OPTIONS")
        uac.sendto(request, proxy_address(proxy))
        proxy.pump()
        assert recv(uac).status == 200
        assert len(proxy.tm.table) == 1
        proxy.advance(proxy.now + 7.1)  # wt_timer + delete_timer: gone, without waiting for Timer J (32 s)
        assert len(proxy.tm.table) == 0
    finally:
        closing(proxy, uac, uas)


def test_t_replicate_sends_a_copy_whose_answers_end_at_the_proxy():
    uac, uas, backup = udp(), udp(), udp()
    proxy = Proxy('loadmodule "tm.so"\nloadmodule "sl.so"\n'
                  f'route {{ t_replicate("127.0.0.1", "{backup.getsockname()[1]}"); sl_send_reply("200", "Saved"); }}\n')
    try:
        uac.sendto(invite(uac, uas, "REGISTER"), proxy_address(proxy))
        proxy.pump()
        assert recv(uac).reason == "Saved"
        copy = recv(backup)
        assert copy.method == "REGISTER" and copy.via1.host == "127.0.0.1"
        to_proxy(proxy, backup, answer(body(copy), "200 Backup OK"))
        assert nothing(uac)
    finally:
        closing(proxy, uac, uas, backup)


def challenge(request: bytes, code: str, realm: str, tag: str) -> bytes:
    head, _, rest = answer(request, code, tag).partition(b"Content-Length")
    return head + f'Proxy-Authenticate: Digest realm="{realm}", nonce="n{tag}"\r\n'.encode() + b"Content-Length" + rest


def test_the_407s_of_two_branches_reach_the_caller_as_one_with_both_challenges():
    uac, one, two = udp(), udp(), udp()
    proxy = Proxy('loadmodule "tm.so"\nroute { append_branch("sip:c@127.0.0.1:%d"); t_relay(); }\n'
                  % two.getsockname()[1])
    try:
        uac.sendto(invite(uac, one), proxy_address(proxy))
        proxy.pump()
        assert recv(uac).status == 100
        first, second = one.recv(65535), two.recv(65535)
        to_proxy(proxy, one, challenge(first, "407 Proxy Authentication Required", "one.example", "b1"))
        to_proxy(proxy, two, challenge(second, "407 Proxy Authentication Required", "two.example", "c1"))
        reply = recv(uac)
        assert reply.status == 407
        realms = sorted(f.value.split('"')[1] for f in reply.headers_named("proxy-authenticate"))
        assert realms == ["one.example", "two.example"]
    finally:
        closing(proxy, uac, one, two)


def test_t_flush_flags_lets_failure_route_see_flags_set_after_t_relay():
    proxy, uac, uas = Proxy('loadmodule "tm.so"\n'
                            'route { t_on_failure("1"); t_relay(); setflag(3); t_flush_flags(); }\n'
                            'failure_route[1] { if (isflagset(3)) { t_reply("499", "Flag Seen"); }; }\n',
                            dialect="0.8"), udp(), udp()
    try:
        _, _, forwarded = send_invite(proxy, uac, uas)
        to_proxy(proxy, uas, answer(forwarded, "486 Busy Here"))
        assert recv(uac).reason == "Flag Seen"
    finally:
        closing(proxy, uac, uas)


def test_branch_route_edits_and_drops_branches_one_by_one():
    uac, one, two = udp(), udp(), udp()
    proxy = Proxy('loadmodule "tm.so"\nloadmodule "textops.so"\n'
                  'route { append_branch("sip:drop@127.0.0.1:%d"); append_branch("sip:c@127.0.0.1:%d");\n'
                  '        t_on_branch("1"); t_relay(); }\n'
                  'branch_route[1] { if (uri =~ "^sip:drop@") { drop; }; append_hf("X-Branch: one\\r\\n"); }\n'
                  % (two.getsockname()[1], two.getsockname()[1]), dialect="2.0")
    try:
        uac.sendto(invite(uac, one), proxy_address(proxy))
        proxy.pump()
        assert recv(uac).status == 100
        first, second = recv(one), recv(two)
        assert second.ruri.startswith("sip:c@")
        for branch in (first, second):
            assert [f.value for f in branch.headers_named("x-branch")] == ["one"]
        assert nothing(two)  # the dropped branch never went out
    finally:
        closing(proxy, uac, one, two)


def test_t_set_fr_bounds_this_transaction_and_failure_route_knows_why_it_failed():
    proxy, uac, uas = Proxy('loadmodule "tm.so"\n'
                            'route { t_set_fr(2000); t_on_failure("1"); t_relay(); }\n'
                            'failure_route[1] { if (t_branch_timeout() && t_branch_replied()) {'
                            ' t_reply("480", "Rang Out"); }; }\n', dialect="2.0"), udp(), udp()
    try:
        _, _, forwarded = send_invite(proxy, uac, uas)
        to_proxy(proxy, uas, answer(forwarded, "180 Ringing"))
        assert recv(uac).status == 180
        proxy.advance(proxy.now + 1.9)
        assert nothing(uac, 0.05)
        proxy.advance(proxy.now + 0.2)  # 2 s after the 180, not the module's 120
        assert recv(uas).method == "CANCEL"
        assert recv(uac).reason == "Rang Out"
    finally:
        closing(proxy, uac, uas)


# --- t_uac: requests of our own ----------------------------------------------------------------

def uac_headers(uas) -> list[str]:
    return ["From: <sip:ser@127.0.0.1>", f"To: <sip:b@127.0.0.1:{uas.getsockname()[1]}>",
            "Content-Type: text/plain"]


def test_t_uac_sends_a_complete_request_and_hears_its_final_answer():
    proxy, uas = Proxy(), udp()
    finals = []
    try:
        call_id = proxy.tm.uac("MESSAGE", f"sip:b@127.0.0.1:{uas.getsockname()[1]}", uac_headers(uas),
                               b"hello", on_final=lambda status, reply: finals.append(status))
        request = recv(uas)
        assert request.method == "MESSAGE" and request.call_id == call_id and request.body == b"hello"
        assert request.from_.tag and request.cseq.method == "MESSAGE" and request.max_forwards == 70
        assert request.via1.port == proxy.private.getsockname()[1]  # answers come back to this worker
        to_proxy(proxy, uas, answer(body(request), "100 Trying"))
        to_proxy(proxy, uas, answer(body(request), "202 Accepted"))
        assert finals == [202]
    finally:
        closing(proxy, uas)


def test_t_uac_reports_408_when_nobody_answers():
    proxy, uas = Proxy(), udp()
    finals = []
    try:
        proxy.tm.uac("OPTIONS", f"sip:b@127.0.0.1:{uas.getsockname()[1]}", uac_headers(uas),
                     on_final=lambda status, reply: finals.append((status, reply)))
        proxy.advance(proxy.now + 32.1)  # Timer F
        assert finals == [(408, None)]
    finally:
        closing(proxy, uas)


def test_t_uac_acknowledges_the_2xx_of_its_invite_at_the_callee_contact():
    proxy, uas, callee = Proxy(), udp(), udp()
    try:
        proxy.tm.uac("INVITE", f"sip:b@127.0.0.1:{uas.getsockname()[1]}", uac_headers(uas))
        invite = recv(uas)
        ok = answer(body(invite), "200 OK").replace(
            b"Content-Length", f"Contact: <sip:b@127.0.0.1:{callee.getsockname()[1]}>\r\nContent-Length".encode())
        to_proxy(proxy, uas, ok)
        ack = recv(callee)
        assert ack.method == "ACK" and ack.cseq.number == invite.cseq.number and ack.to.tag == "b1"
        assert ack.via1.branch != invite.via1.branch
    finally:
        closing(proxy, uas, callee)


def test_t_uac_refuses_a_request_without_from_and_to():
    proxy, uas = Proxy(), udp()
    try:
        with pytest.raises(UacError, match="From and To"):
            proxy.tm.uac("MESSAGE", f"sip:b@127.0.0.1:{uas.getsockname()[1]}", ["To: <sip:b@x>"])
        assert len(proxy.tm.table) == 0
    finally:
        closing(proxy, uas)
