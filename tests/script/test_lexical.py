"""Lexical rules of ser.cfg (language reference §2): comments, strings,
numbers, boolean words, IP addresses and networks, unquoted hostnames,
protocol/family words, keyword case, the `uri:host`/`uri:port`/`msg:len`
tokens and backslash-newline continuation.

Every test parses or checks a tiny config and asserts exact AST values or the
exact place (line, column, severity) and the key words of each diagnostic.
"""

from __future__ import annotations

import pytest

from ser_script import ast
from checks import assert_clean, assert_first_error, assert_only, check, summary
from ser_script.lexical import BOOL_WORDS
from ser_script.parser import parse

DIALECTS = ("0.8", "0.9", "2.0")


# --- helpers -------------------------------------------------------------------------

def config(text: str, dialect: str = "0.9") -> ast.Config:
    result = parse(text, "t.cfg", dialect)
    assert result.config is not None, result.diagnostics
    return result.config


def route(*statements: str) -> str:
    """A main route block with one statement per line, from line 2, column 5."""
    body = "".join(f"    {s}\n" for s in statements)
    return "route {\n" + body + "}\n"


def first_stmt(cfg: ast.Config):
    return cfg.items[0].body[0]


def cond_of(text: str, dialect: str = "0.9"):
    """The condition of the first `if` of the main route."""
    return first_stmt(config(text, dialect)).cond


def col(statement: str, needle: str) -> int:
    """Column of needle in a statement written by route() (indent of 4)."""
    return 5 + statement.index(needle)


# --- # comments -----------------------------------------------------------------------

def test_hash_comment_runs_to_end_of_line():
    text = "# a comment route { foo; }\nroute { drop; } # trailing comment\n"
    cfg = config(text)
    assert len(cfg.items) == 1
    block = cfg.items[0]
    assert isinstance(block, ast.RouteBlock)
    assert (block.line, block.col) == (2, 1)
    assert block.body == [ast.Stop(kind="drop", value=None, parens=False, line=2, col=9)]
    assert_clean(check(text))


def test_hash_comment_keeps_line_numbers():
    result = check("# one\n# two\nroute {\n    foo;\n}\n")
    assert_only(result, 4, 5, "error", "unknown statement 'foo'")


@pytest.mark.parametrize("quote", ['"', "'"])
def test_hash_inside_string_is_literal(quote):
    text = route(f"log({quote}a # b{quote});")
    call = first_stmt(config(text))
    assert call.args == [ast.Str(value="a # b", quote=quote, line=2, col=9)]
    assert_clean(check(text))


def test_kamailio_preprocessor_lines_are_plain_comments():
    assert_clean(check("#!KAMAILIO\n#!define WITH_NAT\nroute { drop; }\n"))


@pytest.mark.parametrize("last_line, col_", [
    ("# no newline", 1),
    ("   # indented, no newline", 4),
])
def test_hash_comment_on_last_line_without_newline_warns(last_line, col_):
    result = check("route { drop; }\n" + last_line)
    assert_only(result, 2, col_, "warning", "'#' comment", "last line", "newline")


def test_hash_comment_after_code_on_last_line_without_newline_warns():
    result = check("route { drop; } # end")
    assert_only(result, 1, 17, "warning", "'#' comment", "newline")


def test_hash_comment_on_last_line_with_newline_is_clean():
    assert_clean(check("route { drop; }\n# end\n"))


def test_double_slash_is_not_a_comment():
    result = check("// not a comment\nroute { drop; }\n")
    assert_first_error(result, 1, 1)


# --- /* */ comments -----------------------------------------------------------------

def test_block_comment_is_blanked():
    text = "/* a comment */ route { /* inside */ drop; }\n"
    block = config(text).items[0]
    assert block.body == [ast.Stop(kind="drop", value=None, parens=False, line=1, col=38)]
    assert_clean(check(text))


def test_multi_line_block_comment_keeps_line_numbers():
    result = check("/* line 1\n   line 2 */\nroute {\n    foo;\n}\n")
    assert_only(result, 4, 5, "error", "unknown statement 'foo'")


def test_block_comments_nest():
    text = "/* a /* b */ c */\nroute { drop; }\n"
    cfg = config(text)
    assert len(cfg.items) == 1
    assert (cfg.items[0].line, cfg.items[0].col) == (2, 1)
    assert_clean(check(text))


