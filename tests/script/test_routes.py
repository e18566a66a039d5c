"""Route blocks of ser.cfg (language reference §3 `route_block`, §6 and the
notes on `if`): every block kind per dialect, numbers and names, duplicate
and unused blocks, t_on_failure/t_on_reply/t_on_branch targets, the route
kinds allowed for module functions, unreachable statements, empty blocks,
the forms of if/else (with and without the pre-0.9.5 missing ';'), dangling
else, stray ';' and the 2.0 onsend_route restrictions.
"""

from __future__ import annotations

import pytest

from ser_script import ast
from ser_script.checker import check_text
from checks import assert_clean, assert_only, summary
from ser_script.parser import parse

SL = 'loadmodule "/usr/lib/ser/modules/sl.so"\n'
TM = 'loadmodule "/usr/lib/ser/modules/tm.so"\n'
MODS = SL + TM          # lines 1-2; the config under test starts on line 3
DIALECTS = ("0.8", "0.9", "2.0")


# --- helpers -------------------------------------------------------------------------

def check(text: str, dialect: str = "0.9"):
    return check_text(MODS + text, file="t.cfg", dialect=dialect)


def items(text: str, dialect: str = "0.9") -> list:
    result = parse(MODS + text, "t.cfg", dialect)
    assert result.config is not None, result.diagnostics
    return [i for i in result.config.items if not isinstance(i, ast.LoadModule)]


def assert_error_at(result, line: int, col: int, *words: str) -> None:
    """An error at line:col with the words (other diagnostics may exist)."""
    matching = [d for d in result.errors if (d.line, d.col) == (line, col)]
    assert matching, summary(result)
    for word in words:
        assert word in matching[0].message, (word, matching[0].message)


# --- main route ---------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
def test_main_route(dialect):
    text = "route {\n    drop;\n}\n"
    assert items(text, dialect) == [ast.RouteBlock(
        kind="route", label=None,
        body=[ast.Stop(kind="drop", value=None, parens=False, line=4, col=5)],
        line=3, col=1)]
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_main_route_written_as_route_0(dialect):
    text = "route[0] {\n    drop;\n}\n"
    block = items(text, dialect)[0]
    assert block.label == ast.Num(text="0", value=0, line=3, col=7)
    assert_clean(check(text, dialect))


# --- route[n] ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("number", [1, 2, 10, 19])
def test_numbered_route(dialect, number):
    text = f"route {{ route({number}); }}\nroute[{number}] {{ drop; }}\n"
    block = items(text, dialect)[1]
    assert block == ast.RouteBlock(
        kind="route", label=ast.Num(text=str(number), value=number, line=4, col=7),
        body=[ast.Stop(kind="drop", value=None, parens=False, line=4, col=11 + len(str(number)))],
        line=4, col=1)
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
@pytest.mark.parametrize("number", [20, 21, 99])
def test_route_number_above_19_is_an_error_before_20(dialect, number):
    text = f"route {{ route({number}); }}\nroute[{number}] {{ drop; }}\n"
    assert_only(check(text, dialect), 4, 7, "error", f"route[{number}] is out of range",
                f"SER {dialect}", "0 to 19")


@pytest.mark.parametrize("number", [20, 100, 1000])
def test_route_number_above_19_is_fine_in_20(number):
    assert_clean(check(f"route {{ route({number}); }}\nroute[{number}] {{ drop; }}\n", "2.0"))


# --- failure_route, onreply_route, reply_route ----------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("number", [1, 2, 19])
def test_failure_route(dialect, number):
    text = (f'route {{ t_on_failure("{number}"); t_relay(); }}\n'
            f"failure_route[{number}] {{ t_relay(); }}\n")
    block = items(text, dialect)[1]
    assert block.kind == "failure_route"
    assert block.label == ast.Num(text=str(number), value=number, line=4, col=15)
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
def test_failure_route_0_is_an_error(dialect):
    text = 'route { t_relay(); }\nfailure_route[0] { drop; }\n'
    assert_error_at(check(text, dialect), 4, 15, "failure_route", "start at 1")


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
def test_failure_route_20_is_an_error_before_20(dialect):
    text = 'route { t_on_failure("20"); t_relay(); }\nfailure_route[20] { drop; }\n'
    assert_only(check(text, dialect), 4, 15, "error", "failure_route[20] is out of range", "19")


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("number", [1, 5])
def test_onreply_route(dialect, number):
    text = (f'route {{ t_on_reply("{number}"); t_relay(); }}\n'
            f'onreply_route[{number}] {{ log("reply"); }}\n')
    block = items(text, dialect)[1]
    assert block.kind == "onreply_route"
    assert block.label == ast.Num(text=str(number), value=number, line=4, col=15)
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
def test_onreply_route_0_is_an_error(dialect):
    text = 'route { t_relay(); }\nonreply_route[0] { drop; }\n'
    assert_error_at(check(text, dialect), 4, 15, "onreply_route", "start at 1")


