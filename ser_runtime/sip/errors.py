"""The single error type of the SIP parser (RFC 3261 §7 framing, §25 grammar).

Every malformed input, whatever its bytes, surfaces as `SipParseError`; the
transport layer catches this one type to drop a datagram or answer 400.
The editing API raises it too when a value would produce an unparsable
message (for instance a CR inside a header value), so callers that build
messages from untrusted text need no second handler.
"""


class SipParseError(Exception):
    """A message, header value or URI does not follow the SIP grammar.

    `what` is a short fixed phrase naming the problem (stable, so callers and
    tests can match on it); `offset` is the byte offset in the message where
    it was found, or None when the problem is not tied to one place (or when
    a URI was parsed on its own, in which case it is the character offset in
    that URI).
    """

    def __init__(self, what: str, offset: int | None = None):
        super().__init__(what, offset)
        self.what = what
        self.offset = offset

    def __str__(self) -> str:
        if self.offset is None:
            return self.what
        return f"{self.what} (at byte {self.offset})"
