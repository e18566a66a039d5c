"""Read every accessor of a parsed message, as the fuzz and truncation tests need.

Each read may fail with SipParseError (a malformed header is only reported
when read); any other exception escapes and fails the caller.  Invariants
checked on the way: parsed URIs print back as written, and a message that
parsed re-parses after serialization, edited or not.
"""

from ser_runtime.sip import SipMessage, SipParseError

_ACCESSORS = (
    "via1", "via2", "vias", "from_", "to", "call_id", "cseq", "content_length", "max_forwards",
    "expires", "content_type", "contacts", "contact_star", "routes", "record_routes", "body",
    "parsed_ruri",
)
# Limits an edited copy can legitimately cross when the original sat at them.
_EDIT_LIMITS = {"message too large", "too many header lines"}


def read_everything(msg: SipMessage) -> None:
    for name in _ACCESSORS:
        _attempt(lambda: _touch(getattr(msg, name)))
    for field in msg.headers:
        _attempt(lambda: (field.name, field.canonical_name, field.raw, field.unfolded))
        _attempt(lambda: field.values)
        _attempt(lambda: _touch(field.parsed))
    _attempt(lambda: _touch_uri(msg.parsed_ruri, msg.ruri))
    assert SipMessage.parse(msg.serialize()).serialize() == msg.serialize()
    _check_edited_copy(msg)


def _attempt(read) -> None:
    try:
        read()
    except SipParseError:
        pass


def _touch(value) -> None:
    """Read the properties of a parsed value, and of the values it holds."""
    if isinstance(value, tuple):
        for item in value:
            _attempt(lambda: _touch(item))
        return
    for name in ("branch", "received", "rport", "has_rport", "maddr", "ttl", "sent_by", "tag",
                 "q", "expires", "display", "mime", "number", "method"):
        if hasattr(type(value), name):
            _attempt(lambda: getattr(value, name))
    if hasattr(type(value), "parsed_uri"):
        _attempt(lambda: _touch_uri(value.parsed_uri, value.uri))
    _attempt(lambda: repr(value))


def _touch_uri(uri, text: str | None) -> None:
    if uri is None:
        return
    assert str(uri) == text
    for read in (lambda: uri.user_decoded, lambda: uri.password_decoded, lambda: uri.transport,
                 lambda: uri.with_host("example.com"), lambda: uri.with_hostport("[::1]:5"),
                 lambda: uri.with_port("5061"), lambda: uri.with_user("u"),
                 lambda: uri.with_userpass("u:p"), lambda: uri.with_user_prefix("00"),
                 lambda: uri.with_user_stripped(3), lambda: uri.with_user_tail_stripped(2)):
        _attempt(read)


def _check_edited_copy(msg: SipMessage) -> None:
    msg.add_header("X-Fuzz", "1", on_top=True)
    msg.set_body(b"edited")
    if msg.is_request:
        msg.set_ruri("sip:edited@example.com")
    edited = msg.serialize()
    try:
        again = SipMessage.parse(edited)
    except SipParseError as err:
        assert err.what in _EDIT_LIMITS, err
        return
    assert again.body == b"edited"
