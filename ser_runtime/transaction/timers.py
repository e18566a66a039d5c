"""Transaction timer values (RFC 3261 §17, Table 4; SER 0.9 tm's timer parameters).

All values are seconds as floats: the machines never read a clock, they
compare the `now` they are given with deadlines built from these values.

The RFC timers derive from T1, T2 and T4.  SER's tm names its own timers
after what they do; the ones a machine or the table uses are:

- `fr_inv_timer` (SER 120 s) is Timer C of a proxy (RFC 3261 §16.6 step 11):
  how long an INVITE client transaction may sit in Proceeding;
- `wt_timer` (SER 5 s) is how long the table keeps a terminated transaction
  so that late retransmissions still match it (SER's wait timer);
- `delete_timer` (SER 2 s) is how often the runtime should sweep the table
  with `TransactionTable.expire`;
- `fr_timer` (SER 30 s) is SER's final-response timeout of a branch: SER
  arms it when it sends a request and replaces it with `fr_inv_timer` when an
  INVITE branch gets a provisional.  RFC 3261 puts the same timeout at 64*T1
  (Timers B and F); here Timers B and F are the shorter of the two, so that
  `modparam("tm", "fr_timer", 2)` gives a 408 after 2 s as in SER while a raised
  fr_timer never lets a client transaction outlive the RFC's bound.  With the
  defaults (T1 0.5 s) that is SER's 30 s.  Timer H (no ACK) stays 64*T1.

SER 0.9 retransmitted with `retr_timer1p1` (1 s) doubling up to
`retr_timer2` (4 s): a config that sets them maps to `t1` and `t2`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class TimerConfig:
    """Timer values for one transport kind; `reliable` is True for TCP, TLS and SCTP."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    fr_timer: float = 30.0
    fr_inv_timer: float = 120.0
    wt_timer: float = 5.0
    delete_timer: float = 2.0
    reliable: bool = False
    # tm's noisy_ctimer: when Timer C fires on an INVITE with one branch and
    # no failure_route, SER by default drops the transaction silently and
    # lets the callee's answer, whenever it comes, pass statelessly.
    noisy_ctimer: bool = False

    def for_transport(self, reliable: bool) -> TimerConfig:
        """The same values for a reliable or an unreliable transport."""
        return replace(self, reliable=reliable)

    # Retransmission timers: a reliable transport retransmits by itself
    # (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1), so None means "not started".

    @property
    def timer_a(self) -> float | None:
        """First INVITE retransmission interval; doubles without a cap."""
        return None if self.reliable else self.t1

    @property
    def timer_e(self) -> float | None:
        """First non-INVITE retransmission interval; doubles up to T2."""
        return None if self.reliable else self.t1

    @property
    def timer_g(self) -> float | None:
        """First INVITE final-response retransmission interval; doubles up to T2."""
        return None if self.reliable else self.t1

    # Transaction timeouts: the same on every transport.

    @property
    def timer_b(self) -> float:
        """INVITE client: no response at all (SER's fr_timer, at most 64*T1)."""
        return min(64 * self.t1, self.fr_timer)

    @property
    def timer_c(self) -> float:
        """INVITE client: no final response after a provisional one."""
        return self.fr_inv_timer

    @property
    def timer_f(self) -> float:
        """Non-INVITE client: no final response (SER's fr_timer, at most 64*T1)."""
        return min(64 * self.t1, self.fr_timer)

    @property
    def timer_h(self) -> float:
        """INVITE server: no ACK for a 3xx-6xx final response."""
        return 64 * self.t1

    # Wait timers: how long a completed transaction absorbs retransmissions.
    # Nothing is retransmitted over a reliable transport, so they are 0 there.

    @property
    def timer_d(self) -> float:
        """INVITE client: absorb 3xx-6xx retransmissions.

        The RFC asks for "at least 32 s", enough to outlast the server's
        Timer H; 64*T1 keeps that true when T1 is raised above 0.5 s.
        """
        return 0.0 if self.reliable else max(32.0, 64 * self.t1)

    @property
    def timer_i(self) -> float:
        """INVITE server: absorb ACK retransmissions."""
        return 0.0 if self.reliable else self.t4

    @property
    def timer_j(self) -> float:
        """Non-INVITE server: absorb request retransmissions."""
        return 0.0 if self.reliable else 64 * self.t1

    @property
    def timer_k(self) -> float:
        """Non-INVITE client: absorb response retransmissions."""
        return 0.0 if self.reliable else self.t4
