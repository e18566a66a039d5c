"""The module lifecycle hooks the server runs: start before forking, timers at their interval."""

import pytest

from ser_runtime.server import ModuleTimers, StartError, start_modules
from ser_script.compiler import CompiledScript
from stdlib_modules.exports import Module, ModuleStartError


def _script(*modules) -> CompiledScript:
    return CompiledScript("0.9", {}, "", [], list(modules))


def test_start_refusal_names_the_module():
    def refuse(state):
        raise ModuleStartError(f"cannot reach {state}")
    module = Module(name="usrloc", doc="", start=refuse)
    with pytest.raises(StartError, match="^usrloc: cannot reach db$"):
        start_modules(_script((module, "db")))


def test_timers_run_at_their_interval_and_survive_a_failure():
    calls = []

    def flaky(state, now):
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("database went away")

    timers = ModuleTimers([(10.0, flaky, None)], now=0.0)
    assert timers.next_deadline() == 10.0
    timers.tick(5.0)
    timers.tick(10.0)
    timers.tick(15.0)
    timers.tick(20.0)
    assert calls == [10.0, 20.0]
    assert timers.next_deadline() == 30.0
