"""rr: record_route, record_route_preset, loose_route and friends, run through the compiler.

Each test runs a ser.cfg snippet on real SIP bytes (tests/route/harness.py:
compiled and tree-walked, both must agree) and looks at the return code,
the bytes the message would be sent with, the Request-URI and dst_uri.
`myself` is the harness's: 127.0.0.1, [::1] and proxy.example.com on 5060,
alias.example.com on any port.
"""

import pytest

from ser_runtime.context import PROTO_SCTP, PROTO_TCP, PROTO_TLS, ReceiveInfo, RouteContext
from ser_runtime.myself import Myself
from stdlib_modules import rr
from tests.route.harness import INVITE, MYSELF, RCV, message, run

RR = 'loadmodule "rr.so"\n'
TAG = "1928301774"


@pytest.fixture(autouse=True)
def our_myself():
    before = rr._myself
    rr.configure(MYSELF)
    yield
    rr._myself = before


def bye(*routes: str, ruri: str = "sip:bob@192.0.2.4:5062", to_tag: bool = True) -> str:
    """An in-dialog BYE with the given Route header lines (values)."""
    lines = [f"BYE {ruri} SIP/2.0",
             "Via: SIP/2.0/UDP 192.0.2.13:5070;branch=z9hG4bKbye1",
             "Max-Forwards: 70"]
    lines += [f"Route: {value}" for value in routes]
    lines += [f"From: Alice <sip:alice@proxy.example.com>;tag={TAG}",
              "To: Bob <sip:bob@biloxi.example.com>" + (";tag=a6c85cf" if to_tag else ""),
              "Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
              "CSeq: 231 BYE",
              "Content-Length: 0"]
    return "\r\n".join(lines) + "\r\n\r\n"


def sent(outcome) -> str:
    return outcome.ctx.msg.serialize().decode()


def route_lines(outcome) -> list[str]:
    return [line for line in sent(outcome).split("\r\n") if line.startswith("Route:")]


class Routed:
    """A loose_route() outcome: `code` is what loose_route returned."""

    def __init__(self, outcome):
        self.outcome = outcome
        self.ctx = outcome.ctx
        self.uri = outcome.uri
        self.code = int(outcome.trace[-1])


def loose(text: str, dialect: str = "0.9", params: str = "") -> Routed:
    return Routed(run(RR + params + 'route { if (loose_route()) mark("1"); else mark("-1"); }',
                      dialect=dialect, text=text))


# --- record_route ------------------------------------------------------------------------------

def test_record_route_goes_above_the_vias_with_the_incoming_socket_ftag_and_lr():
    outcome = run(RR + "route { record_route(); }")
    assert outcome.code == 1
    assert sent(outcome) == INVITE.replace(
        "SIP/2.0\r\nVia:", f"SIP/2.0\r\nRecord-Route: <sip:127.0.0.1;ftag={TAG};lr>\r\nVia:", 1)


@pytest.mark.parametrize(("rcv", "hostport"), [
    (ReceiveInfo("192.0.2.13", 5070, "127.0.0.1", 5060), "127.0.0.1"),
    (ReceiveInfo("192.0.2.13", 5070, "127.0.0.1", 5080), "127.0.0.1:5080"),
    (ReceiveInfo("192.0.2.13", 5070, "127.0.0.1", 5060, PROTO_TCP), "127.0.0.1;transport=tcp"),
    (ReceiveInfo("192.0.2.13", 5070, "127.0.0.1", 5061, PROTO_TLS), "127.0.0.1:5061;transport=tls"),
    (ReceiveInfo("192.0.2.13", 5070, "127.0.0.1", 5060, PROTO_SCTP), "127.0.0.1;transport=sctp"),
    (ReceiveInfo("2001:db8::9", 5070, "::1", 5060), "[::1]"),
    (ReceiveInfo("2001:db8::9", 5070, "2001:db8::1", 5070, PROTO_TCP), "[2001:db8::1]:5070;transport=tcp"),
])
def test_record_route_names_the_socket_the_request_came_in_on(rcv, hostport):
    outcome = run(RR + "route { record_route(); }", rcv=rcv)
    assert f"\r\nRecord-Route: <sip:{hostport};ftag={TAG};lr>\r\n" in sent(outcome)


