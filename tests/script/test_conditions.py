"""Conditions of ser.cfg (language reference §3 `expr`/`element` and §7):
every operand with the operators it allows and ones it rejects, `myself`,
precedence and the word operators, 0.9 `&`/`|` versus 2.0 bitwise `&`/`|`,
optional parentheses, commands/numbers/blocks as conditions, operands alone,
bad regular expressions and the 0.9 prefix-equality warning.

Each condition is written as `if (COND) drop;` on line 2 of a main route, so
the condition starts at column 9.
"""

from __future__ import annotations

import pytest

from ser_script import ast
from checks import assert_clean, assert_only, check, summary
from ser_script.parser import parse

TM = 'loadmodule "/usr/lib/ser/modules/tm.so"\n'
SL = 'loadmodule "/usr/lib/ser/modules/sl.so"\n'
COND_COL = 9


# --- helpers -------------------------------------------------------------------------

def if_route(cond: str, kind: str = "route") -> str:
    return f"{kind} {{\n    if ({cond}) drop;\n}}\n"


def check_cond(cond: str, dialect: str = "0.9", kind: str = "route"):
    return check(if_route(cond, kind), dialect)


def parse_cond(cond: str, dialect: str = "0.9", prefix: str = ""):
    result = parse(prefix + if_route(cond), "t.cfg", dialect)
    assert result.config is not None, result.diagnostics
    block = [i for i in result.config.items if isinstance(i, ast.RouteBlock)][0]
    statement = block.body[0]
    assert isinstance(statement, ast.If)
    return statement.cond


def at(cond: str, needle: str | None) -> int:
    """Column of needle inside a condition written by if_route()."""
    return COND_COL if needle is None else COND_COL + cond.index(needle)


def name(text: str, col: int) -> ast.Name:
    return ast.Name(name=text, line=2, col=col)


# --- every operand with every operator it allows ----------------------------------------------

ALLOWED_EVERYWHERE = [
    # method: == != =~ with a string or a bare name
    'method=="INVITE"', 'method!="INVITE"', 'method=~"^(INVITE|ACK)$"',
    "method==INVITE", "method!=ACK",
    # uri / status: == != =~, myself, unquoted host
    'uri=~"^sip:"', "uri==myself", "uri!=myself", 'uri=~"@example\\.com"',
    'status=~"^18[0-9]"', "status==myself",
    # src_ip / dst_ip: == != with address or network, =~ with a string, myself
    "src_ip==10.1.2.3", "src_ip!=10.1.2.3", "src_ip==10.0.0.0/8", "src_ip!=10.0.0.0/255.0.0.0",
    'src_ip=~"^10\\."', "src_ip==myself", "src_ip!=myself", "src_ip==::1",
    "dst_ip==10.1.2.3", "dst_ip!=192.168.0.0/16", 'dst_ip=~"^192"', "dst_ip==myself",
    # src_port / dst_port: every integer operator
    "src_port==5060", "src_port!=5060", "src_port<1024", "src_port>1024",
    "src_port<=1024", "src_port>=1024",
    "dst_port==5060", "dst_port!=5060", "dst_port<5060", "dst_port>5060",
    "dst_port<=5060", "dst_port>=5060",
    # proto: udp tcp tls
    "proto==udp", "proto!=tcp", "proto==tls", "proto==UDP",
    # af: inet inet6 with the integer operators
    "af==inet", "af!=inet6", "af==INET6",
    # msg:len: every integer operator, a number or max_len
    "msg:len==100", "msg:len!=100", "msg:len<100", "msg:len>100", "msg:len<=100",
    "msg:len>=4096", "msg:len>=max_len", "msg:len<max_len",
    # myself on the left
    "myself==uri", "myself!=uri", "myself==status", "myself==src_ip", "myself!=dst_ip",
]


@pytest.mark.parametrize("dialect", ["0.8", "0.9", "2.0"])
@pytest.mark.parametrize("cond", ALLOWED_EVERYWHERE)
def test_operand_with_allowed_operator_is_clean(dialect, cond):
    assert_clean(check_cond(cond, dialect))


