"""Non-INVITE client transaction, RFC 3261 §17.1.2 (Figure 6), on a virtual clock."""

import pytest

from ser_runtime.transaction import (
    NonInviteClient, PassUp, State, Terminated, Timeout, TimerConfig, TransportError,
)
from txclock import REQUEST, run, times

UDP = TimerConfig(fr_timer=32.0)  # the RFC machine: Timers B/F at 64*T1 (SER default fr_timer: 30 s)
TCP = TimerConfig(fr_timer=32.0, reliable=True)


def started(config=UDP) -> NonInviteClient:
    machine = NonInviteClient(config)
    assert machine.start(0.0) == [REQUEST]
    return machine


def test_start_sends_the_request_and_stays_in_trying():
    machine = NonInviteClient(UDP)
    assert machine.state is State.TRYING
    assert machine.start(0.0) == [REQUEST]
    assert machine.state is State.TRYING and machine.next_deadline == 0.5


def test_timer_e_doubles_capped_at_t2_until_timer_f():
    machine = started()
    log = run(machine, until=100.0)
    assert times(log, REQUEST) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert log[-2:] == [(32.0, Timeout("F")), (32.0, Terminated())]
    assert machine.state is State.TERMINATED


def test_in_proceeding_timer_e_fires_every_t2():
    machine = started()
    run(machine, until=0.5)
    assert machine.receive_response(100, 1.0) == [PassUp(100)]
    assert machine.state is State.PROCEEDING
    log = run(machine, until=100.0)
    # The pending Timer E still fires at 1.5, then every T2.
    assert times(log, REQUEST) == [1.5, 5.5, 9.5, 13.5, 17.5, 21.5, 25.5, 29.5]
    assert log[-2:] == [(32.0, Timeout("F")), (32.0, Terminated())]


def test_every_provisional_in_proceeding_is_passed_up():
    machine = started()
    machine.receive_response(100, 0.1)
    assert machine.receive_response(180, 0.2) == [PassUp(180)]
    assert machine.state is State.PROCEEDING


@pytest.mark.parametrize("provisional", [None, 100])
@pytest.mark.parametrize("final", [200, 404, 603])
def test_a_final_response_enters_completed_and_timer_k_terminates(provisional, final):
    machine = started()
    if provisional:
        machine.receive_response(provisional, 0.2)
    assert machine.receive_response(final, 1.0) == [PassUp(final)]
    assert machine.state is State.COMPLETED
    assert machine.next_deadline == 6.0  # Timer K = T4; E and F are stopped
    assert run(machine, until=100.0) == [(6.0, Terminated())]


def test_completed_absorbs_retransmitted_responses():
    machine = started()
    machine.receive_response(200, 1.0)
    assert machine.receive_response(200, 2.0) == []
    assert machine.receive_response(100, 2.0) == []
    assert machine.state is State.COMPLETED


def test_reliable_transport_no_timer_e_and_no_timer_k():
    machine = started(TCP)
    assert machine.next_deadline == 32.0
    assert machine.receive_response(200, 1.0) == [PassUp(200), Terminated()]
    assert machine.state is State.TERMINATED
    assert started(TCP).tick(32.0) == [Timeout("F"), Terminated()]


def test_terminated_ignores_everything():
    machine = started(TCP)
    machine.receive_response(200, 1.0)
    assert machine.receive_response(200, 2.0) == []
    assert machine.tick(1000.0) == []


@pytest.mark.parametrize("setup", [[], [100], [200]])
def test_transport_error_informs_the_tu_and_terminates(setup):
    machine = started()
    for status in setup:
        machine.receive_response(status, 0.1)
    assert machine.transport_error(0.2) == [TransportError(), Terminated()]
    assert machine.state is State.TERMINATED