def test_nested_block_comment_inside_a_route():
    text = route('log("x"); /* a /* b */ c */ foo;')
    assert_only(check(text), 2, col('log("x"); /* a /* b */ c */ foo;', "foo"), "error",
                "unknown statement 'foo'")


def test_nested_block_comment_closed_only_once_is_unterminated():
    result = check("/* a /* b */\nroute { drop; }\n")
    assert_only(result, 1, 1, "error", "unterminated /* comment")


def test_unterminated_block_comment_is_an_error():
    result = check("route { drop; }\n  /* never closed\n")
    assert_only(result, 2, 3, "error", "unterminated /* comment")


@pytest.mark.parametrize("quote", ['"', "'"])
def test_block_comment_opener_inside_string_is_literal(quote):
    text = route(f"log({quote}/* not a comment{quote});")
    assert first_stmt(config(text)).args[0].value == "/* not a comment"
    assert_clean(check(text))


# --- double-quoted strings: escapes per dialect --------------------------------------

# (source text between the quotes, value in 0.8, value in 0.9 and 2.0)
ESCAPES = [
    (r"a\nb", "a\nb", "a\nb"),
    (r"a\rb", "a\rb", "a\rb"),
    (r"a\ab", "a\ab", "a\ab"),
    (r"a\tb", "a\tb", "a\tb"),
    (r"a\\b", "a\\b", "a\\b"),
    (r"a\x41b", "a\\x41b", "aAb"),
    (r"a\x4g", "a\\x4g", "a\x04g"),
    (r"\x7e", "\\x7e", "~"),
    (r"a\101b", "a\\101b", "aAb"),
    (r"a\12b", "a\\12b", "a\nb"),
    (r"\1", "\\1", "\\1"),
    (r"\d+", "\\d+", "\\d+"),
    (r"a\.b", "a\\.b", "a\\.b"),
    (r"^sip:\+49", "^sip:\\+49", "^sip:\\+49"),
    (r"\xg", "\\xg", "\\xg"),
    ("a\\\nb", "a\\\nb", "ab"),
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("source, v08, v09", ESCAPES)
def test_double_quoted_escapes(dialect, source, v08, v09):
    text = 'route {\n    log("' + source + '");\n}\n'
    arg = first_stmt(config(text, dialect)).args[0]
    assert isinstance(arg, ast.Str)
    assert arg.quote == '"'
    assert arg.value == (v08 if dialect == "0.8" else v09)
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("dialect", ["0.9", "2.0"])
def test_escaped_double_quote_in_09_and_20(dialect):
    text = route(r'log("say \"hi\"");')
    assert first_stmt(config(text, dialect)).args[0].value == 'say "hi"'
    assert_clean(check(text, dialect))


def test_double_quoted_string_cannot_contain_a_quote_in_08():
    # 0.8 has no \" escape: the string ends at the quote after the backslash,
    # and `hi` that follows is a syntax error.
    statement = r'log("say \"hi\"");'
    result = check(route(statement), "0.8")
    assert_first_error(result, 2, col(statement, "hi"))


def test_raw_newline_inside_double_quoted_string_is_kept():
    text = 'route {\n    log("a\nb");\n    foo;\n}\n'
    call = first_stmt(config(text))
    assert call.args == [ast.Str(value="a\nb", quote='"', line=2, col=9)]
    # the statement after the two-line string is on line 4
    assert_only(check(text), 4, 5, "error", "unknown statement 'foo'")


def test_unterminated_double_quoted_string_is_an_error():
    result = check(route('log("never closed);'))
    assert_only(result, 2, 9, "error", "unterminated string")


# --- single-quoted strings -------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
def test_single_quoted_string_is_raw(dialect):
    text = "route {\n    log('a\\n\\x41\\1\\\"b');\n}\n"
    arg = first_stmt(config(text, dialect)).args[0]
    assert arg == ast.Str(value='a\\n\\x41\\1\\"b', quote="'", line=2, col=9)
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_single_quoted_string_may_span_lines(dialect):
    text = "route {\n    log('one\ntwo \\\nthree');\n    foo;\n}\n"
    arg = first_stmt(config(text, dialect)).args[0]
    assert arg.value == "one\ntwo \\\nthree"
    assert_only(check(text, dialect), 5, 5, "error", "unknown statement 'foo'")


def test_single_quoted_string_may_contain_double_quote():
    text = route("""log('say "hi"');""")
    assert first_stmt(config(text)).args[0].value == 'say "hi"'


def test_single_quoted_string_cannot_contain_single_quote():
    statement = "log('it's');"
    assert_first_error(check(route(statement)), 2, col(statement, "s'"))


def test_unterminated_single_quoted_string_is_an_error():
    assert_only(check(route("log('never closed);")), 2, 9, "error", "unterminated string")


# --- numbers --------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("text_, value", [
    ("0", 0), ("7", 7), ("5060", 5060),
    ("0x1F", 31), ("0x1f", 31), ("0X10", 16), ("0xff", 255),
    ("0644", 420), ("010", 8), ("00", 0), ("0777", 511),
])
def test_decimal_hex_and_octal_numbers(dialect, text_, value):
    text = route(f"strip({text_});")
    assert first_stmt(config(text, dialect)).args == [
        ast.Num(text=text_, value=value, line=2, col=11)]
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("bad", ["08", "09", "0789", "0128"])
def test_octal_number_with_digit_8_or_9_is_an_error(bad):
    result = check(route(f"strip({bad});"))
    assert_only(result, 2, 11, "error", f"'{bad}'", "octal")


