"""SER's fix-up pass: binding every call and comparison of a checked script (language reference §1.2).

Run once at start-up, before any message: module functions are found by
name and arity and their fixups run (strings become numbers, regexes,
table handles), core actions get their implementations and typed
arguments, flag names become masks, and each comparison becomes a
`conditions.Element`. Both the route compiler and the tree-walking
interpreter work from what this pass produces, so they share one meaning.
A fixup that fails is a diagnostic at the argument's line and column.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ser_runtime import conditions as cond
from ser_runtime import core_actions
from ser_runtime.context import MAX_BRANCHES, PROTO_NONE, PROTO_NUMBERS
from ser_runtime.myself import Myself
from ser_script import ast, core
from ser_script.checker import CheckResult, label_key
from ser_script.diagnostics import ERROR, Diagnostic
from ser_script.lexical import BOOL_WORDS, FAMILY_WORDS, ipv4_value
from ser_script.posix_regex import compile_ere
from stdlib_modules.exports import FixupError, Function, Module

MAX_FLAG = 31
_SENDING = ("forward", "forward_udp", "forward_tcp", "forward_tls", "send", "send_tcp")


class BindError(Exception):
    """The fix-up pass refused the script; `diagnostics` say where and why."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


@dataclass
class ScriptEnv:
    """What the script is bound against.

    `actions` are the core actions by name (the SIP runtime adds the sending
    ones). `bind` replaces module functions by name, for embedding the
    compiler and for benchmarks that measure the script alone. With
    `stub_missing`, calls to functions that are not implemented yet compile
    into calls that raise, so a script can be compiled and inspected before
    every module exists; `ser` never sets it. `resolve(host, port)` checks a
    fixed forward/send host at start-up, as SER resolves it then; it raises
    ValueError with the reason when the name does not resolve (`ser` sets
    it, the checker does not, so checking needs no DNS).
    """

    myself: Myself = field(default_factory=Myself.default)
    actions: dict[str, Callable[..., int]] = field(default_factory=lambda: dict(core_actions.ACTIONS))
    bind: dict[str, Callable[..., int]] = field(default_factory=dict)
    stub_missing: bool = False
    resolve: Callable[[str, int | None], None] | None = None


@dataclass(frozen=True, slots=True)
class BoundCall:
    """A call ready to run: `function(ctx, *args)`.

    `kind` is "module" (may return 0), "core" (never returns 0) or "route"
    (`function` is None; args[0] is the target's route key). The flag
    actions take their flag as a bit mask.
    """

    kind: str
    function: Callable[..., int] | None
    args: tuple


def config_myself(config: ast.Config) -> Myself:
    """`myself` from the script's listen and alias lines (port= or 5060 where none is given)."""
    params = [item for item in config.items if isinstance(item, ast.GlobalParam)]
    port = next((p.values[0].value for p in params if p.name == "port"), 5060)
    sockets, aliases = [], []
    for param in params:
        if param.name in ("listen", "alias"):
            for value in param.values:
                host, given = _socket_host_port(value)
                if param.name == "listen":
                    sockets.append((host, given or port))
                else:
                    aliases.append((host, given))
    return Myself(sockets, aliases) if sockets else Myself(Myself.default(port).sockets, aliases)


def _socket_host_port(value) -> tuple[str, int | None]:
    port = None
    if isinstance(value, ast.Socket):
        port = value.port.value if isinstance(value.port, ast.Num) else None
        value = value.addr
    host = value.text if isinstance(value, ast.Ip) else getattr(value, "name", getattr(value, "value", ""))
    return host, port


def route_key(kind: str, label) -> tuple[str, str]:
    """The key of a route block: ("route", "0") is the main route, as in the checker."""
    key = label if isinstance(label, str) else label_key(label)
    if kind == "route" and key == "":
        key = "0"
    return kind, key


