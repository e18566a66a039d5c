"""SER's return codes and control flow, per dialect (language reference §10).

Every script runs both compiled and tree-walked (harness.run), so each case
also checks that the two agree.
"""

import pytest

from tests.route.harness import INVITE, run

CLASSIC = ["0.8", "0.9"]
NO_FROM = INVITE.replace("From: Alice <sip:alice@proxy.example.com>;tag=1928301774\r\n", "")


# --- SER 0.8 / 0.9 -----------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", CLASSIC)
def test_route_turns_a_stop_into_success(dialect):
    outcome = run('route { route(1); mark("after"); } '
                  'route[1] { mark("in"); break; }', dialect)
    assert outcome.trace == ["in", "after"]
    assert outcome.code == 1


@pytest.mark.parametrize("dialect", CLASSIC)
def test_route_turns_zero_from_a_function_into_true(dialect):
    outcome = run('route { if (route(1)) mark("true"); } route[1] { ret("0"); mark("never"); }', dialect)
    assert outcome.trace == ["true"]


@pytest.mark.parametrize("dialect", CLASSIC)
def test_route_keeps_a_negative_result(dialect):
    outcome = run('route { if (route(1)) { mark("true"); } else { mark("false"); }; } '
                  'route[1] { mark_ret("in", "-3"); }', dialect)
    assert outcome.trace == ["in", "false"]


@pytest.mark.parametrize("dialect", CLASSIC)
def test_a_function_returning_zero_ends_the_main_route(dialect):
    outcome = run('route { mark("a"); ret("0"); mark("never"); }', dialect)
    assert (outcome.code, outcome.trace) == (0, ["a"])


@pytest.mark.parametrize("dialect", CLASSIC)
def test_a_stop_deep_in_ifs_ends_only_the_current_block(dialect):
    outcome = run('route { route(1); mark("main"); } '
                  'route[1] { if (method=="INVITE") { if (uri=~"12345") { drop; }; mark("never"); }; '
                  'mark("never"); }', dialect)
    assert outcome.trace == ["main"]


@pytest.mark.parametrize("dialect", CLASSIC)
@pytest.mark.parametrize("code, plain, in_if, in_not", [
    (1, ["f", "next"], ["f", "then"], ["f", "else"]),
    (5, ["f", "next"], ["f", "then"], ["f", "else"]),
    (-1, ["f", "next"], ["f", "else"], ["f", "then"]),
    (0, ["f"], ["f"], ["f"]),
])
def test_truth_table(dialect, code, plain, in_if, in_not):
    f = f'mark_ret("f", "{code}")'
    assert run(f'route {{ {f}; mark("next"); }}', dialect).trace == plain
    assert run(f'route {{ if ({f}) {{ mark("then"); }} else {{ mark("else"); }}; mark("next"); }}',
               dialect).trace == in_if + (["next"] if code else [])
    assert run(f'route {{ if (!{f}) {{ mark("then"); }} else {{ mark("else"); }}; mark("next"); }}',
               dialect).trace == in_not + (["next"] if code else [])


@pytest.mark.parametrize("dialect", ["0.9", "2.0"])
@pytest.mark.parametrize("condition", [
    "from_uri==myself", "!(from_uri==myself)", "from_uri!=myself", "!from_uri=~\"alice\"",
    "!(from_uri==\"sip:alice@proxy.example.com\")", "!!(from_uri==myself)",
    "from_uri==myself || method==\"INVITE\"", "!(from_uri==myself && method==\"INVITE\")",
])
def test_not_of_an_error_stays_false(dialect, condition):
    outcome = run(f'route {{ if ({condition}) {{ mark("then"); }} else {{ mark("else"); }}; }}',
                  dialect, text=NO_FROM)
    assert outcome.trace == ["else"]


@pytest.mark.parametrize("dialect", ["0.9", "2.0"])
def test_an_error_is_only_an_error_when_the_header_is_bad(dialect):
    outcome = run('route { if (!(from_uri==myself)) mark("not mine"); if (from_uri==myself) mark("mine"); }',
                  dialect)
    assert outcome.trace == ["mine"]


@pytest.mark.parametrize("dialect", CLASSIC)
def test_and_or_short_circuit(dialect):
    outcome = run('route { if (mark_ret("a", "-1") && mark("b")) mark("then"); '
                  'if (mark("c") || mark("d")) mark("then2"); '
                  'if (mark_ret("e", "-1") || mark("f")) mark("then3"); }', dialect)
    assert outcome.trace == ["a", "c", "then2", "e", "f", "then3"]


@pytest.mark.parametrize("dialect", CLASSIC)
def test_a_zero_inside_a_condition_stops_even_after_and(dialect):
    outcome = run('route { if (method=="INVITE" && ret("0")) mark("then"); mark("never"); }', dialect)
    assert (outcome.code, outcome.trace) == (0, [])


@pytest.mark.parametrize("dialect", CLASSIC)
def test_if_without_else_is_true_when_skipped_and_yields_the_branch_otherwise(dialect):
    outcome = run('route { if (route(1)) mark("skipped is true"); if (route(2)) mark("never"); } '
                  'route[1] { if (method=="BYE") mark("never"); } '
                  'route[2] { if (method=="INVITE") ret("-4"); }', dialect)
    assert outcome.trace == ["skipped is true"]