def test_double_rr_puts_the_outgoing_socket_on_top_when_the_copy_leaves_from_another_one():
    outcome = run(RR + "route { record_route(); }")
    msg = outcome.ctx.msg
    same = msg.serialize(sending=("127.0.0.1", 5060, RCV.proto)).decode()
    assert same.count("Record-Route:") == 1 and "r2=on" not in same
    other = msg.serialize(sending=("127.0.0.1", 5060, PROTO_TCP)).decode()
    assert (f"\r\nRecord-Route: <sip:127.0.0.1;transport=tcp;r2=on;ftag={TAG};lr>\r\n"
            f"Record-Route: <sip:127.0.0.1;r2=on;ftag={TAG};lr>\r\nVia:") in other


def test_without_double_rr_one_record_route_names_the_incoming_socket():
    outcome = run(RR + 'modparam("rr", "enable_double_rr", 0)\nroute { record_route(); }')
    other = outcome.ctx.msg.serialize(sending=("192.0.2.1", 5060, PROTO_TCP)).decode()
    assert other.count("Record-Route:") == 1 and f"<sip:127.0.0.1;ftag={TAG};lr>" in other


def test_loose_route_removes_both_of_our_double_record_routes():
    routed = loose(bye("<sip:127.0.0.1;transport=tcp;r2=on;lr>", "<sip:127.0.0.1;r2=on;lr>",
                       "<sip:192.0.2.9;lr>"))
    assert routed.code == 1
    assert route_lines(routed.outcome) == ["Route: <sip:192.0.2.9;lr>"]


def test_record_route_ignores_the_advertised_address_as_ser_0_9_does():
    # SER's single Record-Route is the receiving socket (SUBST_RCV_ALL); the advertised
    # address only goes into the Via. record_route_preset is the way to write another one.
    outcome = run(RR + 'route { set_advertised_address("203.0.113.9"); set_advertised_port(5999); '
                  "record_route(); }")
    assert f"Record-Route: <sip:127.0.0.1;ftag={TAG};lr>" in sent(outcome)
    assert "203.0.113.9" not in sent(outcome)


@pytest.mark.parametrize(("params", "value"), [
    ("", f"<sip:127.0.0.1;ftag={TAG};lr>"),
    ('modparam("rr", "enable_full_lr", 1)\n', f"<sip:127.0.0.1;ftag={TAG};lr=on>"),
    ('modparam("rr", "append_fromtag", 0)\n', "<sip:127.0.0.1;lr>"),
    ('modparam("rr", "append_fromtag", 0)\nmodparam("rr", "enable_full_lr", 1)\n', "<sip:127.0.0.1;lr=on>"),
    ('modparam("rr", "add_username", 1)\n', f"<sip:12345@127.0.0.1;ftag={TAG};lr>"),
])
def test_record_route_parameters_0_9(params, value):
    outcome = run(RR + params + "route { record_route(); }")
    assert f"\r\nRecord-Route: {value}\r\n" in sent(outcome)


def test_record_route_takes_the_user_of_the_received_uri_before_a_rewritten_one():
    outcome = run(RR + 'modparam("rr", "add_username", 1)\n'
                  'route { rewriteuser("carol"); record_route(); }')
    assert f"Record-Route: <sip:12345@127.0.0.1;ftag={TAG};lr>" in sent(outcome)
    no_user = INVITE.replace("INVITE sip:12345@foo.bar:6060", "INVITE sip:foo.bar:6060")
    outcome = run(RR + 'modparam("rr", "add_username", 1)\n'
                  'route { rewriteuser("carol"); record_route(); }', text=no_user)
    assert f"Record-Route: <sip:carol@127.0.0.1;ftag={TAG};lr>" in sent(outcome)


def test_record_route_0_8_always_carries_the_user():
    outcome = run(RR + "route { record_route(); }", dialect="0.8")
    assert f"\r\nRecord-Route: <sip:12345@127.0.0.1;ftag={TAG};lr>\r\n" in sent(outcome)


