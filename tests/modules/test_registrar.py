"""registrar: RFC 3261 §10.3 through save/lookup on a real Sender, the replies read from a UDP socket.

Each test compiles a ser.cfg with usrloc and registrar, runs usrloc's
`start` (the shared memory store; db_mode 0 but for save_memory, the
database modes are in test_usrloc.py) and feeds REGISTERs and INVITEs
through the script.
"""

from __future__ import annotations

import socket
import time

import pytest

from ser_runtime import core_actions
from ser_runtime.context import PROTO_UDP, Branch, ReceiveInfo, RouteContext
from ser_runtime.db import open_db
from ser_runtime.db.schema import create_schema
from ser_runtime.net.resolver import Resolver
from ser_runtime.sender import Sender
from ser_runtime.settings import Listener, Settings
from ser_runtime.sip import SipMessage
from ser_script.checker import check_text
from ser_script.compiler import BindError, ScriptEnv, compile_script
from stdlib_modules import usrloc
from tests.route.harness import HERE

LOAD = 'loadmodule "sl.so"\nloadmodule "textops.so"\nloadmodule "usrloc.so"\nloadmodule "registrar.so"\n'
ROUTE = """
route {
    if (method=="REGISTER") {
        save("location");
    } else if (!lookup("location")) {
        sl_send_reply("404", "Not Found");
    };
}
"""


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch):
    """Every test gets its own memory store, as every `ser` start does."""
    monkeypatch.setattr(usrloc, "_memory", None)
    monkeypatch.setattr(usrloc, "_exit_state", None)
    yield
    if usrloc._memory is not None:
        usrloc._memory.remove()


@pytest.fixture
def sender():
    listener = Listener(PROTO_UDP, "127.0.0.1", 5060, "127.0.0.1")
    public = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    public.bind(("127.0.0.1", 0))
    sender = Sender(Settings(sip_warning=False, server_signature=False), [listener], Resolver())
    sender.attach({listener: public}, {})
    yield sender
    public.close()


class Registrar:
    """A compiled script with usrloc started, and a UAC socket to send from and read replies on."""

    def __init__(self, sender: Sender, client: socket.socket, params: str = "", route: str = ROUTE,
                 dialect: str = "0.9"):
        result = check_text(LOAD + params + route, file="r.cfg", dialect=dialect, base_dir=HERE)
        assert not result.errors, [d.message for d in result.errors]
        self.script = compile_script(result, ScriptEnv(actions={**core_actions.ACTIONS, **sender.actions()}))
        self.state = next(state for module, state in self.script.modules if module.name == "usrloc")
        usrloc.EXPORTS.start(self.state)
        self.sender, self.client = sender, client
        self.port = client.getsockname()[1]

    def run(self, data: str, flags: int = 0) -> tuple[int, RouteContext]:
        ctx = RouteContext(SipMessage.parse(data.encode()),
                           ReceiveInfo("127.0.0.1", self.port, "127.0.0.1", 5060, PROTO_UDP), self.sender)
        ctx.flags = flags
        return self.script.run(ctx), ctx

    def register(self, *contacts: str, user: str = "alice", expires: int | None = None, callid: str = "reg-1",
                 cseq: int = 1, headers: str = "", flags: int = 0) -> tuple[int, list[str]]:
        """Send a REGISTER through the script; its return code and the reply's lines."""
        code, _ = self.run(register_text(self.port, user, contacts, expires, callid, cseq, headers), flags)
        return code, self.reply()

    def reply(self) -> list[str]:
        return self.client.recv(65535).decode().split("\r\n\r\n")[0].split("\r\n")

    def invite(self, user: str = "alice", domain: str = "example.com") -> tuple[int, RouteContext]:
        return self.run(f"INVITE sip:{user}@{domain} SIP/2.0\r\n"
                        f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bKinv\r\n"
                        f"From: <sip:bob@example.com>;tag=9\r\nTo: <sip:{user}@{domain}>\r\n"
                        f"Call-ID: inv-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")