ALLOWED_09_20 = [
    'from_uri=~"@example\\.com"', "from_uri==myself", "from_uri!=myself",
    'to_uri=~"^sip:"', "to_uri==myself", "to_uri!=myself",
    "myself==from_uri", "myself!=to_uri",
    "uri==sip.example.com", "from_uri!=sip.example.com",
]


@pytest.mark.parametrize("dialect", ["0.9", "2.0"])
@pytest.mark.parametrize("cond", ALLOWED_09_20)
def test_09_operand_with_allowed_operator_is_clean(dialect, cond):
    assert_clean(check_cond(cond, dialect))


@pytest.mark.parametrize("cond", [
    "method=~INVITE",              # method strop ID: =~ with a bare name is a regex too
    "uri=~sip.example.com",        # uri strop host
    "status=~example.com",
])
def test_regex_match_with_unquoted_word_is_clean(cond):
    assert_clean(check_cond(cond))


@pytest.mark.parametrize("cond", ["proto==*", "proto!=*"])
def test_proto_compared_with_star(cond):
    # `*` is the fourth value of the proto rule (it means "any", 0).
    assert_clean(check_cond(cond))


@pytest.mark.parametrize("cond", ["proto>=udp", "proto<tls", "af<inet6", "af>=inet"])
def test_proto_and_af_take_integer_operators(cond):
    assert_clean(check_cond(cond))


@pytest.mark.parametrize("cond", ['src_ip=="10.1.2.3"', 'dst_ip!="10.1.2.3"', 'src_ip=="::1"'])
def test_ip_written_as_a_string_is_an_address_not_a_name(cond):
    # 0.9+ reads a string that parses as an address as that address: no DNS.
    assert_clean(check_cond(cond))


@pytest.mark.parametrize("cond", ["src_ip==gw.example.com", 'dst_ip!="gw.example.com"'])
def test_ip_compared_with_a_name_warns_about_dns(cond):
    right = cond.split("=", 2)[-1]
    assert_only(check_cond(cond), 2, at(cond, right), "warning", "DNS")


def test_proto_as_plain_number_only_in_08():
    assert_clean(check_cond("proto==1", "0.8"))
    assert_only(check_cond("proto==1", "0.9"), 2, at("proto==1", "1"), "error",
                "'proto'", "udp, tcp or tls")


# --- operators an operand rejects ----------------------------------------------------------------

REJECTED = [
    # (condition, where the error points (None = the comparison), key words)
    ('method<"X"', None, ("'method'", "==, != or =~", "not <")),
    ("method>=INVITE", None, ("'method'", "not >=")),
    ("method==1", "1", ("'method =='", "a string", "not a number")),
    ('uri>"sip:a"', None, ("'uri'", "==, != or =~", "not >")),
    ("uri=~myself", "myself", ("'uri =~ myself'", "not a valid comparison")),
    ("uri==5060", "5060", ("'uri =='", "not a number")),
    ('status<"300"', None, ("'status'", "not <")),
    ('from_uri>="a"', None, ("'from_uri'", "not >=")),
    ('to_uri<="a"', None, ("'to_uri'", "not <=")),
    ("src_ip<10.1.2.3", None, ("'src_ip'", "== or !=", "not <")),
    ("src_ip=~10.0.0.0/8", None, ("'src_ip'", "== or !=", "not =~")),
    ("src_ip=~myself", None, ("'src_ip'", "not =~")),
    ("src_ip==5060", "5060", ("'src_ip'", "address", "not a number")),
    ("dst_ip>=10.1.2.3", None, ("'dst_ip'", "not >=")),
    ('src_port=~"50"', None, ("'src_port'", "==, !=, <, >, <= or >=", "not =~")),
    ('src_port=="5060"', '"5060"', ("'src_port'", "a number", "not a string")),
    ("dst_port==udp", "udp", ("'dst_port'", "a number", "not a name")),
    ('proto=~"udp"', None, ("'proto'", "not =~")),
    ("proto==5060", "5060", ("'proto'", "udp, tcp or tls")),
    ('proto=="udp"', '"udp"', ("'proto'", "udp, tcp or tls")),
    ('af=~"inet"', None, ("'af'", "not =~")),
    ("af==udp", "udp", ("'af'", "inet or inet6")),
    ('msg:len=~"1"', None, ("'msg:len'", "not =~")),
    ('msg:len=="4"', '"4"', ("'msg:len'", "a number", "not a string")),
    ("myself=~uri", None, ("myself", "== or !=", "not =~")),
    ("myself<src_ip", None, ("myself", "== or !=", "not <")),
    ("myself==method", "method", ("myself is compared with", "uri", "src_ip")),
    ("myself==src_port", "src_port", ("myself is compared with",)),
]