@pytest.mark.parametrize(("params", "script", "value"), [
    ("", "record_route();", f"<sip:127.0.0.1;ftag={TAG};lr>"),
    ('modparam("rr", "add_username", "alice")\n', "record_route();", f"<sip:alice@127.0.0.1;ftag={TAG};lr>"),
    ('modparam("rr", "add_username", "$u")\n', '$u = "bob"; record_route();',
     f"<sip:bob@127.0.0.1;ftag={TAG};lr>"),
    ('modparam("rr", "add_username", "$u")\n', "record_route();", f"<sip:127.0.0.1;ftag={TAG};lr>"),
])
def test_record_route_2_0_user_is_the_add_username_string(params, script, value):
    outcome = run(RR + params + f"route {{ {script} }}", dialect="2.0")
    assert outcome.code == 1
    assert f"\r\nRecord-Route: {value}\r\n" in sent(outcome)


def test_record_route_twice_for_one_message_is_refused():
    outcome = run(RR + 'route { record_route(); if (!record_route()) mark("refused"); }')
    assert outcome.trace == ["refused"]
    assert sent(outcome).count("Record-Route:") == 1


def test_record_route_needs_a_from_header_for_the_ftag():
    no_from = "".join(line for line in INVITE.splitlines(keepends=True) if not line.startswith("From:"))
    outcome = run(RR + 'route { if (!record_route()) mark("failed"); }', text=no_from)
    assert outcome.trace == ["failed"]
    assert "Record-Route" not in sent(outcome)
    outcome = run(RR + 'modparam("rr", "append_fromtag", 0)\nroute { record_route(); }', text=no_from)
    assert "\r\nRecord-Route: <sip:127.0.0.1;lr>\r\n" in sent(outcome)
    bad_from = INVITE.replace("From: Alice <sip:alice@proxy.example.com>;tag=1928301774", "From: <<<")
    outcome = run(RR + 'route { if (!record_route()) mark("failed"); }', text=bad_from)
    assert outcome.trace == ["failed"]


def test_a_from_without_tag_gives_no_ftag():
    untagged = INVITE.replace(";tag=1928301774", "")
    outcome = run(RR + "route { record_route(); }", text=untagged)
    assert "\r\nRecord-Route: <sip:127.0.0.1;lr>\r\n" in sent(outcome)


def test_record_route_comes_out_above_record_routes_already_there():
    upstream = INVITE.replace("Max-Forwards: 70\r\n",
                              "Max-Forwards: 70\r\nRecord-Route: <sip:p1.example.net;lr>\r\n")
    text = sent(run(RR + "route { record_route(); }", text=upstream))
    assert text.index("<sip:127.0.0.1;") < text.index("<sip:p1.example.net;lr>")


# --- record_route_preset -----------------------------------------------------------------------

def test_record_route_preset_writes_the_given_address_with_the_uri_user_in_0_9():
    outcome = run(RR + 'route { record_route_preset("203.0.113.9:5090"); }')
    assert outcome.code == 1
    assert f"\r\nRecord-Route: <sip:12345@203.0.113.9:5090;ftag={TAG};lr>\r\nVia:" in sent(outcome)


def test_record_route_preset_parameters_and_repetition():
    outcome = run(RR + 'modparam("rr", "enable_full_lr", 1)\nmodparam("rr", "append_fromtag", 0)\n'
                  'route { record_route_preset("a.example.net"); record_route_preset("b.example.net"); }')
    text = sent(outcome)
    assert ("Record-Route: <sip:12345@a.example.net;lr=on>\r\n"
            "Record-Route: <sip:12345@b.example.net;lr=on>\r\n") in text


def test_record_route_preset_2_0_has_no_user_unless_add_username():
    outcome = run(RR + 'route { record_route_preset("203.0.113.9"); }', dialect="2.0")
    assert f"\r\nRecord-Route: <sip:203.0.113.9;ftag={TAG};lr>\r\n" in sent(outcome)
    outcome = run(RR + 'modparam("rr", "add_username", "gw")\nroute { record_route_preset("203.0.113.9"); }',
                  dialect="2.0")
    assert f"\r\nRecord-Route: <sip:gw@203.0.113.9;ftag={TAG};lr>\r\n" in sent(outcome)
    outcome = run(RR + 'modparam("rr", "add_username", "$gw")\n'
                  'route { if (!record_route_preset("203.0.113.9")) mark("no user"); }', dialect="2.0")
    assert outcome.trace == ["no user"]


