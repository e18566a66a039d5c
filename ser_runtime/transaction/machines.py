"""The four transaction state machines of RFC 3261 §17.1.1, §17.1.2, §17.2.1, §17.2.2.

Figures 5 to 8, written like h11: no sockets and no clock.  Every method
takes an event (a response or request received, a response from the TU, a
transport failure, or the current time for `tick`) and returns the list of
actions the runtime must perform, in order.  `next_deadline` says when
`tick` must be called next.  The machines know status codes and methods
only; the runtime keeps the bytes and builds the ACK.

Where RFC 3261 and SER 0.9's tm differ:

- a 2xx terminates an INVITE client or server transaction at once (RFC
  3261), while SER kept it for `wt_timer`; the transaction table keeps
  terminated transactions that long (see table.py), so late 2xx
  retransmissions still find the INVITE client and are passed up, and late
  INVITE retransmissions are absorbed;
- an INVITE client in Proceeding runs SER's `fr_inv_timer` (a proxy's Timer
  C, RFC 3261 §16.6), restarted on every provisional response as SER does
  with its default `restart_fr_on_each_reply=1`.  When it fires the TU
  sends CANCEL and answers 408 upstream; the machine then waits 64*T1 for
  the final response to the INVITE before giving up (RFC 3261 §9.1).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .timers import TimerConfig


class State(enum.Enum):
    CALLING = "Calling"
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    TERMINATED = "Terminated"


class Kind(enum.Enum):
    """What a `Transmit` sends."""

    REQUEST = "request"    # the client transaction's request, first time or again
    RESPONSE = "response"  # the latest response the TU gave the server transaction
    ACK = "ack"            # the ACK for a 3xx-6xx response, built per RFC 3261 §17.1.1.3


@dataclass(frozen=True)
class Transmit:
    """Hand a message to the transport: see `Kind` for which one."""

    kind: Kind


@dataclass(frozen=True)
class PassUp:
    """Deliver the response just received to the TU (client transactions)."""

    status: int


@dataclass(frozen=True)
class Timeout:
    """A transaction timer ran out; `timer` is its RFC letter.

    "B" and "F": the request got no final response, the TU acts as if it had
    received a 408 (RFC 3261 §8.1.3.1, §16.7 step 6).  "C": the INVITE got
    no final response within `fr_inv_timer` after a provisional one, the TU
    cancels it and acts on a 408 (§16.8).  "H": the ACK for a 3xx-6xx
    response never came (§17.2.1); there is nobody left to answer.
    """

    timer: str


@dataclass(frozen=True)
class TransportError:
    """The transport failed to send (RFC 3261 §17.1.4, §17.2.4).

    A client's TU treats it like a 503 response (§8.1.3.1); a server's TU
    learns that its response could not be delivered.
    """


@dataclass(frozen=True)
class Terminated:
    """The machine reached Terminated; it does nothing more (table.py may keep it a while)."""


Action = Transmit | PassUp | Timeout | TransportError | Terminated


def _check_status(status: int) -> None:
    if not 100 <= status <= 699:
        raise ValueError(f"not a SIP status code: {status}")


class _Machine:
    """Timer bookkeeping shared by the four machines.

    Each timer is a deadline named by its RFC letter in lower case ("a" is
    Timer A) and fired by the method `_timer_<name>`.  A machine runs at
    most one retransmission timer, whose current interval is `_interval`.
    """

    def __init__(self, config: TimerConfig, state: State):
        self.config = config
        self.state = state
        self.terminated_at: float | None = None
        # When the transaction had nothing left to do but absorb retransmissions (a wait
        # state or the end): SER puts it on the wait timer then, and so does the table.
        self.done_at: float | None = None
        self._deadlines: dict[str, float] = {}
        self._interval = 0.0

    @property
    def next_deadline(self) -> float | None:
        """The earliest time `tick` has work to do, or None when no timer runs."""
        return min(self._deadlines.values(), default=None)

    def tick(self, now: float) -> list[Action]:
        """Fire every timer due at `now`, earliest first, each once.

        A retransmission timer is restarted from `now`, so a late tick sends
        one retransmission rather than a burst of them.
        """
        actions: list[Action] = []
        for name, due in sorted(self._deadlines.items(), key=lambda item: item[1]):
            if due > now:
                break
            # An earlier timer of this tick may have stopped this one.
            if self._deadlines.get(name) == due:
                del self._deadlines[name]
                actions += getattr(self, "_timer_" + name)(now)
        return actions

    def release(self, now: float) -> None:
        """Stop every timer and terminate without a word (SER's put_on_wait).

        The table keeps the transaction `wt_timer` more, so what still
        arrives for it matches and is absorbed rather than forwarded.
        """
        if self.state is not State.TERMINATED:
            self._terminate(now)

    def transport_error(self, now: float) -> list[Action]:
        """The transport could not send one of this transaction's messages."""
        if self.state is State.TERMINATED:
            return []
        return [TransportError(), *self._terminate(now)]

    def _start(self, name: str, now: float, delay: float) -> None:
        self._deadlines[name] = now + delay

    def _stop(self, *names: str) -> None:
        for name in names:
            self._deadlines.pop(name, None)

    def _start_retransmissions(self, name: str, now: float, first: float | None) -> None:
        if first is not None:
            self._interval = first
            self._start(name, now, first)

    def _retransmit(self, name: str, now: float, kind: Kind, next_interval: float) -> list[Action]:
        self._interval = next_interval
        self._start(name, now, next_interval)
        return [Transmit(kind)]

    def _wait(self, state: State, timer: str, delay: float, now: float) -> list[Action]:
        """Enter a state that only absorbs retransmissions for `delay` seconds."""
        self._deadlines.clear()
        if self.done_at is None:
            self.done_at = now
        if delay <= 0:
            return self._terminate(now)
        self.state = state
        self._start(timer, now, delay)
        return []

    def _terminate(self, now: float) -> list[Action]:
        self.state = State.TERMINATED
        self.terminated_at = now
        if self.done_at is None:
            self.done_at = now
        self._deadlines.clear()
        return [Terminated()]


class InviteClient(_Machine):
    """INVITE client transaction, RFC 3261 §17.1.1 (Figure 5)."""

    def __init__(self, config: TimerConfig):
        super().__init__(config, State.CALLING)

    def start(self, now: float) -> list[Action]:
        """The TU hands over the INVITE: send it and start Timers A and B."""
        self._start("b", now, self.config.timer_b)
        self._start_retransmissions("a", now, self.config.timer_a)
        return [Transmit(Kind.REQUEST)]

    def receive_response(self, status: int, now: float) -> list[Action]:
        """A response matched this transaction (RFC 3261 §17.1.3)."""
        _check_status(status)
        if self.state in (State.CALLING, State.PROCEEDING):
            if status < 200:
                return self._provisional(status, now)
            if status < 300:
                return [PassUp(status), *self._terminate(now)]
            return [Transmit(Kind.ACK), PassUp(status),
                    *self._wait(State.COMPLETED, "d", self.config.timer_d, now)]
        # Later 2xx (retransmissions, other forks) go straight to the TU:
        # RFC 3261 §17.1.1.2 leaves them to it, and SER relays every 2xx.
        if 200 <= status < 300:
            return [PassUp(status)]
        if self.state is State.COMPLETED and status >= 300:
            return [Transmit(Kind.ACK)]
        return []

    def _provisional(self, status: int, now: float) -> list[Action]:
        self.state = State.PROCEEDING
        self._stop("a", "b")
        # Once Timer C has fired only the outcome of the CANCEL matters.
        if "cancel_wait" not in self._deadlines:
            self._start("c", now, self.config.timer_c)
        return [PassUp(status)]

    def _timer_a(self, now: float) -> list[Action]:
        return self._retransmit("a", now, Kind.REQUEST, 2 * self._interval)

    def _timer_b(self, now: float) -> list[Action]:
        return [Timeout("B"), *self._terminate(now)]

    def _timer_c(self, now: float) -> list[Action]:
        self._start("cancel_wait", now, 64 * self.config.t1)
        return [Timeout("C")]

    _timer_d = _Machine._terminate
    # RFC 3261 §9.1: no final response 64*T1 after the CANCEL: give up.
    _timer_cancel_wait = _Machine._terminate


class NonInviteClient(_Machine):
    """Non-INVITE client transaction, RFC 3261 §17.1.2 (Figure 6)."""

    def __init__(self, config: TimerConfig):
        super().__init__(config, State.TRYING)

    def start(self, now: float) -> list[Action]:
        """The TU hands over the request: send it and start Timers E and F."""
        self._start("f", now, self.config.timer_f)
        self._start_retransmissions("e", now, self.config.timer_e)
        return [Transmit(Kind.REQUEST)]

    def receive_response(self, status: int, now: float) -> list[Action]:
        """A response matched this transaction (RFC 3261 §17.1.3)."""
        _check_status(status)
        if self.state not in (State.TRYING, State.PROCEEDING):
            return []  # Completed absorbs retransmitted finals
        if status < 200:
            self.state = State.PROCEEDING
            return [PassUp(status)]
        return [PassUp(status), *self._wait(State.COMPLETED, "k", self.config.timer_k, now)]

    def _timer_e(self, now: float) -> list[Action]:
        # In Proceeding the server has answered: retransmit only every T2.
        if self.state is State.PROCEEDING:
            interval = self.config.t2
        else:
            interval = min(2 * self._interval, self.config.t2)
        return self._retransmit("e", now, Kind.REQUEST, interval)

    def _timer_f(self, now: float) -> list[Action]:
        return [Timeout("F"), *self._terminate(now)]

    _timer_k = _Machine._terminate


class _Server(_Machine):
    """What both server machines share: the latest response the TU sent."""

    def __init__(self, config: TimerConfig, state: State):
        super().__init__(config, state)
        self.last_status: int | None = None

    def _send(self, status: int) -> list[Action]:
        self.last_status = status
        return [Transmit(Kind.RESPONSE)]


class InviteServer(_Server):
    """INVITE server transaction, RFC 3261 §17.2.1 (Figure 7).

    It starts in Proceeding when the runtime creates it for a new INVITE.
    RFC 3261 wants a 100 Trying within 200 ms; SER's t_relay sends it at
    once, so the TU does it here too, with `send_response(100, now)`.
    """

    def __init__(self, config: TimerConfig):
        super().__init__(config, State.PROCEEDING)

    def receive_request(self, method: str, now: float) -> list[Action]:
        """A retransmitted INVITE, or an ACK, matched this transaction (§17.2.3)."""
        if method == "INVITE":
            # Resend the latest response, provisional or final, if any.
            if self.state in (State.PROCEEDING, State.COMPLETED) and self.last_status is not None:
                return [Transmit(Kind.RESPONSE)]
            return []
        if method == "ACK":
            if self.state is State.COMPLETED:
                return self._wait(State.CONFIRMED, "i", self.config.timer_i, now)
            return []  # Confirmed absorbs ACK retransmissions
        raise ValueError(f"{method} cannot match an INVITE server transaction")

    def send_response(self, status: int, now: float) -> list[Action]:
        """The TU answers the INVITE; once a final is out, later ones are discarded."""
        _check_status(status)
        if self.state is not State.PROCEEDING:
            return []
        if status < 200:
            return self._send(status)
        if status < 300:
            # The TU, not the transaction, retransmits a 2xx (§13.3.1.4).
            return [*self._send(status), *self._terminate(now)]
        self.state = State.COMPLETED
        self._start("h", now, self.config.timer_h)
        self._start_retransmissions("g", now, self.config.timer_g)
        return self._send(status)

    def _timer_g(self, now: float) -> list[Action]:
        return self._retransmit("g", now, Kind.RESPONSE, min(2 * self._interval, self.config.t2))

    def _timer_h(self, now: float) -> list[Action]:
        return [Timeout("H"), *self._terminate(now)]

    _timer_i = _Machine._terminate


class NonInviteServer(_Server):
    """Non-INVITE server transaction, RFC 3261 §17.2.2 (Figure 8); starts in Trying."""

    def __init__(self, config: TimerConfig):
        super().__init__(config, State.TRYING)

    def receive_request(self, method: str, now: float) -> list[Action]:
        """A retransmission of the request matched this transaction (§17.2.3)."""
        if method == "ACK":
            raise ValueError("ACK cannot match a non-INVITE server transaction")
        if self.state in (State.PROCEEDING, State.COMPLETED):
            return [Transmit(Kind.RESPONSE)]
        return []  # Trying: the TU has not answered yet, nothing to resend

    def send_response(self, status: int, now: float) -> list[Action]:
        """The TU answers the request; once a final is out, later ones are discarded."""
        _check_status(status)
        if self.state not in (State.TRYING, State.PROCEEDING):
            return []
        if status < 200:
            self.state = State.PROCEEDING
            return self._send(status)
        return [*self._send(status), *self._wait(State.COMPLETED, "j", self.config.timer_j, now)]

    _timer_j = _Machine._terminate


Machine = InviteClient | NonInviteClient | InviteServer | NonInviteServer
