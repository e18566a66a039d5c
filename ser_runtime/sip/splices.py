"""Pending edits to a received message, kept as byte-range splices.

These are the changes a proxy makes before forwarding (RFC 3261 §16.6:
Request-URI, Via, Record-Route, Max-Forwards...).  SER never rewrites its
receive buffer: it records "lumps" and builds the outgoing message in one
pass.  `Splices` does the same with (start, end, replacement) triples over
the original bytes; an insertion is a splice with start == end.  Splices may
touch but not overlap, so the result does not depend on the order of the
edits, except that insertions at one offset come out in the order made.
Edits that supersede earlier ones of their kind (a new Request-URI, a new
body) are recorded under a tag.
"""

from .errors import SipParseError


class Splices:
    """An ordered set of non-overlapping edits over one byte string."""

    __slots__ = ("_items", "_count")

    def __init__(self):
        self._items = []
        self._count = 0

    def __len__(self) -> int:
        return len(self._items)

    def add(self, start: int, end: int, data: bytes) -> None:
        """Record replacing [start, end) with `data`.

        Deleting exactly the same range twice is accepted as one deletion.
        """
        if start < end and not data and any(item[:2] == (start, end) and not item[3]
                                            for item in self._items):
            return
        _check(start, end, [item[:2] for item in self._items])
        self._append(start, end, data, None)

    def set_tagged(self, tag: str, edits: list[tuple[int, int, bytes]]) -> None:
        """Replace every splice recorded under `tag` by `edits`, all or none."""
        others = [item for item in self._items if item[4] != tag]
        spans = [item[:2] for item in others]
        for start, end, _ in edits:
            _check(start, end, spans)
            spans.append((start, end))
        self._items = others
        for start, end, data in edits:
            self._append(start, end, data, tag)

    def snapshot(self) -> tuple:
        return list(self._items), self._count

    def restore(self, snapshot: tuple) -> None:
        items, self._count = snapshot
        self._items = list(items)

    def tags(self) -> set[str]:
        return {item[4] for item in self._items if item[4] is not None}

    def _append(self, start: int, end: int, data: bytes, tag: str | None) -> None:
        self._count += 1
        self._items.append((start, end, self._count, data, tag))

    def apply(self, data: bytes, start: int, end: int, extra: list[tuple[int, int, bytes]] = (),
              overrides: dict[str, list[tuple[int, int, bytes]]] | None = None) -> bytes:
        """`data[start:end]` with every splice applied, and the `extra` edits too (recorded nowhere);
        `overrides` replaces the splices of some tags for this copy only."""
        items = self._items
        if overrides:
            extra = [*extra, *(edit for edits in overrides.values() for edit in edits)]
            items = [item for item in items if item[4] not in overrides]
        if extra:
            spans = [item[:2] for item in items]
            for edit_start, edit_end, _ in extra:
                _check(edit_start, edit_end, spans)
            count = self._count
            items = items + [(s, e, count + i + 1, d, None) for i, (s, e, d) in enumerate(extra)]
        if not items:
            return data[start:end]
        out = []
        pos = start
        for splice_start, splice_end, _, replacement, _ in sorted(items, key=_order):
            out.append(data[pos:splice_start])
            out.append(replacement)
            pos = splice_end
        out.append(data[pos:end])
        return b"".join(out)


def _order(item: tuple) -> tuple[int, int, int]:
    # An insertion at the start of a replaced range comes before it.
    return item[0], item[1], item[2]


def _check(start: int, end: int, spans: list[tuple[int, int]]) -> None:
    for other_start, other_end in spans:
        if _overlap(start, end, other_start, other_end):
            raise SipParseError("overlapping edits", start)


def _overlap(start: int, end: int, other_start: int, other_end: int) -> bool:
    if start == end:
        return other_start < start < other_end
    if other_start == other_end:
        return start < other_start < end
    return start < other_end and other_start < end