def test_remove_record_route_takes_back_both_kinds_2_0():
    outcome = run(RR + 'loadmodule "textops.so"\nroute { record_route(); record_route_preset("203.0.113.9"); '
                  'remove_record_route(); append_hf("X-After: 1\\r\\n"); }', dialect="2.0")
    assert outcome.code == 1
    assert "Record-Route" not in sent(outcome)
    assert "X-After: 1\r\n" in sent(outcome)
    outcome = run(RR + 'route { remove_record_route(); record_route_preset("203.0.113.9"); }', dialect="2.0")
    assert sent(outcome).count("Record-Route:") == 1


def test_remove_record_route_works_on_its_own_message_later_2_0():
    # As in a failure_route: other messages were record-routed in between.
    config = rr.EXPORTS.init(rr.EXPORTS.param_values({}, "2.0"))
    first, second = RouteContext(message(), RCV), RouteContext(message(), RCV)
    assert rr.record_route(first, config) == rr.record_route(second, config) == 1
    assert rr.record_route_preset(first, "203.0.113.9", config) == 1
    assert rr.remove_record_route(first, config) == 1
    assert "Record-Route" not in first.msg.serialize().decode()
    assert sent(run(RR + "failure_route[1] { remove_record_route(); }", dialect="2.0",
                    kind="failure_route", label="1")) == INVITE
    assert second.msg.serialize().decode().count("Record-Route:") == 1


# --- loose_route: the previous hop was a loose router ------------------------------------------

def test_our_route_is_removed_and_the_next_loose_router_becomes_dst_uri():
    outcome = loose(bye(f"<sip:127.0.0.1;ftag={TAG};lr>, <sip:p2.example.net;lr>"))
    assert outcome.code == 1
    assert outcome.ctx.dst_uri == "sip:p2.example.net;lr"
    assert outcome.uri == "sip:bob@192.0.2.4:5062"
    assert sent(outcome) == bye("<sip:p2.example.net;lr>")


def test_our_route_in_a_header_of_its_own_goes_with_its_header():
    outcome = loose(bye(f"<sip:127.0.0.1;ftag={TAG};lr>",
                        "<sip:p2.example.net;lr=on>, <sip:p3.example.net;lr>"))
    assert outcome.code == 1
    assert outcome.ctx.dst_uri == "sip:p2.example.net;lr=on"
    assert route_lines(outcome) == ["Route: <sip:p2.example.net;lr=on>, <sip:p3.example.net;lr>"]


def test_only_our_route_is_removed_and_loose_route_is_false():
    outcome = loose(bye(f"<sip:127.0.0.1;ftag={TAG};lr>"))
    assert outcome.code == -1
    assert outcome.ctx.dst_uri is None
    assert route_lines(outcome) == []
    assert outcome.uri == "sip:bob@192.0.2.4:5062"


def test_no_route_is_false_and_changes_nothing():
    text = bye()
    outcome = loose(text)
    assert outcome.code == -1
    assert sent(outcome) == text
    assert outcome.ctx.dst_uri is None


def test_a_strict_next_hop_gets_the_route_as_request_uri_and_the_uri_goes_last():
    outcome = loose(bye(f"<sip:127.0.0.1;ftag={TAG};lr>, <sip:p2.example.net>, <sip:p3.example.net;lr>"))
    assert outcome.code == 1
    assert outcome.uri == "sip:p2.example.net"
    assert outcome.ctx.dst_uri is None
    text = sent(outcome)
    assert text.startswith("BYE sip:p2.example.net SIP/2.0\r\n")
    assert route_lines(outcome) == ["Route: <sip:p3.example.net;lr>", "Route: <sip:bob@192.0.2.4:5062>"]
    assert text.endswith("Content-Length: 0\r\nRoute: <sip:bob@192.0.2.4:5062>\r\n\r\n")


def test_a_strict_next_hop_in_the_next_header_removes_both_headers():
    outcome = loose(bye(f"<sip:127.0.0.1;ftag={TAG};lr>", "<sip:p2.example.net>"))
    assert outcome.code == 1
    assert outcome.uri == "sip:p2.example.net"
    assert route_lines(outcome) == ["Route: <sip:bob@192.0.2.4:5062>"]


def test_the_saved_uri_is_the_received_one_even_after_a_rewrite():
    outcome = run(RR + 'route { rewritehost("changed.example.net"); loose_route(); }',
                  text=bye("<sip:127.0.0.1;lr>, <sip:p2.example.net>"))
    assert outcome.uri == "sip:p2.example.net"
    assert route_lines(outcome) == ["Route: <sip:bob@192.0.2.4:5062>"]


