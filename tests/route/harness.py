"""Running a ser.cfg text on a SIP message, compiled and tree-walked, for the route tests.

`run()` checks the script, binds it, runs the chosen block with both the
compiler's functions and the tree walker on two fresh contexts of the same
message, asserts that both end in the same state, and returns the compiled
run's outcome.
"""

from dataclasses import dataclass
from pathlib import Path

from ser_runtime.context import ReceiveInfo, RouteContext
from ser_runtime.myself import Myself
from ser_runtime.sip import SipMessage
from ser_script.checker import check_text
from ser_script.compiler import ScriptEnv, compile_script
from ser_script.interpreter import TreeWalker

HERE = Path(__file__).resolve().parent
PROBE = f'loadmodule "{HERE / "probe.py"}"\n'

MYSELF = Myself([("127.0.0.1", 5060), ("[::1]", 5060), ("proxy.example.com", 5060)], [("alias.example.com", None)])
RCV = ReceiveInfo("10.1.2.3", 5070, "127.0.0.1", 5060)

INVITE = (
    "INVITE sip:12345@foo.bar:6060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.1.2.3:5070;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "From: Alice <sip:alice@proxy.example.com>;tag=1928301774\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@10.1.2.3:5070>\r\n"
    "Content-Length: 0\r\n\r\n"
)


@dataclass
class Outcome:
    code: int
    ctx: RouteContext

    @property
    def uri(self) -> str:
        return self.ctx.uri

    @property
    def trace(self) -> list[str]:
        return self.ctx.avps.get("trace", [])


def message(text: str = INVITE) -> SipMessage:
    return SipMessage.parse(text.encode())


def bind(script: str, dialect: str = "0.9", env: ScriptEnv | None = None):
    result = check_text(PROBE + script, file="t.cfg", dialect=dialect, base_dir=HERE)
    assert not result.errors, [d.message for d in result.errors]
    env = env or ScriptEnv(myself=MYSELF)
    return compile_script(result, env), TreeWalker(result, env)


def run(script: str, dialect: str = "0.9", text: str = INVITE, rcv: ReceiveInfo = RCV,
        kind: str = "route", label: str = "", onsend: ReceiveInfo | None = None) -> Outcome:
    compiled, walker = bind(script, dialect)
    outcomes = []
    for runner in (compiled, walker):
        ctx = RouteContext(message(text), rcv)
        ctx.onsend = onsend
        outcomes.append(Outcome(runner.run(ctx, kind, label), ctx))
    assert _state(outcomes[0]) == _state(outcomes[1]), "compiled and tree-walked runs differ"
    return outcomes[0]


def _state(outcome: Outcome) -> tuple:
    ctx = outcome.ctx
    return (outcome.code, ctx.uri, ctx.flags, ctx.branches, ctx.avps, ctx.exit, ctx.retcode,
            ctx.msg.serialize())