def test_reply_route_in_08():
    text = 'route { t_on_negative("1"); t_relay(); }\nreply_route[1] { t_relay(); }\n'
    block = items(text, "0.8")[1]
    assert block.kind == "reply_route"
    assert_clean(check(text, "0.8"))


@pytest.mark.parametrize("dialect", ["0.9", "2.0"])
def test_reply_route_is_an_error_after_08(dialect):
    text = 'route { t_relay(); }\nreply_route[1] { drop; }\n'
    assert_error_at(check(text, dialect), 4, 1, "reply_route", "only in SER 0.8",
                    f"not in {dialect}")


# --- 2.0 block kinds ---------------------------------------------------------------------------

def test_branch_route_in_20():
    text = 'route { t_on_branch("1"); t_relay(); }\nbranch_route[1] { log("b"); }\n'
    block = items(text, "2.0")[1]
    assert (block.kind, block.label) == ("branch_route",
                                         ast.Num(text="1", value=1, line=4, col=14))
    assert_clean(check(text, "2.0"))


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
def test_branch_route_is_an_error_before_20(dialect):
    text = 'route { t_relay(); }\nbranch_route[1] { drop; }\n'
    assert_error_at(check(text, dialect), 4, 1, "branch_route", "only in SER 2.0",
                    f"not in {dialect}")


def test_onsend_route_in_20():
    text = 'route { t_relay(); }\nonsend_route {\n    if (snd_ip==10.0.0.1) drop;\n}\n'
    block = items(text, "2.0")[1]
    assert (block.kind, block.label) == ("onsend_route", None)
    assert_clean(check(text, "2.0"))


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
def test_onsend_route_is_an_error_before_20(dialect):
    text = 'route { t_relay(); }\nonsend_route { drop; }\n'
    assert_only(check(text, dialect), 4, 1, "error", "onsend_route", "only in SER 2.0",
                f"not in {dialect}")


@pytest.mark.parametrize("kind", ["failure_route", "onreply_route", "branch_route"])
def test_default_blocks_without_number_in_20(kind):
    text = f"route {{ t_relay(); }}\n{kind} {{ log(\"x\"); }}\n"
    block = items(text, "2.0")[1]
    assert (block.kind, block.label) == (kind, None)
    assert_clean(check(text, "2.0"))


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
@pytest.mark.parametrize("kind", ["failure_route", "onreply_route"])
def test_default_blocks_without_number_are_errors_before_20(dialect, kind):
    text = f"route {{ t_relay(); }}\n{kind} {{ drop; }}\n"
    assert_only(check(text, dialect), 4, 1, "error", f"{kind} without a number",
                "only in SER 2.0")


# --- named routes -------------------------------------------------------------------------------

@pytest.mark.parametrize("label_text, call, label", [
    ("FORWARD", "route(FORWARD);", ast.Name(name="FORWARD", line=4, col=7)),
    ('"x"', 'route("x");', ast.Str(value="x", quote='"', line=4, col=7)),
    ('"x"', "route(x);", ast.Str(value="x", quote='"', line=4, col=7)),
    ("FORWARD", 'route("FORWARD");', ast.Name(name="FORWARD", line=4, col=7)),
    ("1", 'route("1");', ast.Num(text="1", value=1, line=4, col=7)),
])
def test_named_routes_in_20(label_text, call, label):
    text = f"route {{ {call} }}\nroute[{label_text}] {{ drop; }}\n"
    assert items(text, "2.0")[1].label == label
    assert_clean(check(text, "2.0"))