def test_global_param_in_octal():
    cfg = config("fifo_mode=0666\nroute { drop; }\n")
    assert cfg.items[0].values == [ast.Num(text="0666", value=438, line=1, col=11)]


@pytest.mark.parametrize("text_, value", [
    ("-1", -1), ("-5060", -5060), ("101b", 5), ("0b", 0), ("1b", 1), ("11111111b", 255),
])
def test_negative_and_binary_numbers_in_20(text_, value):
    text = route(f"strip({text_});")
    assert first_stmt(config(text, "2.0")).args == [
        ast.Num(text=text_, value=value, line=2, col=11)]
    assert_clean(check(text, "2.0"))


@pytest.mark.parametrize("dialect", ["0.8", "0.9"])
@pytest.mark.parametrize("text_, words", [
    ("-1", ("negative number", "2.0")),
    ("101b", ("binary number", "2.0")),
])
def test_negative_and_binary_numbers_are_errors_before_20(dialect, text_, words):
    result = check(route(f"strip({text_});"), dialect)
    assert_only(result, 2, 11, "error", *words)


def test_negative_log_level_is_an_error_in_09():
    assert_first_error(check(route('log(-1, "x");')), 2, 9, "negative number")


def test_negative_flag_is_an_error_in_09():
    assert_first_error(check(route("setflag(-1);")), 2, 13, "negative number")


# --- boolean words -----------------------------------------------------------------------

BOOLEANS = [("yes", 1), ("true", 1), ("on", 1), ("enable", 1),
            ("no", 0), ("false", 0), ("off", 0), ("disable", 0)]


@pytest.mark.parametrize("word, value", BOOLEANS)
def test_boolean_word_values(word, value):
    assert BOOL_WORDS[word] == value


def test_boolean_words_are_exactly_eight():
    assert sorted(BOOL_WORDS) == sorted(w for w, _ in BOOLEANS)


@pytest.mark.parametrize("word, value", BOOLEANS)
def test_boolean_word_as_global_param(word, value):
    text = f"fork={word}\nroute {{ drop; }}\n"
    assert config(text).items[0] == ast.GlobalParam(
        name="fork", values=[ast.Name(name=word, line=1, col=6)], line=1, col=1)
    assert_clean(check(text))


@pytest.mark.parametrize("word, value", BOOLEANS)
def test_boolean_word_as_int_global_param(word, value):
    assert_clean(check(f"debug={word}\nroute {{ drop; }}\n"))


@pytest.mark.parametrize("word, value", BOOLEANS)
def test_boolean_word_as_modparam_int(word, value):
    text = ('loadmodule "/usr/lib/ser/modules/auth_db.so"\n'
            f'modparam("auth_db", "calculate_ha1", {word})\n'
            "route { drop; }\n")
    item = config(text).items[1]
    assert isinstance(item, ast.ModParam)
    assert item.value == ast.Name(name=word, line=2, col=38)
    assert_clean(check(text))


def test_boolean_word_is_a_number_not_a_string_for_modparam():
    text = ('loadmodule "/usr/lib/ser/modules/tm.so"\n'
            'modparam("tm", "uac_from", yes)\n'
            "route { drop; }\n")
    assert_only(check(text), 2, 28, "error", "uac_from", "takes a string, not a number")


