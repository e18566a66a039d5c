"""Random scripts run compiled and tree-walked must agree (harness.run compares the end states).

The scripts mix probe calls with chosen return codes, nested ifs, !, &&, ||,
block conditions, route() calls, flags and each dialect's stops, on a
message with and without a From header (from_uri comparisons then error).
"""

import random

import pytest

from tests.route.harness import INVITE, run

NO_FROM = INVITE.replace("From: Alice <sip:alice@proxy.example.com>;tag=1928301774\r\n", "")
CODES = ("-2", "-1", "0", "1", "2")


class _Script:
    def __init__(self, rng: random.Random, dialect: str):
        self.rng = rng
        self.dialect = dialect
        self.count = 0

    def label(self) -> str:
        self.count += 1
        return f"s{self.count}"

    def statements(self, depth: int, route: int) -> str:
        return " ".join(self.statement(depth, route) for _ in range(self.rng.randint(1, 3)))

    def statement(self, depth: int, route: int) -> str:
        rng = self.rng
        choice = rng.random()
        if choice < 0.35 or depth > 2:
            return f'mark_ret("{self.label()}", "{rng.choice(CODES)}");'
        if choice < 0.6:
            orelse = f" else {{ {self.statements(depth + 1, route)} }}" if rng.random() < 0.5 else ""
            return f"if ({self.condition(depth + 1, route)}) {{ {self.statements(depth + 1, route)} }}{orelse};"
        if choice < 0.7 and route < 3:
            return f"route({rng.randint(route + 1, 3)});"
        if choice < 0.8:
            return f"{rng.choice(['setflag', 'resetflag'])}({rng.randint(1, 3)});"
        if self.dialect == "2.0":
            return rng.choice(["exit;", "drop;", "break;", f"return {rng.choice(CODES)};", "return $?;"])
        return rng.choice(["drop;", "break;"])

    def condition(self, depth: int, route: int) -> str:
        rng = self.rng
        choice = rng.random()
        if depth > 3 or choice < 0.3:
            return f'mark_ret("{self.label()}", "{rng.choice(CODES)}")'
        if choice < 0.4:
            return rng.choice(['method=="INVITE"', "from_uri==myself", 'from_uri=~"alice"',
                               f"isflagset({rng.randint(1, 3)})", "uri==myself"])
        if choice < 0.5:
            return f"!{self.condition(depth + 1, route)}"
        if choice < 0.8:
            op = rng.choice(["&&", "||"])
            return f"({self.condition(depth + 1, route)} {op} {self.condition(depth + 1, route)})"
        if choice < 0.9 and route < 3:
            return f"route({rng.randint(route + 1, 3)})"
        return f"{{ {self.statements(depth + 1, route)} }}"

    def text(self) -> str:
        blocks = [f"route {{ {self.statements(0, 0)} }}"]
        blocks += [f"route[{n}] {{ {self.statements(0, n)} }}" for n in (1, 2, 3)]
        return "\n".join(blocks)


@pytest.mark.parametrize("dialect", ["0.9", "2.0"])
@pytest.mark.parametrize("seed", range(150))
def test_compiled_and_walked_agree(dialect, seed):
    script = _Script(random.Random(seed * 7 + len(dialect)), dialect).text()
    for text in (INVITE, NO_FROM):
        run(script, dialect, text=text)
