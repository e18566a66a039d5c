"""The URI rewrite actions through compiled routes (issue 3's table; language reference §8)."""

import pytest

from tests.route.harness import INVITE, run


TABLE = [
    ('rewritehost("192.168.0.10")', "sip:12345@192.168.0.10:6060"),
    ('rewriteuri("sip:alice@foo.bar")', "sip:alice@foo.bar"),
    ('rewritehostport("192.168.0.10:3040")', "sip:12345@192.168.0.10:3040"),
    ('rewriteuser("alice")', "sip:alice@foo.bar:6060"),
    ('rewriteuserpass("alice:pw")', "sip:alice:pw@foo.bar:6060"),
    ('rewriteport("1234")', "sip:12345@foo.bar:1234"),
    ('prefix("9")', "sip:912345@foo.bar:6060"),
    ("strip(2)", "sip:345@foo.bar:6060"),
]
ALIASES = {"rewritehost": ("sethost", "seth"), "rewritehostport": ("sethostport", "sethp"),
           "rewriteuser": ("setuser", "setu"), "rewriteuserpass": ("setuserpass", "setup"),
           "rewriteport": ("setport", "setp"), "rewriteuri": ("seturi",)}


def _with_aliases():
    for action, expected in TABLE:
        yield action, expected
        name, _, rest = action.partition("(")
        for alias in ALIASES.get(name, ()):
            yield f"{alias}({rest}", expected


@pytest.mark.parametrize("dialect", ["0.8", "0.9", "2.0"])
@pytest.mark.parametrize("action, expected", list(_with_aliases()))
def test_rewrite_table(action, expected, dialect):
    outcome = run(f"route {{ {action}; }}", dialect)
    assert outcome.uri == expected
    assert outcome.ctx.msg.serialize().startswith(f"INVITE {expected} SIP/2.0\r\n".encode())


@pytest.mark.parametrize("action", [a for a, _ in _with_aliases()])
def test_revert_uri_restores_the_received_uri(action):
    outcome = run(f"route {{ {action}; revert_uri(); }}")
    assert outcome.uri == "sip:12345@foo.bar:6060"
    assert outcome.ctx.msg.serialize() == INVITE.encode()


@pytest.mark.parametrize("script, expected", [
    ('rewritehost("192.168.0.10"); rewriteport("1234"); prefix("9"); strip(2);',
     "sip:2345@192.168.0.10:1234"),
    ('rewriteuri("sip:alice@foo.bar"); rewriteuserpass("bob:secret"); rewritehostport("h.example.com");',
     "sip:bob:secret@h.example.com"),
    ('strip(2); revert_uri; prefix("0");', "sip:012345@foo.bar:6060"),
    ('rewriteuri("sips:x@secure.example.com;transport=tls"); rewritehost("other.example.com");',
     "sip:x@other.example.com;transport=tls"),
    ('rewriteuri("tel:+4930123"); rewritehost("gw.example.com");', "sip:+4930123@gw.example.com"),
    ('strip(99);', "sip:foo.bar:6060"),
    ('strip_tail(2);', "sip:123@foo.bar:6060"),
    ('rewriteuserpass("carol"); prefix("00");', "sip:00carol@foo.bar:6060"),
    ('rewriteuser("alice"); rewriteuserpass("bob:pw"); rewriteuser("carol");', "sip:carol:pw@foo.bar:6060"),
    ('rewriteport("");', "sip:12345@foo.bar"),
])
def test_rewrite_combinations(script, expected):
    assert run(f"route {{ {script} }}").uri == expected


def test_uri_conditions_see_the_rewritten_uri_at_once():
    outcome = run('route { rewritehost("proxy.example.com"); rewriteport("5060"); '
                  'if (uri==myself) mark("mine"); if (uri=~"^sip:12345@proxy") mark("re"); }')
    assert outcome.trace == ["mine", "re"]


def test_a_rewrite_that_cannot_apply_is_false_and_keeps_the_uri():
    outcome = run('route { if (!seturi("not a uri")) mark("seturi"); '
                  'if (!rewritehost("bad_host!")) mark("rewritehost"); }')
    assert outcome.trace == ["seturi", "rewritehost"]
    assert outcome.uri == "sip:12345@foo.bar:6060"


def test_seturi_stores_text_as_given_and_rewrites_then_fail():
    outcome = run('route { seturi("mailto:bob@example.com"); '
                  'if (!rewritehost("x.example.com")) mark("unparsable"); }')
    assert outcome.uri == "mailto:bob@example.com"
    assert outcome.trace == ["unparsable"]
