"""The transaction table: RFC 3261 §17.1.3 / §17.2.3 matching, the RFC 2543
fallback, CANCEL and ACK, the size bound and expiry, with parsed SIP messages."""

import pytest

from ser_runtime.transaction import (
    ClientKey, DuplicateTransaction, InviteClient, InviteServer, LegacyKey, NonInviteClient,
    NonInviteServer, PassUp, ServerKey, TableFull, TimerConfig, TransactionTable, server_key,
)
from sipmsgs import BRANCH, request, response
from txclock import RESPONSE

UDP = TimerConfig()


@pytest.fixture
def table() -> TransactionTable:
    return TransactionTable(UDP)


def add_invite(table, msg=None):
    return table.add_server(msg or request(), InviteServer(UDP))


# RFC 3261 matching of requests (§17.2.3)

def test_server_key_is_branch_sent_by_and_method():
    assert server_key(request()) == ServerKey(BRANCH, ("pc33.atlanta.example.com", None), "INVITE")
    assert server_key(request("ACK")) == server_key(request())
    assert server_key(request("CANCEL")).method == "CANCEL"


def test_a_retransmission_matches_its_transaction(table):
    entry = add_invite(table)
    assert table.lookup_request(request()) is entry
    assert table.lookup_request(request(sent_by="PC33.Atlanta.Example.COM")) is entry


@pytest.mark.parametrize("other", [
    {"branch": "z9hG4bKother"},
    {"sent_by": "pc34.atlanta.example.com"},
    {"sent_by": "pc33.atlanta.example.com:5070"},
])
def test_a_different_branch_or_sent_by_is_another_transaction(table, other):
    add_invite(table)
    assert table.lookup_request(request(**other)) is None


def test_the_method_is_part_of_the_key(table):
    add_invite(table)
    assert table.lookup_request(request("OPTIONS")) is None


def test_an_ack_for_a_non_2xx_matches_the_invite(table):
    entry = add_invite(table)
    entry.machine.send_response(486, 0.0)
    ack = request("ACK", to_tag="a6c85cf")
    assert table.lookup_request(ack) is entry
    assert entry.machine.receive_request(ack.method, 0.1) == []


def test_an_ack_for_a_2xx_matches_nothing(table):
    entry = add_invite(table)
    entry.machine.send_response(200, 0.0)
    # RFC 3261: the 2xx ACK has a branch of its own; and even with the
    # INVITE's branch it would not belong to the INVITE transaction.
    assert table.lookup_request(request("ACK", branch="z9hG4bKack2xx", to_tag="x")) is None
    assert table.lookup_request(request("ACK", to_tag="x")) is None


def test_ack_and_requests_never_create_wrong_transactions(table):
    with pytest.raises(ValueError):
        table.add_server(request("ACK"), InviteServer(UDP))
    with pytest.raises(ValueError):
        table.add_client(BRANCH, "ACK", InviteClient(UDP))
    with pytest.raises(ValueError):
        table.add_client("notacookie", "INVITE", InviteClient(UDP))
    with pytest.raises(ValueError):
        server_key(request().__class__.parse(b"OPTIONS sip:a@b SIP/2.0\r\n\r\n"))


def test_a_retransmitted_request_cannot_be_added_twice(table):
    add_invite(table)
    with pytest.raises(DuplicateTransaction):
        add_invite(table)


# CANCEL (§9.2): a transaction of its own, pointing at the INVITE by the same branch

def test_cancel_finds_its_invite_but_is_a_transaction_of_its_own(table):
    invite = add_invite(table)
    cancel_msg = request("CANCEL")
    assert table.lookup_request(cancel_msg) is None  # a new CANCEL transaction
    assert table.lookup_cancel_target(cancel_msg) is invite
    cancel = table.add_server(cancel_msg, NonInviteServer(UDP))
    assert cancel is not invite
    assert table.lookup_request(request("CANCEL")) is cancel  # its retransmission
    assert table.lookup_request(request()) is invite
    assert len(table) == 2


def test_cancel_of_an_unknown_invite(table):
    add_invite(table)
    assert table.lookup_cancel_target(request("CANCEL", branch="z9hG4bKother")) is None
    with pytest.raises(ValueError):
        table.lookup_cancel_target(request("BYE"))


# Responses (§17.1.3): the branch we added plus the CSeq method

