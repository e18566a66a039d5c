"""A virtual clock for the transaction machines: time is a float the test advances."""

from ser_runtime.transaction import Kind, Transmit

REQUEST = Transmit(Kind.REQUEST)
RESPONSE = Transmit(Kind.RESPONSE)
ACK = Transmit(Kind.ACK)


def run(machine, until: float) -> list[tuple[float, object]]:
    """Tick the machine at each of its deadlines up to `until`; every action with its time."""
    log = []
    while (due := machine.next_deadline) is not None and due <= until:
        log += [(due, action) for action in machine.tick(due)]
    return log


def times(log, action) -> list[float]:
    """When `action` happened in a log from `run`."""
    return [when for when, done in log if done == action]
