"""Malformed input: every failure is a SipParseError saying what is wrong."""

import random

import pytest

from sip_exercise import read_everything
from sipdata import CAPTURES, INVITE
from ser_runtime.sip import MAX_HEADERS, MAX_LINE, MAX_MESSAGE, SipMessage, SipParseError

HEAD = b"OPTIONS sip:x@example.com SIP/2.0\r\n"


def parse_error(data: bytes) -> SipParseError:
    with pytest.raises(SipParseError) as info:
        SipMessage.parse(data)
    return info.value


@pytest.mark.parametrize("name", CAPTURES)
def test_truncated_at_every_offset(name):
    data = CAPTURES[name]
    for size in range(len(data)):
        try:
            msg = SipMessage.parse(data[:size])
        except SipParseError:
            continue
        read_everything(msg)


@pytest.mark.parametrize("data, what", [
    (b"", "no end of start line"),
    (b"\r\n\r\n", "no end of start line"),
    (b"hello world", "no end of start line"),
    (b"hello world\r\n\r\n", "bad request line"),
    (b"INVITE sip:a@example.com\r\n\r\n", "bad request line"),
    (b"INVITE sip:a@example.com SIP/2.0 extra\r\n\r\n", "bad request line"),
    (b"INVITE sip:a@example.com HTTP/1.1\r\n\r\n", "bad SIP version"),
    (b"INV@TE sip:a@example.com SIP/2.0\r\n\r\n", "bad method"),
    (b"SIP/2.0 99 Too Low\r\n\r\n", "bad status code"),
    (b"SIP/2.0 2000 Too Long\r\n\r\n", "bad status code"),
    (b"SIP/2.0\r\n\r\n", "bad status code"),
    (b"SIP/two 200 OK\r\n\r\n", "bad SIP version"),
    (b"INVITE sip:\xe9@example.com SIP/2.0\r\n\r\n", "start line is not UTF-8"),
    (HEAD + b"Subject: hi\r\n", "no empty line after the headers"),
    (HEAD + b"no colon here\r\n\r\n", "header line without ':'"),
    (HEAD + b" folded: first\r\n\r\n", "folded line without a header"),
    (HEAD + b"Bad Name: x\r\n\r\n", "bad header name"),
    (HEAD + b": x\r\n\r\n", "bad header name"),
    (HEAD + b"Content-Length: abc\r\n\r\n", "bad Content-Length"),
    (HEAD + b"Content-Length: -5\r\n\r\n", "bad Content-Length"),
    (HEAD + b"Content-Length: 1e3\r\n\r\n", "bad Content-Length"),
    (HEAD + b"Content-Length: 4294967296\r\n\r\n", "bad Content-Length"),
    (HEAD + b"Content-Length:\r\n\r\n", "bad Content-Length"),
    (HEAD + b"Content-Length: 2\r\nl: 3\r\n\r\nabc", "conflicting Content-Length"),
    (HEAD + b"Content-Length: 100\r\n\r\nshort body", "Content-Length exceeds the data"),
    (HEAD + b"Subject: hi\rX-Injected: 1\r\n\r\n", "bare CR in header"),
    (HEAD + b"Subject: hi\r\r\n\r\n", "bare CR in header"),
    (HEAD + b"Subject: a\x00b\r\n\r\n", "NUL byte in header"),
])
def test_invalid(data, what):
    assert parse_error(data).what == what


def test_error_offsets_say_where():
    err = parse_error(HEAD + b"Subject: hi\rX: 1\r\n\r\n")
    assert err.offset == len(HEAD) + len(b"Subject: hi")
    assert str(err) == f"bare CR in header (at byte {err.offset})"
    err = parse_error(b"INVITE sip:ab\xff@example.com SIP/2.0\r\n\r\n")
    assert err.offset == len(b"INVITE sip:ab")


def test_size_limits():
    body = b"x" * (MAX_MESSAGE - len(HEAD) - 30)
    fits = HEAD + b"Content-Length: %d\r\n\r\n" % len(body) + body
    assert len(fits) <= MAX_MESSAGE and SipMessage.parse(fits).body == body
    assert parse_error(fits + b"x" * (MAX_MESSAGE - len(fits) + 1)).what == "message too large"


def test_header_count_limit():
    def with_headers(count):
        return HEAD + b"".join(b"X-%d: v\r\n" % i for i in range(count)) + b"\r\n"
    assert len(SipMessage.parse(with_headers(MAX_HEADERS)).headers) == MAX_HEADERS
    err = parse_error(with_headers(MAX_HEADERS + 1))
    assert err.what == "too many header lines"
    assert err.offset == with_headers(MAX_HEADERS + 1).index(b"X-256:")


def test_line_length_limit():
    prefix = b"Subject: "
    longest = HEAD + prefix + b"y" * (MAX_LINE - len(prefix)) + b"\r\n\r\n"
    assert SipMessage.parse(longest).header("subject").value == "y" * (MAX_LINE - len(prefix))
    assert parse_error(HEAD + prefix + b"y" * MAX_LINE + b"\r\n\r\n").what == "header line too long"
    folded = HEAD + prefix + b"y" * 5000 + b"\r\n " + b"y" * 5000 + b"\r\n\r\n"
    assert parse_error(folded).what == "header line too long"
    start_line = b"OPTIONS sip:" + b"u" * MAX_LINE + b"@example.com SIP/2.0\r\n\r\n"
    assert parse_error(start_line).what == "start line too long"


def test_garbage_and_binary():
    rng = random.Random(3261)
    for _ in range(300):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600)))
        try:
            read_everything(SipMessage.parse(data))
        except SipParseError:
            pass
    for data in (b"\x00" * 100, b"\xff" * 100, b"\r" * 50, b"\n" * 50, b":" * 50,
                 b"SIP/2.0 200 OK\r\n" + bytes(range(256)) + b"\r\n\r\n"):
        with pytest.raises(SipParseError):
            SipMessage.parse(data)


def test_absurd_values_are_bounded():
    data = HEAD + b"Max-Forwards: " + b"9" * 5000 + b"\r\nCSeq: " + b"1" * 5000 + b" X\r\n\r\n"
    msg = SipMessage.parse(data)
    for read in (lambda: msg.max_forwards, lambda: msg.cseq):
        with pytest.raises(SipParseError):
            read()
    assert SipMessage.parse(HEAD + b"Expires: " + b"9" * 4000 + b"\r\n\r\n").expires == 2**32 - 1


def test_error_type_is_the_only_one_for_mutated_captures():
    rng = random.Random(5060)
    for _ in range(400):
        data = bytearray(INVITE)
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] = rng.choice(b"\r\n\t :;,<>\"@[]%\x00\xff=/0123456789")
        try:
            msg = SipMessage.parse(bytes(data))
        except SipParseError:
            continue
        read_everything(msg)
