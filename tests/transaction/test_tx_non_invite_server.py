"""Non-INVITE server transaction, RFC 3261 §17.2.2 (Figure 8), on a virtual clock."""

import pytest

from ser_runtime.transaction import (
    NonInviteServer, State, Terminated, TimerConfig, TransportError,
)
from txclock import RESPONSE, run

UDP = TimerConfig()
TCP = TimerConfig(reliable=True)


def test_a_new_server_transaction_is_in_trying_and_absorbs_retransmissions():
    machine = NonInviteServer(UDP)
    assert machine.state is State.TRYING and machine.next_deadline is None
    assert machine.receive_request("OPTIONS", 0.5) == []


def test_provisional_enters_proceeding_and_retransmissions_get_it_again():
    machine = NonInviteServer(UDP)
    assert machine.send_response(100, 0.0) == [RESPONSE]
    assert machine.state is State.PROCEEDING
    assert machine.receive_request("REGISTER", 0.5) == [RESPONSE]
    assert machine.send_response(183, 0.6) == [RESPONSE]
    assert machine.last_status == 183 and machine.state is State.PROCEEDING


@pytest.mark.parametrize("provisional", [None, 100])
@pytest.mark.parametrize("final", [200, 404])
def test_final_enters_completed_and_timer_j_terminates(provisional, final):
    machine = NonInviteServer(UDP)
    if provisional:
        machine.send_response(provisional, 0.0)
    assert machine.send_response(final, 1.0) == [RESPONSE]
    assert machine.state is State.COMPLETED
    assert machine.next_deadline == 33.0  # Timer J = 64*T1
    assert run(machine, until=100.0) == [(33.0, Terminated())]


def test_completed_resends_the_final_and_discards_other_finals():
    machine = NonInviteServer(UDP)
    machine.send_response(200, 1.0)
    assert machine.receive_request("BYE", 2.0) == [RESPONSE]
    assert machine.send_response(500, 2.0) == []
    assert machine.send_response(100, 2.0) == []
    assert machine.last_status == 200


def test_nothing_is_retransmitted_on_a_timer():
    machine = NonInviteServer(UDP)
    machine.send_response(200, 0.0)
    assert [action for _, action in run(machine, until=100.0)] == [Terminated()]


def test_reliable_transport_timer_j_is_zero():
    machine = NonInviteServer(TCP)
    assert machine.send_response(200, 1.0) == [RESPONSE, Terminated()]
    assert machine.state is State.TERMINATED
    assert machine.receive_request("BYE", 2.0) == []


@pytest.mark.parametrize("statuses", [[], [100], [200]])
def test_transport_error_informs_the_tu_and_terminates(statuses):
    machine = NonInviteServer(UDP)
    for status in statuses:
        machine.send_response(status, 0.0)
    assert machine.transport_error(1.0) == [TransportError(), Terminated()]


def test_an_ack_never_reaches_a_non_invite_server_transaction():
    with pytest.raises(ValueError):
        NonInviteServer(UDP).receive_request("ACK", 0.0)
