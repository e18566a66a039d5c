"""Compiling a checked ser.cfg into Python functions, one per route block (language reference §10).

After the fix-up pass (binder.py), each route block becomes the source of
one Python function; the module is compiled once with the configuration's
file name, and each generated line carries the ser.cfg line it came from,
so tracebacks and profiles point into ser.cfg. No tree is walked per
message: control flow is Python's own.

Control flow follows the dialect:
- SER 0.8/0.9: an action returning 0 (drop, break, a module function that
  replied) ends the route block; `route(n)` turns 0 and positive into 1 so
  the caller goes on. A command in a condition that returns 0 ends the
  block too (SER's EXPR_DROP).
- SER 2.0: `drop`/`exit` and a module function returning 0 end the whole
  script (the EXIT flag, `ctx.exit`); `return`/`break` leave the block;
  `route(n)` stores its result in `$?`.
In both, `!` of an error stays an error, which counts as false.
"""

from __future__ import annotations

import ast as pyast
import logging
from dataclasses import dataclass, field
from typing import Callable

from ser_runtime import core_actions
from ser_runtime.context import RouteContext
from ser_script import ast
from ser_script.binder import Binder, BindError, BoundCall, ScriptEnv, config_myself, route_key
from ser_script.checker import CheckResult
from ser_script.diagnostics import Diagnostic
from stdlib_modules.exports import Module

LOG = logging.getLogger("ser.script")

DROP = -127             # SER's EXPR_DROP: a command in a condition returned 0
MAX_ROUTE_DEPTH = 100

__all__ = ["BindError", "CompiledScript", "ScriptEnv", "compile_script", "config_myself",
           "fixup_diagnostics"]


@dataclass
class CompiledScript:
    dialect: str
    routes: dict[tuple[str, str], Callable[[RouteContext], int]]
    source: str                 # the generated Python, for `ser-check --python` and debugging
    missing: list[str]          # functions compiled as stubs (ScriptEnv.stub_missing)
    # The loaded modules with what their `init` returned, for the server's lifecycle hooks.
    modules: list[tuple[Module, object]] = field(default_factory=list)

    def route(self, kind: str = "route", label: str = "") -> Callable[[RouteContext], int] | None:
        return self.routes.get(route_key(kind, label))

    def run(self, ctx: RouteContext, kind: str = "route", label: str = "") -> int:
        """Run one top-level block on a message; a missing block does nothing and returns 1."""
        function = self.route(kind, label)
        return 1 if function is None else function(ctx)


def compile_script(result: CheckResult, env: ScriptEnv | None = None) -> CompiledScript:
    """Bind and compile a script that checked clean; BindError when a fixup refuses it."""
    binder = Binder(result, env or ScriptEnv(myself=config_myself(result.config)))
    binder.bind()
    generator = _Generator(binder)
    source, line_map = generator.module_source()
    namespace = dict(generator.constants)
    tree = pyast.parse(source, filename=result.config.file)
    _map_lines(tree, line_map)
    exec(compile(tree, result.config.file, "exec"), namespace)
    routes = {key: namespace[name] for key, name in generator.route_names.items()}
    modules = [(m, binder.module_states.get(m.name)) for m in binder.modules]
    return CompiledScript(result.dialect, routes, source, binder.missing, modules)


def fixup_diagnostics(result: CheckResult) -> list[Diagnostic]:
    """What the fix-up pass refuses in a script that checked clean (for ser-check and `ser -c`).

    Functions that are not implemented yet are stubbed, so only refused
    arguments are reported.
    """
    if result.errors or result.config is None:
        return []
    binder = Binder(result, ScriptEnv(myself=config_myself(result.config), stub_missing=True))
    try:
        binder.bind()
    except BindError as exc:
        return exc.diagnostics
    return []