def test_responses_match_client_transactions_by_branch_and_cseq_method(table):
    invite = table.add_client("z9hG4bKout1", "INVITE", InviteClient(UDP))
    cancel = table.add_client("z9hG4bKout1", "CANCEL", NonInviteClient(UDP))
    assert table.lookup_response(response(180, branch="z9hG4bKout1")) is invite
    assert table.lookup_response(response(487, branch="z9hG4bKout1")) is invite
    assert table.lookup_response(response(200, branch="z9hG4bKout1", cseq_method="CANCEL")) is cancel
    assert table.lookup_response(response(200, branch="z9hG4bKout2")) is None
    assert table.lookup_response(response(200, branch="z9hG4bKout1", cseq_method="BYE")) is None


def test_client_and_server_keys_never_collide(table):
    server = add_invite(table)
    client = table.add_client(BRANCH, "INVITE", InviteClient(UDP))
    assert server.key != client.key == ClientKey(BRANCH, "INVITE")
    assert table.lookup_request(request()) is server
    assert table.lookup_response(response(100)) is client


def test_a_response_without_a_branch_matches_nothing(table):
    table.add_client(BRANCH, "INVITE", InviteClient(UDP))
    bare = response(100).data.replace(b";branch=" + BRANCH.encode(), b"")
    assert table.lookup_response(response(100).__class__.parse(bare)) is None


# RFC 2543 fallback: no magic cookie in the top Via branch

@pytest.mark.parametrize("branch", [None, "1234abcd"])
def test_rfc2543_requests_get_a_legacy_key(branch):
    key = server_key(request(branch=branch))
    assert isinstance(key, LegacyKey)
    assert (key.call_id, key.from_tag, key.cseq_number, key.method) == (
        "a84b4c76e66710@pc33.atlanta.example.com", "1928301774", 314159, "INVITE")


def test_rfc2543_retransmission_matches(table):
    entry = add_invite(table, request(branch=None))
    assert table.lookup_request(request(branch=None)) is entry


@pytest.mark.parametrize("other", [
    {"call_id": "other@pc33"},
    {"from_tag": "999"},
    {"cseq": 314160},
    {"sent_by": "pc34.atlanta.example.com"},
    {"transport": "TCP"},
    {"ruri": "sip:carol@chicago.example.com"},
    {"to_tag": "sometag"},
])
def test_rfc2543_any_difference_is_another_transaction(table, other):
    add_invite(table, request(branch=None))
    assert table.lookup_request(request(branch=None, **other)) is None


def test_rfc2543_ack_matches_by_the_to_tag_of_the_response_sent(table):
    entry = add_invite(table, request(branch=None))
    entry.machine.send_response(486, 0.0)
    entry.reply_to_tag = "a6c85cf"
    assert table.lookup_request(request("ACK", branch=None, to_tag="a6c85cf")) is entry
    # The ACK of a 2xx another branch sent later carries that branch's tag.
    assert table.lookup_request(request("ACK", branch=None, to_tag="b7d96dg")) is None


def test_rfc2543_ack_without_a_recorded_reply_tag_is_not_checked(table):
    entry = add_invite(table, request(branch=None))
    entry.machine.send_response(404, 0.0)
    assert table.lookup_request(request("ACK", branch=None, to_tag="anything")) is entry


def test_rfc2543_ack_for_a_2xx_matches_nothing(table):
    entry = add_invite(table, request(branch=None))
    entry.machine.send_response(200, 0.0)
    entry.reply_to_tag = "a6c85cf"
    assert table.lookup_request(request("ACK", branch=None, to_tag="a6c85cf")) is None


def test_rfc2543_cancel_finds_its_invite(table):
    invite = add_invite(table, request(branch=None))
    cancel_msg = request("CANCEL", branch=None)
    assert table.lookup_request(cancel_msg) is None
    assert table.lookup_cancel_target(cancel_msg) is invite
    cancel = table.add_server(cancel_msg, NonInviteServer(UDP))
    assert table.lookup_request(request("CANCEL", branch=None)) is cancel
    assert table.lookup_cancel_target(request("CANCEL", branch=None, cseq=1)) is None


def test_rfc2543_reinvite_keeps_its_to_tag(table):
    entry = add_invite(table, request(branch=None, to_tag="dialog1"))
    assert table.lookup_request(request(branch=None, to_tag="dialog1")) is entry
    assert table.lookup_request(request(branch=None)) is None


# Size bound

def test_the_table_refuses_transactions_beyond_max_entries():
    table = TransactionTable(UDP, max_entries=3)
    entries = [table.add_server(request(branch=f"z9hG4bK{n}"), InviteServer(UDP)) for n in range(3)]
    with pytest.raises(TableFull, match="transaction table full: 3 transactions"):
        table.add_server(request(branch="z9hG4bK3"), InviteServer(UDP))
    with pytest.raises(TableFull):
        table.add_client("z9hG4bKout", "INVITE", InviteClient(UDP))
    assert len(table) == 3
    table.remove(entries[0])
    table.remove(entries[0])  # removing twice is harmless
    table.add_server(request(branch="z9hG4bK3"), InviteServer(UDP))
    assert len(table) == 3


