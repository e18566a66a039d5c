"""Core actions of ser.cfg (language reference §8, ser_script/core.py):
every action and alias with each valid argument form, the errors for wrong
forms and arities, bare forms, drop/break/exit/return per dialect, 2.0
assignments, flags (numbers and 2.0 names), route() targets, log levels,
forward/force_send_socket forms and the actions only some dialects have.

The statement under test is on its own line in the main route, at column 5.
"""

from __future__ import annotations

import pytest

from ser_script import ast, core
from checks import assert_clean, assert_only, check, summary
from ser_script.parser import parse

SL = 'loadmodule "/usr/lib/ser/modules/sl.so"\n'
TM = 'loadmodule "/usr/lib/ser/modules/tm.so"\n'
DIALECTS = ("0.8", "0.9", "2.0")
COL = 5


# --- helpers -------------------------------------------------------------------------

def script(statement: str, pre: str = "", post: str = "") -> str:
    return f"{pre}route {{\n    {statement}\n}}\n{post}"


def run(statement: str, dialect: str = "0.9", pre: str = "", post: str = ""):
    return check(script(statement, pre, post), dialect)


def line_of(pre: str) -> int:
    return pre.count("\n") + 2


def statement_of(statement: str, dialect: str = "0.9", pre: str = "", post: str = ""):
    result = parse(script(statement, pre, post), "t.cfg", dialect)
    assert result.config is not None, result.diagnostics
    block = [i for i in result.config.items if isinstance(i, ast.RouteBlock)][0]
    return block.body[0]


def at(statement: str, needle: str) -> int:
    return COL + statement.index(needle)


# --- every valid form --------------------------------------------------------------------

LISTEN = "listen=udp:127.0.0.1:5060 tcp:127.0.0.1:5060\n"

