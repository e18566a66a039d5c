"""The transaction table: matching per RFC 3261 §17.1.3 and §17.2.3, like SER tm's t_lookup.c.

Keys:

- a server transaction created by an RFC 3261 request (top Via branch with
  the magic cookie) is found by branch, sent-by and method, the ACK of an
  INVITE counting as INVITE.  A CANCEL keeps its own method, so it has a
  transaction of its own; `lookup_cancel_target` finds the INVITE it
  cancels by the same branch and sent-by with method INVITE;
- an RFC 2543 request (no cookie) falls back to Request-URI, Call-ID, From
  tag, CSeq number, top Via and method (SER's defaults `ruri_matching=1`,
  `via1_matching=1`), then the To tag: the creating request's for
  retransmissions and CANCEL, for an ACK the tag of the final response sent
  (which the runtime records in `Entry.reply_to_tag`);
- a client transaction is found by the branch we put in the top Via and
  the CSeq method of the response.

An ACK never matches an INVITE server transaction that sent a 2xx: that ACK
is a transaction of its own, end to end (§17.2.3; SER's "ACK to 2xx").

A transaction that has nothing left to do but absorb retransmissions (an
RFC wait state such as Completed with Timer J, or terminated) stays
`wt_timer` seconds more, SER's wait timer, so late retransmissions still
match it and are absorbed; then `expire` drops it, even when the RFC's
longer wait timer (Timer J or D, 32 s) has not run out: SER's wait timer
takes their place. Swept every `delete_timer`, nothing outlives its
final response by more than wt_timer + delete_timer.  The table holds at most `max_entries`
transactions and refuses more with `TableFull`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ser_runtime.sip import SipMessage, Via

from .machines import InviteServer, Machine
from .timers import TimerConfig

MAGIC_COOKIE = "z9hG4bK"
DEFAULT_MAX_ENTRIES = 65536


@dataclass(frozen=True)
class ServerKey:
    """An RFC 3261 server transaction (§17.2.3)."""

    branch: str
    sent_by: tuple[str, int | None]
    method: str


@dataclass(frozen=True)
class LegacyKey:
    """An RFC 2543 server transaction; the To tag is checked on the entry."""

    request_uri: str
    call_id: str
    from_tag: str | None
    cseq_number: int
    via1: tuple[str, str, int | None, str | None]
    method: str


@dataclass(frozen=True)
class ClientKey:
    """A client transaction (§17.1.3)."""

    branch: str
    method: str


Key = ServerKey | LegacyKey | ClientKey


@dataclass(eq=False)
class Entry:
    """One transaction: its key, its machine and whatever the runtime keeps with it."""

    key: Key
    machine: Machine
    data: Any = None
    request_to_tag: str | None = None
    # To tag of the final response sent; None leaves RFC 2543 ACKs unchecked.
    reply_to_tag: str | None = None


class TableFull(Exception):
    """The table holds `max_entries` transactions already."""


class DuplicateTransaction(Exception):
    """A transaction with this key exists: the request is a retransmission."""


def server_key(request: SipMessage) -> ServerKey | LegacyKey:
    """The key a request has as a server transaction (ACK folded into INVITE)."""
    via, cseq = request.via1, request.cseq
    if via is None or cseq is None or request.call_id is None:
        raise ValueError("a request without Via, CSeq or Call-ID has no transaction")
    method = "INVITE" if request.method == "ACK" else request.method
    branch = via.branch or ""
    if branch.startswith(MAGIC_COOKIE):
        return ServerKey(branch, (via.host.lower(), via.port), method)
    return LegacyKey(request.ruri, request.call_id, _tag(request.from_), cseq.number,
                     _via_identity(via), method)


def _via_identity(via: Via) -> tuple[str, str, int | None, str | None]:
    return via.transport.upper(), via.host.lower(), via.port, via.branch


def _tag(address) -> str | None:
    return None if address is None else address.tag


class TransactionTable:
    """Transactions by key, bounded in size; `expire` removes the finished ones."""

    def __init__(self, config: TimerConfig = TimerConfig(), max_entries: int = DEFAULT_MAX_ENTRIES):
        self.config = config
        self.max_entries = max_entries
        self._entries: dict[Key, Entry] = {}
        self.peak = 0   # the most transactions held at once

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entry: Entry | None) -> bool:
        return entry is not None and self._entries.get(entry.key) is entry

    def __iter__(self):
        """The entries, as a snapshot: the caller may remove some meanwhile."""
        return iter(list(self._entries.values()))

    def add_server(self, request: SipMessage, machine: Machine, data: Any = None) -> Entry:
        """Register the server transaction a new request creates."""
        if request.method == "ACK":
            raise ValueError("an ACK never creates a server transaction")
        return self._add(Entry(server_key(request), machine, data, _tag(request.to)))

    def add_client(self, branch: str, method: str, machine: Machine, data: Any = None) -> Entry:
        """Register a client transaction by the branch of the Via we added and the method sent."""
        if method == "ACK":
            raise ValueError("an ACK never creates a client transaction")
        if not branch.startswith(MAGIC_COOKIE):
            raise ValueError(f"our branch must start with {MAGIC_COOKIE}: {branch!r}")
        return self._add(Entry(ClientKey(branch, method), machine, data))

    def _add(self, entry: Entry) -> Entry:
        if entry.key in self._entries:
            raise DuplicateTransaction(entry.key)
        if len(self._entries) >= self.max_entries:
            raise TableFull(f"transaction table full: {self.max_entries} transactions")
        self._entries[entry.key] = entry
        self.peak = max(self.peak, len(self._entries))
        return entry

    def remove(self, entry: Entry) -> None:
        """Forget a transaction (no-op if it is gone already)."""
        if self._entries.get(entry.key) is entry:
            del self._entries[entry.key]

    def lookup_request(self, request: SipMessage) -> Entry | None:
        """The server transaction a request belongs to: a retransmission, or the ACK of an INVITE."""
        entry = self._find(server_key(request), request)
        if entry is not None and request.method == "ACK" and not _takes_ack(entry):
            return None
        return entry

    def lookup_cancel_target(self, cancel: SipMessage) -> Entry | None:
        """The INVITE server transaction a CANCEL cancels (RFC 3261 §9.2)."""
        if cancel.method != "CANCEL":
            raise ValueError(f"not a CANCEL: {cancel.method}")
        return self._find(replace(server_key(cancel), method="INVITE"), cancel)

    def lookup_response(self, response: SipMessage) -> Entry | None:
        """The client transaction a response belongs to (§17.1.3)."""
        via, cseq = response.via1, response.cseq
        if via is None or cseq is None or not via.branch:
            return None
        return self._entries.get(ClientKey(via.branch, cseq.method))

    def _find(self, key: ServerKey | LegacyKey, request: SipMessage) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or isinstance(key, ServerKey):
            return entry
        # RFC 2543: the To tag tells this transaction from others of the same call.
        if request.method == "ACK":
            expected = entry.reply_to_tag
            if expected is None:
                return entry
        else:
            expected = entry.request_to_tag
        return entry if _tag(request.to) == expected else None

    def expire(self, now: float) -> list[Entry]:
        """Remove the transactions done `wt_timer` seconds ago or more; return them."""
        linger = self.config.wt_timer
        gone = [entry for entry in self._entries.values()
                if entry.machine.done_at is not None and now >= entry.machine.done_at + linger]
        for entry in gone:
            del self._entries[entry.key]
        return gone


def _takes_ack(entry: Entry) -> bool:
    machine = entry.machine
    if not isinstance(machine, InviteServer):
        return False
    status = machine.last_status
    return status is None or not 200 <= status < 300