@pytest.mark.parametrize("cond, where, words", REJECTED)
def test_operand_with_rejected_operator_or_value(cond, where, words):
    assert_only(check_cond(cond), 2, at(cond, where), "error", *words)


@pytest.mark.parametrize("cond", ['1==1', '"a"=="b"', "INVITE==method", "10.1.2.3==src_ip"])
def test_left_side_must_be_an_operand(cond):
    assert_only(check_cond(cond), 2, COND_COL, "error", "cannot be compared", "left side")


def test_function_result_cannot_be_compared():
    result = check(TM + if_route("t_relay()==1"))
    assert_only(result, 3, COND_COL, "error", "function's result cannot be compared")


@pytest.mark.parametrize("cond, operand", [
    ('from_uri=~"x"', "from_uri"), ("to_uri==myself", "to_uri"),
])
def test_from_uri_and_to_uri_do_not_exist_in_08(cond, operand):
    assert_only(check_cond(cond, "0.8"), 2, COND_COL, "error", f"'{operand}'",
                "0.9 and 2.0", "not in 0.8")


@pytest.mark.parametrize("cond", ["myself==from_uri", "myself!=to_uri"])
def test_myself_with_from_uri_or_to_uri_is_an_error_in_08(cond):
    result = check_cond(cond, "0.8")
    assert len(result.errors) == 1, summary(result)
    assert result.errors[0].line == 2
    assert "0.8" in result.errors[0].message


# --- myself --------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["==", "!="])
def test_uri_compared_with_myself(op):
    cond = f"uri{op}myself"
    assert parse_cond(cond) == ast.Compare(
        left=name("uri", 9), op=op, right=name("myself", 9 + 3 + len(op)), line=2, col=9)
    assert_clean(check_cond(cond))


@pytest.mark.parametrize("op", ["==", "!="])
def test_myself_compared_with_uri(op):
    cond = f"myself{op}uri"
    assert parse_cond(cond) == ast.Compare(
        left=name("myself", 9), op=op, right=name("uri", 9 + 6 + len(op)), line=2, col=9)
    assert_clean(check_cond(cond))


def test_myself_alone_is_not_a_condition():
    assert_only(check_cond("myself"), 2, COND_COL, "error", "alone is not a condition")


# --- 2.0 operands: attributes, selects, $? -------------------------------------------------------

ALLOWED_20 = [
    "$foo", "$f.uid", "$t.name", "@from.uri", '@msg.header["X-Foo"]', "$?",
    '$foo=="bar"', '$foo!="bar"', '$foo=~"^b"', "$foo==1", "$foo!=1", "$foo<10", "$foo>=10",
    "$foo==$bar", '@to.tag=="abc"', '@from.uri=~"^sip:"',
    "$?==1", "$?!=1", "$?<0", "$?>0", "$?<=0", "$?>=1",
    "uri==$ruri", "uri=~$re", "uri==@from.uri", "method==$m", "src_port==$port",
    "src_ip==$addr", "msg:len>$max",
]