def _map_lines(tree: pyast.AST, line_map: list[int]) -> None:
    """Give every node the ser.cfg line of the statement it was generated for."""
    for node in pyast.walk(tree):
        if hasattr(node, "lineno"):
            node.lineno = line_map[node.lineno - 1]
            node.end_lineno = max(line_map[(node.end_lineno or 1) - 1], node.lineno)
            node.col_offset = node.end_col_offset = 0


# --- run-time helpers the generated code calls ----------------------------------------------------

def _enter(ctx: RouteContext, function) -> int:
    if ctx.depth >= MAX_ROUTE_DEPTH:
        LOG.error("too many recursive route() calls (%d), giving up", MAX_ROUTE_DEPTH)
        return -1
    ctx.depth += 1
    code = function(ctx)
    ctx.depth -= 1
    return code


def _route_classic(ctx: RouteContext, function) -> int:
    """SER 0.8/0.9 route(n): negative stays negative, 0 and positive become 1."""
    code = _enter(ctx, function)
    return code if code < 0 else 1


def _command_classic(code: int) -> int:
    """A module function in a 0.8/0.9 condition: true, false, or 0 -> stop (EXPR_DROP)."""
    return 1 if code > 0 else (DROP if code == 0 else 0)


def _command_20(ctx: RouteContext, code: int) -> int:
    """A module function in a 2.0 condition: $? is set and 0 sets EXIT."""
    ctx.retcode = code
    if code == 0:
        ctx.exit = True
    return 1 if code > 0 else 0


def _route_20(ctx: RouteContext, function) -> int:
    """A route(n) in a 2.0 condition: $? is set; EXIT, if set inside, ends the script."""
    code = ctx.retcode = _enter(ctx, function)
    return 1 if code > 0 else 0


def _not(value: int) -> int:
    return value if value < 0 else 1 - value


_FLAG_ACTIONS = (core_actions.setflag, core_actions.resetflag, core_actions.isflagset)

_HELPERS = {"_enter": _enter, "_route_classic": _route_classic, "_command_classic": _command_classic,
            "_command_20": _command_20, "_route_20": _route_20, "_not": _not, "DROP": DROP}


# --- code generation -----------------------------------------------------------------------------