# (statement, dialects, extra top-level text before, after)
VALID = [
    # forward and its transports
    *[(f"{fw}({args});", DIALECTS, "", "")
      for fw in ("forward", "forward_udp", "forward_tcp", "forward_tls")
      for args in ("sip.example.com", '"sip.example.com"', "10.0.0.1", "gateway",
                   "sip.example.com, 5060", '"sip.example.com", 5060', "10.0.0.1, 5060",
                   "uri:host", "uri:host, uri:port", "uri:host, 5060")],
    ("forward_udp(224.0.1.75,5060);", DIALECTS, "", ""),
    ("forward([2001:db8::1], 5060);", ("0.9", "2.0"), "", ""),
    # send
    *[(f"{s}({args});", DIALECTS, "", "")
      for s in ("send", "send_tcp")
      for args in ("10.0.0.1", "sip.example.com", '"sip.example.com"', "10.0.0.1, 5060")],
    # log, error, exec
    ('log("x\\n");', DIALECTS, "", ""),
    ('log(1, "x\\n");', DIALECTS, "", ""),
    ('log(0, "x");', DIALECTS, "", ""),
    ('log(4, "x");', DIALECTS, "", ""),
    ('error("a", "b");', DIALECTS, "", ""),
    ('exec("/bin/true");', DIALECTS, "", ""),
    # route
    ("route(1);", DIALECTS, "", "route[1] { drop; }\n"),
    ("route(19);", DIALECTS, "", "route[19] { drop; }\n"),
    # flags
    *[(f"{f}({n});", DIALECTS, "", "") for f in ("setflag", "resetflag", "isflagset")
      for n in (1, 31)],
    ("setflag(0);", ("2.0",), "", ""),
    # URI rewriting
    ('rewritehost("sip.example.com");', DIALECTS, "", ""),
    ('rewritehostport("sip.example.com:5070");', DIALECTS, "", ""),
    ('rewriteuser("alice");', DIALECTS, "", ""),
    ('rewriteuserpass("alice:secret");', DIALECTS, "", ""),
    ('rewriteport("5070");', DIALECTS, "", ""),
    ('rewriteuri("sip:alice@example.com");', DIALECTS, "", ""),
    ("revert_uri();", DIALECTS, "", ""),
    ("revert_uri;", DIALECTS, "", ""),
    ('prefix("+49");', DIALECTS, "", ""),
    ("strip(2);", DIALECTS, "", ""),
    ("strip_tail(2);", DIALECTS, "", ""),
    # destination set
    ("append_branch;", DIALECTS, "", ""),
    ("append_branch();", DIALECTS, "", ""),
    ('append_branch("sip:bob@example.com");', DIALECTS, "", ""),
    ('append_branch("sip:bob@example.com", "0.5");', ("0.9", "2.0"), "", ""),
    # Via / sockets
    ("force_rport;", DIALECTS, "", ""),
    ("force_rport();", DIALECTS, "", ""),
    ("force_tcp_alias;", ("0.9", "2.0"), "", ""),
    ("force_tcp_alias();", ("0.9", "2.0"), "", ""),
    ("force_tcp_alias(5070);", ("0.9", "2.0"), "", ""),
    ("set_advertised_address(10.0.0.1);", DIALECTS, "", ""),
    ('set_advertised_address("sip.example.com");', DIALECTS, "", ""),
    ("set_advertised_address(sip.example.com);", DIALECTS, "", ""),
    ("set_advertised_port(5080);", DIALECTS, "", ""),
    ("force_send_socket(udp:127.0.0.1:5060);", ("0.9", "2.0"), LISTEN, ""),
    ("force_send_socket(tcp:127.0.0.1:5060);", ("0.9", "2.0"), LISTEN, ""),
    ("force_send_socket(127.0.0.1:5060);", ("0.9", "2.0"), LISTEN, ""),
    ("force_send_socket(127.0.0.1);", ("0.9", "2.0"), LISTEN, ""),
    # 0.8 only
    ("len_gt(1000);", ("0.8",), "", ""),
    ("len_gt(max_len);", ("0.8",), "", ""),
    # 2.0 only
    ('setavpflag($foo, "x");', ("2.0",), "avpflags x;\n", ""),
    ("setavpflag($foo, x);", ("2.0",), "avpflags x;\n", ""),
    ('resetavpflag($foo, "x");', ("2.0",), "avpflags x;\n", ""),
    ("isavpflagset($foo, x);", ("2.0",), "avpflags x;\n", ""),
]


@pytest.mark.parametrize("statement, dialects, pre, post", VALID)
def test_valid_core_action_forms_are_clean(statement, dialects, pre, post):
    for dialect in dialects:
        result = run(statement, dialect, pre, post)
        assert summary(result) == [], (dialect, summary(result))


ALIASES = [
    ("sethost", "rewritehost", '"sip.example.com"'),
    ("seth", "rewritehost", '"sip.example.com"'),
    ("sethostport", "rewritehostport", '"sip.example.com:5070"'),
    ("sethp", "rewritehostport", '"sip.example.com:5070"'),
    ("setuser", "rewriteuser", '"alice"'),
    ("setu", "rewriteuser", '"alice"'),
    ("setuserpass", "rewriteuserpass", '"alice:pw"'),
    ("setup", "rewriteuserpass", '"alice:pw"'),
    ("setport", "rewriteport", '"5070"'),
    ("setp", "rewriteport", '"5070"'),
    ("seturi", "rewriteuri", '"sip:alice@example.com"'),
    ("add_rport", "force_rport", ""),
    ("add_tcp_alias", "force_tcp_alias", ""),
]


@pytest.mark.parametrize("alias, canonical, arg", ALIASES)
def test_alias_is_the_same_action(alias, canonical, arg):
    assert core.CORE_ACTIONS[alias] is core.CORE_ACTIONS[canonical]
    statement = f"{alias}({arg});"
    expected_args = [ast.Str(value=arg.strip('"'), quote='"', line=2, col=COL + len(alias) + 1)
                     ] if arg else []
    assert statement_of(statement) == ast.Call(name=alias, args=expected_args, line=2, col=COL)
    assert_clean(run(statement))