@pytest.mark.parametrize("cond", ALLOWED_20)
def test_20_operands_are_clean_in_20(cond):
    assert_clean(check_cond(cond, "2.0"))


@pytest.mark.parametrize("cond, token, what", [
    ("$foo", "$foo", "the attribute $foo"),
    ('$foo=="x"', "$foo", "the attribute $foo"),
    ('@from.uri=="x"', "@from.uri", "the select @from.uri"),
    ("$?==1", "$?", "'$?'"),
    ("uri==$ruri", "$ruri", "the attribute $ruri"),
])
@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
def test_20_operands_are_errors_before_20(dialect, cond, token, what):
    result = check_cond(cond, dialect)
    assert result.warnings == []
    first = result.errors[0]
    assert (first.line, first.col) == (2, at(cond, token)), summary(result)
    for word in (what, "only in SER 2.0", f"not in {dialect}"):
        assert word in first.message


def test_20_operand_ast_nodes():
    assert parse_cond('$f.uid=="x"', "2.0") == ast.Compare(
        left=ast.Avp(name="$f.uid", line=2, col=9), op="==",
        right=ast.Str(value="x", quote='"', line=2, col=17), line=2, col=9)
    assert parse_cond("@from.uri", "2.0") == ast.Select(path="@from.uri", line=2, col=9)
    assert parse_cond("$?>0", "2.0") == ast.Compare(
        left=ast.RetCode(line=2, col=9), op=">",
        right=ast.Num(text="0", value=0, line=2, col=12), line=2, col=9)


@pytest.mark.parametrize("cond, where", [
    ('$?=~"1"', None),     # $? takes the integer operators only
    ('$?=="1"', '"1"'),    # ... and a number
    ("$foo=~1", None),     # =~ needs a string (regex)
])
def test_20_operand_with_rejected_operator(cond, where):
    result = check_cond(cond, "2.0")
    assert len(result.errors) == 1, summary(result)
    assert (result.errors[0].line, result.errors[0].col) == (2, at(cond, where))


def test_bad_regex_against_an_attribute_is_an_error():
    cond = '$foo=~"a("'
    assert_only(check_cond(cond, "2.0"), 2, at(cond, '"a("'), "error", "bad regular expression")


# --- onsend-only operands -------------------------------------------------------------------------

ONSEND_CONDS = [
    ("snd_ip==10.1.2.3", "snd_ip"), ("snd_ip==myself", "snd_ip"), ("to_ip!=10.0.0.0/8", "to_ip"),
    ("snd_port==5060", "snd_port"), ("to_port>=1024", "to_port"),
    ("snd_proto==udp", "snd_proto"), ("to_proto!=tcp", "to_proto"),
    ("snd_af==inet", "snd_af"), ("to_af==inet6", "to_af"),
]


@pytest.mark.parametrize("cond, operand", ONSEND_CONDS)
def test_onsend_operands_in_onsend_route(cond, operand):
    assert_clean(check_cond(cond, "2.0", kind="onsend_route"))


@pytest.mark.parametrize("cond, operand", ONSEND_CONDS)
def test_onsend_operands_in_main_route_are_errors(cond, operand):
    assert_only(check(TM + if_route(cond), "2.0"), 3, COND_COL, "error", f"'{operand}'",
                "only", "onsend_route")


@pytest.mark.parametrize("cond, operand", ONSEND_CONDS)
def test_onsend_operands_in_failure_route_are_errors(cond, operand):
    text = (TM + 'route { t_on_failure("1"); t_relay(); }\n'
            + if_route(cond, kind="failure_route[1]"))
    assert_only(check(text, "2.0"), 4, COND_COL, "error", f"'{operand}'", "only",
                "onsend_route")


@pytest.mark.parametrize("cond, operand", ONSEND_CONDS[:3])
def test_onsend_operands_do_not_exist_in_09(cond, operand):
    assert_only(check_cond(cond, "0.9"), 2, COND_COL, "error", f"'{operand}'", "only in SER 2.0")