def register_text(port: int, user: str, contacts, expires, callid: str, cseq: int, headers: str = "",
                  domain: str = "example.com") -> str:
    aor = f"{user}@{domain}" if user else domain
    lines = [f"REGISTER sip:{domain} SIP/2.0", f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{callid}{cseq}",
             f"From: <sip:{aor}>;tag=r{cseq}", f"To: <sip:{aor}>", f"Call-ID: {callid}",
             f"CSeq: {cseq} REGISTER", *[f"Contact: {c}" for c in contacts]]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    return "\r\n".join(lines) + "\r\n" + headers + "Content-Length: 0\r\n\r\n"


def header(lines: list[str], name: str) -> str | None:
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def bindings(lines: list[str]) -> dict[str, dict[str, str]]:
    """The 200's Contact list as {uri: {param: value}}."""
    found = {}
    for entry in (header(lines, "Contact") or "").split(", "):
        if entry:
            uri, _, params = entry.partition(">")
            found[uri.lstrip("<")] = dict(p.partition("=")[::2] for p in params.split(";") if p)
    return found


A, B, C = "sip:alice@192.0.2.10:5060", "sip:alice@192.0.2.11:5060", "sip:alice@192.0.2.12:5060"


def test_save_replies_200_listing_the_binding_with_its_expiry(sender, client):
    reg = Registrar(sender, client)
    code, lines = reg.register(f"<{A}>", expires=600)
    assert code == 1 and lines[0] == "SIP/2.0 200 OK"
    assert bindings(lines) == {A: {"expires": "600"}}
    assert ";tag=" in header(lines, "To")


def test_the_200_lists_every_binding_best_q_first(sender, client):
    reg = Registrar(sender, client)
    reg.register(f"<{A}>;q=0.1", expires=600)
    code, lines = reg.register(f"<{B}>;q=0.9", f"<{C}>;q=0.5", expires=600, cseq=2)
    assert lines[0] == "SIP/2.0 200 OK"
    listed = bindings(lines)
    assert list(listed) == [B, C, A]
    assert [p["q"] for p in listed.values()] == ["0.9", "0.5", "0.1"]


def test_the_expires_parameter_wins_over_the_header_and_the_default_applies_without_either(sender, client):
    reg = Registrar(sender, client, 'modparam("registrar", "default_expires", 1800)\n')
    _, lines = reg.register(f"<{A}>;expires=120", f"<{B}>", expires=900)
    assert bindings(lines)[A]["expires"] == "120" and bindings(lines)[B]["expires"] == "900"
    _, lines = reg.register(f"<{C}>", cseq=2)
    assert bindings(lines)[C]["expires"] == "1800"


def test_a_malformed_expires_parameter_counts_as_absent(sender, client):
    reg = Registrar(sender, client)
    _, lines = reg.register(f"<{A}>;expires=soon", expires=300)
    assert bindings(lines)[A]["expires"] == "300"


def test_a_malformed_expires_header_is_400(sender, client):
    reg = Registrar(sender, client)
    code, lines = reg.register(f"<{A}>", headers="Expires: tomorrow\r\n")
    assert code == 0 and lines[0] == "SIP/2.0 400 Bad Request"
    assert header(lines, "P-Registrar-Error") == "Expires parse error"


def test_too_brief_an_interval_is_423_with_min_expires(sender, client):
    reg = Registrar(sender, client, 'modparam("registrar", "min_expires", 300)\n')
    code, lines = reg.register(f"<{A}>", expires=30)
    assert code == 0 and lines[0] == "SIP/2.0 423 Interval Too Brief"
    assert header(lines, "Min-Expires") == "300"
    reg.invite()
    assert reg.reply()[0] == "SIP/2.0 404 Not Found"  # nothing was saved


def test_max_expires_lowers_the_interval(sender, client):
    reg = Registrar(sender, client, 'modparam("registrar", "max_expires", 600)\n')
    _, lines = reg.register(f"<{A}>", expires=7200)
    assert bindings(lines)[A]["expires"] == "600"


