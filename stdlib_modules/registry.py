"""Finding a module's export table from a `loadmodule` path.

SER dlopen()s the path it is given; we map the shared object's base name
(`/usr/lib/ser/modules/tm.so` -> `tm`) to the Python module in this package
that declares the same exports. A path ending in `.py` loads the user's own
Python module, which must define `EXPORTS` like the modules here.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import posixpath
from functools import cache
from pathlib import Path

from stdlib_modules.exports import Module

# Helpers the modules share, not SER modules: they export nothing to ser.cfg.
_NOT_MODULES = {"exports", "registry", "digest"}


class ModuleLoadError(Exception):
    """A `loadmodule` path that names no module we have, or a broken user module."""


def so_base_name(path: str) -> str:
    base = posixpath.basename(path)
    for suffix in (".so", ".py"):
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


@cache
def _index() -> dict[str, Module]:
    index: dict[str, Module] = {}
    package = importlib.import_module("stdlib_modules")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in _NOT_MODULES or info.name.startswith("_"):
            continue
        exports = importlib.import_module(f"stdlib_modules.{info.name}").EXPORTS
        for so_name in (exports.name, *exports.so_names):
            index[so_name] = exports
    return index


def all_modules() -> list[Module]:
    return sorted({id(m): m for m in _index().values()}.values(), key=lambda m: m.name)


def find(path: str, base_dir: Path | None = None) -> Module:
    """The module a `loadmodule` path names; ModuleLoadError if there is none."""
    if path.endswith(".py"):
        return _load_user_module(Path(path) if base_dir is None else base_dir / path)
    name = so_base_name(path)
    try:
        return _index()[name]
    except KeyError:
        raise ModuleLoadError(f"no module named '{name}' (from \"{path}\")") from None


def _load_user_module(path: Path) -> Module:
    if not path.is_file():
        raise ModuleLoadError(f"cannot open Python module \"{path}\"")
    spec = importlib.util.spec_from_file_location(f"ser_user_module_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a user's module may fail in any way; report it, never crash
        raise ModuleLoadError(f"Python module \"{path}\" failed to load: {exc!r}") from None
    exports = getattr(module, "EXPORTS", None)
    if not isinstance(exports, Module):
        raise ModuleLoadError(f"Python module \"{path}\" defines no EXPORTS table")
    return exports