@pytest.mark.parametrize("alias", ["add_rport", "add_tcp_alias"])
def test_bare_alias(alias):
    assert statement_of(f"{alias};") == ast.Bare(name=alias, line=2, col=COL)
    assert_clean(run(f"{alias};"))


@pytest.mark.parametrize("alias, canonical", [("seth", "rewritehost"), ("setp", "rewriteport"),
                                              ("seturi", "rewriteuri")])
def test_alias_errors_name_the_alias(alias, canonical):
    statement = f"{alias}(1);"
    assert_only(run(statement), 2, at(statement, "1"), "error", f"'{alias}' expects a quoted string",
                "not a number")


def test_every_core_action_is_covered():
    covered = {s.split("(")[0].rstrip(";") for s, *_ in VALID} | {a for a, _, _ in ALIASES}
    assert set(core.CORE_ACTIONS) <= covered


# --- AST of argument forms ------------------------------------------------------------------

def test_forward_uri_host_uri_port_ast():
    assert statement_of("forward(uri:host, uri:port);") == ast.Call(
        name="forward", args=[ast.UriHost(line=2, col=13), ast.UriPort(line=2, col=23)],
        line=2, col=5)


def test_forward_udp_multicast_ast():
    assert statement_of("forward_udp(224.0.1.75,5060);") == ast.Call(
        name="forward_udp", args=[ast.Ip(text="224.0.1.75", bracketed=False, line=2, col=17),
                                  ast.Num(text="5060", value=5060, line=2, col=28)],
        line=2, col=5)


def test_force_send_socket_ast():
    statement = statement_of("force_send_socket(udp:127.0.0.1:5060);", pre=LISTEN)
    assert statement == ast.Call(name="force_send_socket", args=[ast.Socket(
        proto="udp", addr=ast.Ip(text="127.0.0.1", bracketed=False, line=3, col=27),
        port=ast.Num(text="5060", value=5060, line=3, col=37), line=3, col=23)],
        line=3, col=5)


def test_force_send_socket_without_protocol_ast():
    arg = statement_of("force_send_socket(127.0.0.1:5060);", pre=LISTEN).args[0]
    assert arg == ast.Socket(proto=None,
                             addr=ast.Ip(text="127.0.0.1", bracketed=False, line=3, col=23),
                             port=ast.Num(text="5060", value=5060, line=3, col=33),
                             line=3, col=23)


@pytest.mark.parametrize("name", ["revert_uri", "force_rport", "append_branch", "force_tcp_alias"])
def test_bare_form_ast(name):
    assert statement_of(f"{name};") == ast.Bare(name=name, line=2, col=COL)


def test_setflag_ast():
    assert statement_of("setflag(3);") == ast.Call(
        name="setflag", args=[ast.Num(text="3", value=3, line=2, col=13)], line=2, col=5)


# --- wrong argument kinds ------------------------------------------------------------------------

