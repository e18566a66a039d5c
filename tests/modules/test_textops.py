"""textops: ser.cfg snippets run on real messages, compiled and tree-walked; the edits as serialized bytes."""

from __future__ import annotations

import logging
import re

import pytest

from ser_runtime.context import RouteContext
from ser_runtime.sip import SipMessage
from ser_script.compiler import BindError
from ser_script.checker import check_text
from stdlib_modules.exports import FixupError
from stdlib_modules.textops import compile_regex, parse_subst, reply_headers
from tests.route.harness import INVITE, PROBE, RCV, HERE, bind

LOAD = 'loadmodule "textops.so"\n'

MESSAGE = (
    b"MESSAGE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.1.2.3:5070;branch=z9hG4bK1\r\n"
    b"v: SIP/2.0/UDP 10.9.9.9;branch=z9hG4bK0\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=88\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b"Call-ID: m1@atlanta\r\n"
    b"CSeq: 1 MESSAGE\r\n"
    b"X-Note: first\r\n"
    b"x-note: second,\r\n third\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 18\r\n"
    b"\r\n"
    b"caf\xe9 ol\xe9\nline two\n"
)


class Result:
    def __init__(self, code: int, ctx: RouteContext):
        self.code, self.ctx = code, ctx

    @property
    def trace(self) -> list[str]:
        return self.ctx.avps.get("trace", [])

    @property
    def out(self) -> bytes:
        return self.ctx.msg.serialize()


def run(body: str, data: bytes | str = INVITE, dialect: str = "0.9", load: str = LOAD) -> Result:
    """Run `route { body }` compiled and tree-walked; both must end with the same message and codes."""
    compiled, walker = bind(load + "route {\n" + body + "\n}\n", dialect)
    raw = data.encode() if isinstance(data, str) else data
    results = []
    for runner in (compiled, walker):
        ctx = RouteContext(SipMessage.parse(raw), RCV)
        results.append(Result(runner.run(ctx), ctx))
    first, second = results
    assert (first.code, first.ctx.uri, first.trace, first.out, reply_headers(first.ctx)) == \
        (second.code, second.ctx.uri, second.trace, second.out, reply_headers(second.ctx))
    return first


def refused(body: str, dialect: str = "0.9", by_fixup: bool = True) -> str:
    """The start-up error of a script with a bad argument: from the module's fixup (or the checker)."""
    script = LOAD + "route {\n" + body + "\n}\n"
    checked = check_text(PROBE + script, file="t.cfg", dialect=dialect, base_dir=HERE)
    if checked.errors:
        assert not by_fixup, [d.message for d in checked.errors]
        return "\n".join(d.message for d in checked.errors)
    with pytest.raises(BindError) as caught:
        bind(script, dialect)
    return "\n".join(d.message for d in caught.value.diagnostics)


def marks(*conditions: str) -> str:
    return "\n".join(f'if ({c}) mark("{i}");' for i, c in enumerate(conditions))


# --- search ----------------------------------------------------------------------------

def test_search_sees_the_whole_message_case_insensitively():
    result = run(marks('search("^invite sip:12345@")', 'search("^to: bob")', 'search("CONTENT-length: 0")',
                       'search("nothing like this")', 'search("^Max-Forwards: 70$")',
                       'search("INVITE$")'))
    assert result.trace == ["0", "1", "2"]


def test_search_is_newline_sensitive():
    result = run(marks('search("Via:.*Max-Forwards")', 'search("Via:[^!]*Max-Forwards")',
                       'search("^Via: SIP/2.0/UDP [^;]*;branch=z9hG4bK776asdhds\\r$")',
                       'search("70.^From")'))
    assert result.trace == ["2"]


def test_search_works_on_the_received_message_and_the_body():
    result = run('append_hf("X-Added: 1\\r\\n");\n' + marks('search("X-Added")', 'search("^line two$")',
                                                           'search("caf. ol.")', 'search("^x-note: second,")',
                                                           'search("^ third")'), MESSAGE)
    assert result.trace == ["1", "2", "3", "4"]
    assert result.out.endswith(b"Content-Length: 18\r\nX-Added: 1\r\n\r\ncaf\xe9 ol\xe9\nline two\n")


def test_search_stops_at_a_nul_byte_like_regexec():
    data = MESSAGE.replace(b"caf\xe9 ol\xe9\n", b"caf\x00 ol\xe9\n")
    result = run(marks('search("caf")', 'search("line two")'), data)
    assert result.trace == ["0"]


