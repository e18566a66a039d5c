"""A tree-walking interpreter of bound scripts, as SER's own action.c runs them.

The route compiler (compiler.py) is what `ser` runs. This walker exists as
its yardstick: `bench/` measures how much compiling saves over walking the
tree per message, and the tests run both on the same scripts and messages
and demand the same results, so each is checked against an independent
reading of SER's control flow (language reference §10).
"""

from __future__ import annotations

from ser_runtime.context import RouteContext
from ser_script import ast
from ser_script.binder import Binder, BoundCall, ScriptEnv, route_key
from ser_script.checker import CheckResult
from ser_script.compiler import DROP, MAX_ROUTE_DEPTH


class _Leave(Exception):
    """SER 2.0's RETURN/BREAK flag: leave the current route block with `code`."""

    def __init__(self, code: int):
        self.code = code


class TreeWalker:
    def __init__(self, result: CheckResult, env: ScriptEnv | None = None):
        self.binder = Binder(result, env or ScriptEnv())
        self.binder.bind()
        self.classic = result.dialect != "2.0"
        self.routes: dict[tuple[str, str], list] = {}
        for item in result.config.items:
            if isinstance(item, ast.RouteBlock):
                self.routes.setdefault(route_key(item.kind, item.label), []).extend(item.body)

    def run(self, ctx: RouteContext, kind: str = "route", label: str = "") -> int:
        body = self.routes.get(route_key(kind, label))
        if body is None:
            return 1
        return self._block(ctx, body, top=kind == "route" and label in ("", "0"))

    def _block(self, ctx: RouteContext, body: list, top: bool = False) -> int:
        if self.classic:
            return self._list(ctx, body)
        try:
            return self._list(ctx, body, default=1)
        except _Leave as leave:
            if top:
                ctx.exit = True
            return leave.code

    # --- action lists --------------------------------------------------------------------------

    def _list(self, ctx: RouteContext, statements: list, default: int = 0) -> int:
        code = default
        for statement in statements:
            if isinstance(statement, ast.Null):
                continue
            code = self._statement(ctx, statement)
            if self.classic and code == 0:
                return 0
            if ctx.exit:
                return code
        return code

    def _statement(self, ctx: RouteContext, statement) -> int:
        if isinstance(statement, (ast.Call, ast.Bare)):
            return self._call(ctx, self.binder.calls[id(statement)])
        if isinstance(statement, ast.If):
            return self._if(ctx, statement)
        if isinstance(statement, ast.Stop):
            return self._stop(ctx, statement)
        return self._assign(ctx, statement)

    def _call(self, ctx: RouteContext, bound: BoundCall) -> int:
        if bound.kind == "route":
            return self._route(ctx, bound.args[0])
        code = bound.function(ctx, *bound.args)
        if bound.kind == "module" and not self.classic:
            ctx.retcode = code
            if code == 0:
                ctx.exit = True
        return code

    def _route(self, ctx: RouteContext, key: tuple[str, str]) -> int:
        if ctx.depth >= MAX_ROUTE_DEPTH:
            return -1
        ctx.depth += 1
        code = self._block(ctx, self.routes.get(key, []))
        ctx.depth -= 1
        if self.classic:
            return code if code < 0 else 1
        ctx.retcode = code
        return code

    def _if(self, ctx: RouteContext, statement: ast.If) -> int:
        value = self._condition(ctx, statement.cond)
        if value == DROP or ctx.exit:
            return 0
        if value > 0:
            return self._list(ctx, statement.then)
        if statement.orelse:
            return self._list(ctx, statement.orelse)
        return 1

    def _stop(self, ctx: RouteContext, stop: ast.Stop) -> int:
        if self.classic or stop.kind == "break":
            if self.classic:
                return 0
            raise _Leave(0)
        if isinstance(stop.value, ast.Num):
            code = stop.value.value
        elif isinstance(stop.value, ast.RetCode):
            code = ctx.retcode
        else:
            code = 1 if stop.kind == "return" else 0
        if stop.kind == "return":
            raise _Leave(code)
        ctx.exit = True
        return code

    def _assign(self, ctx: RouteContext, assign: ast.Assign) -> int:
        value = assign.value
        if isinstance(value, ast.Call):
            result = self._call(ctx, self.binder.calls[id(value)])
        elif isinstance(value, (ast.Str, ast.Num)):
            result = value.value
        elif isinstance(value, ast.RetCode):
            result = ctx.retcode
        elif isinstance(value, (ast.Avp, ast.Select)):
            result = self.binder.value_reader(value)(ctx)
        else:
            result = self._condition(ctx, value)
        ctx.avps[assign.target.name] = result
        return 1

    # --- conditions (SER's eval_expr) ------------------------------------------------------------

    def _condition(self, ctx: RouteContext, expr) -> int:
        element = self.binder.elements.get(id(expr))
        if element is not None:
            return element.evaluate(ctx)
        if isinstance(expr, ast.Not):
            value = self._condition(ctx, expr.operand)
            return value if value < 0 else 1 - value
        if isinstance(expr, ast.And):
            value = self._condition(ctx, expr.left)
            return value if value != 1 else self._condition(ctx, expr.right)
        if isinstance(expr, ast.Or):
            value = self._condition(ctx, expr.left)
            return value if value != 0 else self._condition(ctx, expr.right)
        if isinstance(expr, ast.BlockExpr):
            code = self._block(ctx, expr.body)
            return self._command_value(code, may_stop=True)
        bound = self.binder.calls[id(expr)]
        code = self._call(ctx, bound)
        return self._command_value(code, may_stop=bound.kind == "module")

    def _command_value(self, code: int, may_stop: bool) -> int:
        if code > 0:
            return 1
        return DROP if self.classic and may_stop and code == 0 else 0