WRONG_KIND = [
    # (statement, the wrong argument, key words)
    ('strip("2");', '"2"', ("'strip' expects a number", "not a string", "strip(2)")),
    ('strip_tail("2");', '"2"', ("'strip_tail' expects a number", "strip_tail(2)")),
    ('setflag("3");', '"3"', ("'setflag' expects a flag number", "setflag(3)")),
    ('resetflag("3");', '"3"', ("'resetflag' expects a flag number", "resetflag(3)")),
    ('isflagset("3");', '"3"', ("'isflagset' expects a flag number", "isflagset(3)")),
    ('route("1");', '"1"', ("'route' expects a route number", "route(1)")),
    ('set_advertised_port("5080");', '"5080"',
     ("'set_advertised_port' expects a number", "set_advertised_port(5080)")),
    ('force_tcp_alias("5070");', '"5070"', ("'force_tcp_alias' expects a number",)),
    ("strip(x);", "x", ("'strip' expects a number", "not a name")),
    ("setflag(NAT);", "NAT", ("'setflag' expects a flag number", "not a name")),
    ("route(one);", "one", ("'route' expects a route number", "not a name")),
    ("rewritehost(1);", "1", ("'rewritehost' expects a quoted string", "not a number")),
    ("rewritehost(sip.example.com);", "sip", ("'rewritehost' expects a quoted string",
                                              "not a hostname")),
    ("rewritehostport(10.0.0.1);", "10", ("'rewritehostport' expects a quoted string",
                                          "not an IP address")),
    ("rewriteuser(alice);", "alice", ("'rewriteuser' expects a quoted string", "not a name")),
    ("rewriteuserpass(1);", "1", ("'rewriteuserpass' expects a quoted string",)),
    ("rewriteport(5060);", "5060", ("'rewriteport' expects a quoted string", "not a number")),
    ("rewriteuri(1);", "1", ("'rewriteuri' expects a quoted string",)),
    ("prefix(49);", "49", ("'prefix' expects a quoted string", "not a number")),
    ("exec(1);", "1", ("'exec' expects a quoted string",)),
    ("log(1);", "1", ("'log' expects a quoted string", "not a number")),
    ("log(x);", "x", ("'log' expects a quoted string", "not a name")),
    ('log("a", "b");', '"a"', ("'log' expects a number", "not a string")),
    ('error(1, "b");', "1", ("'error' expects a quoted string",)),
    ("append_branch(1);", "1", ("'append_branch' expects a quoted string",)),
    ("forward(5060);", "5060", ("'forward' expects a host", "not a number")),
    ("forward(uri:port);", "uri:port", ("'forward' expects a host", "'uri:port'")),
    ('forward(10.0.0.1, "5060");', '"5060"', ("'forward' expects a number", "not a string")),
    ("forward(10.0.0.1, x);", "x", ("'forward' expects a number", "not a name")),
    ("forward_tcp(5060);", "5060", ("'forward_tcp' expects a host",)),
    ("send(uri:host);", "uri:host", ("'send' expects a host", "'uri:host'")),
    ('send(10.0.0.1, "5060");', '"5060"', ("'send' expects a number",)),
    ("set_advertised_address(5060);", "5060", ("'set_advertised_address' expects a host",)),
]


@pytest.mark.parametrize("statement, where, words", WRONG_KIND)
def test_wrong_argument_kind(statement, where, words):
    assert_only(run(statement), 2, at(statement, where), "error", *words)


def test_forward_host_with_uri_port_is_an_error():
    # forward(H, uri:port) is not one of forward's forms: uri:port goes with uri:host.
    statement = "forward(sip.example.com, uri:port);"
    result = run(statement)
    assert len(result.errors) == 1, summary(result)
    assert result.errors[0].line == 2


def test_setavpflag_needs_an_attribute():
    statement = 'setavpflag("foo", "x");'
    assert_only(run(statement, "2.0", "avpflags x;\n"), 3, at(statement, '"foo"'), "error",
                "'setavpflag' expects an attribute ($name)", "not a string")


# --- wrong arity ---------------------------------------------------------------------------------