def test_expires_zero_removes_the_binding(sender, client):
    reg = Registrar(sender, client)
    reg.register(f"<{A}>", f"<{B}>", expires=600)
    _, lines = reg.register(f"<{A}>;expires=0", expires=600, cseq=2)
    assert list(bindings(lines)) == [B]


def test_star_with_expires_zero_removes_every_binding(sender, client):
    reg = Registrar(sender, client)
    reg.register(f"<{A}>", f"<{B}>", expires=600)
    code, lines = reg.register("*", expires=0, cseq=2)
    assert code == 1 and lines[0] == "SIP/2.0 200 OK" and header(lines, "Contact") is None
    reg.invite()
    assert reg.reply()[0] == "SIP/2.0 404 Not Found"


def test_star_with_a_lower_cseq_of_the_same_call_id_removes_nothing(sender, client):
    reg = Registrar(sender, client)
    reg.register(f"<{A}>", expires=600, cseq=5)
    code, lines = reg.register("*", expires=0, cseq=3)
    assert code == 0 and lines[0] == "SIP/2.0 500 Server Internal Error"
    code, lines = reg.register("*", expires=0, callid="other", cseq=1)
    assert code == 1 and header(lines, "Contact") is None


@pytest.mark.parametrize("contacts, expires, why", [
    (("*",), 600, "* used in contact and expires is not zero"),
    (("*",), None, "* used in contact and expires is not zero"),
    (("*", f"<{A}>"), 0, "* used in contact and more than 1 contact"),
])
def test_star_needs_expires_zero_and_no_other_contact(sender, client, contacts, expires, why):
    reg = Registrar(sender, client)
    code, lines = reg.register(*contacts, expires=expires)
    assert code == 0 and lines[0] == "SIP/2.0 400 Bad Request"
    assert header(lines, "P-Registrar-Error") == why


def test_a_register_without_contact_lists_the_bindings(sender, client):
    reg = Registrar(sender, client)
    reg.register(f"<{A}>", expires=600)
    code, lines = reg.register(cseq=2)
    assert code == 1 and list(bindings(lines)) == [A]


def test_a_lower_cseq_with_the_same_call_id_is_out_of_order_and_changes_nothing(sender, client):
    reg = Registrar(sender, client)
    reg.register(f"<{A}>", expires=600, cseq=5)
    code, lines = reg.register(f"<{A}>", f"<{B}>", expires=0, cseq=4)
    assert code == 0 and lines[0] == "SIP/2.0 500 Server Internal Error"
    assert header(lines, "P-Registrar-Error") == "Out of order request"
    _, lines = reg.register(cseq=6)
    assert list(bindings(lines)) == [A]


def test_a_retransmission_gets_its_200_again_and_a_new_call_id_may_use_any_cseq(sender, client):
    reg = Registrar(sender, client)
    reg.register(f"<{A}>", expires=600, cseq=5)
    code, lines = reg.register(f"<{A}>", expires=600, cseq=5)
    assert code == 1 and lines[0] == "SIP/2.0 200 OK"
    _, lines = reg.register(f"<{A}>", expires=60, callid="reg-2", cseq=1)
    assert bindings(lines)[A]["expires"] == "60"


def test_max_contacts_refuses_with_503_and_retry_after(sender, client):
    reg = Registrar(sender, client, 'modparam("registrar", "max_contacts", 2)\n'
                                    'modparam("registrar", "retry_after", 30)\n')
    reg.register(f"<{A}>", f"<{B}>", expires=600)
    code, lines = reg.register(f"<{C}>", expires=600, cseq=2)
    assert code == 0 and lines[0] == "SIP/2.0 503 Service Unavailable"
    assert header(lines, "Retry-After") == "30"
    assert header(lines, "P-Registrar-Error") == "Too many registered contacts"
    # Replacing one binding by another stays within the limit.
    _, lines = reg.register(f"<{A}>;expires=0", f"<{C}>", expires=600, cseq=3)
    assert lines[0] == "SIP/2.0 200 OK" and set(bindings(lines)) == {B, C}


