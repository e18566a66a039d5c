"""Every condition operand and operator against parsed messages (language reference §7)."""

import pytest

from ser_runtime.context import PROTO_TCP, PROTO_TLS, ReceiveInfo
from tests.route.harness import INVITE, RCV, run

REPLY_180 = (
    "SIP/2.0 180 Ringing\r\n"
    "Via: SIP/2.0/UDP 10.1.2.3:5070;branch=z9hG4bK776asdhds\r\n"
    "From: Alice <sip:alice@proxy.example.com>;tag=1928301774\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Content-Length: 0\r\n\r\n"
)
V6 = ReceiveInfo("2001:db8::7", 5070, "::1", 5060, PROTO_TCP)


def holds(condition: str, dialect: str = "0.9", text: str = INVITE, rcv: ReceiveInfo = RCV,
          **where) -> bool:
    if where:
        script = f'onreply_route[1] {{ if ({condition}) mark("t"); }}'
        outcome = run(script, dialect, text, rcv, kind="onreply_route", label="1")
    else:
        outcome = run(f'route {{ if ({condition}) mark("t"); }}', dialect, text, rcv)
    return outcome.trace == ["t"]


@pytest.mark.parametrize("condition, expected", [
    ('method=="INVITE"', True), ('method=="invite"', True), ("method==INVITE", True),
    ('method=="REGISTER"', False), ('method!="REGISTER"', True), ('method!="INVITE"', False),
    ('method=~"^INV"', True), ('method=~"^inv"', True), ('method=~"^(REGISTER|BYE)$"', False),
    # SER 0.9 compares only as many characters as the message value has.
    ('method=="INVITEX"', True), ('method=="INVIT"', False),
])
def test_method(condition, expected):
    assert holds(condition) is expected


@pytest.mark.parametrize("condition, expected", [
    ('uri=="sip:12345@foo.bar:6060"', True), ('uri=="SIP:12345@FOO.BAR:6060"', True),
    ('uri=="sip:12345@foo.bar:6060;lr"', True), ('uri=="sip:12345@foo.bar"', False),
    ('uri!="sip:12345@foo.bar:6060"', False), ('uri=~"^sip:[0-9]+@"', True),
    ('uri=~"@foo\\.bar:6060$"', True), ('uri=~"^sips:"', False),
    ("uri==myself", False), ("uri!=myself", True), ("myself==uri", False), ("myself!=uri", True),
])
def test_uri(condition, expected):
    assert holds(condition) is expected


@pytest.mark.parametrize("ruri, expected", [
    ("sip:bob@proxy.example.com", True), ("sip:bob@PROXY.example.com:5060", True),
    ("sip:bob@proxy.example.com:5070", False), ("sip:bob@127.0.0.1;transport=udp", True),
    ("sip:bob@alias.example.com:9999", True), ("sips:bob@proxy.example.com", True),
    ("sip:bob@elsewhere.example.com", False), ("tel:+4930123", False),
])
def test_uri_myself(ruri, expected):
    text = INVITE.replace("sip:12345@foo.bar:6060", ruri, 1)
    assert holds("uri==myself", text=text) is expected
    assert holds("uri!=myself", text=text) is not expected


@pytest.mark.parametrize("dialect", ["0.9", "2.0"])
@pytest.mark.parametrize("condition, expected", [
    ("from_uri==myself", True), ("from_uri!=myself", False), ("to_uri==myself", False),
    ('from_uri=~"^sip:alice@"', True), ('to_uri=="sip:bob@biloxi.example.com"', True),
    ('to_uri!="sip:bob@biloxi.example.com"', False), ('from_uri=~"bob"', False),
])
def test_from_and_to_uri(dialect, condition, expected):
    assert holds(condition, dialect) is expected


def test_status_and_method_in_a_reply():
    assert holds('status=~"18[0-9]"', text=REPLY_180, reply=True)
    assert holds('status=="180"', text=REPLY_180, reply=True)
    assert holds('uri=="180"', text=REPLY_180, reply=True)
    assert not holds('status=~"^2"', text=REPLY_180, reply=True)
    # method in a reply reads the first token of the status line.
    assert holds('method=="SIP/2.0"', text=REPLY_180, reply=True)
    assert not holds('method=="INVITE"', text=REPLY_180, reply=True)


@pytest.mark.parametrize("condition, expected", [
    ("src_ip==10.0.0.0/8", True), ("src_ip==10.0.0.0/255.0.0.0", True), ("src_ip==10.1.2.3", True),
    ("src_ip==10.1.2.4", False), ("src_ip!=10.1.2.4", True), ("src_ip==192.168.0.0/16", False),
    ('src_ip=="10.1.2.3"', True), ('src_ip=~"^10\\.1\\."', True), ('src_ip=~"^192"', False),
    ("src_ip==myself", False), ("src_ip!=myself", True), ("myself==src_ip", False),
    ("dst_ip==myself", True), ("dst_ip==127.0.0.1", True), ("dst_ip==127.0.0.0/8", True),
    ("dst_ip!=127.0.0.1", False), ("src_ip==fd00::/8", False),
    # An octet with a leading zero is octal in SER: 010 is 8.
    ("src_ip==010.1.2.3", False),
])
def test_ip(condition, expected):
    assert holds(condition) is expected


def test_ip_names_resolve_in_dns():
    local = ReceiveInfo("127.0.0.1", 5070, "127.0.0.1", 5060)
    assert holds("src_ip==localhost", rcv=local)
    assert not holds("src_ip!=localhost", rcv=local)
    assert not holds("src_ip==localhost", rcv=RCV)