ARITY = [
    ("forward();", ("'forward' takes 1 or 2 arguments", "0 given")),
    ("forward(10.0.0.1, 5060, 1);", ("'forward' takes 1 or 2 arguments", "3 given")),
    ("send();", ("'send' takes 1 or 2 arguments", "0 given")),
    ("log();", ("'log' takes 1 or 2 arguments", "0 given")),
    ('log(1, "a", "b");', ("'log' takes 1 or 2 arguments", "3 given")),
    ('error("a");', ("'error' takes 2 arguments", "1 given")),
    ('error("a", "b", "c");', ("'error' takes 2 arguments", "3 given")),
    ("exec();", ("'exec' takes 1 argument,", "0 given")),
    ("route();", ("'route' takes 1 argument,", "0 given")),
    ("route(1, 2);", ("'route' takes 1 argument,", "2 given")),
    ("strip();", ("'strip' takes 1 argument,", "0 given")),
    ("strip(1, 2);", ("'strip' takes 1 argument,", "2 given")),
    ("setflag();", ("'setflag' takes 1 argument,", "0 given")),
    ("setflag(1, 2);", ("'setflag' takes 1 argument,", "2 given")),
    ('rewritehost();', ("'rewritehost' takes 1 argument,", "0 given")),
    ('rewritehost("a", "b");', ("'rewritehost' takes 1 argument,", "2 given")),
    ('revert_uri("x");', ("'revert_uri' takes 0 arguments", "1 given")),
    ("force_rport(1);", ("'force_rport' takes 0 arguments", "1 given")),
    ("add_rport(1);", ("'add_rport' takes 0 arguments", "1 given")),
    ('append_branch("a", "b", "c");', ("'append_branch' takes", "2", "3 given")),
    ("force_tcp_alias(1, 2);", ("'force_tcp_alias' takes", "2 given")),
    ("set_advertised_port();", ("'set_advertised_port' takes 1 argument,", "0 given")),
]


@pytest.mark.parametrize("statement, words", ARITY)
def test_wrong_arity(statement, words):
    assert_only(run(statement), 2, COL, "error", *words)


# --- bare forms --------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", ["revert_uri;", "force_rport;", "append_branch;",
                                       "add_rport;"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_bare_forms_are_clean(statement, dialect):
    assert_clean(run(statement, dialect))


@pytest.mark.parametrize("statement, name", [
    ("strip;", "strip"), ("log;", "log"), ("forward;", "forward"), ("setflag;", "setflag"),
    ("rewritehost;", "rewritehost"),
])
def test_bare_form_of_an_action_with_arguments_is_an_error(statement, name):
    assert_only(run(statement), 2, COL, "error", f"'{name}' needs parentheses")


@pytest.mark.parametrize("statement, name, pre", [
    ("t_relay;", "t_relay", TM), ("sl_reply_error;", "sl_reply_error", SL),
    ("sl_send_reply;", "sl_send_reply", SL),
])
def test_module_function_without_parentheses_is_an_error(statement, name, pre):
    assert_only(run(statement, pre=pre), 3, COL, "error", f"'{name}' needs parentheses",
                f"{name}(...)")


def test_unknown_bare_word_is_an_error():
    assert_only(run("frobnicate;"), 2, COL, "error", "unknown statement 'frobnicate'")


def test_unknown_function_suggests_a_close_name():
    assert_only(run("rewritehots(\"a\");"), 2, COL, "error", "unknown function 'rewritehots'",
                "did you mean 'rewritehost'")


# --- drop / break / exit / return -------------------------------------------------------------------

@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
@pytest.mark.parametrize("statement, kind, parens", [
    ("drop;", "drop", False), ("drop();", "drop", True),
    ("break;", "break", False), ("break();", "break", True),
])
def test_drop_and_break_before_20(dialect, statement, kind, parens):
    assert statement_of(statement, dialect) == ast.Stop(kind=kind, value=None, parens=parens,
                                                        line=2, col=COL)
    assert_clean(run(statement, dialect))


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
@pytest.mark.parametrize("statement, kind, where", [
    ("drop(1);", "drop", "1"), ("drop 1;", "drop", "1"), ("break(1);", "break", "1"),
])
def test_drop_and_break_take_no_value_before_20(dialect, statement, kind, where):
    assert_only(run(statement, dialect), 2, at(statement, where), "error", f"'{kind}'",
                "takes no value")


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
@pytest.mark.parametrize("statement, kind", [
    ("exit;", "exit"), ("exit(1);", "exit"), ("return;", "return"), ("return 1;", "return"),
])
def test_exit_and_return_are_errors_before_20(dialect, statement, kind):
    assert_only(run(statement, dialect), 2, COL, "error", f"'{kind}'", "only in SER 2.0",
                f"not in {dialect}")


