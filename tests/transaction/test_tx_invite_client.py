"""INVITE client transaction, RFC 3261 §17.1.1 (Figure 5), on a virtual clock."""

import time

import pytest

from ser_runtime.transaction import (
    InviteClient, PassUp, State, Terminated, Timeout, TimerConfig, TransportError,
)
from txclock import ACK, REQUEST, run, times

UDP = TimerConfig(fr_timer=32.0)  # the RFC machine: Timers B/F at 64*T1 (SER default fr_timer: 30 s)
TCP = TimerConfig(fr_timer=32.0, reliable=True)


def started(config=UDP, now=0.0) -> InviteClient:
    machine = InviteClient(config)
    assert machine.start(now) == [REQUEST]
    return machine


def test_start_sends_the_invite_and_enters_calling():
    machine = InviteClient(UDP)
    assert machine.state is State.CALLING and machine.next_deadline is None
    assert machine.start(0.0) == [REQUEST]
    assert machine.state is State.CALLING
    assert machine.next_deadline == 0.5


def test_timer_a_doubles_until_timer_b_fires_at_64_t1():
    machine = started()
    log = run(machine, until=100.0)
    assert times(log, REQUEST) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert log[-2:] == [(32.0, Timeout("B")), (32.0, Terminated())]
    assert machine.state is State.TERMINATED
    assert machine.terminated_at == 32.0
    assert machine.next_deadline is None


def test_the_32_second_timer_b_test_takes_milliseconds():
    began = time.perf_counter()
    machine = started()
    log = run(machine, until=3600.0)
    elapsed = time.perf_counter() - began
    assert log[-1] == (32.0, Terminated())
    assert elapsed < 0.1  # virtual time only: nothing sleeps


def test_reliable_transport_has_no_timer_a():
    machine = started(TCP)
    assert machine.next_deadline == 32.0
    assert run(machine, until=100.0) == [(32.0, Timeout("B")), (32.0, Terminated())]


def test_a_late_tick_retransmits_once_and_restarts_from_now():
    machine = started()
    assert machine.tick(0.2) == []
    assert machine.tick(10.0) == [REQUEST]
    assert machine.next_deadline == 11.0  # interval doubled to 1 s, counted from 10


def test_provisional_in_calling_enters_proceeding_and_stops_a_and_b():
    machine = started()
    assert machine.receive_response(100, 0.2) == [PassUp(100)]
    assert machine.state is State.PROCEEDING
    assert machine.next_deadline == 0.2 + UDP.timer_c  # only Timer C is left
    assert run(machine, until=100.0) == []


def test_each_provisional_in_proceeding_is_passed_up_and_restarts_timer_c():
    machine = started()
    machine.receive_response(100, 1.0)
    assert machine.receive_response(180, 50.0) == [PassUp(180)]
    assert machine.receive_response(183, 60.0) == [PassUp(183)]
    assert machine.state is State.PROCEEDING
    assert machine.next_deadline == 180.0


@pytest.mark.parametrize("provisional", [None, 180])
def test_2xx_terminates_at_once(provisional):
    machine = started()
    if provisional:
        machine.receive_response(provisional, 1.0)
    assert machine.receive_response(200, 2.0) == [PassUp(200), Terminated()]
    assert machine.state is State.TERMINATED
    assert machine.terminated_at == 2.0
    assert machine.next_deadline is None


def test_after_2xx_further_2xx_reach_the_tu_and_the_rest_is_dropped():
    machine = started()
    machine.receive_response(200, 1.0)
    assert machine.receive_response(200, 1.5) == [PassUp(200)]
    assert machine.receive_response(202, 1.6) == [PassUp(202)]
    assert machine.receive_response(180, 1.7) == []
    assert machine.receive_response(486, 1.8) == []


@pytest.mark.parametrize("provisional", [None, 180])
def test_non_2xx_final_sends_ack_and_enters_completed(provisional):
    machine = started()
    if provisional:
        machine.receive_response(provisional, 1.0)
    assert machine.receive_response(486, 2.0) == [ACK, PassUp(486)]
    assert machine.state is State.COMPLETED
    assert machine.next_deadline == 2.0 + 32.0  # Timer D only


def test_completed_acks_every_retransmitted_final_and_passes_it_not_up():
    machine = started()
    machine.receive_response(503, 1.0)
    assert machine.receive_response(503, 1.5) == [ACK]
    assert machine.receive_response(503, 2.5) == [ACK]
    assert machine.receive_response(180, 3.0) == []
    assert machine.state is State.COMPLETED


def test_completed_still_passes_a_2xx_up():
    machine = started()
    machine.receive_response(486, 1.0)
    assert machine.receive_response(200, 2.0) == [PassUp(200)]
    assert machine.state is State.COMPLETED


def test_timer_d_terminates_completed():
    machine = started()
    machine.receive_response(404, 1.0)
    assert run(machine, until=1000.0) == [(33.0, Terminated())]
    assert machine.state is State.TERMINATED


def test_reliable_non_2xx_final_terminates_at_once_timer_d_is_zero():
    machine = started(TCP)
    assert machine.receive_response(486, 1.0) == [ACK, PassUp(486), Terminated()]
    assert machine.state is State.TERMINATED


def test_timer_c_times_out_proceeding_then_waits_64_t1_for_the_cancelled_invite():
    machine = started()
    machine.receive_response(180, 1.0)
    assert run(machine, until=121.0) == [(121.0, Timeout("C"))]
    assert machine.state is State.PROCEEDING
    # A provisional after Timer C no longer restarts it.
    assert machine.receive_response(180, 130.0) == [PassUp(180)]
    assert run(machine, until=1000.0) == [(153.0, Terminated())]


def test_the_487_to_the_cancel_completes_normally_after_timer_c():
    machine = started()
    machine.receive_response(180, 1.0)
    run(machine, until=121.0)
    assert machine.receive_response(487, 122.0) == [ACK, PassUp(487)]
    assert machine.state is State.COMPLETED
    assert run(machine, until=1000.0) == [(154.0, Terminated())]


@pytest.mark.parametrize("setup", [[], [180], [486]])
def test_transport_error_informs_the_tu_and_terminates(setup):
    machine = started()
    for status in setup:
        machine.receive_response(status, 1.0)
    assert machine.transport_error(2.0) == [TransportError(), Terminated()]
    assert machine.state is State.TERMINATED
    assert machine.transport_error(3.0) == []


@pytest.mark.parametrize("status", [0, 99, 700])
def test_not_a_status_code(status):
    with pytest.raises(ValueError):
        started().receive_response(status, 1.0)


def test_a_very_late_tick_fires_timers_in_order_and_nothing_after_termination():
    machine = started()
    run(machine, until=31.5)  # Timer A is next due at 63.5, after Timer B
    assert machine.tick(70.0) == [Timeout("B"), Terminated()]


def test_timer_c_fires_once_even_when_shorter_than_the_cancel_wait():
    machine = started(TimerConfig(fr_inv_timer=10.0))
    machine.receive_response(180, 0.0)
    assert machine.tick(10.0) == [Timeout("C")]
    machine.receive_response(180, 11.0)
    assert run(machine, until=1000.0) == [(42.0, Terminated())]
