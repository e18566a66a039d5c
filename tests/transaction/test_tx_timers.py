"""TimerConfig: RFC 3261 Table 4 values and SER 0.9 tm's defaults."""

import pytest

from ser_runtime.transaction import TimerConfig
from stdlib_modules.tm import EXPORTS

UDP = TimerConfig()
TCP = TimerConfig(reliable=True)


def test_rfc_base_values():
    assert (UDP.t1, UDP.t2, UDP.t4) == (0.5, 4.0, 5.0)


@pytest.mark.parametrize("name", ["fr_timer", "fr_inv_timer", "wt_timer", "delete_timer"])
def test_ser_defaults_match_the_tm_export_table(name):
    assert getattr(UDP, name) == EXPORTS.param(name, "0.9").default


def test_unreliable_timer_values():
    assert (UDP.timer_a, UDP.timer_e, UDP.timer_g) == (0.5, 0.5, 0.5)
    # Timers B and F: SER's fr_timer (30 s) bounded by the RFC's 64*T1.
    assert (UDP.timer_b, UDP.timer_f, UDP.timer_h, UDP.timer_j) == (30.0, 30.0, 32.0, 32.0)
    assert (UDP.timer_d, UDP.timer_i, UDP.timer_k) == (32.0, 5.0, 5.0)
    assert UDP.timer_c == 120.0


def test_reliable_transports_never_retransmit_nor_wait():
    assert (TCP.timer_a, TCP.timer_e, TCP.timer_g) == (None, None, None)
    assert (TCP.timer_d, TCP.timer_i, TCP.timer_j, TCP.timer_k) == (0.0, 0.0, 0.0, 0.0)
    # The transaction timeouts still run: a TCP peer may never answer.
    assert (TCP.timer_b, TCP.timer_f, TCP.timer_h) == (30.0, 30.0, 32.0)


def test_fr_timer_bounds_timers_b_and_f_up_to_64_t1():
    assert (TimerConfig(fr_timer=2.0).timer_b, TimerConfig(fr_timer=2.0).timer_f) == (2.0, 2.0)
    assert TimerConfig(fr_timer=2.0).timer_c == 120.0  # fr_inv_timer after a provisional
    assert TimerConfig(fr_timer=100.0).timer_b == 32.0


def test_timer_d_stays_at_least_32s_and_outlasts_timer_h_with_a_larger_t1():
    slow = TimerConfig(t1=1.0)  # SER 0.9's retr_timer1p1
    assert slow.timer_d == 64.0 >= slow.timer_h


def test_for_transport_keeps_the_other_values():
    config = TimerConfig(fr_inv_timer=60.0)
    assert config.for_transport(True) == TimerConfig(fr_inv_timer=60.0, reliable=True)
    assert config.for_transport(True).for_transport(False) == config