STOPS_20 = [
    ("drop;", "drop", None, False),
    ("drop();", "drop", None, True),
    ("drop(1);", "drop", ast.Num(text="1", value=1, line=2, col=10), True),
    ("drop 1;", "drop", ast.Num(text="1", value=1, line=2, col=10), False),
    ("drop $?;", "drop", ast.RetCode(line=2, col=10), False),
    ("exit;", "exit", None, False),
    ("exit 2;", "exit", ast.Num(text="2", value=2, line=2, col=10), False),
    ("exit(2);", "exit", ast.Num(text="2", value=2, line=2, col=10), True),
    ("exit $?;", "exit", ast.RetCode(line=2, col=10), False),
    ("return;", "return", None, False),
    ("return 1;", "return", ast.Num(text="1", value=1, line=2, col=12), False),
    ("return -1;", "return", ast.Num(text="-1", value=-1, line=2, col=12), False),
    ("return $?;", "return", ast.RetCode(line=2, col=12), False),
    ("break;", "break", None, False),
]


@pytest.mark.parametrize("statement, kind, value, parens", STOPS_20)
def test_stops_in_20(statement, kind, value, parens):
    assert statement_of(statement, "2.0") == ast.Stop(kind=kind, value=value, parens=parens,
                                                      line=2, col=COL)
    assert_clean(run(statement, "2.0"))


@pytest.mark.parametrize("statement", ["return(1);", "return();", "return($?);"])
def test_return_with_parentheses_is_an_error_in_20(statement):
    assert_only(run(statement, "2.0"), 2, COL, "error", "without parentheses", "return 1")


@pytest.mark.parametrize("statement, where, words", [
    ("break 1;", "1", ("'break' takes no value",)),
    ("break(1);", "1", ("'break' takes no value",)),
    ('drop "x";', '"x"', ("'drop' takes a number or $?", "not a string")),
    ('exit "x";', '"x"', ("'exit' takes a number or $?", "not a string")),
    ("return $x;", "$x", ("'return' takes a number or $?", "not an attribute")),
])
def test_bad_stop_values_in_20(statement, where, words):
    assert_only(run(statement, "2.0"), 2, at(statement, where), "error", *words)


# --- 2.0 assignments ------------------------------------------------------------------------------

@pytest.mark.parametrize("statement, value", [
    ("$x = 1;", ast.Num(text="1", value=1, line=2, col=10)),
    ('$x = "s";', ast.Str(value="s", quote='"', line=2, col=10)),
    ("$x = $y;", ast.Avp(name="$y", line=2, col=10)),
    ("$x = @from.uri;", ast.Select(path="@from.uri", line=2, col=10)),
    ("$x = -5;", ast.Num(text="-5", value=-5, line=2, col=10)),
])
def test_assignment_in_20(statement, value):
    assert statement_of(statement, "2.0") == ast.Assign(
        target=ast.Avp(name="$x", line=2, col=COL), value=value, line=2, col=COL)
    assert_clean(run(statement, "2.0"))


def test_assignment_of_a_condition_in_20():
    statement = '$x = (method=="INVITE");'
    node = statement_of(statement, "2.0")
    assert isinstance(node, ast.Assign)
    assert node.value == ast.Compare(
        left=ast.Name(name="method", line=2, col=11), op="==",
        right=ast.Str(value="INVITE", quote='"', line=2, col=19), line=2, col=11)
    assert_clean(run(statement, "2.0"))


def test_assignment_of_a_function_result_in_20():
    node = statement_of("$x = t_relay();", "2.0", pre=TM)
    assert node.value == ast.Call(name="t_relay", args=[], line=3, col=10)
    assert_clean(run("$x = t_relay();", "2.0", pre=TM))