def test_a_foreign_top_route_is_followed():
    text = bye("<sip:p2.example.net;lr>, <sip:p3.example.net;lr>")
    outcome = loose(text)
    assert outcome.code == 1
    assert outcome.ctx.dst_uri == "sip:p2.example.net;lr"
    assert sent(outcome) == text


def test_a_foreign_strict_top_route_becomes_the_request_uri():
    outcome = loose(bye("<sip:p2.example.net>"))
    assert outcome.code == 1
    assert outcome.uri == "sip:p2.example.net"
    assert route_lines(outcome) == ["Route: <sip:bob@192.0.2.4:5062>"]


@pytest.mark.parametrize(("route", "ours"), [
    ("<sip:127.0.0.1:5060;lr>", True),
    ("<sip:127.0.0.1:5070;lr>", False),           # not a listen port
    ("<sip:[::1];lr>", True),
    ("<sip:[0:0::1];lr>", True),
    ("<sip:PROXY.example.com;lr>", True),
    ("<sip:alias.example.com:7000;lr>", True),    # an alias without port: any port
    ("<sip:127.0.0.2;lr>", False),
    ("<sips:127.0.0.1;lr>", True),                # no port means 5060, even for sips (SER)
    ('"Proxy" <sip:127.0.0.1;transport=tcp;lr>', True),
])
def test_which_routes_are_ours(route, ours):
    outcome = loose(bye(f"{route}, <sip:p2.example.net;lr>"))
    assert outcome.code == 1
    expected = "sip:p2.example.net;lr" if ours else route[route.index("<") + 1:-1]
    assert outcome.ctx.dst_uri == expected


def test_configure_decides_what_is_ours():
    rr.configure(Myself([("192.0.2.99", 5060)]))
    outcome = loose(bye("<sip:127.0.0.1;lr>, <sip:p2.example.net;lr>"))
    assert outcome.ctx.dst_uri == "sip:127.0.0.1;lr"


@pytest.mark.parametrize("param", ["lr", "LR", "lr=on", "lr=true", "transport=udp;lr", "lr;maddr=p2"])
def test_any_lr_parameter_marks_a_loose_router(param):
    outcome = loose(bye(f"<sip:127.0.0.1;lr>, <sip:p2.example.net;{param}>"))
    assert outcome.ctx.dst_uri == f"sip:p2.example.net;{param}"
    assert outcome.uri == "sip:bob@192.0.2.4:5062"


def test_lr_as_a_header_parameter_is_not_loose_routing():
    outcome = loose(bye("<sip:127.0.0.1;lr>, <sip:p2.example.net>;lr"))
    assert outcome.uri == "sip:p2.example.net"
    assert outcome.ctx.dst_uri is None


def test_double_record_route_entries_are_both_removed():
    routes = f"<sip:127.0.0.1;r2=on;ftag={TAG};lr>, <sip:[::1];r2=on;ftag={TAG};lr>, <sip:p2.example.net;lr>"
    outcome = loose(bye(routes))
    assert outcome.ctx.dst_uri == "sip:p2.example.net;lr"
    assert route_lines(outcome) == ["Route: <sip:p2.example.net;lr>"]
    outcome = loose(bye("<sip:127.0.0.1;r2=on;lr>", "<sip:[::1];r2=on;lr>"))
    assert outcome.code == -1
    assert route_lines(outcome) == []


def test_without_double_rr_only_the_first_of_our_entries_goes():
    # SER checks only the top entry against myself; the second is then the next hop.
    outcome = loose(bye("<sip:127.0.0.1;r2=on;lr>, <sip:[::1];r2=on;lr>, <sip:p2.example.net;lr>"),
                    params='modparam("rr", "enable_double_rr", 0)\n')
    assert outcome.ctx.dst_uri == "sip:[::1];r2=on;lr"
    assert route_lines(outcome) == ["Route: <sip:[::1];r2=on;lr>, <sip:p2.example.net;lr>"]


# --- loose_route: the Request-URI is ours -------------------------------------------------------