def test_named_failure_route_in_20():
    text = 'route { t_on_failure("FAIL"); t_relay(); }\nfailure_route[FAIL] { t_relay(); }\n'
    assert_clean(check(text, "2.0"))


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
@pytest.mark.parametrize("label", ["FORWARD", '"x"'])
def test_named_routes_are_errors_before_20(dialect, label):
    text = f"route {{ drop; }}\nroute[{label}] {{ drop; }}\n"
    assert_error_at(check(text, dialect), 4, 7, "named route", "only in SER 2.0")


# --- duplicate blocks ----------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
@pytest.mark.parametrize("text, title, first, second", [
    ("route { drop; }\nroute { drop; }\n", "route", 3, 4),
    ("route { drop; }\nroute[0] { drop; }\n", "route[0]", 3, 4),
    ("route { route(1); }\nroute[1] { drop; }\nroute[1] { drop; }\n", "route[1]", 4, 5),
    ('route { t_on_failure("1"); t_relay(); }\nfailure_route[1] { drop; }\n'
     "failure_route[1] { drop; }\n", "failure_route[1]", 4, 5),
])
def test_duplicate_block_is_joined_with_a_warning_before_20(dialect, text, title, first, second):
    assert_only(check(text, dialect), second, 1, "warning", f"a second {title}",
                f"line {first}", f"SER {dialect} joins them")


@pytest.mark.parametrize("text, title, first, second", [
    ("route { drop; }\nroute { drop; }\n", "route", 3, 4),
    ("route { drop; }\nroute[0] { drop; }\n", "route[0]", 3, 4),
    ("route { route(1); }\nroute[1] { drop; }\nroute[1] { drop; }\n", "route[1]", 4, 5),
    ("route { route(A); }\nroute[A] { drop; }\nroute[A] { drop; }\n", "route[A]", 4, 5),
    ('route { t_on_failure("1"); t_relay(); }\nfailure_route[1] { drop; }\n'
     "failure_route[1] { drop; }\n", "failure_route[1]", 4, 5),
])
def test_duplicate_block_is_an_error_in_20(text, title, first, second):
    assert_only(check(text, "2.0"), second, 1, "error", f"duplicate {title}",
                f"first defined at line {first}")


def test_blocks_of_different_kinds_with_the_same_number_are_not_duplicates():
    text = ('route { route(1); t_on_failure("1"); t_on_reply("1"); t_relay(); }\n'
            "route[1] { drop; }\nfailure_route[1] { drop; }\nonreply_route[1] { drop; }\n")
    assert_clean(check(text))


# --- unused blocks ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("block, title, how", [
    ("route[3] { drop; }", "route[3]", "route(3)"),
    ("failure_route[2] { drop; }", "failure_route[2]", 't_on_failure("2")'),
    ("onreply_route[4] { drop; }", "onreply_route[4]", 't_on_reply("4")'),
])
def test_unused_block_warns(dialect, block, title, how):
    text = "route { drop; }\n" + block + "\n"
    assert_only(check(text, dialect), 4, 1, "warning", f"{title} is never used", how)


def test_unused_branch_route_warns_in_20():
    text = "route { drop; }\nbranch_route[1] { drop; }\n"
    assert_only(check(text, "2.0"), 4, 1, "warning", "branch_route[1] is never used",
                't_on_branch("1")')


def test_route_called_only_from_another_route_is_used():
    text = "route { route(1); }\nroute[1] { route(2); }\nroute[2] { drop; }\n"
    assert_clean(check(text))


def test_failure_route_armed_from_a_called_route_is_used():
    text = ('route { route(1); }\nroute[1] { t_on_failure("1"); t_relay(); }\n'
            "failure_route[1] { drop; }\n")
    assert_clean(check(text))


# --- t_on_failure / t_on_reply / t_on_branch targets ---------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("call, kind, number", [
    ('t_on_failure("2");', "failure_route", 2),
    ('t_on_reply("3");', "onreply_route", 3),
])
def test_arming_a_missing_block_is_an_error(dialect, call, kind, number):
    text = f"route {{\n    {call}\n    t_relay();\n}}\n"
    col = 5 + call.index('"')
    assert_only(check(text, dialect), 4, col, "error", f"{kind}[{number}] is not defined")


def test_arming_a_missing_branch_route_is_an_error_in_20():
    text = 'route {\n    t_on_branch("2");\n    t_relay();\n}\n'
    assert_only(check(text, "2.0"), 4, 17, "error", "branch_route[2] is not defined")


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("call", ['t_on_failure("0");', 't_on_reply("0");'])
def test_arming_block_0_is_allowed(dialect, call):
    assert_clean(check(f"route {{\n    {call}\n    t_relay();\n}}\n", dialect))