def test_assignment_of_an_unknown_function_is_an_error():
    assert_only(run("$x = nosuch();", "2.0"), 2, 10, "error", "unknown function 'nosuch'")


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
def test_assignment_is_an_error_before_20(dialect):
    result = run("$x = 1;", dialect)
    assert result.errors
    assert (result.errors[0].line, result.errors[0].col) == (2, COL)
    assert "only in SER 2.0" in result.errors[0].message


# --- flags --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
@pytest.mark.parametrize("action", ["setflag", "resetflag", "isflagset"])
def test_flag_0_warns_before_20(dialect, action):
    statement = f"{action}(0);"
    assert_only(run(statement, dialect), 2, at(statement, "0"), "warning",
                f"flag 0 does not exist in SER {dialect}", "1 to 31")


@pytest.mark.parametrize("action", ["setflag", "resetflag", "isflagset"])
def test_flag_0_is_fine_in_20(action):
    assert_clean(run(f"{action}(0);", "2.0"))


@pytest.mark.parametrize("dialect, lowest", [("0.8", 1), ("0.9", 1), ("2.0", 0)])
@pytest.mark.parametrize("flag", [32, 64, 1000])
def test_flag_above_31_is_an_error(dialect, lowest, flag):
    statement = f"setflag({flag});"
    assert_only(run(statement, dialect), 2, at(statement, str(flag)), "error",
                f"flag {flag} is out of range", f"{lowest} to 31")


def test_negative_flag_is_an_error_in_20():
    statement = "setflag(-1);"
    assert_only(run(statement, "2.0"), 2, at(statement, "-1"), "error",
                "flag -1 is out of range", "0 to 31")


FLAGS = "flags NAT:1, ACC, VM:31;\n"


@pytest.mark.parametrize("statement", ["setflag(NAT);", "resetflag(ACC);", "isflagset(VM);"])
def test_named_flags_in_20(statement):
    assert_clean(run(statement, "2.0", FLAGS))


def test_flags_declaration_ast():
    result = parse(FLAGS + "route { drop; }\n", "t.cfg", "2.0")
    decl = result.config.items[0]
    assert decl == ast.FlagsDecl(flags=[
        ast.FlagDef(name="NAT", bit=ast.Num(text="1", value=1, line=1, col=11), line=1, col=7),
        ast.FlagDef(name="ACC", bit=None, line=1, col=14),
        ast.FlagDef(name="VM", bit=ast.Num(text="31", value=31, line=1, col=22), line=1, col=19),
    ], line=1, col=1)


@pytest.mark.parametrize("action", ["setflag", "resetflag", "isflagset"])
def test_undeclared_flag_name_is_an_error_in_20(action):
    statement = f"{action}(FOO);"
    assert_only(run(statement, "2.0", FLAGS), 3, at(statement, "FOO"), "error",
                "unknown flag 'FOO'", "flags FOO")


def test_undeclared_quoted_flag_name_is_an_error_in_20():
    statement = 'setflag("FOO");'
    result = run(statement, "2.0", FLAGS)
    assert len(result.errors) == 1, summary(result)
    assert (result.errors[0].line, result.errors[0].col) == (3, at(statement, '"FOO"'))
    assert "FOO" in result.errors[0].message


def test_flag_used_before_declaration_is_an_error_in_20():
    # SER reads the file once: a name must be declared before its first use.
    text = "route {\n    setflag(NAT);\n}\n" + FLAGS
    result = check(text, "2.0")
    assert len(result.errors) == 1, summary(result)
    assert (result.errors[0].line, result.errors[0].col) == (2, 13)


def test_flag_bit_out_of_range_in_declaration():
    result = check("flags NAT:32;\nroute { drop; }\n", "2.0")
    assert_only(result, 1, 11, "error", "flag NAT", "0 to 31")


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
def test_flags_declaration_is_an_error_before_20(dialect):
    result = check("flags NAT:1;\nroute { drop; }\n", dialect)
    assert result.errors
    assert (result.errors[0].line, result.errors[0].col) == (1, 1)
    assert "only in SER 2.0" in result.errors[0].message