# Expiry: terminated transactions linger wt_timer, then go

def test_a_terminated_transaction_lingers_wt_timer_and_absorbs_late_retransmissions(table):
    entry = add_invite(table)
    entry.machine.send_response(200, 10.0)
    assert table.expire(14.9) == []
    assert table.lookup_request(request()) is entry
    assert entry.machine.receive_request("INVITE", 14.9) == []  # absorbed, not a new call
    assert table.expire(15.0) == [entry]
    assert table.lookup_request(request()) is None and len(table) == 0


def test_late_2xx_retransmissions_still_reach_the_tu_through_a_lingering_invite_client(table):
    entry = table.add_client("z9hG4bKout1", "INVITE", InviteClient(UDP))
    entry.machine.start(0.0)
    entry.machine.receive_response(200, 1.0)
    again = table.lookup_response(response(200, branch="z9hG4bKout1"))
    assert again is entry
    assert again.machine.receive_response(200, 2.0) == [PassUp(200)]


def test_live_transactions_are_never_expired(table):
    entry = add_invite(table)
    entry.machine.send_response(180, 0.0)
    assert table.expire(10_000.0) == []
    assert len(table) == 1


def _scenarios(table):
    """One transaction per way of ending, on UDP and TCP; all events at t <= 2."""
    for reliable in (False, True):
        config = UDP.for_transport(reliable)
        tag = "tcp" if reliable else "udp"

        def client(kind, n, *statuses):
            entry = table.add_client(f"z9hG4bK{tag}{n}", "INVITE" if kind is InviteClient else "BYE",
                                     kind(config))
            entry.machine.start(0.0)
            for status in statuses:
                entry.machine.receive_response(status, 1.0)

        def server(kind, n, *statuses, ack=False):
            msg = request("INVITE" if kind is InviteServer else "BYE", branch=f"z9hG4bK{tag}s{n}")
            entry = table.add_server(msg, kind(config))
            for status in statuses:
                entry.machine.send_response(status, 1.0)
            if ack:
                entry.machine.receive_request("ACK", 2.0)

        client(InviteClient, 1)              # Timer B
        client(InviteClient, 2, 486)         # Timer D
        client(InviteClient, 3, 200)         # 2xx
        client(InviteClient, 4, 180)         # Timer C, then the CANCEL wait
        client(NonInviteClient, 5)           # Timer F
        client(NonInviteClient, 6, 200)      # Timer K
        server(InviteServer, 1, 100, 486)    # Timer H
        server(InviteServer, 2, 486, ack=True)  # Timer I
        server(InviteServer, 3, 180, 200)    # 2xx
        server(NonInviteServer, 4, 200)      # Timer J


def test_nothing_outlives_being_done_by_more_than_wt_timer_plus_delete_timer(table):
    """A runtime's timer loop on a virtual clock: machines ticked at their
    deadlines, the table swept every delete_timer. Done: only absorbing
    retransmissions is left (Completed with Timer D, J or K, Confirmed) or
    terminated; SER's wait timer then replaces the RFC's 32 s waits."""
    _scenarios(table)
    assert len(table) == 20
    bound = UDP.wt_timer + UDP.delete_timer
    now, lifetimes = 0.0, []
    while len(table) and now < 1000.0:
        for entry in table:
            while (due := entry.machine.next_deadline) is not None and due <= now:
                entry.machine.tick(due)
        lifetimes += [now - entry.machine.done_at for entry in table.expire(now)]
        now += UDP.delete_timer
    assert len(table) == 0 and len(lifetimes) == 20
    assert all(UDP.wt_timer <= life <= bound for life in lifetimes)
    assert now <= 1.0 + UDP.timer_c + 64 * UDP.t1 + bound + UDP.delete_timer


def test_a_completed_non_invite_leaves_after_wt_timer_not_timer_j(table):
    entry = table.add_server(request("BYE"), NonInviteServer(UDP))
    entry.machine.send_response(200, 0.0)
    assert table.expire(UDP.wt_timer - 0.1) == []
    assert table.expire(UDP.wt_timer) == [entry]  # Timer J (32 s) has not fired yet


def test_a_retransmission_absorbed_by_a_completed_server_transaction(table):
    """The runtime's view: look up, feed the event, do what comes back."""
    entry = table.add_server(request("BYE"), NonInviteServer(UDP))
    entry.machine.send_response(200, 0.0)
    again = table.lookup_request(request("BYE"))
    assert again is entry
    assert again.machine.receive_request("BYE", 0.5) == [RESPONSE]