class _Generator:
    def __init__(self, binder: Binder):
        self.binder = binder
        self.classic = binder.dialect != "2.0"
        self.constants: dict[str, object] = dict(_HELPERS)
        self._constant_names: dict[int, str] = {}
        self.route_names: dict[tuple[str, str], str] = {}
        self.lines: list[str] = []
        self.line_map: list[int] = []
        self._blocks: list[tuple[str, list, int]] = []
        self._temps = 0
        self._block_count = 0

    def module_source(self) -> tuple[str, list[int]]:
        bodies: dict[tuple[str, str], list] = {}
        first_line: dict[tuple[str, str], int] = {}
        for item in self.binder.config.items:
            if isinstance(item, ast.RouteBlock):
                key = route_key(item.kind, item.label)
                # SER 0.8/0.9 join a repeated block to the first (the checker warns).
                bodies.setdefault(key, []).extend(item.body)
                first_line.setdefault(key, item.line)
        for index, key in enumerate(bodies):
            self.route_names[key] = f"{key[0]}_{index}"
        for key, body in bodies.items():
            self._function(self.route_names[key], body, first_line[key], top=key == ("route", "0"))
        while self._blocks:
            name, body, line = self._blocks.pop()
            self._function(name, body, line, top=False)
        return "\n".join(self.lines) + "\n", self.line_map

    def emit(self, depth: int, text: str, line: int) -> None:
        self.lines.append("    " * depth + text)
        self.line_map.append(line)

    def constant(self, value: object) -> str:
        """A name in the generated module for a bound object; literals are written inline."""
        if value is None or isinstance(value, (bool, int, str)):
            return repr(value)
        if isinstance(value, tuple) and all(v is None or isinstance(v, (int, str)) for v in value):
            return repr(value)
        name = self._constant_names.get(id(value))
        if name is None:
            name = self._constant_names[id(value)] = f"K{len(self._constant_names)}"
            self.constants[name] = value
        return name

    # --- functions and statements ------------------------------------------------------------

    def _function(self, name: str, body: list, line: int, top: bool) -> None:
        self._temps = 0
        self.emit(0, f"def {name}(ctx):", line)
        self.emit(1, f"r = {0 if self.classic else 1}", line)
        self._statements(body, 1, top)
        self.emit(1, "return r", body[-1].line if body else line)
        self.emit(0, "", line)

    def _statements(self, statements: list, depth: int, top: bool) -> None:
        for statement in statements:
            if isinstance(statement, (ast.Call, ast.Bare)):
                self._call_statement(statement, depth)
            elif isinstance(statement, ast.If):
                self._if(statement, depth, top)
            elif isinstance(statement, ast.Stop):
                self._stop(statement, depth, top)
            elif isinstance(statement, ast.Assign):
                self._assign(statement, depth)

    def _call_statement(self, node, depth: int) -> None:
        bound = self.binder.calls[id(node)]
        line = node.line
        if bound.function in _FLAG_ACTIONS:
            self._flag_statement(bound, depth, line)
        elif bound.kind == "route":
            target = self._route_target(bound)
            if self.classic:
                self.emit(depth, f"r = _route_classic(ctx, {target})", line)
            else:
                self.emit(depth, f"r = ctx.retcode = _enter(ctx, {target})", line)
                self.emit(depth, "if ctx.exit: return r", line)
        elif bound.kind == "core":
            self.emit(depth, f"r = {self._call_code(bound)}", line)
        elif self.classic:
            self.emit(depth, f"r = {self._call_code(bound)}", line)
            self.emit(depth, "if r == 0: return 0", line)
        else:
            self.emit(depth, f"r = ctx.retcode = {self._call_code(bound)}", line)
            self.emit(depth, "if r == 0:", line)
            self.emit(depth + 1, "ctx.exit = True", line)
            self.emit(depth + 1, "return 0", line)

    def _flag_statement(self, bound: BoundCall, depth: int, line: int) -> None:
        # The flag actions are inlined: they are the commonest calls of all.
        (mask,) = bound.args
        if bound.function is core_actions.isflagset:
            self.emit(depth, f"r = 1 if ctx.flags & {mask} else -1", line)
            return
        operator, operand = ("|=", mask) if bound.function is core_actions.setflag else ("&=", ~mask)
        self.emit(depth, f"ctx.flags {operator} {operand}", line)
        self.emit(depth, "r = 1", line)

    def _route_target(self, bound: BoundCall) -> str:
        name = self.route_names.get(bound.args[0])
        if name is None:
            # Only reachable with a missing block the checker let through: an empty route.
            return "(lambda ctx: 1)"
        return name

    def _call_code(self, bound: BoundCall) -> str:
        args = "".join(f", {self.constant(arg)}" for arg in bound.args)
        return f"{self.constant(bound.function)}(ctx{args})"

    def _stop(self, stop: ast.Stop, depth: int, top: bool) -> None:
        line = stop.line
        if self.classic:
            self.emit(depth, "return 0", line)
            return
        value = "0" if stop.kind == "break" else self._stop_value(stop)
        if stop.kind in ("drop", "exit") or top:
            self.emit(depth, "ctx.exit = True", line)
        self.emit(depth, f"return {value}", line)

    @staticmethod
    def _stop_value(stop: ast.Stop) -> str:
        if isinstance(stop.value, ast.Num):
            return repr(stop.value.value)
        if isinstance(stop.value, ast.RetCode):
            return "ctx.retcode"
        return "1" if stop.kind == "return" else "0"

    def _assign(self, assign: ast.Assign, depth: int) -> None:
        value, line = assign.value, assign.line
        if isinstance(value, ast.Call):
            self._call_statement(value, depth)
            code = "r"
        elif isinstance(value, ast.Str):
            code = repr(value.value)
        elif isinstance(value, ast.Num):
            code = repr(value.value)
        elif isinstance(value, ast.RetCode):
            code = "ctx.retcode"
        elif isinstance(value, (ast.Avp, ast.Select)):
            code = f"{self.constant(self.binder.value_reader(value))}(ctx)"
        else:
            code, _, _ = self._condition(value)
        self.emit(depth, f"ctx.avps[{assign.target.name!r}] = {code}", line)
        self.emit(depth, "r = 1", line)

    def _if(self, statement: ast.If, depth: int, top: bool) -> None:
        line = statement.line
        code, is_bool, has_command = self._condition(statement.cond)
        if is_bool and not has_command:
            self.emit(depth, f"if {code}:", line)
        else:
            self.emit(depth, f"v = {code}", line)
            if has_command and self.classic:
                self.emit(depth, "if v == DROP: return 0", line)
            elif has_command:
                self.emit(depth, "if ctx.exit: return 0", line)
            self.emit(depth, "if v > 0:", line)
        self._statements(statement.then, depth + 1, top)
        else_line = statement.else_line or line
        self.emit(depth, "else:", else_line)
        if statement.orelse:
            self._statements(statement.orelse, depth + 1, top)
        else:
            self.emit(depth + 1, "r = 1", else_line)

    # --- conditions: (code, is_bool, has_command) ----------------------------------------------
    # is_bool: the value is True/False or 0/1, never an error; has_command:
    # evaluating it runs a command that may stop the script.

    def _condition(self, expr) -> tuple[str, bool, bool]:
        element = self.binder.elements.get(id(expr))
        if element is not None:
            return f"{self.constant(element.evaluate)}(ctx)", not element.fallible, False
        if isinstance(expr, ast.Not):
            code, is_bool, has_command = self._condition(expr.operand)
            return (f"(not {code})" if is_bool else f"_not({code})"), is_bool, has_command
        if isinstance(expr, (ast.And, ast.Or)):
            return self._logic(expr)
        if isinstance(expr, ast.BlockExpr):
            return self._block_condition(expr)
        return self._command_condition(expr)

    def _logic(self, expr) -> tuple[str, bool, bool]:
        left, left_bool, left_command = self._condition(expr.left)
        right, right_bool, right_command = self._condition(expr.right)
        has_command = left_command or right_command
        is_and = isinstance(expr, ast.And)
        if left_bool and right_bool:
            return f"({left} {'and' if is_and else 'or'} {right})", True, has_command
        # SER: && stops unless the left side is exactly true; || stops unless it is exactly false.
        self._temps += 1
        temp = f"t{self._temps}"
        test = "!= 1" if is_and else "!= 0"
        return f"({temp} if ({temp} := {left}) {test} else {right})", False, has_command

    def _block_condition(self, expr: ast.BlockExpr) -> tuple[str, bool, bool]:
        self._block_count += 1
        name = f"block_{self._block_count}"
        self._blocks.append((name, expr.body, expr.line))
        if self.classic:
            return f"_command_classic({name}(ctx))", False, True
        return f"(1 if {name}(ctx) > 0 else 0)", True, True

    def _command_condition(self, call) -> tuple[str, bool, bool]:
        bound = self.binder.calls[id(call)]
        if bound.function is core_actions.isflagset:
            return f"(ctx.flags & {bound.args[0]} != 0)", True, False
        if bound.kind == "route":
            target = self._route_target(bound)
            if self.classic:
                return f"(_route_classic(ctx, {target}) > 0)", True, False
            return f"_route_20(ctx, {target})", True, True
        code = self._call_code(bound)
        if bound.kind == "core":
            return f"({code} > 0)", True, False
        if self.classic:
            return f"_command_classic({code})", False, True
        return f"_command_20(ctx, {code})", True, True