def test_search_matches_utf8_text_of_the_script_bytewise():
    # The script's "é" is its two UTF-8 bytes, as SER read it from the file: it matches the
    # UTF-8 "café" but not the Latin-1 byte of "olé", not even inside a bracket.
    data = MESSAGE.replace(b"caf\xe9 ol\xe9", "café".encode() + b" ol\xe9").replace(
        b"Content-Length: 18", b"Content-Length: 19")
    result = run(marks('search("café")', 'search("caf[^é]")', 'search("ol[é]")', 'search("ol[^é]")'), data)
    assert result.trace == ["0", "3"]


def test_search_in_onreply_route_and_2_0_onsend_route():
    compiled, _ = bind(LOAD + 'route { mark("r"); }\n'
                       'onreply_route[1] { if (search("^SIP/2.0 180 ringing")) mark("o"); '
                       "subst('/10\\.1\\.2\\.3/x\\uy/'); }\n")
    reply = SipMessage.parse(b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.1.2.3\r\nContent-Length: 0\r\n\r\n")
    ctx = RouteContext(reply, RCV)
    compiled.run(ctx, "onreply_route", "1")
    assert ctx.avps["trace"] == ["o"]
    assert ctx.msg.serialize() == b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP xy\r\nContent-Length: 0\r\n\r\n"
    assert not check_text(LOAD + 'route { ; } onsend_route { if (search("x")) drop; }', dialect="2.0").errors
    assert check_text(LOAD + 'route { ; } onsend_route { if (search("x")) drop; }', dialect="0.9").errors


# --- search_append, replace, replace_all -------------------------------------------------

def test_search_append_inserts_after_the_first_match_past_the_first_line():
    result = run(marks('search_append("^Max-Forwards: [0-9]+", " ;appended")',
                       'search_append("12345", "never")'))
    assert result.trace == ["0"]
    assert b"\r\nMax-Forwards: 70 ;appended\r\n" in result.out
    assert result.out.startswith(b"INVITE sip:12345@foo.bar:6060 SIP/2.0\r\n")


def test_replace_changes_the_first_match_only_and_never_the_first_line():
    result = run(marks('replace("example\\.com", "example.net")', 'replace("12345", "999")'))
    assert result.trace == ["0"]
    assert result.out.count(b"example.net") == 1
    assert b"From: Alice <sip:alice@proxy.example.net>;tag=1928301774\r\n" in result.out
    assert result.out.startswith(b"INVITE sip:12345@foo.bar:6060 SIP/2.0\r\n")


def test_replace_all_changes_every_match():
    result = run(marks('replace_all("EXAMPLE\\.com", "ex.org")', 'replace_all("zzz", "y")'))
    assert result.trace == ["0"]
    assert result.out.count(b"ex.org") == 3 and b"example.com" not in result.out
    anchored = run('replace_all("^x-note", "X-Seen");', MESSAGE)
    assert anchored.out.count(b"X-Seen: ") == 2


def test_replace_all_refuses_a_regex_matching_the_empty_string():
    # SER 0.9 would loop forever; here nothing is replaced and the call is false.
    result = run(marks('replace_all("q*", "y")'))
    assert result.trace == [] and result.out == INVITE.encode()


def test_replacements_in_a_non_utf8_body_keep_the_other_bytes():
    result = run('replace("ol.$", "ole");\nreplace_all("[^[:print:]\\r\\n]", "?");', MESSAGE)
    assert result.out.endswith(b"\r\n\r\ncaf? ole\nline two\n")
    assert b"Content-Length: 18\r\n" in result.out


def test_overlapping_edits_keep_the_first_and_warn(caplog):
    with caplog.at_level(logging.WARNING, logger="ser.textops"):
        result = run(marks('remove_hf("From")', 'replace("Alice", "Carol")', 'replace("Bob <", "Robert <")'))
    assert result.trace == ["0", "1", "2"]          # SER too returns true: it drops the lump when sending
    assert b"From:" not in result.out and b"Carol" not in result.out
    assert b"To: Robert <sip:bob@biloxi.example.com>\r\n" in result.out
    assert "replace: edit of bytes" in caplog.text and "overlapping" in caplog.text


def test_append_hf_inside_a_replaced_region_is_dropped_not_raised(caplog):
    with caplog.at_level(logging.WARNING, logger="ser.textops"):
        result = run(marks(r"""subst("/Length: 0\r\n\r\n/Length: 0\r\nX-End: 1\r\n\r\n/s")""",
                           'append_hf("X-Late: 1\\r\\n")', 'append_urihf("X-Uri: ", "\\r\\n")'))
    assert result.trace == ["0", "1", "2"]
    assert result.out.endswith(b"Content-Length: 0\r\nX-End: 1\r\n\r\n") and b"X-Late" not in result.out
    assert "append_hf: edit of bytes" in caplog.text


def test_removing_the_same_header_twice_is_one_deletion():
    result = run(marks('remove_hf("CSeq")', 'remove_hf("cseq")'))
    assert result.trace == ["0", "1"] and b"CSeq" not in result.out


# --- subst -----------------------------------------------------------------------------

def test_subst_with_back_references_and_case_rules():
    result = run(marks(r"""subst('/^(From: )Alice <sip:([a-z]+)@/\1\2 <sip:\2.\0x@/')""",
                       r"""subst('/^from/nope/')""",
                       r"""subst('/^to: (bob)/To: Robert/i')"""))
    assert result.trace == ["0", "2"]
    assert b"From: alice <sip:alice.From: Alice <sip:alice@x@proxy.example.com>;tag=1928301774\r\n" in result.out
    assert b"To: Robert <sip:bob@biloxi.example.com>\r\n" in result.out


def test_subst_global_flag_and_escapes_in_the_replacement():
    result = run(r"""subst('/example\.com/ex\tam\\ple/g');""")
    assert result.out.count(b"ex\tam\\ple") == 3
    one = run(r"""subst('/example\.com/ex.org\r\nX-Split: 1/');""")
    assert b"From: Alice <sip:alice@proxy.ex.org\r\nX-Split: 1>;tag=" in one.out
    assert one.out.count(b"example.com") == 2


def test_subst_other_delimiters_and_the_request_uri():
    result = run(r"""subst('|^(Contact: <)[^>]*|\1\u|');""" + "\n" + r"""subst('#/#\##');""")
    assert b"\r\nContact: <sip:12345@foo.bar:6060>\r\n" in result.out
    assert b"Via: SIP#2.0/UDP 10.1.2.3:5070" in result.out


def test_subst_s_flag_lets_dot_cross_lines():
    result = run(marks(r"""subst('/Call-ID.*CSeq/X/')""", r"""subst('/Call-ID.*CSeq/Call-ID-CSeq/s')"""))
    assert result.trace == ["1"]
    assert b"\r\nCall-ID-CSeq: 314159 INVITE\r\n" in result.out


def test_subst_refuses_an_empty_match_without_edits():
    result = run(marks(r"""subst('/x*/y/g')"""))
    assert result.trace == [] and result.out == INVITE.encode()


@pytest.mark.parametrize("expr,message", [
    ("/a", "is too short"),
    (r"\a\b\\", "invalid separator"),
    ("/abc", "no separator found"),
    ("/a/b", "missing separator"),
    ("/a/b\\/", "missing separator"),
    ("/a/b/x", "unknown flag 'x'"),
    ("/a/b/c/", "unknown flag 'c'"),
    ("/a(/b/", "bad regular expression 'a('"),
    ("/(a)/\\2/", "too many back references (2)"),
    ("/a/\\1/", "there are only 0 subexpressions"),
    ("/(?i)a/b/", "bad regular expression"),
    ("/[[:nope:]]/b/", "unknown character class"),
])
def test_bad_subst_expressions_are_refused_at_start_up(expr, message):
    with pytest.raises(FixupError, match=re.escape(message)):
        parse_subst(expr)
    for function in ("subst", "subst_uri", "subst_user"):
        assert refused(f"{function}('{expr}');", by_fixup=False)
    # What the checker lets through, the fixup refuses, at the argument.
    assert "subst: too many back references (2) in '/(a)/\\2/'" in refused(r"subst('/(a)/\2/');")


def test_subst_expression_parts():
    expr = parse_subst(r"|(a)\|b|<\0\1\u\n\r\t\\\q\||gis")
    assert expr.replace_all and expr.regex.flags & re.IGNORECASE and not expr.regex.flags & re.MULTILINE
    assert expr.regex.pattern == b"(a)\\|b"
    assert expr.parts[0] == b"<" and expr.parts[1:3] == (0, 1) and expr.parts[4] == b"\n\r\t\\q|"
    assert parse_subst("/a/b/").regex.flags & re.MULTILINE


@pytest.mark.parametrize("pattern", ["a(", "[z-a]", "(", "a{2,1}", "a\\", "[a", "(?:x)", "[[:word:]]"])
def test_bad_regexes_are_refused_at_start_up(pattern):
    with pytest.raises(FixupError, match="bad regular expression"):
        compile_regex(pattern)
    for call in (f'search("{pattern}")', f'search_append("{pattern}", "x")', f'replace("{pattern}", "x")',
                 f'replace_all("{pattern}", "x")'):
        assert refused(call.replace("\\", "\\\\") + ";", by_fixup=False)
    assert "remove_hf_re: bad regular expression" in refused('remove_hf_re("*x(");', "2.0")


def test_a_repeat_count_too_large_for_python_is_a_bad_regex():
    with pytest.raises(FixupError, match="bad regular expression"):
        compile_regex("a{4294967296}")


def test_posix_newline_rules_in_compiled_regexes():
    assert compile_regex("a[^b]c").search(b"a\nc") is None
    assert compile_regex("a[^b]c", newline=False).search(b"a\nc")
    assert compile_regex("a.c").search(b"a\nc") is None
    assert compile_regex("a$", newline=False).search(b"a\n") is None
    assert compile_regex("a$").search(b"a\nb")
    assert compile_regex("[$]x").search(b"$x") and compile_regex(r"\[^x").pattern == rb"\[^x"
    assert compile_regex("CAFÉ").search("cafÉ".encode()) and not compile_regex("É").search("é".encode())


# --- subst_uri, subst_user ---------------------------------------------------------------

def test_subst_uri_rewrites_the_current_request_uri():
    result = run(marks(r"""subst_uri('/^sip:([0-9]+)@.*$/sip:\1@gw.example.net;user=phone/')""",
                       r"""subst_uri('/gw\.example/gw2.example/')""",
                       r"""subst_uri('/^tel:/sip:/')"""))
    assert result.trace == ["0", "1"]
    assert result.ctx.uri == "sip:12345@gw2.example.net;user=phone"
    assert result.out.startswith(b"INVITE sip:12345@gw2.example.net;user=phone SIP/2.0\r\n")
    assert b"To: Bob <sip:bob@biloxi.example.com>" in result.out


def test_subst_uri_that_makes_an_unsendable_uri_is_false():
    result = run(marks(r"""subst_uri('/foo/a b/')"""))
    assert result.trace == [] and result.ctx.uri == "sip:12345@foo.bar:6060"


def test_subst_user_rewrites_the_user_part_only():
    result = run(marks(r"""subst_user('/^12/0012/')""", r"""subst_user('/foo/x/')""",
                       r"""subst_user('/^(.*)$/\1#\u/')"""))
    assert result.trace == ["0"]
    assert result.ctx.uri == "sip:0012345@foo.bar:6060"
    nouser = INVITE.replace("INVITE sip:12345@foo.bar:6060", "INVITE sip:foo.bar")
    assert run(marks(r"""subst_user('/^$/x/')""", r"""subst_user('/^a/b/')"""), nouser).trace == []
    assert check_text(LOAD + r"""route { subst_user('/a/b/'); }""", dialect="0.8").errors


# --- headers ---------------------------------------------------------------------------

def test_append_urihf_uses_the_request_uri_as_received():
    result = run('rewriteuri("sip:other@example.net");\nappend_urihf("CC-Diversion: <", ">\\r\\n");')
    assert result.out.endswith(b"Content-Length: 0\r\nCC-Diversion: <sip:12345@foo.bar:6060>\r\n\r\n")


def test_append_hf_and_append_urihf_come_out_in_call_order():
    result = run('append_hf("A: 1\\r\\n");\nappend_urihf("B: ", "\\r\\n");\nappend_hf("C: 3\\r\\n");')
    assert result.out.endswith(b"\r\nA: 1\r\nB: sip:12345@foo.bar:6060\r\nC: 3\r\n\r\n")


def test_remove_hf_removes_every_header_of_the_name_as_written():
    result = run(marks('remove_hf("x-NOTE")', 'remove_hf("via")', 'remove_hf("Subject")'), MESSAGE)
    assert result.trace == ["0", "1"]
    assert b"note" not in result.out.lower() and b"third" not in result.out
    assert b"Via:" not in result.out
    assert b"\r\nv: SIP/2.0/UDP 10.9.9.9;branch=z9hG4bK0\r\n" in result.out   # a compact form is another name
    compact = run(marks('remove_hf("v")', 'remove_hf("Content-Type")'), MESSAGE)
    assert b"\r\nv:" not in compact.out and b"Via: SIP/2.0/UDP 10.1.2.3" in compact.out
    assert compact.out.endswith(b"CSeq: 1 MESSAGE\r\nX-Note: first\r\nx-note: second,\r\n third\r\n"
                                b"Content-Length: 18\r\n\r\ncaf\xe9 ol\xe9\nline two\n")


def test_is_present_hf_compares_names_as_written():
    result = run(marks('is_present_hf("x-note")', 'is_present_hf("V")', 'is_present_hf("l")',
                       'is_present_hf("Content-Length")', 'is_present_hf("X-Not")', 'is_present_hf("")'),
                 MESSAGE)
    assert result.trace == ["0", "1", "3"]


def test_remove_hf_re_is_2_0():
    result = run(marks('remove_hf_re("^x-")', 'remove_hf_re("^Subject$")', 'remove_hf_re("^(v|via)$")'),
                 MESSAGE, "2.0")
    assert result.trace == ["0", "2"]
    assert b"note" not in result.out.lower() and b"SIP/2.0/UDP" not in result.out
    assert check_text(LOAD + 'route { remove_hf_re("x"); }', dialect="0.9").errors


# --- text for the local reply -------------------------------------------------------------

def test_append_to_reply_keeps_header_lines_for_the_local_reply():
    result = run('append_to_reply("Expires: 600\\r\\n");\nappend_to_reply("A: 1\\r\\nB: 2\\r\\n");\n'
                 'append_to_reply("");', dialect="2.0")
    assert reply_headers(result.ctx) == ["Expires: 600", "A: 1", "B: 2"]
    assert result.out == INVITE.encode()
    assert check_text(LOAD + 'failure_route[1] { append_to_reply("A: 1\\r\\n"); }', dialect="0.9").errors


def test_append_time_adds_a_gmt_date_for_the_reply():
    compiled, _ = bind(LOAD + "route { append_time(); }\n", "0.9")
    ctx = RouteContext(SipMessage.parse(INVITE.encode()), RCV)
    assert compiled.run(ctx) == 1
    (date,) = reply_headers(ctx)
    assert re.fullmatch(r"Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] "
                        r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 2[0-9]{3} "
                        r"[0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT", date)
    assert check_text(LOAD + "route { append_time(); }", dialect="0.8").errors


# --- 2.0 header values -------------------------------------------------------------------

VALUES = INVITE.replace("Content-Length: 0\r\n", (
    "Supported: a, b\r\n"
    "k: c\r\n"
    "Authorization: Digest username=\"alice\", nc=00000001, qop=auth\r\n"
    "Content-Length: 0\r\n"))


def run20(body: str, data: str = VALUES) -> Result:
    return run(body, data, "2.0")


def headers_of(result: Result) -> bytes:
    out = result.out
    return out[out.index(b"Contact:"):]


@pytest.mark.parametrize("call,expected,tail", [
    ('append_hf_value("Supported", "timer")',
     b"Supported: a, b\r\nk: c\r\n", b"Content-Length: 0\r\nSupported: timer\r\n"),
    ('append_hf_value("Supported[1]", "x")', b"Supported: a,x, b\r\nk: c\r\n", None),
    ('append_hf_value("Supported[-1]", "x")', b"Supported: a, b\r\nk: c,x\r\n", None),
    ('append_hf_value("Supported[3]", "x")', b"Supported: a, b\r\nk: c,x\r\n", None),
    ('insert_hf_value("Supported", "x")', b"Supported: x\r\nSupported: a, b\r\nk: c\r\n", None),
    ('insert_hf_value("Supported[2]", "x")', b"Supported: a,x, b\r\nk: c\r\n", None),
    ('remove_hf_value("Supported[2]")', b"Supported: a\r\nk: c\r\n", None),
    ('remove_hf_value("Supported")', b"Supported:  b\r\nk: c\r\n", None),
    ('remove_hf_value("Supported[-1]")', b"Supported: a, b\r\n", None),
    ('remove_hf_value("Supported[*]")', b"Contact", None),
    ('assign_hf_value("Supported[2]", "y")', b"Supported: a, y\r\nk: c\r\n", None),
    ('assign_hf_value("Supported[1]", "")', b"Supported: , b\r\nk: c\r\n", None),
    ('include_hf_value("Supported", "timer")', b"Supported: a, b,timer\r\nk: c\r\n", None),
    ('include_hf_value("Supported", "C")', b"Supported: a, b\r\nk: c\r\n", None),
    ('exclude_hf_value("Supported", "b")', b"Supported: a\r\nk: c\r\n", None),
    ('exclude_hf_value("Supported", "c")', b"Supported: a, b\r\n", None),
])
def test_hf_value_functions_edit_values_and_know_compact_forms(call, expected, tail):
    result = run20(marks(call))
    assert result.trace == ["0"]
    out = result.out
    if expected.startswith(b"Contact"):
        assert b"Supported" not in out and b"k: c" not in out
    else:
        assert expected in out, out
        if b"k: c" not in expected:
            assert b"k: c" not in out
    if tail is not None:
        assert out.endswith(tail + b"\r\n")


def test_hf_value_false_results():
    result = run20(marks('remove_hf_value("Subject")', 'assign_hf_value("Supported[5]", "x")',
                         'insert_hf_value("Subject[2]", "x")', 'hf_value_exists("Supported", "timer")',
                         'hf_value_exists("supported", "C")', 'include_hf_value("Subject", "")',
                         'exclude_hf_value("Subject", "x")', 'remove_hf_value("Contact.expires")'))
    assert result.trace == ["4", "6"]
    assert result.out == VALUES.encode()


def test_hf_value_parameters():
    contact = VALUES.replace("Contact: <sip:alice@10.1.2.3:5070>",
                             'Contact: "A;b" <sip:alice@10.1.2.3:5070;lr>;expires=3600;q="0.5"')
    assigned = run20('assign_hf_value("Contact.expires", "60");\nassign_hf_value("Contact.q", "");\n'
                     'assign_hf_value("Contact.new", "1");', contact)
    assert b'Contact: "A;b" <sip:alice@10.1.2.3:5070;lr>;expires=60;q;new=1\r\n' in assigned.out
    removed = run20(marks('remove_hf_value("Contact.q")', 'remove_hf_value("Contact.lr")'), contact)
    assert removed.trace == ["0"]
    assert b'Contact: "A;b" <sip:alice@10.1.2.3:5070;lr>;expires=3600\r\n' in removed.out


def test_hf_value2_parameters_of_authorization_style_headers():
    result = run20('assign_hf_value2("Authorization.nc", "00000002");\nremove_hf_value2("Authorization.qop");\n'
                   'assign_hf_value2("Authorization.cnonce", "\\"x\\"");')
    assert b'Authorization: Digest username="alice", nc=00000002,cnonce="x"\r\n' in result.out
    whole = run20('remove_hf_value2("Authorization");')
    assert b"Authorization" not in whole.out


@pytest.mark.parametrize("call,message", [
    ('append_hf_value("Supported[*]", "x")', "asterisk not supported"),
    ('insert_hf_value("Contact.expires", "x")', "param not supported"),
    ('assign_hf_value("Contact[*]", "x")', "asterisk not supported without param"),
    ('remove_hf_value("Supported[-11]")', "index cannot be lower than -10"),
    ('include_hf_value("Supported[1]", "x")', "neither index nor param"),
    ('hf_value_exists("Contact.expires", "x")', "neither index nor param"),
    ('remove_hf_value("Supported[")', "cannot parse header"),
    ('remove_hf_value("Supported[1] x")', "cannot parse header"),
    ('remove_hf_value("")', "cannot parse header"),
])
def test_bad_header_names_are_refused_at_start_up(call, message):
    assert message in refused(call + ";", "2.0")


# --- dialects and route kinds -------------------------------------------------------------

def test_textops_functions_compile_in_every_dialect_they_exist_in():
    common = ('search("a"); search_append("a", "b"); replace("a", "b"); replace_all("a", "b"); '
              "subst('/a/b/'); subst_uri('/a/b/'); append_hf(\"A: 1\\r\\n\"); "
              'append_urihf("A: ", "\\r\\n"); remove_hf("A"); is_present_hf("A"); append_to_reply("A: 1\\r\\n");')
    for dialect in ("0.8", "0.9", "2.0"):
        result = check_text(LOAD + "route { " + common + " }", dialect=dialect, base_dir=HERE)
        assert not result.errors, (dialect, [d.message for d in result.errors])
        bind(LOAD + "route { " + common + " }", dialect)