@pytest.mark.parametrize("condition, expected", [
    ("src_ip==2001:db8::/32", True), ("src_ip==2001:db8::7", True), ('src_ip=="2001:db8::7"', True),
    ("src_ip==[2001:db8::7]", True), ("src_ip==10.0.0.0/8", False), ("dst_ip==myself", True),
    ("dst_ip==::1", True), ("af==inet6", True), ("af==inet", False), ("af!=inet", True),
    ("proto==tcp", True), ("proto==udp", False), ("proto!=udp", True),
])
def test_ipv6_and_tcp(condition, expected):
    assert holds(condition, rcv=V6) is expected


@pytest.mark.parametrize("condition, expected", [
    ("src_port==5070", True), ("src_port!=5070", False), ("src_port<5071", True),
    ("src_port>5070", False), ("src_port<=5070", True), ("src_port>=5071", False),
    ("dst_port==5060", True), ("dst_port>1024", True),
    ("proto==udp", True), ("proto==UDP", True), ("proto!=tcp", True), ("proto==tls", False),
    ("proto==*", False), ("af==inet", True), ("af==INET", True), ("af==inet6", False),
])
def test_ports_protocol_family(condition, expected):
    assert holds(condition) is expected


def test_proto_tls():
    assert holds("proto==tls", rcv=ReceiveInfo("10.1.2.3", 5071, "127.0.0.1", 5061, PROTO_TLS))


@pytest.mark.parametrize("condition, expected", [
    (f"msg:len=={len(INVITE)}", True), (f"msg:len!={len(INVITE)}", False),
    ("msg:len>100", True), ("msg:len<100", False), (f"msg:len<={len(INVITE)}", True),
    (f"msg:len>={len(INVITE) + 1}", False), ("msg:len>=max_len", False), ("msg:len<max_len", True),
])
def test_message_length(condition, expected):
    assert holds(condition) is expected


@pytest.mark.parametrize("condition, expected", [
    ("1", True), ("0", False), ("yes", True), ("no", False), ("!0", True),
    ('method=="INVITE" && !uri==myself', True), ('method=="BYE" || src_port==5070', True),
    ('!(method=="INVITE" || method=="BYE")', False), ('method=="INVITE" and src_port==1', False),
    ('method=="BYE" or not src_port==1', True),
])
def test_constants_and_logic(condition, expected):
    assert holds(condition) is expected


@pytest.mark.parametrize("dialect", ["0.8", "0.9", "2.0"])
def test_flags(dialect):
    outcome = run('route { setflag(1); setflag(31); if (isflagset(1)) mark("1"); resetflag(1); '
                  'if (!isflagset(1)) mark("reset"); if (isflagset(31)) mark("31"); '
                  'if (isflagset(2)) mark("never"); }', dialect)
    assert outcome.trace == ["1", "reset", "31"]
    assert outcome.ctx.flags == 1 << 31


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
def test_flag_zero_is_refused_at_run_time_before_2_0(dialect, caplog):
    outcome = run('route { if (!setflag(0)) mark("refused"); if (isflagset(0)) mark("never"); }', dialect)
    assert outcome.trace == ["refused"]
    assert outcome.ctx.flags == 0
    assert "flag 0 is out of range" in caplog.text


def test_append_branch_fills_the_destination_set():
    outcome = run('route { append_branch("sip:a@example.com"); append_branch("sip:b@example.com", "0.5"); '
                  'append_branch; append_branch(); }')
    assert [tuple(b) for b in outcome.ctx.branches] == [
        ("sip:a@example.com", None, None), ("sip:b@example.com", "0.5", None),
        ("sip:12345@foo.bar:6060", None, None), ("sip:12345@foo.bar:6060", None, None)]


def test_append_branch_refuses_beyond_max_branches():
    appends = " ".join(f'if (!append_branch("sip:{n}@example.com")) mark("full{n}");' for n in range(13))
    outcome = run(f"route {{ {appends} }}")
    assert len(outcome.ctx.branches) == 11
    assert outcome.trace == ["full11", "full12"]


def test_log_writes_at_the_given_level(caplog):
    caplog.set_level("DEBUG", logger="ser.script")
    run('route { log(1, "warned\\n"); log("debugged\\n"); log(3, "informed\\n"); }')
    levels = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "ser.script"]
    assert levels[-3:] == [("WARNING", "warned"), ("DEBUG", "debugged"), ("INFO", "informed")]


def test_sending_choices_are_kept_on_the_message():
    outcome = run('listen=udp:127.0.0.1:5060\nroute { force_rport(); set_advertised_address("203.0.113.9"); '
                  'set_advertised_port(5080); force_send_socket(udp:127.0.0.1:5060); }')
    ctx = outcome.ctx
    assert (ctx.force_rport, ctx.advertised_address, ctx.advertised_port) == (True, "203.0.113.9", 5080)
    assert ctx.send_socket == (1, "127.0.0.1", 5060)


def test_onsend_route_sees_the_send_about_to_happen():
    send = ReceiveInfo("127.0.0.1", 5060, "127.0.0.2", 5070, PROTO_TCP)
    outcome = run('onsend_route { if (to_ip==127.0.0.2 && to_port==5070 && snd_ip==myself && '
                  'snd_port==5060 && snd_proto==tcp && to_af==inet) mark("seen"); drop; }',
                  "2.0", kind="onsend_route", onsend=send)
    assert outcome.trace == ["seen"]
    assert outcome.ctx.exit