def test_after_a_strict_router_the_last_route_is_the_request_uri():
    outcome = loose(bye("<sip:p2.example.net;lr>, <sip:bob@192.0.2.4:5062>",
                        ruri=f"sip:127.0.0.1;ftag={TAG};lr"))
    assert outcome.code == 1
    assert outcome.uri == "sip:bob@192.0.2.4:5062"
    assert outcome.ctx.dst_uri == "sip:p2.example.net;lr"
    assert route_lines(outcome) == ["Route: <sip:p2.example.net;lr>"]


def test_after_a_strict_router_the_last_route_header_goes():
    outcome = loose(bye("<sip:p2.example.net;lr>", "<sip:p3.example.net;lr>", "<sip:bob@192.0.2.4:5062>",
                        ruri="sip:127.0.0.1;lr"))
    assert outcome.uri == "sip:bob@192.0.2.4:5062"
    assert outcome.ctx.dst_uri == "sip:p2.example.net;lr"
    assert route_lines(outcome) == ["Route: <sip:p2.example.net;lr>", "Route: <sip:p3.example.net;lr>"]


def test_after_a_strict_router_a_strict_next_hop_is_the_request_uri():
    outcome = loose(bye("<sip:bob@192.0.2.4:5062>", ruri="sip:127.0.0.1"))
    assert outcome.code == 1
    assert outcome.uri == "sip:bob@192.0.2.4:5062"
    assert outcome.ctx.dst_uri is None
    assert route_lines(outcome) == []


def test_addressed_to_us_with_our_route_preloaded_is_not_route_driven():
    register = bye("<sip:proxy.example.com;lr>", ruri="sip:proxy.example.com", to_tag=False).replace(
        "BYE", "REGISTER").replace("CSeq: 231 REGISTER", "CSeq: 1 REGISTER")
    outcome = loose(register)
    assert outcome.code == -1
    assert route_lines(outcome) == []
    assert outcome.uri == "sip:proxy.example.com"


def test_addressed_to_us_with_our_route_and_a_next_hop():
    outcome = loose(bye("<sip:127.0.0.1;lr>, <sip:p2.example.net;lr>, <sip:bob@192.0.2.4:5062>",
                        ruri="sip:127.0.0.1;lr"))
    assert outcome.code == 1
    assert outcome.ctx.dst_uri == "sip:p2.example.net;lr"
    assert outcome.uri == "sip:bob@192.0.2.4:5062"
    assert route_lines(outcome) == ["Route: <sip:p2.example.net;lr>"]


def test_after_strict_overlapping_removals_empty_the_header_as_in_ser():
    # Our entry, then a loose router that is also the last route: SER deletes both
    # ranges, which overlap, and leaves an empty Route header.
    outcome = loose(bye("<sip:127.0.0.1;lr>, <sip:p2.example.net;lr>", ruri="sip:127.0.0.1"))
    assert outcome.code == 1
    assert outcome.ctx.dst_uri == "sip:p2.example.net;lr"
    assert outcome.uri == "sip:p2.example.net;lr"
    assert route_lines(outcome) == ["Route: "]


# --- loose_route: what it does not accept -------------------------------------------------------

@pytest.mark.parametrize("route", [
    "<sip:127.0.0.1;lr",
    "garbage here",
    "<foo:bar>",
    "<sip:127.0.0.1;lr>, ,<>",
    '"unterminated <sip:127.0.0.1;lr>',
    "<sip:127.0.0.1;lr>, <http://p2.example.net>",
    ";;;",
    "<sip:127.0.0.1;lr>, <sip:bad host;lr>",
])
def test_a_malformed_route_is_false_and_changes_nothing(route):
    text = bye(route)
    outcome = loose(text)
    assert outcome.code == -1
    assert sent(outcome) == text
    assert outcome.ctx.dst_uri is None


def test_a_malformed_route_header_that_is_never_reached_does_not_matter():
    outcome = loose(bye("<sip:127.0.0.1;lr>, <sip:p2.example.net;lr>", "<<<"))
    assert outcome.code == 1
    assert outcome.ctx.dst_uri == "sip:p2.example.net;lr"
    outcome = loose(bye("<sip:127.0.0.1;lr>", "<<<"))
    assert outcome.code == -1
    assert route_lines(outcome) == ["Route: <sip:127.0.0.1;lr>", "Route: <<<"]


def test_a_malformed_request_uri_is_false():
    text = bye("<sip:127.0.0.1;lr>, <sip:p2.example.net;lr>", ruri="sip:bob@")
    outcome = loose(text)
    assert outcome.code == -1
    assert sent(outcome) == text


