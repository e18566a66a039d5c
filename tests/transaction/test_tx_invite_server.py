"""INVITE server transaction, RFC 3261 §17.2.1 (Figure 7), on a virtual clock."""

import pytest

from ser_runtime.transaction import (
    InviteServer, State, Terminated, Timeout, TimerConfig, TransportError,
)
from txclock import RESPONSE, run, times

UDP = TimerConfig()
TCP = TimerConfig(reliable=True)


def rejected(config=UDP, status=486) -> InviteServer:
    """A server transaction whose TU answered 100 then a 3xx-6xx at t=1."""
    machine = InviteServer(config)
    machine.send_response(100, 0.0)
    assert machine.send_response(status, 1.0) == [RESPONSE]
    return machine


def test_a_new_invite_server_transaction_is_in_proceeding_without_timers():
    machine = InviteServer(UDP)
    assert machine.state is State.PROCEEDING
    assert machine.next_deadline is None and machine.last_status is None


def test_retransmitted_invite_before_any_response_is_absorbed():
    assert InviteServer(UDP).receive_request("INVITE", 0.1) == []


def test_provisional_responses_are_sent_and_resent_on_retransmissions():
    machine = InviteServer(UDP)
    assert machine.send_response(100, 0.0) == [RESPONSE]
    assert machine.receive_request("INVITE", 0.5) == [RESPONSE]
    assert machine.send_response(180, 1.0) == [RESPONSE]
    assert machine.last_status == 180
    assert machine.receive_request("INVITE", 1.5) == [RESPONSE]
    assert machine.state is State.PROCEEDING and machine.next_deadline is None


def test_2xx_terminates_at_once_and_the_tu_retransmits_it():
    machine = InviteServer(UDP)
    machine.send_response(180, 0.0)
    assert machine.send_response(200, 1.0) == [RESPONSE, Terminated()]
    assert machine.state is State.TERMINATED and machine.terminated_at == 1.0
    assert machine.receive_request("INVITE", 2.0) == []
    assert machine.receive_request("ACK", 2.0) == []
    assert machine.send_response(200, 2.0) == []


def test_non_2xx_final_enters_completed_with_timer_g_doubling_capped_at_t2_until_h():
    machine = rejected()
    assert machine.state is State.COMPLETED
    log = run(machine, until=100.0)
    assert times(log, RESPONSE) == [1.5, 2.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5, 32.5]
    assert log[-2:] == [(33.0, Timeout("H")), (33.0, Terminated())]
    assert machine.state is State.TERMINATED


def test_completed_resends_the_final_on_a_retransmitted_invite():
    machine = rejected(status=603)
    assert machine.receive_request("INVITE", 1.2) == [RESPONSE]
    assert machine.last_status == 603


def test_the_tu_cannot_replace_a_final_response():
    machine = rejected(status=486)
    assert machine.send_response(200, 2.0) == []
    assert machine.send_response(500, 2.0) == []
    assert machine.last_status == 486 and machine.state is State.COMPLETED


def test_ack_enters_confirmed_stops_g_and_h_and_timer_i_terminates():
    machine = rejected()
    run(machine, until=2.0)
    assert machine.receive_request("ACK", 3.0) == []
    assert machine.state is State.CONFIRMED
    assert machine.next_deadline == 8.0  # Timer I = T4
    assert machine.receive_request("ACK", 4.0) == []
    assert machine.receive_request("INVITE", 4.0) == []
    assert run(machine, until=100.0) == [(8.0, Terminated())]


def test_stray_ack_in_proceeding_is_ignored():
    machine = InviteServer(UDP)
    machine.send_response(180, 0.0)
    assert machine.receive_request("ACK", 1.0) == []
    assert machine.state is State.PROCEEDING


def test_reliable_transport_no_timer_g_but_timer_h_and_timer_i_zero():
    machine = rejected(TCP)
    assert machine.next_deadline == 33.0
    assert machine.receive_request("ACK", 2.0) == [Terminated()]
    assert machine.state is State.TERMINATED
    assert run(rejected(TCP), until=100.0) == [(33.0, Timeout("H")), (33.0, Terminated())]


@pytest.mark.parametrize("statuses", [[], [180], [486]])
def test_transport_error_informs_the_tu_and_terminates(statuses):
    machine = InviteServer(UDP)
    for status in statuses:
        machine.send_response(status, 0.0)
    assert machine.transport_error(1.0) == [TransportError(), Terminated()]
    assert machine.state is State.TERMINATED


def test_other_methods_never_reach_an_invite_server_transaction():
    with pytest.raises(ValueError):
        InviteServer(UDP).receive_request("CANCEL", 0.0)
    with pytest.raises(ValueError):
        InviteServer(UDP).send_response(99, 0.0)
