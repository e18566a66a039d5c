"""Broken configurations: each must give one exact diagnostic at an exact place.

Every case is a small ser.cfg with one mistake a user makes; the test asserts
the first error's line, column and full message, so a change in wording or
position is a deliberate change of this table.
"""

import pytest

from ser_script.checker import check_text

SL = 'loadmodule "/usr/lib/ser/modules/sl.so"\n'
TM = 'loadmodule "/usr/lib/ser/modules/tm.so"\n'
RR = 'loadmodule "/usr/lib/ser/modules/rr.so"\n'
MF = 'loadmodule "/usr/lib/ser/modules/maxfwd.so"\n'
REG = 'loadmodule "/usr/lib/ser/modules/usrloc.so"\nloadmodule "/usr/lib/ser/modules/registrar.so"\n'

CASES = [
    # --- syntax --------------------------------------------------------------------
    ("missing semicolon", "0.9", 'route {\n\tforward("a.b")\n\tdrop;\n}\n',
     3, 2, "expected ';', found 'drop'"),
    ("empty block", "0.9", "route {\n}\n", 2, 1,
     "empty block: SER needs at least one statement inside { } (write { ; })"),
    ("unclosed block", "0.9", 'route {\n\tdrop;\n', 3, 1,
     "unexpected end of the file: a block is not closed (expected '}')"),
    ("unterminated string", "0.9", 'route {\n\tlog("oops);\n}\n', 2, 6,
     "unterminated string: no closing \""),
    ("unterminated block comment", "0.9", "/* start\nroute { drop; }\n", 1, 1,
     "unterminated /* comment"),
    ("stray character", "0.9", "route {\n\tdrop; ~\n}\n", 2, 8,
     "unexpected character '~', expected a statement or '}'"),
    ("modparam missing comma", "0.9", TM + 'modparam("tm" "fr_timer", 10)\n', 2, 15,
     "expected ',', found '\"fr_timer\"'"),
    ("condition missing closing parenthesis", "0.9", 'route {\n\tif (method=="INVITE" { drop; }\n}\n',
     2, 23, "expected ')', 'or', '|' or '||', found '{'"),
    ("else without if", "0.9", "route {\n\telse { drop; }\n}\n", 2, 2,
     "'else' without an 'if' before it"),
    ("global parameter without value", "0.9", "debug=\nroute { drop; }\n", 2, 1,
     "'route' is a keyword and cannot be used here"),
    # --- top level ------------------------------------------------------------------
    ("unknown global parameter", "0.9", "debugg=3\nroute { drop; }\n", 1, 1,
     "unknown global parameter 'debugg'; did you mean 'debug'?"),
    ("global parameter of another dialect", "2.0", 'fifo="/tmp/ser_fifo"\nroute { drop; }\n', 1, 1,
     "the global parameter 'fifo' exists only in SER 0.8 and 0.9, not in 2.0"),
    ("global number given a string", "0.9", 'children="4"\nroute { drop; }\n', 1, 10,
     "'children' takes a number, not a string"),
    ("global takes one value", "0.9", "debug=3 4\nroute { drop; }\n", 1, 9,
     "'debug' takes one value"),
    ("listen with protocol in 0.8", "0.8", "listen=udp:127.0.0.1:5060\nroute { drop; }\n", 1, 8,
     "a protocol prefix in listen/alias exists only in SER 0.9 and 2.0"),
    ("unknown module", "0.9", 'loadmodule "/usr/lib/ser/modules/nosuch.so"\nroute { drop; }\n', 1, 12,
     "no module named 'nosuch' (from \"/usr/lib/ser/modules/nosuch.so\")"),
    ("modparam before loadmodule", "0.9", 'modparam("tm", "fr_timer", 10)\n' + TM + "route { drop; }\n",
     1, 10, "modparam for 'tm' comes before its loadmodule (line 2); SER needs the module loaded first"),
    ("modparam for a module never loaded", "0.9", SL + 'modparam("tm", "fr_timer", 10)\nroute { drop; }\n',
     2, 10, "module 'tm' is not loaded"),
    ("modparam unknown parameter", "0.9", TM + 'modparam("tm", "fr_timeout", 10)\nroute { drop; }\n',
     2, 16, "module 'tm' has no parameter 'fr_timeout'; did you mean 'fr_timer'?"),
    ("modparam int given a string", "0.9", TM + 'modparam("tm", "fr_timer", "30")\nroute { drop; }\n',
     2, 28, "parameter 'fr_timer' of module 'tm' takes a number, not a string (SER does not convert)"),
    ("modparam unquoted word", "0.9", REG + 'modparam("usrloc", "db_url", mysql)\nroute { drop; }\n',
     3, 30, "'mysql' must be quoted: a modparam value is a string or a number"),
    ("modparam regex matching a module without the parameter", "0.9",
     TM + SL + 'modparam("tm|sl", "fr_timer", 10)\nroute { drop; }\n', 3, 19,
     "module 'sl' has no parameter 'fr_timer'"),
    ("stray semicolon at top level in 0.9", "0.9", SL + 'route { drop; };\n', 2, 16,
     "a ';' at top level is a syntax error in SER 0.9 (after a route block or modparam there is none)"),
    # --- route blocks -------------------------------------------------------------------
    ("route number out of range", "0.9", "route[20] { drop; }\nroute { route(20); }\n", 1, 7,
     "route[20] is out of range: SER 0.9 allows 0 to 19"),
    ("failure_route zero", "0.9", TM + 'failure_route[0] { drop; }\nroute { t_relay(); }\n', 2, 15,
     "failure_route numbers start at 1"),
    ("named route in 0.9", "0.9", "route[FORWARD] { drop; }\nroute { drop; }\n", 1, 7,
     "a named route exists only in SER 2.0, not in 0.9"),
    ("branch_route in 0.9", "0.9", "branch_route[1] { drop; }\nroute { drop; }\n", 1, 1,
     "branch_route exists only in SER 2.0, not in 0.9"),
    ("reply_route in 0.9", "0.9", "reply_route[1] { drop; }\nroute { drop; }\n", 1, 1,
     "reply_route exists only in SER 0.8, not in 0.9"),
    ("duplicate route in 2.0", "2.0", "route[1] { drop; }\nroute[1] { break; }\nroute { route(1); }\n",
     2, 1, "duplicate route[1] (first defined at line 1)"),
    ("route call to a missing block", "0.9", "route {\n\troute(3);\n}\n", 2, 8,
     "route[3] is not defined"),
    ("t_on_failure to a missing block", "0.9", TM + 'route {\n\tt_on_failure("2");\n\tt_relay();\n}\n',
     3, 15, "failure_route[2] is not defined"),
    ("function not allowed in failure_route", "0.9",
     SL + TM + 'failure_route[1] {\n\tsl_send_reply("500", "x");\n}\nroute { t_on_failure("1"); t_relay(); }\n',
     4, 2, "'sl_send_reply' cannot be used in failure_route (allowed in: route)"),
    # --- calls -------------------------------------------------------------------------------
    ("unknown function", "0.9", SL + 'route {\n\tsl_send_replyy("404", "x");\n}\n', 3, 2,
     "unknown function 'sl_send_replyy'; did you mean 'sl_send_reply'?"),
    ("function of a module not loaded", "0.9", SL + 'route {\n\tt_relay();\n}\n', 3, 2,
     "'t_relay' belongs to module 'tm', which is not loaded"),
    ("function before its loadmodule", "0.9", 'route {\n\tt_relay();\n}\n' + TM, 2, 2,
     "'t_relay' belongs to module 'tm', which is loaded only at line 4: loadmodule must come before the first use"),
    ("module function wrong arity", "0.9", SL + 'route {\n\tsl_send_reply("404");\n}\n', 3, 2,
     "'sl_send_reply' takes 2 arguments, 1 given"),
    ("module function unquoted number in 0.9", "0.9", MF + 'route {\n\tmf_process_maxfwd_header(10);\n}\n',
     3, 27, "arguments of module functions are quoted strings in SER 0.9: write \"10\""),
    ("module function without parentheses", "0.9", TM + "route {\n\tt_relay;\n}\n", 3, 2,
     "'t_relay' needs parentheses: t_relay(...)"),
    ("core action quoted number", "0.9", 'route {\n\tstrip("2");\n}\n', 2, 8,
     "'strip' expects a number here, not a string; core actions take unquoted numbers: strip(2)"),
    ("core action wrong arity", "0.9", 'route {\n\trewritehost("a", "b");\n}\n', 2, 2,
     "'rewritehost' takes 1 argument, 2 given"),
    ("flag out of range", "0.9", "route {\n\tsetflag(32);\n}\n", 2, 10,
     "flag 32 is out of range: flags are 1 to 31"),
    ("log level out of range", "0.9", 'route {\n\tlog(5, "x\\n");\n}\n', 2, 6,
     "log levels are 0 to 4 in SER 0.8 and 0.9"),
    ("len_gt outside 0.8", "0.9", "route {\n\tif (len_gt(100)) drop;\n}\n", 2, 6,
     "'len_gt' exists only in SER 0.8, not in 0.9"),
    ("exit in 0.9", "0.9", "route {\n\texit;\n}\n", 2, 2,
     "'exit' exists only in SER 2.0, not in 0.9"),
    ("return with parentheses in 2.0", "2.0", "route {\n\treturn(1);\n}\n", 2, 2,
     "SER 2.0 writes return without parentheses: return 1"),
    ("break with a value", "2.0", "route {\n\tbreak 1;\n}\n", 2, 8, "'break' takes no value"),
    ("attribute in 0.9", "0.9", 'route {\n\tif ($user == "x") drop;\n}\n', 2, 6,
     "the attribute $user exists only in SER 2.0, not in 0.9"),
    ("undeclared flag name in 2.0", "2.0", "route {\n\tsetflag(FLAG_ACC);\n}\n", 2, 10,
     "unknown flag 'FLAG_ACC': declare it with flags FLAG_ACC: N;"),
    # --- conditions -----------------------------------------------------------------------------
    ("bad regex", "0.9", 'route {\n\tif (uri=~"sip:(a") drop;\n}\n', 2, 11,
     "bad regular expression: missing ), unterminated subpattern at position 4"),
    ("operand alone", "0.9", "route {\n\tif (method) drop;\n}\n", 2, 6,
     "'method' alone is not a condition; compare it, e.g. method==\"...\""),
    ("wrong operator for method", "0.9", 'route {\n\tif (method < "INVITE") drop;\n}\n', 2, 6,
     "'method' is compared with ==, != or =~, not <"),
    ("port compared with a string", "0.9", 'route {\n\tif (src_port=="5060") drop;\n}\n', 2, 16,
     "'src_port' is compared with a number, not a string"),
    ("invalid IPv4 address", "0.9", "route {\n\tif (src_ip==10.0.0.256) drop;\n}\n", 2, 14,
     "invalid IPv4 address '10.0.0.256': each part must be 0 to 255"),
    ("bad prefix length", "0.9", "route {\n\tif (src_ip==10.0.0.0/33) drop;\n}\n", 2, 23,
     "a network prefix length is 0 to 32"),
    ("non-contiguous netmask", "0.9", "route {\n\tif (src_ip==10.0.0.0/255.0.255.0) drop;\n}\n", 2, 23,
     "'255.0.255.0' is not a netmask (its one bits must be contiguous)"),
    ("reserved word in a hostname", "0.9", "route {\n\tforward(log.example.com);\n}\n", 2, 10,
     "'log' is a reserved word and cannot be part of an unquoted hostname: write \"log.example.com\""),
    ("invalid octal number", "0.9", "route {\n\tstrip(08);\n}\n", 2, 8,
     "invalid number '08': a number starting with 0 is octal (digits 0 to 7)"),
    ("negative number in 0.9", "0.9", "route {\n\tstrip(-1);\n}\n", 2, 8,
     "a negative number exists only in SER 2.0, not in 0.9"),
    ("2.0 logical and written as &", "2.0", 'route {\n\tif (method=="A" & uri=~"b") drop;\n}\n', 2, 6,
     "in SER 2.0 '&' is bitwise ($avp & number); write '&&' for logical"),
    ("myself compared wrongly", "0.9", "route {\n\tif (myself == method) drop;\n}\n", 2, 16,
     "myself is compared with uri, from_uri, to_uri, src_ip or dst_ip"),
    ("nosemi else in 2.0", "2.0", "route {\n\tif (method==\"A\") drop() else break;\n}\n", 2, 19,
     "a statement before 'else' needs its ';' in SER 2.0"),
]


@pytest.mark.parametrize("name,dialect,text,line,col,message", CASES, ids=[c[0] for c in CASES])
def test_broken_config(name, dialect, text, line, col, message):
    result = check_text(text, "broken.cfg", dialect)
    assert result.errors, f"no error for {name}; got {result.diagnostics}"
    first = result.errors[0]
    if message.endswith("..."):
        assert first.message.startswith(message[:-3]), first.message
    else:
        assert first.message == message
    assert (first.line, first.col) == (line, col), first


def test_at_least_forty_cases():
    assert len(CASES) >= 40


def test_several_syntax_errors_in_one_run():
    text = 'route {\n\tforward("a")\n\tdrop;\n\tlog("x") \n\tbreak;\n}\n'
    result = check_text(text, "two.cfg", "0.9")
    assert [(d.line, d.col) for d in result.errors] == [(3, 2), (5, 2)]