# --- precedence -------------------------------------------------------------------------------------

def test_precedence_not_and_or():
    cond = '!method=="X" && uri=~"a" || src_port==5060'
    assert parse_cond(cond) == ast.Or(
        left=ast.And(
            left=ast.Not(
                operand=ast.Compare(left=name("method", 10), op="==",
                                    right=ast.Str(value="X", quote='"', line=2, col=18),
                                    line=2, col=10),
                op="!", line=2, col=9),
            right=ast.Compare(left=name("uri", 25), op="=~",
                              right=ast.Str(value="a", quote='"', line=2, col=30), line=2, col=25),
            op="&&", line=2, col=9),
        right=ast.Compare(left=name("src_port", 37), op="==",
                          right=ast.Num(text="5060", value=5060, line=2, col=47), line=2, col=37),
        op="||", line=2, col=9)
    assert_clean(check_cond(cond))


def _shape(node):
    """The tree of a condition without positions: ('or', a, b), ('not', x), 'leaf'."""
    if isinstance(node, ast.Or):
        return ("or", _shape(node.left), _shape(node.right))
    if isinstance(node, ast.And):
        return ("and", _shape(node.left), _shape(node.right))
    if isinstance(node, ast.Not):
        return ("not", _shape(node.operand))
    if isinstance(node, ast.Compare):
        return node.left.name
    return type(node).__name__


@pytest.mark.parametrize("cond, shape", [
    ("src_port==1 || src_port==2 && src_port==3",
     ("or", "src_port", ("and", "src_port", "src_port"))),
    ("src_port==1 && src_port==2 || src_port==3",
     ("or", ("and", "src_port", "src_port"), "src_port")),
    ("(src_port==1 || dst_port==2) && proto==udp",
     ("and", ("or", "src_port", "dst_port"), "proto")),
    ("src_port==1 || dst_port==2 || proto==udp",
     ("or", ("or", "src_port", "dst_port"), "proto")),
    ("src_port==1 && dst_port==2 && proto==udp",
     ("and", ("and", "src_port", "dst_port"), "proto")),
    ("!src_port==1 || !dst_port==2", ("or", ("not", "src_port"), ("not", "dst_port"))),
    ("!(src_port==1 || dst_port==2)", ("not", ("or", "src_port", "dst_port"))),
    ("!!src_port==1", ("not", ("not", "src_port"))),
    ('! uri=~"x"', ("not", "uri")),
])
def test_precedence_shapes(cond, shape):
    assert _shape(parse_cond(cond)) == shape
    assert_clean(check_cond(cond))


@pytest.mark.parametrize("dialect", ["0.8", "0.9", "2.0"])
def test_word_operators(dialect):
    cond = 'not method=="X" and uri=~"a" or src_port==5060'
    tree = parse_cond(cond, dialect)
    assert isinstance(tree, ast.Or) and tree.op == "or"
    assert isinstance(tree.left, ast.And) and tree.left.op == "and"
    assert isinstance(tree.left.left, ast.Not) and tree.left.left.op == "not"
    assert tree.left.left.operand == ast.Compare(
        left=name("method", 13), op="==", right=ast.Str(value="X", quote='"', line=2, col=21),
        line=2, col=13)
    assert tree.right.left == name("src_port", 41)
    assert_clean(check_cond(cond, dialect))


# --- & and | --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
@pytest.mark.parametrize("op, node", [("&", ast.And), ("|", ast.Or)])
def test_single_ampersand_and_bar_are_logical_before_20(dialect, op, node):
    cond = f"src_port==5060 {op} proto==udp"
    tree = parse_cond(cond, dialect)
    assert isinstance(tree, node)
    assert tree.op == op
    assert tree.left.left == name("src_port", 9)
    assert tree.right.left == name("proto", 26)
    assert_clean(check_cond(cond, dialect))