def test_boolean_word_is_a_number_not_a_name_for_text_global():
    # `yes` is a NUMBER token: `user` takes a string or a name, not a number.
    assert_only(check("user=yes\nroute { drop; }\n"), 1, 6, "error", "'user'")


@pytest.mark.parametrize("word", ["yes", "no", "true", "off"])
def test_boolean_word_as_condition(word):
    text = route(f"if ({word}) drop;")
    assert first_stmt(config(text)).cond == ast.Name(name=word, line=2, col=9)
    assert_clean(check(text))


# --- IPv4 ---------------------------------------------------------------------------------

def test_ipv4_address():
    text = route("if (src_ip==192.168.1.1) drop;")
    assert cond_of(text).right == ast.Ip(text="192.168.1.1", bracketed=False, line=2, col=17)
    assert_clean(check(text))


def test_ipv4_octet_with_leading_zero_is_octal():
    result = check(route("if (src_ip==192.168.010.1) drop;"))
    assert_only(result, 2, 17, "warning", "octal", "'192.168.010.1'", "192.168.8.1")


@pytest.mark.parametrize("address", ["192.168.256.1", "256.0.0.1", "1.2.3.999"])
def test_ipv4_octet_above_255_is_an_error(address):
    result = check(route(f"if (src_ip=={address}) drop;"))
    assert_only(result, 2, 17, "error", "invalid IPv4 address", f"'{address}'", "0 to 255")


def test_ipv4_octet_08_is_an_error():
    result = check(route("if (src_ip==192.168.08.1) drop;"))
    assert_first_error(result, 2, 17)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_ipv4_as_forward_target(dialect):
    text = route("forward(10.0.0.1, 5060);")
    assert first_stmt(config(text, dialect)).args == [
        ast.Ip(text="10.0.0.1", bracketed=False, line=2, col=13),
        ast.Num(text="5060", value=5060, line=2, col=23)]
    assert_clean(check(text, dialect))


# --- IPv6 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("address", ["::1", "2001:db8::1", "fe80::", "1:2:3:4:5:6:7:8",
                                     "2001:DB8:0:0:8:800:200C:417A"])
def test_plain_ipv6_address(dialect, address):
    text = route(f"if (src_ip=={address}) drop;")
    assert cond_of(text, dialect).right == ast.Ip(text=address, bracketed=False, line=2, col=17)
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("dialect", ["0.9", "2.0"])
@pytest.mark.parametrize("address", ["::1", "2001:db8::1"])
def test_bracketed_ipv6_address(dialect, address):
    text = route(f"if (src_ip==[{address}]) drop;")
    assert cond_of(text, dialect).right == ast.Ip(text=address, bracketed=True, line=2, col=17)
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("dialect", ["0.9", "2.0"])
def test_bracketed_ipv6_forward_target(dialect):
    text = route("forward([2001:db8::1], 5060);")
    assert first_stmt(config(text, dialect)).args[0] == ast.Ip(
        text="2001:db8::1", bracketed=True, line=2, col=13)
    assert_clean(check(text, dialect))


def test_bracketed_ipv6_is_an_error_in_08():
    # Brackets around IPv6 addresses arrived in 0.9.
    result = check(route("if (src_ip==[::1]) drop;"), "0.8")
    assert_first_error(result, 2, 17)


@pytest.mark.parametrize("address", ["1::2::3", "2001:db8:::1", ":::1"])
def test_invalid_ipv6_address_is_an_error(address):
    result = check(route(f"if (src_ip=={address}) drop;"))
    assert_first_error(result, 2, 17)


def test_invalid_ipv6_address_message():
    result = check(route("if (src_ip==1::2::3) drop;"))
    assert_only(result, 2, 17, "error", "invalid IPv6 address '1::2::3'")


def test_ipv6_with_dotted_ipv4_tail_is_not_an_address():
    result = check(route("if (src_ip==::ffff:1.2.3.4) drop;"))
    assert result.errors
    assert result.errors[0].line == 2