def test_loose_route_over_routes_the_script_removed_already_does_not_raise():
    # As after remove_hf("Route"): SER merges the overlapping deletions, so does rr.
    msg = message(bye("<sip:127.0.0.1;lr>, <sip:p2.example.net;lr>"))
    msg.remove_header(msg.header("Route"))
    ctx = RouteContext(msg, RCV)
    config = rr.EXPORTS.init(rr.EXPORTS.param_values({}, "0.9"))
    assert rr.loose_route(ctx, config) == 1
    assert ctx.dst_uri == "sip:p2.example.net;lr"
    assert "Route" not in msg.serialize().decode()


def test_loose_route_twice_gives_the_same_message():
    once = loose(bye("<sip:127.0.0.1;lr>, <sip:p2.example.net>"))
    twice = run(RR + "route { loose_route(); loose_route(); }",
                text=bye("<sip:127.0.0.1;lr>, <sip:p2.example.net>"))
    # As in SER the Request-URI is saved as a Route once per call.
    assert route_lines(twice) == route_lines(once) + ["Route: <sip:bob@192.0.2.4:5062>"]
    assert twice.uri == once.uri == "sip:p2.example.net"


# --- 2.0 attributes -----------------------------------------------------------------------------

def test_user_part_and_next_route_attributes_2_0():
    params = 'modparam("rr", "user_part_avp", "route_user")\nmodparam("rr", "next_route_avp", "$next")\n'
    outcome = loose(bye("<sip:carol@127.0.0.1;lr>, <sip:p2.example.net;lr>"), dialect="2.0", params=params)
    assert outcome.ctx.avps["$route_user"] == "carol"
    assert outcome.ctx.avps["$next"] == "sip:p2.example.net;lr"


# --- 0.8.9 strict routing -----------------------------------------------------------------------

def test_rewrite_from_route_0_8():
    outcome = run(RR + 'route { if (rewriteFromRoute()) mark("rewritten"); }', dialect="0.8",
                  text=bye("<sip:127.0.0.1>, <sip:bob@192.0.2.4:5062>"))
    assert outcome.trace == ["rewritten"]
    assert outcome.uri == "sip:127.0.0.1"
    assert route_lines(outcome) == ["Route: <sip:bob@192.0.2.4:5062>"]
    outcome = run(RR + 'route { if (!rewriteFromRoute()) mark("none"); }', dialect="0.8", text=bye())
    assert outcome.trace == ["none"]


def test_add_record_route_0_8():
    outcome = run(RR + "route { addRecordRoute(); }", dialect="0.8",
                  rcv=ReceiveInfo("192.0.2.13", 5070, "127.0.0.1", 5080))
    assert "INVITE sip:12345@foo.bar:6060 SIP/2.0\r\nRecord-Route: <sip:12345@127.0.0.1:5080;branch=0>\r\n" \
        in sent(outcome)


# --- a whole dialog through the proxy -----------------------------------------------------------

SCRIPT = RR + """
route {
    if (loose_route()) { mark("in-dialog"); break; };
    if (method == "INVITE") { record_route(); };
    mark("initial");
}
"""


def test_the_route_set_we_record_is_the_one_we_follow():
    invite = run(SCRIPT, text=INVITE)
    assert invite.trace == ["initial"]
    recorded = next(line for line in sent(invite).split("\r\n") if line.startswith("Record-Route:"))
    ours = recorded.split(": ", 1)[1]
    # The callee's BYE carries the recorded set as Route; with a second proxy after us it is
    # Route-driven, alone we are the last hop: SER 0.9 removes our Route and says false,
    # and the script forwards to the Request-URI like any other request.
    two_proxies = run(SCRIPT, text=bye(f"{ours}, <sip:p2.example.net;lr>", ruri="sip:alice@192.0.2.13:5070"))
    assert two_proxies.trace == ["in-dialog"]
    assert two_proxies.ctx.dst_uri == "sip:p2.example.net;lr"
    alone = run(SCRIPT, text=bye(ours, ruri="sip:alice@192.0.2.13:5070"))
    assert alone.trace == ["initial"]
    assert route_lines(alone) == []
    assert (alone.uri, alone.ctx.dst_uri) == ("sip:alice@192.0.2.13:5070", None)
