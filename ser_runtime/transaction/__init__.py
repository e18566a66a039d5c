"""SIP transactions without sockets or clocks (RFC 3261 §17; SER's tm module).

`machines` holds the four state machines of §17.1 and §17.2 (events in,
actions out), `timers` their timer values, `table` the transaction table
that matches requests and responses to them (§17.1.3, §17.2.3).
"""

from .machines import (
    Action, InviteClient, InviteServer, Kind, Machine, NonInviteClient, NonInviteServer, PassUp,
    State, Terminated, Timeout, Transmit, TransportError,
)
from .table import (
    ClientKey, DuplicateTransaction, Entry, LegacyKey, ServerKey, TableFull, TransactionTable,
    server_key,
)
from .timers import TimerConfig

__all__ = [
    "Action", "ClientKey", "DuplicateTransaction", "Entry", "InviteClient", "InviteServer", "Kind",
    "LegacyKey", "Machine", "NonInviteClient", "NonInviteServer", "PassUp", "ServerKey", "State",
    "TableFull", "Terminated", "Timeout", "TimerConfig", "TransactionTable", "Transmit",
    "TransportError", "server_key",
]