# --- networks -------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
def test_network_with_prefix_length(dialect):
    text = route("if (src_ip==10.0.0.0/8) drop;")
    assert cond_of(text, dialect).right == ast.Net(
        ip=ast.Ip(text="10.0.0.0", bracketed=False, line=2, col=17),
        mask=ast.Num(text="8", value=8, line=2, col=26), line=2, col=17)
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_network_with_netmask(dialect):
    text = route("if (src_ip==10.0.0.0/255.0.0.0) drop;")
    assert cond_of(text, dialect).right == ast.Net(
        ip=ast.Ip(text="10.0.0.0", bracketed=False, line=2, col=17),
        mask=ast.Ip(text="255.0.0.0", bracketed=False, line=2, col=26), line=2, col=17)
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("net", ["0.0.0.0/0", "10.1.2.3/32", "192.168.0.0/255.255.255.0",
                                 "2001:db8::/32", "::1/128", "10.0.0.0/255.255.255.255",
                                 "10.0.0.0/0.0.0.0"])
def test_valid_networks(net):
    assert_clean(check(route(f"if (src_ip=={net}) drop;")))


@pytest.mark.parametrize("net, words", [
    ("10.0.0.0/33", ("prefix length", "0 to 32")),
    ("::1/129", ("prefix length", "0 to 128")),
])
def test_bad_prefix_length_is_an_error(net, words):
    statement = f"if (src_ip=={net}) drop;"
    result = check(route(statement))
    assert_only(result, 2, col(statement, net.split("/")[1]), "error", *words)


@pytest.mark.parametrize("mask", ["255.0.255.0", "255.255.0.255", "255.255.255.1"])
def test_non_contiguous_netmask_is_an_error(mask):
    statement = f"if (src_ip==10.0.0.0/{mask}) drop;"
    result = check(route(statement))
    assert_only(result, 2, col(statement, mask), "error", f"'{mask}'", "not a netmask",
                "contiguous")


def test_invalid_netmask_address_is_an_error():
    statement = "if (src_ip==10.0.0.0/256.0.0.0) drop;"
    assert_only(check(route(statement)), 2, col(statement, "256"), "error",
                "invalid netmask '256.0.0.0'")


# --- unquoted hostnames ------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
def test_dotted_hostname(dialect):
    text = route("forward(sip.example.com);")
    assert first_stmt(config(text, dialect)).args == [
        ast.Host(name="sip.example.com", line=2, col=13)]
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("dialect", ["0.9", "2.0"])
@pytest.mark.parametrize("host", ["sip-gw.example.com", "my-proxy.my-domain.org", "a-b"])
def test_dashed_hostname_in_09_and_20(dialect, host):
    text = route(f"forward({host});")
    assert first_stmt(config(text, dialect)).args == [ast.Host(name=host, line=2, col=13)]
    assert_clean(check(text, dialect))


def test_dashed_hostname_is_an_error_in_08():
    result = check(route("forward(sip-gw.example.com);"), "0.8")
    assert_only(result, 2, 13, "error", "0.8", "'-'", '"sip-gw.example.com"')


@pytest.mark.parametrize("statement, host, word", [
    ("forward(log.example.com);", "log.example.com", "log"),
    ("forward(tcp.example.com);", "tcp.example.com", "tcp"),
    ("forward(sip.route.com);", "sip.route.com", "route"),
    ("forward(yes.example.com);", "yes.example.com", "yes"),
    ("forward(sip.myself.org);", "sip.myself.org", "myself"),
    ("forward(port.example.com);", "port.example.com", "port"),
    ("forward(proxy.uri.net);", "proxy.uri.net", "uri"),
    ("forward(tcp-gw.example.com);", "tcp-gw.example.com", "tcp"),
    ("if (uri==user.example.com) drop;", "user.example.com", "user"),
    ("forward(sip.alias.net);", "sip.alias.net", "alias"),
])
def test_reserved_word_as_hostname_label_is_an_error(statement, host, word):
    result = check(route(statement))
    assert_only(result, 2, col(statement, host), "error", f"'{word}'", "reserved word",
                f'"{host}"')


@pytest.mark.parametrize("host", ["loggy.example.com", "forwarding.example.com",
                                  "route_foo.example.com", "udpgw.example.com",
                                  "myselfish.example.org"])
def test_longer_identifiers_are_not_keywords(host):
    text = route(f"forward({host});")
    assert first_stmt(config(text)).args == [ast.Host(name=host, line=2, col=13)]
    assert_clean(check(text))


@pytest.mark.parametrize("statement, where", [
    ("forward(sip.3com.com);", ".3com"),     # a label must start with a letter
    ("forward(1und1.de);", "und1"),          # 1 is a number, und1 a name
])
def test_hostname_label_starting_with_a_digit_is_an_error(statement, where):
    assert_first_error(check(route(statement)), 2, col(statement, where))