def test_an_invalid_q_is_400_and_default_q_applies_to_contacts_without_one(sender, client):
    reg = Registrar(sender, client, 'modparam("registrar", "default_q", 250)\n')
    code, lines = reg.register(f"<{A}>;q=1.5", expires=600)
    assert code == 0 and header(lines, "P-Registrar-Error") == "Invalid q param in contact"
    _, lines = reg.register(f"<{A}>", expires=600, cseq=2)
    assert bindings(lines)[A]["q"] == "0.25"


def test_the_0_8_default_q_counts_hundredths(sender, client):
    reg = Registrar(sender, client, 'modparam("registrar", "default_q", 50)\n', dialect="0.8")
    _, lines = reg.register(f"<{A}>", expires=600)
    assert bindings(lines)[A]["q"] == "0.5"


def test_a_register_without_a_user_in_to_is_400(sender, client):
    reg = Registrar(sender, client)
    code, lines = reg.register(f"<{A}>", user="", expires=600)
    assert code == 0 and header(lines, "P-Registrar-Error") == "No username in To URI"


def test_lookup_rewrites_to_the_best_contact_and_appends_the_others_with_their_q(sender, client):
    reg = Registrar(sender, client)
    reg.register(f"<{A}>;q=0.2", f"<{B}>;q=0.8", f"<{C}>", expires=600)
    code, ctx = reg.invite()
    assert code == 1 and ctx.uri == B
    assert ctx.branches == [Branch(A, "0.2"), Branch(C)]


def test_lookup_without_append_branches_takes_only_the_best(sender, client):
    reg = Registrar(sender, client, 'modparam("registrar", "append_branches", 0)\n')
    reg.register(f"<{A}>;q=0.2", f"<{B}>;q=0.8", expires=600)
    _, ctx = reg.invite()
    assert ctx.uri == B and ctx.branches == []


def test_lookup_of_an_unknown_user_is_minus_3(sender, client):
    reg = Registrar(sender, client, route='route { if (method=="REGISTER") { save("location"); break; }; '
                                          '$r = lookup("location"); }', dialect="2.0")
    code, ctx = reg.invite("nobody")
    assert ctx.avps["$r"] == -3


def test_the_aor_ignores_the_domain_and_case_without_use_domain(sender, client):
    reg = Registrar(sender, client)
    reg.register(f"<{A}>", user="Alice", expires=600)
    code, ctx = reg.invite("alice", "other.example.net")
    assert code == 1 and ctx.uri == A


def test_with_use_domain_the_aor_is_user_at_domain(sender, client):
    reg = Registrar(sender, client, 'modparam("usrloc", "use_domain", 1)\n'
                                    'modparam("registrar", "use_domain", 1)\n')
    reg.register(f"<{A}>", expires=600)
    reg.invite("alice", "other.example.net")
    assert reg.reply()[0] == "SIP/2.0 404 Not Found"
    code, ctx = reg.invite("alice", "EXAMPLE.com")
    assert code == 1 and ctx.uri == A


def test_use_domain_must_agree_between_usrloc_and_registrar(sender):
    result = check_text(LOAD + 'modparam("usrloc", "use_domain", 1)\n' + ROUTE, file="r.cfg", dialect="0.9",
                        base_dir=HERE)
    with pytest.raises(BindError, match="use_domain"):
        compile_script(result, ScriptEnv(actions={**core_actions.ACTIONS, **sender.actions()}))


def test_nat_flag_is_saved_and_set_again_by_lookup_which_sends_to_the_received_address(sender, client):
    reg = Registrar(sender, client, 'modparam("registrar", "nat_flag", 6)\n')
    _, lines = reg.register(f'<{A}>;received="sip:198.51.100.7:40000"', expires=600, flags=1 << 6)
    assert bindings(lines)[A]["received"] == '"sip:198.51.100.7:40000"'
    code, ctx = reg.invite()
    assert ctx.uri == A and ctx.dst_uri == "sip:198.51.100.7:40000"
    assert ctx.flags & (1 << 6)