@pytest.mark.parametrize("dialect", CLASSIC)
def test_block_as_condition(dialect):
    outcome = run('route { if ({ mark("in"); ret("-1"); }) { mark("then"); } else { mark("else"); }; '
                  'if ({ mark("in2"); ret("0"); }) mark("never"); mark("never"); }', dialect)
    assert outcome.trace == ["in", "else", "in2"]
    assert outcome.code == 0


@pytest.mark.parametrize("dialect", CLASSIC)
def test_recursion_is_cut_at_100_levels(dialect, caplog):
    outcome = run('route { if (!route(1)) mark("too deep"); } route[1] { route(1); }', dialect)
    assert outcome.trace == ["too deep"]
    assert "too many recursive route() calls" in caplog.text


def test_joined_duplicate_routes_run_as_one():
    outcome = run('route { route(1); } route[1] { mark("first"); } route[1] { mark("second"); }', "0.9")
    assert outcome.trace == ["first", "second"]


def test_len_gt_in_0_8():
    outcome = run('route { if (len_gt(100)) mark("long"); if (len_gt(max_len)) mark("never"); }', "0.8")
    assert outcome.trace == ["long"]


# --- SER 2.0 -------------------------------------------------------------------------------------

def test_exit_ends_the_whole_script_across_route_calls():
    outcome = run('route { route(A); mark("never"); } route[A] { mark("in"); exit; }', "2.0")
    assert outcome.trace == ["in"]
    assert outcome.ctx.exit


def test_drop_with_a_value_ends_the_script_with_it():
    outcome = run('route { route(A); mark("never"); } route[A] { drop 7; }', "2.0")
    assert (outcome.code, outcome.ctx.exit) == (7, True)


def test_return_leaves_the_block_and_sets_retcode():
    outcome = run('route { route(A); if ($? == 3) mark("three"); route(B); if ($? == 0) mark("zero"); } '
                  'route[A] { return 3; mark("never"); } route[B] { break; }', "2.0")
    assert outcome.trace == ["three", "zero"]
    assert not outcome.ctx.exit


def test_a_function_returning_zero_ends_the_whole_script_in_2_0():
    outcome = run('route { route(A); mark("never"); } route[A] { ret("0"); mark("never"); }', "2.0")
    assert (outcome.trace, outcome.ctx.exit) == ([], True)


def test_a_zero_in_a_condition_ends_the_script_in_2_0():
    outcome = run('route { if (!ret("0")) mark("never"); mark("never"); }', "2.0")
    assert (outcome.code, outcome.trace, outcome.ctx.exit) == (0, [], True)


def test_a_block_without_return_yields_its_last_action():
    # mark() is a module function: it sets $? to 1 in turn.
    outcome = run('route { route(A); $x = $?; if ($? == -5) mark("minus five"); $y = $?; } '
                  'route[A] { mark_ret("in", "-5"); }', "2.0")
    assert outcome.trace == ["in", "minus five"]
    assert (outcome.ctx.avps["$x"], outcome.ctx.avps["$y"]) == (-5, 1)


def test_return_in_the_main_route_is_exit():
    outcome = run('route { if (method=="INVITE") { return 2; }; mark("never"); }', "2.0")
    assert (outcome.code, outcome.ctx.exit) == (2, True)


def test_return_retcode_passes_on_a_function_result():
    outcome = run('route { route(A); if ($? == -2) mark("passed on"); } '
                  'route[A] { ret("-2"); return $?; }', "2.0")
    assert outcome.trace == ["passed on"]


def test_negative_results_do_not_stop_2_0():
    outcome = run('route { ret("-1"); if (route(A)) mark("never"); else mark("false"); mark("end"); } '
                  'route[A] { return 0; }', "2.0")
    assert outcome.trace == ["false", "end"]


def test_2_0_string_equality_needs_equal_length():
    outcome = run('route { if (method=="INVITEX") mark("never"); if (method=="invite") mark("same"); }',
                  "2.0")
    assert outcome.trace == ["same"]


def test_named_flags_and_flag_zero_in_2_0():
    outcome = run('flags NAT, ACC:5;\nroute { setflag(NAT); setflag(ACC); setflag(0); '
                  'if (isflagset(NAT) && isflagset(0)) mark("set"); resetflag(ACC); }', "2.0")
    assert outcome.trace == ["set"]
    # NAT takes the first free flag, which is 0.
    assert outcome.ctx.flags == 1


def test_attributes_and_selects():
    outcome = run('route { $who = @from.uri; $n = 4; if ($who == "sip:alice@proxy.example.com") mark("a"); '
                  'if ($n > 3 && ($n & 4)) mark("n"); if (@to.uri.host == "biloxi.example.com") mark("host"); '
                  'if ($missing) mark("never"); if (@hf_value["max-forwards"] == 70) mark("mf"); }', "2.0")
    assert outcome.trace == ["a", "n", "host", "mf"]
