"""SIP requests and replies: lazy parsing, accessors, splice edits (RFC 3261 §7, §18.3, §20).

`SipMessage.parse` indexes a datagram once (see framing.py); header values
are parsed the first time an accessor asks for them and cached per header.
Accessors always describe the message as received: edits are recorded as
splices and show only in `serialize()`, which builds the outgoing bytes in
one pass and leaves `data` untouched, like SER's lumps.
"""

from .errors import SipParseError
from .framing import EMPTY_LINE, MAX_MESSAGE, Layout, index_message, skip_keepalives
from .headers import ContentType, CSeq, HeaderField
from .lexer import byte_offset, is_token
from .names import header_key
from .nameaddr import NameAddr, is_star
from .splices import Splices
from .uri import SipUri
from .via import Via

class SipMessage(Layout):
    """A received SIP request or reply.

    Requests have `method`, `ruri` and `version`; replies have `version`,
    `status` and `reason` (the other three are None).  The message proper
    spans data[start:body_end]: leading keep-alive CRLFs and bytes after the
    body are not part of it.
    """

    __slots__ = ("data", "body_end", "new_ruri", "_fields", "_first", "_parsed_ruri", "_splices", "_at_send",
                 "_values")

    @classmethod
    def parse(cls, data: bytes) -> "SipMessage":
        """Index a datagram; raises SipParseError and nothing else for any bytes."""
        if type(data) is not bytes:
            data = bytes(data)
        if len(data) > MAX_MESSAGE:
            raise SipParseError("message too large", MAX_MESSAGE)
        msg = cls.__new__(cls)
        index_message(data, skip_keepalives(data), msg)
        msg.body_end = len(data)
        if msg.content_length is not None:
            msg.body_end = msg.body_start + msg.content_length
            if msg.body_end > len(data):
                raise SipParseError("Content-Length exceeds the data", len(data))
        msg.data = data
        msg.new_ruri = None
        msg._fields = None
        msg._first = None
        msg._parsed_ruri = None
        msg._splices = None
        msg._at_send = None
        msg._values = None
        return msg

    def __len__(self) -> int:
        return self.body_end - self.start

    def __repr__(self) -> str:
        if self.is_request:
            return f"<SipMessage {self.method} {self.ruri}>"
        return f"<SipMessage {self.status} {self.reason}>"

    # Header lookup

    @property
    def headers(self) -> tuple[HeaderField, ...]:
        """Every header field, in message order."""
        return tuple(self._field(i) for i in range(len(self.entries)))

    def header(self, name: str) -> HeaderField | None:
        """The first field called `name` (any case, compact forms too), or None."""
        i = self._first_index(header_key(name))
        return None if i is None else self._field(i)

    def has_header(self, name: str) -> bool:
        """Whether a field called `name` is present, without parsing anything."""
        return self._first_index(header_key(name)) is not None

    def _first_index(self, key: str) -> int | None:
        # Built on the first lookup: a proxy asks for several headers per message.
        first = self._first
        if first is None:
            entries = self.entries
            last = len(entries) - 1
            first = self._first = {entries[i][0]: i for i in range(last, -1, -1)}
        return first.get(key)

    def headers_named(self, name: str) -> tuple[HeaderField, ...]:
        """Every field called `name`, in message order."""
        key = header_key(name)
        return tuple(self._field(i) for i, entry in enumerate(self.entries) if entry[0] == key)

    def _field(self, i: int) -> HeaderField:
        fields = self._fields
        if fields is None:
            fields = self._fields = [None] * len(self.entries)
        field = fields[i]
        if field is None:
            field = fields[i] = HeaderField(self.data, *self.entries[i])
        return field

    def _first_value(self, key: str):
        # Memoized: a proxy asks for the top Via or the CSeq a dozen times per message.
        values = self._values
        if values is None:
            values = self._values = {}
        elif key in values:
            return values[key]
        i = self._first_index(key)
        value = values[key] = None if i is None else self._field(i).parsed
        return value

    def _all_values(self, key: str) -> tuple:
        values = ()
        for i, entry in enumerate(self.entries):
            if entry[0] == key:
                values += self._field(i).parsed
        return values

    # Typed accessors: None (or an empty tuple) when the header is absent,
    # SipParseError when it is malformed.

    @property
    def vias(self) -> tuple[Via, ...]:
        """Every via-parm of every Via header, topmost first."""
        return self._all_values("via")

    @property
    def via1(self) -> Via | None:
        vias = self._first_value("via")
        return vias[0] if vias else None

    @property
    def via2(self) -> Via | None:
        vias = self._first_value("via")
        if vias and len(vias) > 1:
            return vias[1]
        vias = self.vias
        return vias[1] if len(vias) > 1 else None

    @property
    def from_(self) -> NameAddr | None:
        return self._first_value("from")

    @property
    def to(self) -> NameAddr | None:
        return self._first_value("to")

    @property
    def call_id(self) -> str | None:
        return self._first_value("call-id")

    @property
    def cseq(self) -> CSeq | None:
        return self._first_value("cseq")

    @property
    def max_forwards(self) -> int | None:
        return self._first_value("max-forwards")

    @property
    def expires(self) -> int | None:
        return self._first_value("expires")

    @property
    def content_type(self) -> ContentType | None:
        return self._first_value("content-type")

    @property
    def contacts(self) -> tuple[NameAddr, ...]:
        """The addresses of every Contact header (empty for `Contact: *`)."""
        return self._all_values("contact")

    @property
    def contact_star(self) -> bool:
        """True when a Contact header is the wildcard `*`."""
        return any(is_star(field.value) for field in self.headers_named("contact"))

    @property
    def routes(self) -> tuple[NameAddr, ...]:
        return self._all_values("route")

    @property
    def record_routes(self) -> tuple[NameAddr, ...]:
        return self._all_values("record-route")

    @property
    def body(self) -> bytes:
        return self.data[self.body_start:self.body_end]

    @property
    def parsed_ruri(self) -> SipUri | None:
        """The received Request-URI parsed (None for replies)."""
        if self.ruri is None:
            return None
        if self._parsed_ruri is None:
            try:
                self._parsed_ruri = SipUri.parse(self.ruri)
            except SipParseError as err:
                offset = self._ruri_offset() + byte_offset(self.ruri, err.offset or 0)
                raise SipParseError(err.what, offset) from None
        return self._parsed_ruri

    @property
    def current_ruri(self) -> str | None:
        """The Request-URI the message will be sent with: the new one if set."""
        return self.ruri if self.new_ruri is None else self.new_ruri

    def _ruri_offset(self) -> int:
        return self.data.find(self.ruri.encode(), self.start + len(self.method.encode()))

    # Edits

    def insert(self, offset: int, data: bytes) -> None:
        """Insert raw bytes at a message offset when serializing."""
        self._edit(offset, offset, data)

    def delete(self, start: int, end: int) -> None:
        self._edit(start, end, b"")

    def replace(self, start: int, end: int, data: bytes) -> None:
        self._edit(start, end, data)

    def add_header(self, name: str, value: str, *, on_top: bool = False,
                   before: HeaderField | None = None) -> None:
        """Add the header line `name: value`.

        It goes after the last header, or before `before`, or with `on_top`
        before the first header of the same name (before all headers when
        there is none), which is how a proxy puts its Via on top.
        """
        line = _header_line(name, value)
        if before is not None:
            offset = self._own(before).start
        elif on_top:
            same = self.header(name)
            offset = same.start if same is not None else self._first_header_start()
        else:
            offset = self.headers_end
        self._edit(offset, offset, line)

    def remove_header(self, field: HeaderField) -> None:
        """Delete a header field, its folded lines and its line terminator."""
        self._own(field)
        self._edit(field.start, field.end, b"")

    def replace_header_value(self, field: HeaderField, value: str) -> None:
        self._own(field)
        _check_value(value)
        self._edit(field.value_start, field.value_end, _encoded(value))

    def set_ruri(self, uri: str) -> None:
        """Send the request with `uri` as its Request-URI (stored as given, like SER's seturi)."""
        if not self.is_request:
            raise SipParseError("a reply has no Request-URI")
        if uri.split() != [uri] or "\0" in uri:
            raise SipParseError("bad Request-URI")
        start = self._ruri_offset()
        self._edits().set_tagged("ruri", [(start, start + len(self.ruri.encode()), _encoded(uri))])
        self.new_ruri = uri

    def revert_ruri(self) -> None:
        """Forget `set_ruri`: the request goes out with its received Request-URI."""
        self._edits().set_tagged("ruri", [])
        self.new_ruri = None

    def set_body(self, body: bytes) -> None:
        """Replace the body and make Content-Length match it."""
        body = bytes(body)
        length = str(len(body)).encode()
        edits = [(self.body_start, self.body_end, body)]
        lengths = self.headers_named("content-length")
        for field in lengths:
            edits.append((field.value_start, field.value_end, length))
        if not lengths:
            line = b"Content-Length: " + length + b"\r\n"
            edits.append((self.headers_end, self.headers_end, line))
        self._edits().set_tagged("body", edits)

    def set_edits(self, tag: str, edits: list[tuple[int, int, bytes]]) -> None:
        """Record raw edits under `tag`, replacing what was recorded under it; `[]` takes them back.

        Modules tag what they may have to undo later (rr's Record-Route lines).
        """
        for start, end, _ in edits:
            if not self.start <= start <= end <= self.body_end:
                raise SipParseError("edit outside the message", start)
        self._edits().set_tagged(tag, edits)

    def checkpoint(self) -> tuple:
        """The edits and the new Request-URI as they are now, for `rollback`.

        tm's branch_route edits one outgoing branch: what it changes is taken
        back before the next branch is built.
        """
        return self.new_ruri, self._edits().snapshot()

    def rollback(self, checkpoint: tuple) -> None:
        self.new_ruri, snapshot = checkpoint
        self._edits().restore(snapshot)

    def set_send_edits(self, tag: str, decide) -> None:
        """Let the edits under `tag` be decided per outgoing copy (SER's SUBST lumps).

        `decide(ip, port, proto)` gets the socket a copy is sent from and
        returns the edits to use for that copy instead of the recorded ones,
        or None to keep them: rr's double Record-Route needs the outgoing
        socket, which only the sender knows.
        """
        if self._at_send is None:
            self._at_send = {}
        self._at_send[tag] = decide

    def edit_tags(self) -> set[str]:
        """The tags edits are recorded under."""
        return set() if self._splices is None else self._splices.tags()

    def serialize(self, extra: list[tuple[int, int, bytes]] = (), sending: tuple | None = None) -> bytes:
        """The message with every recorded edit applied, plus `extra` raw edits for this copy only.

        A proxy passes its own Via and `received=` as `extra`: they belong to
        one outgoing copy, not to the message.  `sending` (ip, port, proto)
        is the socket the copy leaves from, for `set_send_edits`.
        """
        for start, end, _ in extra:
            if not self.start <= start <= end <= self.body_end:
                raise SipParseError("edit outside the message", start)
        if self._splices is None and not extra:
            return self.data[self.start:self.body_end]
        overrides = None
        if sending is not None and self._at_send:
            overrides = {tag: edits for tag, decide in self._at_send.items()
                         if (edits := decide(*sending)) is not None}
        return self._edits().apply(self.data, self.start, self.body_end, extra, overrides)

    def _edits(self) -> Splices:
        if self._splices is None:
            self._splices = Splices()
        return self._splices

    def _edit(self, start: int, end: int, data: bytes) -> None:
        if not self.start <= start <= end <= self.body_end:
            raise SipParseError("edit outside the message", start)
        self._edits().add(start, end, bytes(data))

    def _own(self, field: HeaderField) -> HeaderField:
        if field._data is not self.data:
            raise SipParseError("header field of another message", field.start)
        return field

    def _first_header_start(self) -> int:
        return self.entries[0][1] if self.entries else self.headers_end