def test_a_nated_branch_goes_to_its_received_address(sender, client):
    reg = Registrar(sender, client)
    reg.register(f"<{A}>;q=0.9", f'<{B}>;q=0.1;received="sip:198.51.100.7:40000"', expires=600)
    _, ctx = reg.invite()
    assert ctx.uri == A and ctx.dst_uri is None
    assert ctx.branches == [Branch(B, "0.1", "sip:198.51.100.7:40000")]


def test_received_comes_from_the_received_avp_when_the_contact_has_none(sender, client):
    reg = Registrar(sender, client)
    ctx_avp = "i:42"
    data = register_text(reg.port, "alice", (f"<{A}>",), 600, "reg-1", 1)
    msg = RouteContext(SipMessage.parse(data.encode()), ReceiveInfo("127.0.0.1", reg.port, "127.0.0.1", 5060),
                       sender)
    msg.avps[ctx_avp] = "sip:203.0.113.5:5062"
    assert reg.script.run(msg) == 1
    assert bindings(reg.reply())[A]["received"] == '"sip:203.0.113.5:5062"'


def test_registered_tells_whether_the_aor_has_a_binding(sender, client):
    route = ('route { if (method=="REGISTER") { save("location"); break; }; '
             'if (registered("location")) { sl_send_reply("200", "Yes"); } else { sl_send_reply("404", "No"); }; }')
    reg = Registrar(sender, client, route=route)
    reg.invite()
    assert reg.reply()[0] == "SIP/2.0 404 No"
    reg.register(f"<{A}>", expires=600)
    reg.invite()
    assert reg.reply()[0] == "SIP/2.0 200 Yes"


def test_save_noreply_saves_silently(sender, client):
    reg = Registrar(sender, client, route='route { if (method=="REGISTER") { save_noreply("location"); } '
                                          'else { lookup("location"); }; }')
    code, _ = reg.run(register_text(reg.port, "alice", (f"<{A}>",), 600, "reg-1", 1))
    assert code == 1
    client.settimeout(0.2)
    with pytest.raises(socket.timeout):
        client.recv(65535)
    assert reg.invite()[1].uri == A


def test_lookup_never_returns_an_expired_binding(sender, client):
    reg = Registrar(sender, client, 'modparam("registrar", "min_expires", 0)\n')
    reg.register(f"<{A}>", expires=1)
    time.sleep(1.1)
    reg.invite()
    assert reg.reply()[0] == "SIP/2.0 404 Not Found"


def test_the_2_0_save_takes_the_aor_from_its_second_argument(sender, client):
    route = ('route { if (method=="REGISTER") { save("location", "sip:carol@example.com"); break; }; '
             'lookup("location"); }')
    reg = Registrar(sender, client, route=route, dialect="2.0")
    reg.register(f"<{A}>", expires=600)
    assert reg.invite("carol")[1].uri == A


def test_save_memory_keeps_the_binding_out_of_the_database_and_save_writes_it(sender, client, sqlite_url):
    db = open_db(sqlite_url)
    create_schema(db)
    params = f'modparam("usrloc", "db_mode", 1)\nmodparam("usrloc", "db_url", "{sqlite_url}")\n'
    route = ('route { if (uri=~"^sip:memory") { save_memory("location"); } else { save("location"); }; }')
    reg = Registrar(sender, client, params, route=route)
    reg.run(register_text(reg.port, "alice", (f"<{A}>",), 600, "reg-1", 1, domain="memory.example.com"))
    assert bindings(reg.reply()) == {A: {"expires": "600"}}
    assert db.query("SELECT contact FROM location") == []
    reg.register(f"<{B}>", expires=600, cseq=2)
    assert db.query("SELECT contact FROM location") == [(B,)]
    db.close()