def test_arming_a_block_defined_later_is_fine():
    text = ('route {\n    t_on_failure("1");\n    t_on_reply("1");\n    t_relay();\n}\n'
            'failure_route[1] { t_relay(); }\nonreply_route[1] { log("r"); }\n')
    assert_clean(check(text))


def test_arming_a_missing_block_from_failure_route():
    text = ('route { t_on_failure("1"); t_relay(); }\n'
            'failure_route[1] { t_on_failure("7"); t_relay(); }\n')
    assert_only(check(text), 4, 33, "error", "failure_route[7] is not defined")


# --- module functions and block kinds ------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
def test_request_only_function_in_failure_route_is_an_error(dialect):
    text = ('route { t_on_failure("1"); t_relay(); }\n'
            'failure_route[1] {\n    sl_send_reply("404", "Not Found");\n}\n')
    assert_only(check(text, dialect), 5, 5, "error",
                "'sl_send_reply' cannot be used in failure_route", "allowed in: route")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_t_relay_in_onreply_route_is_an_error(dialect):
    text = ('route { t_on_reply("1"); t_relay(); }\n'
            "onreply_route[1] {\n    t_relay();\n}\n")
    assert_only(check(text, dialect), 5, 5, "error", "'t_relay' cannot be used in onreply_route",
                "allowed in: route, failure_route")


def test_request_only_function_in_branch_route_is_an_error_in_20():
    text = ('route { t_on_branch("1"); t_relay(); }\n'
            'branch_route[1] {\n    sl_send_reply("404", "Not Found");\n}\n')
    assert_only(check(text, "2.0"), 5, 5, "error",
                "'sl_send_reply' cannot be used in branch_route", "allowed in: route")


def test_function_allowed_in_failure_route_is_clean():
    text = ('route { t_on_failure("1"); t_relay(); }\n'
            'failure_route[1] {\n    t_reply("404", "Not Found");\n    t_relay();\n}\n')
    assert_clean(check(text))


def test_numbered_route_is_checked_as_request_route():
    # route[n] blocks are checked as REQUEST_ROUTE even when only called
    # from a failure_route.
    text = ('route { t_on_failure("1"); t_relay(); }\n'
            "failure_route[1] { route(1); }\n"
            'route[1] {\n    sl_send_reply("404", "x");\n}\n')
    assert_clean(check(text))


def test_function_error_in_condition_of_failure_route():
    text = ('route { t_on_failure("1"); t_relay(); }\n'
            'failure_route[1] {\n    if (!sl_send_reply("404", "x")) drop;\n}\n')
    assert_only(check(text), 5, 10, "error", "'sl_send_reply' cannot be used in failure_route")


# --- unreachable statements ------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("stop", ["break", "drop"])
def test_statement_after_stop_is_unreachable(dialect, stop):
    text = f'route {{\n    {stop};\n    log("never");\n}}\n'
    assert_only(check(text, dialect), 5, 5, "warning", "unreachable statement",
                f"after '{stop}'", "line 4")


@pytest.mark.parametrize("stop", ["exit", "return", "exit 1", "return 2"])
def test_statement_after_exit_or_return_is_unreachable_in_20(stop):
    text = f'route {{\n    {stop};\n    log("never");\n}}\n'
    kind = stop.split()[0]
    assert_only(check(text, "2.0"), 5, 5, "warning", "unreachable statement", f"after '{kind}'")


def test_only_the_first_unreachable_statement_warns():
    text = 'route {\n    break;\n    log("a");\n    log("b");\n}\n'
    assert_only(check(text), 5, 5, "warning", "unreachable statement")


def test_unreachable_inside_if_block():
    text = 'route {\n    if (method=="ACK") {\n        drop;\n        log("x");\n    }\n}\n'
    assert_only(check(text), 6, 9, "warning", "unreachable statement", "after 'drop'")


def test_null_statement_after_break_is_not_reported():
    assert_clean(check("route {\n    break;\n    ;\n}\n"))


def test_statement_after_if_with_break_is_reachable():
    assert_clean(check('route {\n    if (method=="ACK") break;\n    log("x");\n}\n'))