# --- route() targets ----------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
def test_route_to_a_missing_block_is_an_error(dialect):
    statement = "route(2);"
    result = run(statement, dialect, post="route[1] { route(1); }\n")
    errors = [(d.line, d.col, d.message) for d in result.errors]
    assert errors == [(2, at(statement, "2"), "route[2] is not defined")]


def test_route_to_a_block_defined_later_is_fine():
    assert_clean(run("route(7);", post="route[7] { drop; }\n"))


def test_named_route_call_in_20():
    assert_clean(run("route(FORWARD);", "2.0", post="route[FORWARD] { drop; }\n"))
    assert_clean(run('route("FORWARD");', "2.0", post="route[FORWARD] { drop; }\n"))


def test_named_route_missing_in_20():
    statement = "route(NOWHERE);"
    assert_only(run(statement, "2.0"), 2, at(statement, "NOWHERE"), "error",
                "route[NOWHERE] is not defined")


# --- log levels -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
@pytest.mark.parametrize("level", [5, 7, 100])
def test_log_level_above_4_is_an_error_before_20(dialect, level):
    statement = f'log({level}, "x");'
    assert_only(run(statement, dialect), 2, at(statement, str(level)), "error",
                "log levels are 0 to 4")


@pytest.mark.parametrize("level", ["5", "-3", "0"])
def test_log_levels_in_20(level):
    assert_clean(run(f'log({level}, "x");', "2.0"))


# --- actions of one dialect only ----------------------------------------------------------------------

@pytest.mark.parametrize("statement, dialect, words", [
    ("len_gt(1000);", "0.9", ("'len_gt'", "only in SER 0.8", "not in 0.9")),
    ("len_gt(1000);", "2.0", ("'len_gt'", "only in SER 0.8", "not in 2.0")),
    ("force_send_socket(udp:127.0.0.1:5060);", "0.8",
     ("'force_send_socket'", "only in SER 0.9 and 2.0", "not in 0.8")),
    ("force_tcp_alias;", "0.8", ("'force_tcp_alias'", "only in SER 0.9 and 2.0")),
    ("force_tcp_alias(5070);", "0.8", ("'force_tcp_alias'", "only in SER 0.9 and 2.0")),
    ('setavpflag($foo, "x");', "0.9", ("'setavpflag'", "only in SER 2.0", "not in 0.9")),
    ('resetavpflag($foo, "x");', "0.8", ("'resetavpflag'", "only in SER 2.0")),
    ('isavpflagset($foo, "x");', "0.9", ("'isavpflagset'", "only in SER 2.0")),
])
def test_action_of_another_dialect_is_an_error(statement, dialect, words):
    result = run(statement, dialect)
    first = result.errors[0]
    assert (first.line, first.col) == (2, COL), summary(result)
    for word in words:
        assert word in first.message


def test_append_branch_q_value_is_an_error_in_08():
    # The q argument of append_branch arrived in 0.9.
    result = run('append_branch("sip:bob@example.com", "0.5");', "0.8")
    assert len(result.errors) == 1, summary(result)
    assert result.errors[0].line == 2


# --- module function arguments (for contrast with core actions) ---------------------------------------

@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
def test_module_function_arguments_must_be_strings_before_20(dialect):
    statement = 'sl_send_reply(404, "Not Found");'
    assert_only(run(statement, dialect, SL), 3, at(statement, "404"), "error",
                "quoted strings", f"SER {dialect}", 'write "404"')


def test_module_function_arguments_may_be_numbers_in_20():
    assert_clean(run('sl_send_reply(404, "Not Found");', "2.0", SL))


@pytest.mark.parametrize("statement, words", [
    ('sl_send_reply("404");', ("'sl_send_reply' takes 2 arguments", "1 given")),
    ('sl_send_reply("404", "x", "y");', ("'sl_send_reply' takes 2 arguments", "3 given")),
])
def test_module_function_arity(statement, words):
    assert_only(run(statement, pre=SL), 3, COL, "error", *words)