def test_dashed_label_starting_with_a_digit_is_an_error():
    statement = "forward(gw-1.example.com);"
    result = check(route(statement))
    assert result.errors, summary(result)
    # SER reads `-` `1` (a number where a label must be); either token may be blamed.
    assert (result.errors[0].line, result.errors[0].col) in (
        (2, col(statement, "-1")), (2, col(statement, "1.")))


@pytest.mark.parametrize("quoted", ['"sip.3com.com"', '"log.example.com"', '"1und1.de"'])
def test_quoted_hostname_is_fine(quoted):
    text = route(f"forward({quoted});")
    assert first_stmt(config(text)).args == [
        ast.Str(value=quoted.strip('"'), quote='"', line=2, col=13)]
    assert_clean(check(text))


# --- inet / inet6 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("family", ["inet", "inet6", "INET", "INET6"])
@pytest.mark.parametrize("op", ["==", "!="])
def test_address_family_words(dialect, family, op):
    text = route(f"if (af{op}{family}) drop;")
    cond = cond_of(text, dialect)
    assert cond == ast.Compare(left=ast.Name(name="af", line=2, col=9), op=op,
                               right=ast.Name(name=family, line=2, col=11 + len(op)),
                               line=2, col=9)
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("family", ["Inet", "iNet6", "ipv4"])
def test_address_family_words_are_case_sensitive(family):
    result = check(route(f"if (af=={family}) drop;"))
    assert_only(result, 2, 13, "error", "'af'", "inet or inet6")


# --- udp / tcp / tls ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("proto", ["udp", "tcp", "tls", "UDP", "TCP", "TLS"])
@pytest.mark.parametrize("op", ["==", "!="])
def test_protocol_words_in_proto_comparison(dialect, proto, op):
    text = route(f"if (proto{op}{proto}) drop;")
    assert cond_of(text, dialect) == ast.Compare(
        left=ast.Name(name="proto", line=2, col=9), op=op,
        right=ast.Name(name=proto, line=2, col=14 + len(op)), line=2, col=9)
    assert_clean(check(text, dialect))


@pytest.mark.parametrize("proto", ["Udp", "tCp", "Tls"])
def test_protocol_words_are_case_sensitive(proto):
    # Only all-lower and all-upper spellings are keywords.
    result = check(route(f"if (proto=={proto}) drop;"))
    assert_only(result, 2, 16, "error", "'proto'", "udp, tcp or tls")


@pytest.mark.parametrize("dialect", ["0.9", "2.0"])
@pytest.mark.parametrize("line, proto, addr, port", [
    ("listen=udp:1.2.3.4:5060", "udp",
     ast.Ip(text="1.2.3.4", bracketed=False, line=1, col=12),
     ast.Num(text="5060", value=5060, line=1, col=20)),
    ("listen=tcp:eth0:5065", "tcp", ast.Name(name="eth0", line=1, col=12),
     ast.Num(text="5065", value=5065, line=1, col=17)),
    ("listen=tls:sip.example.com:5061", "tls",
     ast.Host(name="sip.example.com", line=1, col=12),
     ast.Num(text="5061", value=5061, line=1, col=28)),
    ("listen=udp:127.0.0.1", "udp", ast.Ip(text="127.0.0.1", bracketed=False, line=1, col=12),
     None),
    ("listen=UDP:10.0.0.1:5060", "udp",
     ast.Ip(text="10.0.0.1", bracketed=False, line=1, col=12),
     ast.Num(text="5060", value=5060, line=1, col=21)),
    ("alias=tcp:foo.bar:*", "tcp", ast.Host(name="foo.bar", line=1, col=11),
     ast.Star(line=1, col=19)),
])
def test_protocol_prefix_in_listen_and_alias(dialect, line, proto, addr, port):
    text = line + "\nroute { drop; }\n"
    item = config(text, dialect).items[0]
    assert isinstance(item, ast.GlobalParam)
    assert len(item.values) == 1
    socket = item.values[0]
    assert isinstance(socket, ast.Socket)
    assert (socket.proto, socket.addr, socket.port) == (proto, addr, port)
    assert (socket.line, socket.col) == (1, line.index("=") + 2)
    assert_clean(check(text, dialect))