# --- empty blocks --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("text, line, col", [
    ("route {\n}\n", 4, 1),
    ("route { }\n", 3, 9),
    ("route[3] {}\n", 3, 11),
    ('route { if (method=="ACK") { } else { drop; } }\n', 3, 30),
    ('route { if (method=="ACK") { drop; } else { } }\n', 3, 45),
    ("route { t_relay(); }\nfailure_route[1] { }\n", 4, 20),
])
def test_empty_block_is_a_syntax_error(dialect, text, line, col):
    assert_only(check(text, dialect), line, col, "error", "empty block", "{ ; }")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_block_with_a_null_statement_is_fine(dialect):
    text = 'route { if (method=="ACK") { ; } else { drop; } }\n'
    assert_clean(check(text, dialect))


# --- if / else ---------------------------------------------------------------------------------------------

def _log(text: str, line: int, col: int) -> ast.Call:
    return ast.Call(name="log", args=[ast.Str(value=text, quote='"', line=line, col=col + 4)],
                    line=line, col=col)


@pytest.mark.parametrize("dialect", ["0.9", "2.0"])
def test_if_else_without_braces(dialect):
    text = 'route {\n    if (method=="A") log("a"); else log("b");\n}\n'
    statement = items(text, dialect)[0].body[0]
    assert statement.then == [_log("a", 4, 22)]
    assert statement.orelse == [_log("b", 4, 37)]
    assert statement.nosemi_then is False
    assert_clean(check(text, dialect))


def test_if_else_without_braces_is_an_error_in_08():
    # Before 0.9.5 the then-branch was a bare command without ';': the ';'
    # became a null statement and the else lost its if.
    text = 'route {\n    if (method=="A") log("a"); else log("b");\n}\n'
    result = check(text, "0.8")
    assert result.errors, summary(result)
    assert (result.errors[0].line, result.errors[0].col) == (4, 32)


def test_pre_095_if_without_semicolon_is_clean_in_08():
    text = 'route {\n    if (method=="A") log("a") else log("b");\n}\n'
    statement = items(text, "0.8")[0].body[0]
    assert statement == ast.If(
        cond=statement.cond, then=[_log("a", 4, 22)], orelse=[_log("b", 4, 36)],
        nosemi_then=True, else_line=4, else_col=31, line=4, col=5)
    assert_clean(check(text, "0.8"))


def test_pre_095_if_without_semicolon_warns_in_09():
    text = 'route {\n    if (method=="A") log("a") else log("b");\n}\n'
    assert_only(check(text, "0.9"), 4, 22, "warning", "0.9.5", "';'", "before 'else'")


def test_pre_095_if_without_semicolon_is_an_error_in_20():
    text = 'route {\n    if (method=="A") log("a") else log("b");\n}\n'
    assert_only(check(text, "2.0"), 4, 22, "error", "needs its ';'", "SER 2.0")


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
def test_pre_095_route_call_without_semicolon(dialect):
    text = ('route {\n    if (method=="A") route(1) else route(2);\n}\n'
            "route[1] { drop; }\nroute[2] { drop; }\n")
    statement = items(text, dialect)[0].body[0]
    assert statement.nosemi_then is True
    assert statement.then[0].name == "route"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_braced_if_else(dialect):
    text = 'route {\n    if (method=="A") { log("a"); } else { log("b"); }\n}\n'
    statement = items(text, dialect)[0].body[0]
    assert statement.then == [_log("a", 4, 24)]
    assert statement.orelse == [_log("b", 4, 43)]
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_else_if_chain(dialect):
    text = ('route {\n    if (method=="A") { log("a"); }\n    else if (method=="B") { log("b"); }\n'
            '    else { log("c"); }\n}\n')
    statement = items(text, dialect)[0].body[0]
    inner = statement.orelse[0]
    assert isinstance(inner, ast.If)
    assert (inner.line, inner.col) == (5, 10)
    assert inner.then == [_log("b", 5, 29)]
    assert inner.orelse == [_log("c", 6, 12)]
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("dialect", ["0.9", "2.0"])
def test_dangling_else_binds_to_the_nearest_if(dialect):
    text = 'route {\n    if (method=="A") if (uri=~"x") log("a"); else log("b");\n}\n'
    outer = items(text, dialect)[0].body[0]
    assert outer.orelse is None
    assert len(outer.then) == 1
    inner = outer.then[0]
    assert isinstance(inner, ast.If)
    assert (inner.line, inner.col) == (4, 22)
    assert inner.then == [_log("a", 4, 36)]
    assert inner.orelse == [_log("b", 4, 51)]
    assert_clean(check(text, dialect))