class Binder:
    """Binds one checked script; `calls` and `elements` are keyed by node identity."""

    def __init__(self, result: CheckResult, env: ScriptEnv):
        if result.errors or result.config is None:
            raise ValueError("only a script that checks clean can be bound")
        self.config = result.config
        self.dialect = result.dialect
        self.env = env
        self.modules = result.modules
        self.module_states = {}
        self.calls: dict[int, BoundCall] = {}
        self.elements: dict[int, cond.Element] = {}
        self.flags = self._flag_bits()
        self.diagnostics: list[Diagnostic] = []
        self.missing: list[str] = []
        self._module_params = result.module_params

    def error(self, node, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.config.file, node.line, node.col, ERROR, message))

    # --- the whole script ----------------------------------------------------------------

    def bind(self) -> None:
        self._init_modules()
        for item in self.config.items:
            if isinstance(item, ast.RouteBlock):
                self._statements(item.body)
        if self.diagnostics:
            raise BindError(self.diagnostics)

    def _init_modules(self) -> None:
        for module in self.modules:
            params = module.param_values(self._module_params.get(module.name, {}), self.dialect)
            self.module_states[module.name] = module.init(params) if module.init else None

    def _flag_bits(self) -> dict[str, int]:
        """SER 2.0 `flags a, b:2;`: numbered flags keep their bit, the others take free ones."""
        declared = [flag for item in self.config.items if isinstance(item, ast.FlagsDecl)
                    for flag in item.flags]
        bits = {f.name: f.bit.value for f in declared if f.bit is not None}
        free = (bit for bit in range(MAX_FLAG + 1) if bit not in bits.values())
        for flag in declared:
            if flag.name not in bits:
                bits[flag.name] = next(free, MAX_FLAG)
        return bits

    # --- statements ----------------------------------------------------------------------

    def _statements(self, statements: list) -> None:
        for statement in statements:
            if isinstance(statement, ast.Call):
                self._call(statement)
            elif isinstance(statement, ast.Bare):
                self._call(ast.Call(line=statement.line, col=statement.col, name=statement.name, args=[]),
                           statement)
            elif isinstance(statement, ast.If):
                self._condition(statement.cond)
                self._statements(statement.then)
                self._statements(statement.orelse or [])
            elif isinstance(statement, ast.Assign):
                self._assigned(statement.value)

    def _assigned(self, value) -> None:
        if isinstance(value, ast.Call):
            self._call(value)
        elif isinstance(value, (ast.Compare, ast.And, ast.Or, ast.Not, ast.BlockExpr)):
            self._condition(value)

    def _call(self, call: ast.Call, node=None) -> None:
        key = id(node if node is not None else call)
        if call.name == "route":
            self.calls[key] = BoundCall("route", None, (route_key("route", call.args[0]),))
        elif call.name in core.CORE_ACTIONS:
            self.calls[key] = self._core_call(call)
        else:
            self.calls[key] = self._module_call(call)

    # --- core actions --------------------------------------------------------------------

    def _core_call(self, call: ast.Call) -> BoundCall:
        name = call.name
        if name in ("setflag", "resetflag", "isflagset"):
            return self._flag_call(call)
        function = self.env.actions.get(name)
        if function is None:
            return self._missing(call, f"{name}() (core)")
        args = tuple(self._core_arg(arg) for arg in call.args)
        if name == "log" and len(args) == 1:
            args = (4, args[0])
        elif name == "append_branch":
            args = (MAX_BRANCHES[self.dialect], *args)
        elif name == "force_send_socket":
            args = self._send_socket(call.args[0])
        elif name in _SENDING:
            args = self._destination(call.args)
        return BoundCall("core", function, args)

    def _destination(self, args: list) -> tuple[str | None, int | None]:
        """forward/send targets: (host, port); host None = `uri:host`, port None = the URI's or default."""
        host = None if isinstance(args[0], ast.UriHost) else str(self._core_arg(args[0]))
        port = None
        if len(args) > 1 and not isinstance(args[1], ast.UriPort):
            port = self._core_arg(args[1])
        if host is not None and self.env.resolve is not None:
            try:
                self.env.resolve(host, port)
            except ValueError as exc:
                self.error(args[0], f"cannot resolve {host}: {exc}")
        return host, port

    def _core_arg(self, arg) -> Any:
        if isinstance(arg, ast.Num):
            return arg.value
        if isinstance(arg, ast.Str):
            return arg.value
        if isinstance(arg, ast.Name):
            if arg.name == "max_len":
                return cond.MAX_LEN
            return BOOL_WORDS.get(arg.name, arg.name)
        if isinstance(arg, (ast.Host, ast.Avp)):
            return arg.name
        if isinstance(arg, ast.Ip):
            return arg.text
        return arg

    def _flag_call(self, call: ast.Call) -> BoundCall:
        arg = call.args[0]
        flag = self.flags[arg.name] if isinstance(arg, ast.Name) else arg.value
        lowest = 0 if self.dialect == "2.0" else 1
        if not lowest <= flag <= MAX_FLAG:
            return BoundCall("core", core_actions.bad_flag, (flag,))
        return BoundCall("core", self.env.actions[call.name], (1 << flag,))

    def _send_socket(self, socket: ast.Socket) -> tuple:
        proto = PROTO_NUMBERS.get((socket.proto or "").lower(), PROTO_NONE)
        address = self._core_arg(socket.addr)
        port = socket.port.value if isinstance(socket.port, ast.Num) else 5060
        if not self.env.myself.is_socket(address, port):
            self.error(socket, f"force_send_socket: {address}:{port} is not one of the listen sockets")
        return proto, address, port

    # --- module functions ----------------------------------------------------------------

    def _module_call(self, call: ast.Call) -> BoundCall:
        module, function = self._find(call)
        args = tuple(self._module_arg(arg) for arg in call.args)
        if call.name in self.env.bind:
            return BoundCall("module", self.env.bind[call.name], args)
        if function.impl is None or module.unavailable:
            return self._missing(call, f"{call.name}() ({module.name})")
        if function.fixup is not None:
            try:
                args = tuple(function.fixup(args, self.module_states[module.name]))
            except FixupError as exc:
                where = call.args[exc.position] if exc.position is not None and call.args else call
                self.error(where, f"{call.name}: {exc}")
        return BoundCall("module", function.impl, args)

    def _find(self, call: ast.Call) -> tuple[Module, Function]:
        # The checker has resolved every call; the last loaded module wins, as in SER's find_export.
        for module in reversed(self.modules):
            for function in module.functions_named(call.name, self.dialect):
                if function.arity == len(call.args):
                    return module, function
        raise ValueError(f"{call.name}/{len(call.args)} is not exported by a loaded module")

    @staticmethod
    def _module_arg(arg) -> Any:
        if isinstance(arg, ast.Num):
            return arg.value
        if isinstance(arg, ast.Str):
            return arg.value
        return getattr(arg, "name", getattr(arg, "text", arg))

    def _missing(self, call: ast.Call, what: str) -> BoundCall:
        if what not in self.missing:
            self.missing.append(what)
        if not self.env.stub_missing:
            self.error(call, f"{what} is not implemented yet")
        return BoundCall("core", _not_implemented(what), ())

    # --- conditions ----------------------------------------------------------------------

    def _condition(self, expr) -> None:
        if isinstance(expr, (ast.And, ast.Or)):
            if expr.op in ("&", "|") and self.dialect == "2.0":
                self.elements[id(expr)] = _BitTest(self.value_reader(expr.left), expr.op, expr.right.value)
                return
            self._condition(expr.left)
            self._condition(expr.right)
        elif isinstance(expr, ast.Not):
            self._condition(expr.operand)
        elif isinstance(expr, ast.BlockExpr):
            self._statements(expr.body)
        elif isinstance(expr, ast.Call):
            self._call(expr)
        elif isinstance(expr, ast.Compare):
            self.elements[id(expr)] = self._compare(expr)
        else:
            self.elements[id(expr)] = self._lone_value(expr)

    def _lone_value(self, node) -> cond.Element:
        if isinstance(node, ast.Num):
            return cond.Constant(node.value)
        if isinstance(node, ast.Name):
            return cond.Constant(BOOL_WORDS[node.name])
        return cond.ValueIsSet(self.value_reader(node))

    def _compare(self, expr: ast.Compare) -> cond.Element:
        left, op, right = expr.left, expr.op, expr.right
        negate = op == "!="
        if isinstance(left, ast.Name) and left.name == "myself":
            left, right = right, left
        if isinstance(left, ast.MsgLen):
            return self._int_compare(cond.INT_READERS["msg:len"], op, right)
        if isinstance(left, ast.RetCode):
            return self._int_compare(cond.INT_READERS["$?"], op, right)
        if isinstance(left, (ast.Avp, ast.Select)):
            return self._value_compare(self.value_reader(left), op, right)
        name = left.name
        operand = core.OPERANDS[name]
        if operand.kind in ("method", "uri"):
            return self._string_compare(name, op, right, negate)
        if operand.kind == "ip":
            return self._ip_compare(cond.IP_READERS[name], op, right, negate)
        if operand.kind == "proto":
            value = PROTO_NONE if isinstance(right, ast.Star) else (
                right.value if isinstance(right, ast.Num) else PROTO_NUMBERS[right.name.lower()])
            return cond.IntCompare(cond.INT_READERS[name], op, value)
        if operand.kind == "af":
            value = right.value if isinstance(right, ast.Num) else FAMILY_WORDS[right.name]
            return cond.IntCompare(cond.INT_READERS[name], op, value)
        return self._int_compare(cond.INT_READERS[name], op, right)

    def _int_compare(self, reader, op: str, right) -> cond.Element:
        if isinstance(right, (ast.Avp, ast.Select)):
            return cond.ValueCompare(reader, op, self.value_reader(right))
        value = cond.MAX_LEN if isinstance(right, ast.Name) else right.value
        return cond.IntCompare(reader, op, value)

    def _string_compare(self, name: str, op: str, right, negate: bool) -> cond.Element:
        if isinstance(right, ast.Name) and right.name == "myself":
            return cond.UriIsMyself(cond.URI_PARSERS[name], self.env.myself, negate)
        reader = cond.STRING_READERS[name]
        if isinstance(right, (ast.Avp, ast.Select)):
            return cond.ValueCompare(reader, op, self.value_reader(right))
        text = right.value if isinstance(right, ast.Str) else right.name
        if op == "=~":
            return cond.StrMatch(reader, self._regex(text))
        return cond.StrEquals(reader, text, negate, prefix_quirk=self.dialect != "2.0")

    def _ip_compare(self, reader, op: str, right, negate: bool) -> cond.Element:
        if isinstance(right, ast.Name) and right.name == "myself":
            return cond.IpIsMyself(reader, self.env.myself, negate)
        if isinstance(right, (ast.Avp, ast.Select)):
            return cond.ValueCompare(reader, op, self.value_reader(right))
        if isinstance(right, (ast.Ip, ast.Net)):
            return cond.IpInNetwork(reader, _network(right), negate)
        text = right.value if isinstance(right, ast.Str) else right.name
        if op == "=~":
            return cond.IpMatches(reader, self._regex(text))
        if self.dialect != "0.8" and cond.ip_value(text) is not None:
            return cond.IpInNetwork(reader, ipaddress.ip_network(cond.ip_value(text)), negate)
        return cond.IpIsNamed(reader, text, negate)

    def _value_compare(self, reader, op: str, right) -> cond.Element:
        if op == "=~":
            return cond.ValueCompare(reader, op, self._regex(right.value))
        if isinstance(right, (ast.Avp, ast.Select, ast.RetCode)):
            return cond.ValueCompare(reader, op, self.value_reader(right))
        return cond.ValueCompare(reader, op, self._core_arg(right))

    @staticmethod
    def _regex(text: str) -> re.Pattern:
        # The checker compiled every regex already; this cannot fail.
        return compile_ere(text, re.IGNORECASE)

    def value_reader(self, node) -> Callable:
        if isinstance(node, ast.Avp):
            name = node.name
            return lambda ctx: ctx.avps.get(name)
        if isinstance(node, ast.RetCode):
            return cond.INT_READERS["$?"]
        return select_reader(node.path)