def test_listen_takes_a_list_of_sockets():
    text = "listen=udp:1.2.3.4:5060 tcp:eth0 [3ffe::1] eth1\nroute { drop; }\n"
    values = config(text).items[0].values
    assert [type(v) for v in values] == [ast.Socket, ast.Socket, ast.Ip, ast.Name]
    assert values[2] == ast.Ip(text="3ffe::1", bracketed=True, line=1, col=34)
    assert values[3] == ast.Name(name="eth1", line=1, col=44)
    assert_clean(check(text))


def test_protocol_prefix_in_listen_is_an_error_in_08():
    result = check("listen=udp:1.2.3.4:5060\nroute { drop; }\n", "0.8")
    assert_only(result, 1, 8, "error", "protocol prefix", "0.9 and 2.0")


# --- keywords are case-sensitive ---------------------------------------------------------------------------

def test_upper_case_if_is_not_a_keyword():
    result = check(route('IF (method=="INVITE") drop;'))
    assert result.errors, summary(result)
    # SER stops at the keyword `method` (col 9); a parser taking IF(...) as a
    # call stops at the '==' (col 15).
    assert (result.errors[0].line, result.errors[0].col) in ((2, 9), (2, 15))


def test_upper_case_route_is_not_a_keyword():
    assert_first_error(check("ROUTE { drop; }\n"), 1, 1)


def test_upper_case_loadmodule_is_not_a_keyword():
    assert_first_error(check('loadModule "/usr/lib/ser/modules/sl.so"\nroute { drop; }\n'), 1, 1)


@pytest.mark.parametrize("statement, name", [("Drop;", "Drop"), ("BREAK;", "BREAK")])
def test_capitalised_stop_words_are_unknown(statement, name):
    assert_only(check(route(statement)), 2, 5, "error", f"unknown statement '{name}'")


def test_capitalised_action_is_an_unknown_function():
    assert_only(check(route("Forward(1.2.3.4);")), 2, 5, "error",
                "unknown function 'Forward'", "did you mean 'forward'")


def test_upper_case_boolean_word_is_not_a_number():
    assert_only(check("fork=YES\nroute { drop; }\n"), 1, 6, "error", "'fork'", "yes or no")


def test_upper_case_global_param_is_unknown():
    assert_only(check("DEBUG=3\nroute { drop; }\n"), 1, 1, "error",
                "unknown global parameter 'DEBUG'")


# --- uri:host, uri:port, msg:len, max_len ----------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
def test_uri_host_and_uri_port_tokens(dialect):
    text = route("forward(uri:host, uri:port);")
    assert first_stmt(config(text, dialect)).args == [ast.UriHost(line=2, col=13),
                                                      ast.UriPort(line=2, col=23)]
    assert_clean(check(text, dialect))


def test_uri_host_with_spaces_is_not_a_token():
    result = check(route("forward(uri : host);"))
    assert result.errors, summary(result)
    assert result.errors[0].line == 2


@pytest.mark.parametrize("dialect", DIALECTS)
def test_msg_len_token(dialect):
    text = route("if (msg:len > 4096) drop;")
    assert cond_of(text, dialect) == ast.Compare(
        left=ast.MsgLen(line=2, col=9), op=">",
        right=ast.Num(text="4096", value=4096, line=2, col=19), line=2, col=9)
    assert_clean(check(text, dialect))


def test_msg_len_with_max_len():
    text = route("if (msg:len >= max_len) drop;")
    assert cond_of(text).right == ast.Name(name="max_len", line=2, col=20)
    assert_clean(check(text))


def test_msg_len_with_spaces_is_not_a_token():
    assert_first_error(check(route("if (msg : len > 1) drop;")), 2, 13)


# --- backslash-newline continuation -------------------------------------------------------------------------

def test_backslash_newline_outside_strings_is_swallowed():
    text = "route \\\n{ \\\n    drop; }\n"
    block = config(text).items[0]
    assert block.body == [ast.Stop(kind="drop", value=None, parens=False, line=3, col=5)]
    assert_clean(check(text))


def test_backslash_newline_between_arguments():
    text = "route {\n    forward(sip.example.com, \\\n            5060);\n}\n"
    args = first_stmt(config(text)).args
    assert args == [ast.Host(name="sip.example.com", line=2, col=13),
                    ast.Num(text="5060", value=5060, line=3, col=13)]
    assert_clean(check(text))


def test_backslash_newline_keeps_later_line_numbers():
    result = check("debug=3 \\\n\nroute {\n    foo;\n}\n")
    assert_only(result, 4, 5, "error", "unknown statement 'foo'")