def test_dangling_else_with_braced_inner_if():
    text = 'route {\n    if (method=="A") if (uri=~"x") { log("a"); } else { log("b"); }\n}\n'
    outer = items(text)[0].body[0]
    assert outer.orelse is None
    assert outer.then[0].orelse == [_log("b", 4, 57)]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_semicolon_after_if_block_is_a_null_statement(dialect):
    text = 'route {\n    if (method=="A") { log("a"); };\n}\n'
    body = items(text, dialect)[0].body
    assert isinstance(body[0], ast.If)
    assert body[1] == ast.Null(line=4, col=35)
    assert_clean(check(text, dialect))


def test_else_without_if_is_an_error():
    result = check("route {\n    else { drop; }\n}\n")
    assert result.errors
    assert (result.errors[0].line, result.errors[0].col) == (4, 5)


# --- stray ';' at top level -------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
def test_semicolon_after_route_block_is_an_error_before_20(dialect):
    assert_only(check("route { drop; };\n", dialect), 3, 16, "error", "';' at top level",
                f"SER {dialect}")


def test_semicolon_after_route_block_is_fine_in_20():
    text = "route { drop; };\n"
    assert items(text, "2.0")[1] == ast.StraySemicolon(line=3, col=16)
    assert_clean(check(text, "2.0"))


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
def test_semicolon_after_modparam_is_an_error_before_20(dialect):
    text = 'modparam("tm", "noisy_ctimer", 1);\nroute { drop; }\n'
    assert_only(check(text, dialect), 3, 34, "error", "';' at top level")


# --- onsend_route restrictions (2.0) ---------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "drop;", "exit;", "send(10.0.0.1);", "send(10.0.0.1, 5060);", "send_tcp(10.0.0.1);",
    'log("x");', 'log(1, "x");', "setflag(1);", "resetflag(1);", "isflagset(1);",
    'if (snd_port==5060) { log("x"); }', 'if (isflagset(1)) drop; else log("y");',
])
def test_onsend_route_allowed_statements(statement):
    text = f"route {{ t_relay(); }}\nonsend_route {{\n    {statement}\n}}\n"
    assert_clean(check(text, "2.0"))


@pytest.mark.parametrize("statement, name", [
    ("forward(10.0.0.1);", "forward"),
    ("forward_udp(10.0.0.1, 5060);", "forward_udp"),
    ('rewritehost("x");', "rewritehost"),
    ("strip(1);", "strip"),
    ('append_branch("sip:a@b");', "append_branch"),
    ("route(1);", "route"),
    ('exec("/bin/true");', "exec"),
])
def test_onsend_route_rejects_other_core_actions(statement, name):
    text = (f"route {{ route(1); t_relay(); }}\nroute[1] {{ drop; }}\n"
            f"onsend_route {{\n    {statement}\n}}\n")
    assert_only(check(text, "2.0"), 6, 5, "error", f"'{name}' cannot be used in onsend_route")


@pytest.mark.parametrize("statement", ["revert_uri;", "force_rport;", "append_branch;"])
def test_onsend_route_rejects_bare_actions(statement):
    text = f"route {{ t_relay(); }}\nonsend_route {{\n    {statement}\n}}\n"
    result = check(text, "2.0")
    assert len(result.errors) == 1, summary(result)
    assert (result.errors[0].line, result.errors[0].col) == (5, 5)
    assert "onsend_route" in result.errors[0].message


def test_onsend_route_rejects_module_functions_without_the_onsend_mask():
    text = "route { t_relay(); }\nonsend_route {\n    t_relay();\n}\n"
    assert_only(check(text, "2.0"), 5, 5, "error", "'t_relay' cannot be used in onsend_route",
                "allowed in: route, failure_route")


def test_onsend_route_rejects_actions_inside_if():
    text = 'route { t_relay(); }\nonsend_route {\n    if (snd_port==5060) { strip(1); }\n}\n'
    assert_only(check(text, "2.0"), 5, 27, "error", "'strip' cannot be used in onsend_route")
