"""Framing messages on a TCP/TLS byte stream."""

import pytest

from sipdata import BYE, INVITE, MESSAGE
from ser_runtime.sip import MAX_MESSAGE, SipParseError, stream_message_length


def test_complete_and_incomplete_messages():
    assert stream_message_length(INVITE) == len(INVITE)
    for cut in (0, 10, INVITE.index(b"\r\n\r\n") + 2, INVITE.index(b"\r\n\r\n") + 4,
                len(INVITE) - 1):
        assert stream_message_length(INVITE[:cut]) is None


def test_back_to_back_messages_and_keepalives():
    stream = b"\r\n\r\n" + BYE + MESSAGE + INVITE[:50]
    first = stream_message_length(stream)
    assert first == 4 + len(BYE)
    second = stream_message_length(stream[first:])
    assert stream[first:first + second] == MESSAGE
    assert stream_message_length(stream[first + second:]) is None
    assert stream_message_length(b"\r\n\r\n") is None


def test_accepts_bytearray():
    assert stream_message_length(bytearray(BYE)) == len(BYE)


@pytest.mark.parametrize("data, what", [
    (b"OPTIONS sip:a@example.com SIP/2.0\r\nTo: <sip:a@example.com>\r\n\r\n",
     "missing Content-Length"),
    (b"OPTIONS sip:a@example.com SIP/2.0\r\nContent-Length: x\r\n\r\n", "bad Content-Length"),
    (b"OPTIONS sip:a@example.com SIP/2.0\r\nContent-Length: 99999\r\n\r\n", "message too large"),
    (b"OPTIONS sip:a@example.com SIP/2.0\r\nSubject: " + b"s" * MAX_MESSAGE, "message too large"),
    (b"garbage\r\n\r\n", "bad request line"),
])
def test_unframeable_streams(data, what):
    with pytest.raises(SipParseError) as info:
        stream_message_length(data)
    assert info.value.what == what
