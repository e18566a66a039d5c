"""SIP messages used as test data: captures of the kinds a proxy sees every day.

Written for this project.  Each is kept as text with LF line ends and turned
into CRLF bytes by `wire`, which also fills in `{length}` with the body size.
"""


def wire(text: str, *, line_end: str = "\r\n") -> bytes:
    """CRLF-terminated bytes of `text`; "{length}" becomes the body's byte length."""
    head, sep, body = text.partition("\n\n")
    head = head.replace("\n", line_end)
    body_bytes = body.replace("\n", "\r\n").encode()
    head = head.replace("{length}", str(len(body_bytes)))
    return head.encode() + (line_end * 2).encode() + body_bytes


REGISTER = wire("""\
REGISTER sip:registrar.example.org SIP/2.0
Via: SIP/2.0/UDP 192.0.2.33:5060;rport;branch=z9hG4bKreg7781
Max-Forwards: 70
From: "Carol" <sip:carol@example.org>;tag=a73kszlfl
To: "Carol" <sip:carol@example.org>
Call-ID: 4711reg@192.0.2.33
CSeq: 2 REGISTER
Contact: <sip:carol@192.0.2.33:5060;transport=udp>;expires=3600;q=0.8
Authorization: Digest username="carol", realm="example.org", nonce="4f1c0ab2e1", uri="sip:registrar.example.org", response="6629fae49393a05397450978507c4ef1", algorithm=MD5
Expires: 3600
User-Agent: TestPhone 3.1
Content-Length: {length}

""")

SDP_OFFER = """\
v=0
o=dave 1180 1180 IN IP4 198.51.100.7
s=call
c=IN IP4 198.51.100.7
t=0 0
m=audio 40000 RTP/AVP 0 8 101
a=rtpmap:101 telephone-event/8000
"""

INVITE = wire("""\
INVITE sip:erin@example.net SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1b2c3d4e;rport
Max-Forwards: 70
From: "Dave Miller" <sip:dave@example.org>;tag=88sja8x
To: <sip:erin@example.net>
Call-ID: f81d4fae-7dec-11d0-a765-00a0c91e6bf6@198.51.100.7
CSeq: 101 INVITE
Contact: <sip:dave@198.51.100.7:5060>
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, NOTIFY
Supported: replaces, timer
User-Agent: DeskPhone/7.2
Content-Type: application/sdp
Content-Length: {length}

""" + SDP_OFFER)

OK_WITH_RECORD_ROUTE = wire("""\
SIP/2.0 200 OK
Via: SIP/2.0/UDP proxy2.example.net:5060;branch=z9hG4bKp2x;received=203.0.113.20
Via: SIP/2.0/UDP proxy1.example.org;branch=z9hG4bKp1y, SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1b2c3d4e;rport=5060;received=198.51.100.7
Record-Route: <sip:proxy2.example.net;lr>
Record-Route: <sip:proxy1.example.org;lr;ftag=88sja8x>, <sip:edge.example.org;lr>
From: "Dave Miller" <sip:dave@example.org>;tag=88sja8x
To: <sip:erin@example.net>;tag=314159
Call-ID: f81d4fae-7dec-11d0-a765-00a0c91e6bf6@198.51.100.7
CSeq: 101 INVITE
Contact: <sip:erin@203.0.113.99:5062;transport=udp>
Content-Type: application/sdp
Content-Length: {length}

v=0
o=erin 2890 2890 IN IP4 203.0.113.99
s=-
c=IN IP4 203.0.113.99
t=0 0
m=audio 3456 RTP/AVP 0
""")

BYE = wire("""\
BYE sip:erin@203.0.113.99:5062;transport=udp SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKbye01;rport
Max-Forwards: 70
Route: <sip:proxy1.example.org;lr;ftag=88sja8x>, <sip:edge.example.org;lr>
Route: <sip:proxy2.example.net;lr>
From: "Dave Miller" <sip:dave@example.org>;tag=88sja8x
To: <sip:erin@example.net>;tag=314159
Call-ID: f81d4fae-7dec-11d0-a765-00a0c91e6bf6@198.51.100.7
CSeq: 102 BYE
Content-Length: 0

""")

CANCEL = wire("""\
CANCEL sip:erin@example.net SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1b2c3d4e;rport
Max-Forwards: 70
From: "Dave Miller" <sip:dave@example.org>;tag=88sja8x
To: <sip:erin@example.net>
Call-ID: f81d4fae-7dec-11d0-a765-00a0c91e6bf6@198.51.100.7
CSeq: 101 CANCEL
Content-Length: 0

""")

OPTIONS = wire("""\
OPTIONS sip:gw.example.com SIP/2.0
Via: SIP/2.0/TCP 192.0.2.200:5060;branch=z9hG4bKopt42;alias
Max-Forwards: 0
From: <sip:ping@monitor.example.com>;tag=ping1
To: <sip:gw.example.com>
Call-ID: ping-000123@monitor.example.com
CSeq: 1 OPTIONS
Accept: application/sdp
Content-Length: {length}

""")

MESSAGE = wire("""\
MESSAGE sip:frank@example.com SIP/2.0
Via: SIP/2.0/TLS 192.0.2.77:5061;branch=z9hG4bKmsg9
Max-Forwards: 69
From: "Grüße Anna" <sips:anna@example.com>;tag=49583
To: <sip:frank@example.com>
Call-ID: asd88asd77a@192.0.2.77
CSeq: 1 MESSAGE
Content-Type: text/plain;charset=UTF-8
Content-Length: {length}

Hallo Frank, schöne Grüße!""")

NOTIFY = wire("""\
NOTIFY sip:watcher@192.0.2.5:5070 SIP/2.0
Via: SIP/2.0/UDP presence.example.com;branch=z9hG4bKnot7
Max-Forwards: 70
From: <sip:gina@example.com>;tag=srv773
To: <sip:watcher@example.com>;tag=w12
Call-ID: sub-8831@192.0.2.5
CSeq: 8 NOTIFY
Event: presence
Subscription-State: active;expires=599
Contact: <sip:presence.example.com>
Content-Type: application/pidf+xml
Content-Length: {length}

<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:gina@example.com">
 <tuple id="t1"><status><basic>open</basic></status></tuple>
</presence>
""")

CAPTURES = {
    "REGISTER": REGISTER,
    "INVITE": INVITE,
    "200 OK": OK_WITH_RECORD_ROUTE,
    "BYE": BYE,
    "CANCEL": CANCEL,
    "OPTIONS": OPTIONS,
    "MESSAGE": MESSAGE,
    "NOTIFY": NOTIFY,
}