@pytest.mark.parametrize("op, node", [("&", ast.And), ("|", ast.Or)])
def test_bitwise_operator_on_attribute_and_number_in_20(op, node):
    cond = f"$flags {op} 4"
    assert parse_cond(cond, "2.0") == node(
        left=ast.Avp(name="$flags", line=2, col=9),
        right=ast.Num(text="4", value=4, line=2, col=18), op=op, line=2, col=9)
    assert_clean(check_cond(cond, "2.0"))


@pytest.mark.parametrize("cond, op, logical", [
    ("src_port==5060 & proto==udp", "&", "&&"),
    ("src_port==5060 | proto==udp", "|", "||"),
    ("$a & $b", "&", "&&"),
    ("4 & $a", "&", "&&"),
    ('$a | "x"', "|", "||"),
])
def test_bitwise_operator_other_than_attribute_and_number_is_an_error_in_20(cond, op, logical):
    assert_only(check_cond(cond, "2.0"), 2, COND_COL, "error", f"'{op}'", "bitwise",
                f"'{logical}'")


# --- parentheses, calls, numbers and blocks as conditions ---------------------------------------------

@pytest.mark.parametrize("dialect", ["0.8", "0.9", "2.0"])
def test_parentheses_around_condition_are_optional(dialect):
    text = 'route {\n    if method=="ACK" { drop; }\n}\n'
    result = parse(text, "t.cfg", dialect)
    statement = result.config.items[0].body[0]
    assert statement == ast.If(
        cond=ast.Compare(left=name("method", 8), op="==",
                         right=ast.Str(value="ACK", quote='"', line=2, col=16), line=2, col=8),
        then=[ast.Stop(kind="drop", value=None, parens=False, line=2, col=24)],
        orelse=None, nosemi_then=False, braced_then=True, line=2, col=5)
    assert_clean(check(text, dialect))


def test_unparenthesised_negated_condition():
    text = 'route {\n    if !uri=~"^sip:" { drop; }\n}\n'
    statement = parse(text, "t.cfg", "0.9").config.items[0].body[0]
    assert isinstance(statement.cond, ast.Not)
    assert_clean(check(text))


def test_module_call_as_condition():
    cond = parse_cond("t_relay()", prefix=TM)
    assert cond == ast.Call(name="t_relay", args=[], line=3, col=9)
    assert_clean(check(TM + if_route("t_relay()")))


def test_negated_module_call_as_condition():
    cond = parse_cond('!sl_send_reply("404", "Not here")', prefix=SL)
    assert isinstance(cond, ast.Not)
    assert cond.operand.name == "sl_send_reply"
    assert_clean(check(SL + if_route('!sl_send_reply("404", "Not here")')))


def test_core_action_as_condition():
    text = if_route("isflagset(3)")
    assert parse_cond("isflagset(3)") == ast.Call(
        name="isflagset", args=[ast.Num(text="3", value=3, line=2, col=19)], line=2, col=9)
    assert_clean(check(text))


@pytest.mark.parametrize("dialect", ["0.8", "0.9", "2.0"])
@pytest.mark.parametrize("number, value", [("1", 1), ("0", 0), ("0x10", 16)])
def test_number_as_condition(dialect, number, value):
    assert parse_cond(number, dialect) == ast.Num(text=number, value=value, line=2, col=9)
    assert_clean(check_cond(number, dialect))


def test_block_as_condition():
    cond = '{ log("x"); isflagset(1); }'
    assert parse_cond(cond) == ast.BlockExpr(body=[
        ast.Call(name="log", args=[ast.Str(value="x", quote='"', line=2, col=15)], line=2, col=11),
        ast.Call(name="isflagset", args=[ast.Num(text="1", value=1, line=2, col=31)],
                 line=2, col=21),
    ], line=2, col=9)
    assert_clean(check_cond(cond))


def test_block_condition_is_checked():
    cond = "{ foo; }"
    assert_only(check_cond(cond), 2, at(cond, "foo"), "error", "unknown statement 'foo'")