def _network(node: ast.Ip | ast.Net):
    if isinstance(node, ast.Ip):
        return ipaddress.ip_network(_address_text(node))
    mask = node.mask
    prefix = mask.value if isinstance(mask, ast.Num) else ipaddress.IPv4Address(ipv4_value(mask.text))
    return ipaddress.ip_network(f"{_address_text(node.ip)}/{prefix}", strict=False)


def _address_text(node: ast.Ip) -> str:
    # SER reads IPv4 octets with a leading zero as octal (the checker warns).
    return node.text if ":" in node.text else str(ipaddress.IPv4Address(ipv4_value(node.text)))


def _not_implemented(what: str) -> Callable[..., int]:
    def call(ctx, *args) -> int:
        raise NotImplementedError(f"{what} is not implemented yet")
    return call


class _BitTest(cond.Element):
    """SER 2.0 `$avp & 4` / `$avp | 4`: the bitwise result is true when it is not 0."""

    def __init__(self, reader, op: str, number: int):
        self.reader = reader
        self.op = op
        self.number = number

    def evaluate(self, ctx) -> int:
        try:
            value = int(self.reader(ctx) or 0)
        except ValueError:
            return 0
        result = value & self.number if self.op == "&" else value | self.number
        return 1 if result else 0


# --- SER 2.0 selects ---------------------------------------------------------------------------

