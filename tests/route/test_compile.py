"""Compiling whole scripts: the corpus, fix-up errors, ser.cfg line numbers in generated code."""

import traceback

import pytest

from ser_runtime.context import ReceiveInfo, RouteContext
from ser_script.checker import check_file, check_text
from ser_script.compiler import BindError, ScriptEnv, compile_script
from tests.conftest import CORPUS
from tests.script.test_corpus import TARGETS, UNLOADED_CALLS, dialect_of
from tests.route.harness import HERE, INVITE, PROBE, message, run



@pytest.mark.parametrize("name", sorted(set(TARGETS) - {UNLOADED_CALLS}))
def test_every_corpus_script_compiles(name):
    result = check_file(CORPUS / name, dialect_of(TARGETS[name]))
    compiled = compile_script(result, ScriptEnv(stub_missing=True))
    assert ("route", "0") in compiled.routes
    compile(compiled.source, name, "exec")


def _compile(text: str, dialect: str = "0.9"):
    result = check_text(text, file="t.cfg", dialect=dialect, base_dir=HERE)
    assert not result.errors, [d.message for d in result.errors]
    return compile_script(result)


def test_a_failing_fixup_is_an_error_at_its_argument():
    with pytest.raises(BindError) as caught:
        _compile('loadmodule "maxfwd.so"\nroute {\n  mf_process_maxfwd_header("70");\n}\n')
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.col) == ("t.cfg", 3, 28)
    assert "70 is out of range: 1 to max_limit (16)" in diagnostic.message


def test_a_fixup_sees_the_modparam_values():
    compiled = _compile('loadmodule "maxfwd.so"\nmodparam("maxfwd", "max_limit", 70)\n'
                        'route { mf_process_maxfwd_header("70"); }\n')
    assert compiled.route() is not None


def test_probe_fixup_errors_name_the_argument():
    with pytest.raises(BindError, match="'x' is not a number"):
        _compile(PROBE + 'route { ret("x"); }')


def test_unimplemented_functions_are_refused_unless_stubbed():
    text = 'loadmodule "tm.so"\nroute { forward(127.0.0.1); t_write_req("/tmp/fifo", "app"); }\n'
    with pytest.raises(BindError) as caught:
        _compile(text)
    assert [d.message for d in caught.value.diagnostics] == [
        "forward() (core) is not implemented yet", "t_write_req() (tm) is not implemented yet"]
    result = check_text(text, file="t.cfg", dialect="0.9")
    compiled = compile_script(result, ScriptEnv(stub_missing=True))
    assert compiled.missing == ["forward() (core)", "t_write_req() (tm)"]


def test_force_send_socket_must_name_a_listen_socket():
    with pytest.raises(BindError, match="10.9.9.9:5060 is not one of the listen sockets"):
        _compile("listen=udp:127.0.0.1:5060\nroute { force_send_socket(udp:10.9.9.9:5060); }\n")


def test_generated_code_carries_the_ser_cfg_line_numbers():
    def explode(ctx):
        raise RuntimeError("boom")
    text = PROBE + 'route {\n  mark("a");\n  if (method=="INVITE") {\n    boom();\n  };\n}\n'
    result = check_text(text.replace("boom();", 'mark("b");'), file="t.cfg", dialect="0.9", base_dir=HERE)
    compiled = compile_script(result, ScriptEnv(bind={"mark": lambda ctx, label: 1 if label == "a"
                                                      else explode(ctx)}))
    with pytest.raises(RuntimeError) as caught:
        compiled.run(RouteContext(message(), ReceiveInfo("10.1.2.3", 5060, "127.0.0.1", 5060)))
    frames = [(f.filename, f.lineno) for f in traceback.extract_tb(caught.value.__traceback__)]
    assert ("t.cfg", 5) in frames


def test_maxfwd_adds_decrements_lowers_and_stops():
    script = 'loadmodule "maxfwd.so"\nroute { if (!mf_process_maxfwd_header("10")) mark("zero"); }'
    assert b"\r\nMax-Forwards: 15\r\n" in run(script).ctx.msg.serialize()    # 70 lowered to max_limit 16
    absent = INVITE.replace("Max-Forwards: 70\r\n", "")
    assert run(script, text=absent).ctx.msg.serialize().startswith(
        b"INVITE sip:12345@foo.bar:6060 SIP/2.0\r\nMax-Forwards: 10\r\nVia:")
    assert run(script, text=INVITE.replace("Max-Forwards: 70", "Max-Forwards: 3")).ctx.msg.serialize() \
        .count(b"Max-Forwards: 2\r\n") == 1
    zero = run(script, text=INVITE.replace("Max-Forwards: 70", "Max-Forwards: 0"))
    assert zero.trace == ["zero"]
    bad = run(script, text=INVITE.replace("Max-Forwards: 70", "Max-Forwards: many"))
    assert bad.trace == [] and b"Max-Forwards: many" in bad.ctx.msg.serialize()


def test_append_hf_adds_after_the_last_header():
    outcome = run('loadmodule "textops.so"\nroute { append_hf("P-hint: usrloc applied\\r\\n"); }')
    assert outcome.ctx.msg.serialize().endswith(b"Content-Length: 0\r\nP-hint: usrloc applied\r\n\r\n")
