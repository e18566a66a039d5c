"""The Via fast path gives what the general via-parm parser gives (via.py `_USUAL`)."""

from __future__ import annotations

import itertools

from ser_runtime.sip import SipParseError
from ser_runtime.sip.via import _USUAL, _via_parm, parse_via

TRANSPORTS = ["UDP", "tcp", "TLS"]
HOSTS = ["127.0.0.1", "host.example.com", "[::1]", "[2001:db8::1]", "-bad.example", "1.2.3.999", "[zz]", "a..b"]
PORTS = ["", ":5060", ":0", ":65535", ":65536", ":99999999"]
PARAMS = ["", ";branch=z9hG4bK1", ";rport", ";branch=z9hG4bK1;rport;received=192.0.2.1", ";", ";=x",
          ";branch=\u00e9", ";maddr=[::1]"]


def fields(via) -> tuple:
    return (via.protocol, via.version, via.transport, via.host, via.port, via.params, via.end_offset)


def outcome(parse):
    try:
        return fields(parse())
    except SipParseError as err:
        return ("error", err.what)


def test_fast_path_agrees_with_the_general_parser():
    taken = 0
    for transport, host, port, params in itertools.product(TRANSPORTS, HOSTS, PORTS, PARAMS):
        text = f"SIP/2.0/{transport} {host}{port}{params}"
        taken += _USUAL.fullmatch(text) is not None
        fast = outcome(lambda: parse_via(text, 100)[0])
        general = outcome(lambda: _via_parm(text, 0, len(text), 100))
        assert fast == general, text
    assert taken > 500


def test_each_via_parm_of_a_combined_line_agrees():
    first = "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa"
    for second in ("SIP/2.0/TCP [::1]:5070;rport", "SIP/2.0/UDP host.example", "SIP / 2.0 / UDP h;x=\"q\""):
        text = f"{first} , {second}"
        start = text.index(second)
        parsed = parse_via(text, 7)
        assert [fields(v) for v in parsed] == [fields(_via_parm(text, 0, len(first), 7)),
                                              fields(_via_parm(text, start, len(text), 7))]