def test_condition_errors_inside_calls_are_reported():
    cond = 'strip("2")'
    assert_only(check_cond(cond), 2, at(cond, '"2"'), "error", "'strip'", "a number")


# --- an operand alone ---------------------------------------------------------------------------------

@pytest.mark.parametrize("operand", ["method", "uri", "status", "from_uri", "src_ip", "dst_port",
                                     "proto", "af"])
def test_operand_alone_is_an_error(operand):
    assert_only(check_cond(operand), 2, COND_COL, "error", f"'{operand}' alone is not a condition")


def test_negated_operand_alone_is_an_error():
    assert_only(check_cond("!method"), 2, 10, "error", "'method' alone is not a condition")


@pytest.mark.parametrize("cond, what", [
    ('"abc"', "a string"), ("sip.example.com", "a hostname"), ("10.1.2.3", "an IP address"),
    ("msg:len", "'msg:len'"),
])
def test_value_alone_is_an_error(cond, what):
    assert_only(check_cond(cond), 2, COND_COL, "error", what, "alone is not a condition")


def test_operand_alone_inside_and_is_an_error():
    cond = 'method=="INVITE" && uri'
    assert_only(check_cond(cond), 2, at(cond, "uri"), "error", "'uri' alone is not a condition")


# --- regular expressions ------------------------------------------------------------------------------

@pytest.mark.parametrize("cond, regex", [
    ('uri=~"a("', '"a("'),
    ('method=~"[[:foo:]]"', '"[[:foo:]]"'),
    ('src_ip=~"("', '"("'),
    ('from_uri=~"[a-"', '"[a-"'),
    ('status=~"a{2,1}"', '"a{2,1}"'),
])
def test_bad_regex_is_an_error(cond, regex):
    assert_only(check_cond(cond), 2, at(cond, regex), "error", "bad regular expression")


@pytest.mark.parametrize("cond", [
    'uri=~"^sip:[0-9]+@"', 'uri=~"[[:digit:]]{3,}"', 'method=~"^(INVITE|ACK|CANCEL)$"',
    'uri=~"^sip:\\+49"', 'uri=~"\\<foo\\>"', 'uri=~"[]a]"',
])
def test_posix_regex_features_are_accepted(cond):
    assert_clean(check_cond(cond))


# --- the 0.8/0.9 prefix semantics of == on URIs -------------------------------------------------------

@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
@pytest.mark.parametrize("cond, operand", [
    ('uri=="sip:alice@example.com"', "uri"),
    ('uri!="sip:alice@example.com"', "uri"),
    ('status=="200"', "status"),
])
def test_string_equality_on_uri_warns_before_20(dialect, cond, operand):
    op = "!=" if "!=" in cond else "=="
    assert_only(check_cond(cond, dialect), 2, COND_COL, "warning", f"SER {dialect}",
                f"'{operand} {op} \"...\"'", "prefix", "=~")


@pytest.mark.parametrize("cond, operand", [
    ('from_uri=="sip:a@b"', "from_uri"), ('to_uri!="sip:a@b"', "to_uri"),
])
def test_string_equality_on_from_and_to_uri_warns_in_09(cond, operand):
    assert_only(check_cond(cond), 2, COND_COL, "warning", f"'{operand}", "prefix")


@pytest.mark.parametrize("cond", [
    'uri=="sip:alice@example.com"', 'uri!="sip:alice@example.com"', 'status=="200"',
    'from_uri=="sip:a@b"', 'to_uri!="sip:a@b"',
])
def test_string_equality_on_uri_does_not_warn_in_20(cond):
    assert_clean(check_cond(cond, "2.0"))


def test_prefix_warning_points_at_the_comparison_inside_a_longer_condition():
    cond = 'method=="INVITE" && uri=="sip:a@b"'
    assert_only(check_cond(cond), 2, at(cond, "uri"), "warning", "prefix")


def test_regex_match_on_uri_does_not_warn():
    assert_clean(check_cond('uri=~"^sip:alice@example\\.com$"'))