def select_reader(path: str) -> Callable:
    """A reader for `@from.uri`, `@ruri.host`, `@msg.<header>`, `@hf_value["name"]`, ...

    Unknown selects read as absent (None).
    """
    parts = re.findall(r'\[\s*"?([^"\]]*)"?\s*\]|([^.\[\]]+)', path.lstrip("@"))
    names = [a or b for a, b in parts]
    return lambda ctx: _select(ctx, names)


def _select(ctx, names: list[str]) -> Any:
    try:
        return _SELECT_ROOTS.get(names[0], _absent)(ctx, names[1:])
    except Exception:       # a select over a malformed message reads as absent, never fails the route
        return None


def _absent(ctx, rest) -> None:
    return None


def _uri_part(uri, rest):
    if uri is None:
        return None
    if not rest:
        return str(uri)
    part = rest[0]
    if part == "params" and len(rest) > 1:
        return uri.param(rest[1])
    return {"user": uri.user, "host": uri.host, "port": uri.port_text,
            "hostport": uri.hostport}.get(part)


def _address(ctx, header: str, rest):
    address = getattr(ctx.msg, header)
    if address is None:
        return None
    if not rest:
        return str(address)
    if rest[0] == "uri":
        return _uri_part(address.parsed_uri, rest[1:])
    if rest[0] == "tag":
        return address.tag
    if rest[0] == "name":
        return address.display
    return address.params.get(rest[0])


def _header(ctx, rest):
    field = ctx.msg.header(rest[0]) if rest else None
    return None if field is None else field.value


_SELECT_ROOTS: dict[str, Callable] = {
    "ruri": lambda ctx, rest: _uri_part(ctx.parsed_uri(), rest),
    "from": lambda ctx, rest: _address(ctx, "from_", rest),
    "to": lambda ctx, rest: _address(ctx, "to", rest),
    "contact": lambda ctx, rest: _uri_part(ctx.msg.contacts[0].parsed_uri, rest[1:])
    if ctx.msg.contacts and rest[:1] == ["uri"] else None,
    "msg": _header,
    "hf_value": _header,
    "call_id": lambda ctx, rest: ctx.msg.call_id,
    "method": lambda ctx, rest: ctx.msg.method,
    "src": lambda ctx, rest: {"ip": ctx.rcv.src_ip, "port": ctx.rcv.src_port}.get(rest[0]) if rest else None,
    "dst": lambda ctx, rest: {"ip": ctx.rcv.dst_ip, "port": ctx.rcv.dst_port}.get(rest[0]) if rest else None,
}