def _header_line(name: str, value: str) -> bytes:
    if not is_token(name):
        raise SipParseError("bad header name")
    _check_value(value)
    return _encoded(f"{name}: {value}\r\n")


def _encoded(text: str) -> bytes:
    # Surrogate escapes stand for the undecodable bytes of received values.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as err:
        raise SipParseError("text is not encodable as UTF-8", err.start) from None


def _check_value(value: str) -> None:
    if "\r" in value or "\n" in value or "\0" in value:
        raise SipParseError("CR, LF or NUL in header value")


def stream_message_length(buffer: bytes) -> int | None:
    """How many bytes of a TCP/TLS stream buffer the first message takes.

    The count includes keep-alive CRLFs before it.  None means the message
    is not complete yet; SipParseError means the stream cannot be framed
    (on a stream, Content-Length is mandatory, RFC 3261 §18.3).
    """
    data = bytes(buffer)
    start = skip_keepalives(data)
    empty = EMPTY_LINE.search(data, start, start + MAX_MESSAGE)
    if empty is None:
        if len(data) - start > MAX_MESSAGE:
            raise SipParseError("message too large", start + MAX_MESSAGE)
        return None
    layout = Layout()
    index_message(data, start, layout)
    if layout.content_length is None:
        raise SipParseError("missing Content-Length", layout.start)
    total = layout.body_start + layout.content_length
    if total - start > MAX_MESSAGE:
        raise SipParseError("message too large", start)
    return total if total <= len(data) else None
