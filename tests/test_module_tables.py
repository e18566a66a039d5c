"""The module export tables: every corpus `loadmodule` finds a table, and
the tables are well-formed (see stdlib_modules/exports.py)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from stdlib_modules import registry
from stdlib_modules.exports import (
    DIALECTS,
    B,
    Module,
    ParamType,
    RouteKind,
    S,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ser-cfg"

_LOADMODULE = re.compile(r'^\s*loadmodule\s+"([^"]+)"', re.MULTILINE)
_ALL_KINDS = RouteKind(0)
for _kind in RouteKind:
    _ALL_KINDS |= _kind


def _corpus_loads() -> list[tuple[str, str]]:
    if not CORPUS.is_dir():
        return []
    loads = []
    for cfg in sorted(CORPUS.glob("*.cfg")):
        text = cfg.read_text(errors="replace")
        loads.extend((cfg.name, path) for path in _LOADMODULE.findall(text))
    return loads


MODULES = registry.all_modules()


def _ids(modules: list[Module]) -> list[str]:
    return [m.name for m in modules]


# --- the corpus ------------------------------------------------------------

CORPUS_LOADS = _corpus_loads()


def test_corpus_is_beside_the_repo():
    assert CORPUS_LOADS, f"no loadmodule found: the corpus is missing at {CORPUS}"


@pytest.mark.parametrize(("cfg", "path"), CORPUS_LOADS, ids=[f"{c}:{p}" for c, p in CORPUS_LOADS])
def test_corpus_loadmodule_resolves(cfg: str, path: str) -> None:
    module = registry.find(path)
    assert isinstance(module, Module)
    assert registry.so_base_name(path) in (module.name, *module.so_names)


def test_corpus_is_not_empty_when_present() -> None:
    if CORPUS.is_dir():
        assert len(CORPUS_LOADS) > 100


@pytest.mark.parametrize(("path", "name"), [
    ("/usr/lib/ser/modules/tm_mod.so", "tm"),          # renamed tm build
    ("modules/vm/vm.so", "voicemail"),                  # 0.8 vm registers as "voicemail"
    ("../sip_router/modules/cpl/cpl.so", "cpl-c"),
    ("/usr/local/lib/ser/modules/cpl-c.so", "cpl-c"),
    ("/usr/lib/ser/modules/sl.so", "sl"),
])
def test_so_name_aliases(path: str, name: str) -> None:
    assert registry.find(path).name == name


# --- well-formed tables ----------------------------------------------------

def test_module_names_and_so_names_are_unique() -> None:
    names = Counter()
    for module in MODULES:
        for so_name in {module.name, *module.so_names}:
            names[so_name] += 1
    assert [n for n, count in names.items() if count > 1] == []
    registered = Counter(n for module in MODULES for n in set(module.registered_names))
    assert [n for n, count in registered.items() if count > 1] == []


def test_vm_registers_under_both_names() -> None:
    vm = registry.find("/home/srouter/sip_router/modules/vm/vm.so")
    assert vm.name == "voicemail"
    assert set(vm.registered_names) == {"voicemail", "vm"}


@pytest.mark.parametrize("module", MODULES, ids=_ids(MODULES))
def test_module_header(module: Module) -> None:
    assert module.name
    assert module.doc
    assert module.dialects and module.dialects <= set(DIALECTS)
    assert module.init is None or callable(module.init)
    if module.unavailable is not None:
        assert module.unavailable.strip()


@pytest.mark.parametrize("module", MODULES, ids=_ids(MODULES))
def test_functions_well_formed(module: Module) -> None:
    seen: set[tuple[str, int, str]] = set()
    for f in module.functions:
        assert f.name.isidentifier(), f.name
        assert 0 <= f.arity <= 6, f
        assert f.kinds, f"{f.name}/{f.arity}: empty route-kind mask"
        assert f.kinds & ~_ALL_KINDS == 0, f
        # an entry of a module that exists only in some dialects inherits that restriction
        dialects = f.dialects & module.dialects
        assert dialects, f"{f.name}/{f.arity}: in none of the module's dialects"
        assert f.impl is None or callable(f.impl), f
        assert f.fixup is None or (f.impl is not None and callable(f.fixup)), f"{f.name}: fixup without impl"
        assert f.doc, f"{f.name}/{f.arity}: missing doc"
        if f.kinds & (B | S):
            # branch_route and onsend_route exist only in 2.0
            assert dialects == {"2.0"}, f
        for dialect in dialects:
            key = (f.name, f.arity, dialect)
            assert key not in seen, f"duplicate {f.name}/{f.arity} in {dialect}"
            seen.add(key)


@pytest.mark.parametrize("module", MODULES, ids=_ids(MODULES))
def test_params_well_formed(module: Module) -> None:
    seen: set[tuple[str, str]] = set()
    for p in module.params:
        assert p.name and not p.name.isspace(), p
        dialects = p.dialects & module.dialects
        assert dialects, f"{p.name}: in none of the module's dialects"
        assert p.doc, f"{p.name}: missing doc"
        if p.default is not None:
            if p.type is ParamType.STR:
                assert isinstance(p.default, str), p
            else:
                assert isinstance(p.default, int) and not isinstance(p.default, bool), p
        if p.type is ParamType.FLAG:
            assert dialects == {"2.0"}, f"{p.name}: flag names exist only in 2.0"
        for dialect in dialects:
            key = (p.name, dialect)
            assert key not in seen, f"duplicate param {p.name} in {dialect}"
            seen.add(key)


def test_moved_params_exist_in_their_new_module() -> None:
    by_name = {m.name: m for m in MODULES}
    for module in MODULES:
        for p in module.params:
            if p.moved_to is None:
                continue
            target = by_name[p.moved_to]
            for dialect in p.dialects & module.dialects:
                moved = target.param(p.name, dialect)
                assert moved is not None and moved.type is p.type, (module.name, p.name, dialect)


def test_lookups_by_dialect() -> None:
    tm = registry.find("tm.so")
    assert [f.arity for f in tm.functions_named("t_set_fr", "2.0")] == [1, 2]
    assert tm.functions_named("t_set_fr", "0.9") == []
    assert tm.param("fr_timer", "0.9").default == 30
    assert tm.param("fr_timer", "2.0").default == 30000
    assert tm.param("tw_append", "0.9").repeatable
    nathelper = registry.find("nathelper.so")
    assert sorted(f.arity for f in nathelper.functions_named("force_rtp_proxy", "0.9")) == [0, 1, 2]
    registrar = registry.find("registrar.so")
    assert registrar.param("save_nat_flag", "2.0").type is ParamType.FLAG
    assert registrar.param("save_nat_flag", "0.9") is None


def test_unavailable_modules() -> None:
    assert registry.find("sms.so").unavailable
    assert registry.find("tm.so").unavailable is None


# --- registry errors and user modules --------------------------------------

def test_unknown_module_is_a_clear_error() -> None:
    with pytest.raises(registry.ModuleLoadError, match="no module named 'nosuchmod'"):
        registry.find("/usr/lib/ser/modules/nosuchmod.so")


def test_user_python_module_is_loaded(tmp_path: Path) -> None:
    source = tmp_path / "mymod.py"
    source.write_text(
        "from stdlib_modules.exports import R, Module, fn\n"
        "EXPORTS = Module(name='mymod', doc='test', functions=(fn('hello', 1, R, doc='hi'),))\n"
    )
    module = registry.find(str(source))
    assert module.name == "mymod"
    assert [(f.name, f.arity) for f in module.functions_named("hello", "0.9")] == [("hello", 1)]
    # a relative path is taken relative to the given base directory (the config's)
    assert registry.find("mymod.py", base_dir=tmp_path).name == "mymod"


def test_user_python_module_errors(tmp_path: Path) -> None:
    with pytest.raises(registry.ModuleLoadError, match="cannot open"):
        registry.find(str(tmp_path / "missing.py"))
    no_exports = tmp_path / "noexports.py"
    no_exports.write_text("X = 1\n")
    with pytest.raises(registry.ModuleLoadError, match="defines no EXPORTS"):
        registry.find(str(no_exports))
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(registry.ModuleLoadError, match="failed to load"):
        registry.find(str(broken))
