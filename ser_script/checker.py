"""ser-check: everything SER checks at start-up, and more, without starting anything.

SER reads its configuration in one pass (language reference §1): a module must
be loaded before a `modparam` or a call names it, and each call is looked up by
name, number of arguments and the kind of the block it is written in. The
checker walks the AST in the same order with the modules' export tables
(stdlib_modules) and the core's (ser_script.core), then checks what SER only
finds at run time or never: route targets, unreachable statements, unused
blocks, regexes, and the dialect's surprises.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

from ser_script import ast, core
from ser_script.diagnostics import ERROR, WARNING, Diagnostic, sort_key
from ser_script.lexical import BOOL_WORDS, FAMILY_WORDS, has_octal_octet, ipv4_value, ipv6_value
from ser_script.parser import ParseResult, parse, parse_file
from ser_script.posix_regex import RegexError, compile_ere
from stdlib_modules import registry
from stdlib_modules.exports import Module, ParamType, RouteKind

_KIND_OF_BLOCK = {
    "route": RouteKind.REQUEST, "failure_route": RouteKind.FAILURE,
    "reply_route": RouteKind.FAILURE, "onreply_route": RouteKind.ONREPLY,
    "branch_route": RouteKind.BRANCH, "onsend_route": RouteKind.ONSEND,
}
# Module function arguments that name a route block (tm's fixups check them).
_ROUTE_ARGS = {"t_on_failure": "failure_route", "t_on_negative": "reply_route",
               "t_on_reply": "onreply_route", "t_on_branch": "branch_route"}
# Module function arguments that are regular expressions, by argument position.
_REGEX_ARGS = {"search": 0, "search_append": 0, "replace": 0, "replace_all": 0,
               "t_check_status": 0}
_SUBST_FUNCTIONS = {"subst", "subst_uri", "subst_user"}
_TM_TIMERS = {"fr_timer", "fr_inv_timer", "wt_timer", "delete_timer", "retr_timer1",
              "retr_timer2"}


@dataclass
class CheckResult:
    file: str
    dialect: str
    dialect_reason: str
    diagnostics: list[Diagnostic]
    config: ast.Config | None
    source: str = ""
    modules: list[Module] = field(default_factory=list)
    module_params: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]


def check_text(text: str, file: str = "<string>", dialect: str | None = None,
               base_dir: Path | None = None) -> CheckResult:
    return _check(parse(text, file, dialect), base_dir)


def check_file(path: str | Path, dialect: str | None = None) -> CheckResult:
    """Check a file; raises OSError when it cannot be read."""
    return _check(parse_file(path, dialect), Path(path).resolve().parent)


def _check(parsed: ParseResult, base_dir: Path | None) -> CheckResult:
    file = parsed.config.file if parsed.config else (parsed.diagnostics[0].file if parsed.diagnostics else "<string>")
    result = CheckResult(file, parsed.dialect, parsed.dialect_reason, list(parsed.diagnostics),
                         parsed.config, parsed.source)
    if parsed.config is not None:
        checker = _Checker(parsed.config, base_dir)
        checker.run()
        result.diagnostics += checker.diagnostics
        result.modules = [m for m, _ in checker.modules.values()]
        result.module_params = checker.module_params
    result.diagnostics.sort(key=sort_key)
    return result


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def label_key(label: ast.Num | ast.Name | ast.Str | None) -> str:
    if label is None:
        return ""
    if isinstance(label, ast.Num):
        return str(label.value)
    return label.name if isinstance(label, ast.Name) else label.value


def _describe(node) -> str:
    names = {ast.Str: "a string", ast.Num: "a number", ast.Name: "a name", ast.Host: "a hostname",
             ast.Ip: "an IP address", ast.Net: "a network", ast.Avp: "an attribute",
             ast.Select: "a select", ast.RetCode: "'$?'", ast.MsgLen: "'msg:len'",
             ast.UriHost: "'uri:host'", ast.UriPort: "'uri:port'", ast.Socket: "a socket",
             ast.Call: "a function call", ast.Star: "'*'"}
    return names.get(type(node), type(node).__name__)


class _Checker:
    def __init__(self, config: ast.Config, base_dir: Path | None):
        self.config = config
        self.dialect = config.dialect
        self.base_dir = base_dir
        self.diagnostics: list[Diagnostic] = []
        self.modules: dict[str, tuple[Module, ast.LoadModule]] = {}
        self.routes: dict[tuple[str, str], ast.RouteBlock] = {}
        self.route_refs: set[tuple[str, str]] = set()
        self.flag_names: set[str] = set()
        # Parameter values by module name, as the modparam lines set them.
        self.module_params: dict[str, dict[str, object]] = {}
        self.later_loads = self._later_loads()
        self.block_kind = RouteKind.REQUEST
        self.block_name = "route"

    # --- reporting ----------------------------------------------------------------

    def error(self, node, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.config.file, node.line, node.col, ERROR, message))

    def warn(self, node, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.config.file, node.line, node.col, WARNING, message))

    def needs(self, dialects: frozenset[str], node, what: str) -> bool:
        """True if the dialect has the construct; an error naming the dialects otherwise."""
        if self.dialect in dialects:
            return True
        versions = " and ".join(sorted(dialects))
        self.error(node, f"{what} exists only in SER {versions}, not in {self.dialect}")
        return False

    # --- the walk -------------------------------------------------------------------

    def run(self) -> None:
        self._collect_routes()
        for item in self.config.items:
            getattr(self, "_top_" + type(item).__name__)(item)
        self._report_unused_routes()

    def _later_loads(self) -> dict[str, tuple[Module, ast.LoadModule]]:
        """Every module the file loads, wherever: for 'loaded only at line N' errors."""
        later: dict[str, tuple[Module, ast.LoadModule]] = {}
        for item in self.config.items:
            if isinstance(item, ast.LoadModule):
                try:
                    module = registry.find(item.path.value, self.base_dir)
                except registry.ModuleLoadError:
                    continue
                later.setdefault(module.name, (module, item))
        return later

    def _collect_routes(self) -> None:
        for item in self.config.items:
            if not isinstance(item, ast.RouteBlock):
                continue
            label = label_key(item.label)
            key = (item.kind, label or "0" if item.kind == "route" else label)
            first = self.routes.get(key)
            if first is None:
                self.routes[key] = item
            elif self.dialect == "2.0":
                self.error(item, f"duplicate {self._block_title(item)} (first defined at line {first.line})")
            else:
                self.warn(item, f"a second {self._block_title(item)} is appended to the one at "
                                f"line {first.line} (SER {self.dialect} joins them)")

    @staticmethod
    def _block_title(block: ast.RouteBlock) -> str:
        label = label_key(block.label)
        return f"{block.kind}[{label}]" if label else block.kind

    # --- top level items --------------------------------------------------------------

    def _top_GlobalParam(self, item: ast.GlobalParam) -> None:
        spec = core.GLOBAL_PARAMS.get(item.name)
        if spec is None:
            hint = self._did_you_mean(item.name, core.GLOBAL_PARAMS)
            self.error(item, f"unknown global parameter '{item.name}'{hint}")
            return
        if not self.needs(spec.dialects, item, f"the global parameter '{item.name}'"):
            return
        if spec.type != core.SOCKETS and len(item.values) > 1:
            self.error(item.values[1], f"'{item.name}' takes one value")
            return
        for value in item.values:
            self._global_value(item, spec, value)

    def _global_value(self, item: ast.GlobalParam, spec: core.GlobalParam, value) -> None:
        self._check_value(value)
        allowed = {
            core.INT: (ast.Num,), core.BOOL: (ast.Num,), core.TEXT: (ast.Str, ast.Name, ast.Host),
            core.SOCKETS: (ast.Socket, ast.Ip, ast.Host, ast.Name, ast.Str),
            core.ADDRESS: (ast.Ip, ast.Host, ast.Name, ast.Str),
        }[spec.type]
        if isinstance(value, ast.Name) and value.name in BOOL_WORDS:
            if spec.type in (core.INT, core.BOOL):
                return
            if spec.type == core.TEXT:
                self.error(value, f"'{item.name}' takes a string, not the number '{value.name}'")
                return
        if not isinstance(value, allowed):
            wanted = {core.INT: "a number", core.BOOL: "yes or no", core.TEXT: "a string",
                      core.SOCKETS: "addresses", core.ADDRESS: "an address"}[spec.type]
            self.error(value, f"'{item.name}' takes {wanted}, not {_describe(value)}")
            return
        if isinstance(value, ast.Socket) and self.dialect == "0.8" and value.proto:
            self.error(value, "a protocol prefix in listen/alias exists only in SER 0.9 and 2.0")
        if item.name == "tls_log" and self.dialect == "0.9":
            self.warn(item, "SER 0.9 reads tls_log as tls_port_no: this sets the TLS port")

    def _top_LoadModule(self, item: ast.LoadModule) -> None:
        try:
            module = registry.find(item.path.value, self.base_dir)
        except registry.ModuleLoadError as exc:
            self.error(item.path, str(exc))
            return
        if module.name in self.modules:
            first = self.modules[module.name][1]
            self.warn(item, f"module '{module.name}' is already loaded at line {first.line}; "
                            "SER ignores the second loadmodule")
            return
        if not self.needs(module.dialects, item.path, f"the module '{module.name}'"):
            return
        if module.unavailable:
            self.warn(item.path, f"module '{module.name}' cannot run here ({module.unavailable}); "
                                 "ser will refuse to start with it")
        self.modules[module.name] = (module, item)

    def _top_ModParam(self, item: ast.ModParam) -> None:
        pattern = item.module.value
        try:
            regex = re.compile(f"(?:{pattern})\\Z", re.IGNORECASE)
        except re.error:
            self.error(item.module, f"the module name '{pattern}' is not a valid regular expression")
            return
        matched = [m for m, _ in self.modules.values()
                   if any(regex.match(name) for name in m.registered_names)]
        if not matched:
            self._modparam_without_module(item, pattern, regex)
            return
        for module in matched:
            self._modparam_for(item, module)

    def _modparam_without_module(self, item: ast.ModParam, pattern: str, regex: re.Pattern) -> None:
        later = [load for name, (_, load) in self.later_loads.items() if regex.match(name)]
        if later:
            self.error(item.module, f"modparam for '{pattern}' comes before its loadmodule "
                                    f"(line {later[0].line}); SER needs the module loaded first")
        elif any(regex.match(name) for m in registry.all_modules() for name in m.registered_names):
            self.error(item.module, f"module '{pattern}' is not loaded")
        else:
            self.error(item.module, f"no module matches '{pattern}'")

    def _modparam_for(self, item: ast.ModParam, module: Module) -> None:
        name = item.param.value
        spec = module.param(name, self.dialect)
        if spec is None:
            names = {p.name for p in module.params if self.dialect in p.dialects}
            self.error(item.param, f"module '{module.name}' has no parameter '{name}'"
                                   f"{self._did_you_mean(name, names)}")
            return
        value = self._modparam_value(item.value)
        if value is None:
            return
        if not spec.type.accepts(value, self.dialect):
            wanted = "a number" if spec.type in (ParamType.INT, ParamType.FLAG) else "a string"
            self.error(item.value, f"parameter '{name}' of module '{module.name}' takes {wanted}, "
                                   f"not {'a string' if isinstance(value, str) else 'a number'} "
                                   "(SER does not convert)")
            return
        if spec.moved_to:
            self.warn(item.param, f"'{name}' belongs to module '{spec.moved_to}' since SER 0.8.11; "
                                  f"it is accepted here for '{module.name}' and used there")
        if self.dialect == "2.0" and module.name == "tm" and name in _TM_TIMERS and isinstance(value, int) and value < 1000:
            self.warn(item.value, f"SER 2.0 tm timers are in milliseconds: {name}={value} is {value} ms")
        values = self.module_params.setdefault(spec.moved_to or module.name, {})
        if spec.repeatable:
            values.setdefault(name, []).append(value)
        else:
            values[name] = value

    def _modparam_value(self, node) -> int | str | None:
        if isinstance(node, ast.Str):
            return node.value
        if isinstance(node, ast.Num):
            self._check_value(node)
            return node.value
        if node.name in BOOL_WORDS:
            return BOOL_WORDS[node.name]
        self.error(node, f"'{node.name}' must be quoted: a modparam value is a string or a number")
        return None

    def _top_FlagsDecl(self, item: ast.FlagsDecl) -> None:
        if not self.needs(core.V20, item, "a flags declaration"):
            return
        for flag in item.flags:
            if flag.bit is not None and not (flag.bit.value is not None and 0 <= flag.bit.value <= 31):
                self.error(flag.bit, f"flag {flag.name} must be a number from 0 to 31")
            self.flag_names.add(flag.name)

    def _top_AvpFlagsDecl(self, item: ast.AvpFlagsDecl) -> None:
        self.needs(core.V20, item, "an avpflags declaration")

    def _top_StraySemicolon(self, item: ast.StraySemicolon) -> None:
        if self.dialect != "2.0":
            self.error(item, f"a ';' at top level is a syntax error in SER {self.dialect} "
                             "(after a route block or modparam there is none)")

    def _top_RouteBlock(self, block: ast.RouteBlock) -> None:
        dialects, first_number = core.ROUTE_KINDS[block.kind]
        if not self.needs(dialects, block, block.kind):
            return
        self._check_route_label(block, first_number)
        self.block_kind = _KIND_OF_BLOCK[block.kind]
        self.block_name = block.kind
        self._statements(block.body)

    def _check_route_label(self, block: ast.RouteBlock, first_number: int) -> None:
        label = block.label
        if label is None:
            if block.kind in ("failure_route", "onreply_route", "reply_route", "branch_route"):
                self.needs(core.V20, block, f"a {block.kind} without a number")
            return
        if not isinstance(label, ast.Num):
            self.needs(core.V20, label, "a named route")
            return
        if label.value is None or label.value < 0:
            self.error(label, f"invalid route number '{label.text}'")
            return
        highest = core.MAX_ROUTE_NUMBER.get(self.dialect)
        if label.value < first_number:
            self.error(label, f"{block.kind} numbers start at {first_number}")
        elif highest is not None and label.value > highest:
            self.error(label, f"{block.kind}[{label.value}] is out of range: SER {self.dialect} "
                              f"allows {first_number} to {highest}")

    def _report_unused_routes(self) -> None:
        for (kind, key), block in self.routes.items():
            if kind == "route" and key == "0" or kind == "onsend_route" or not key:
                continue
            if (kind, key) not in self.route_refs:
                how = {"route": f"route({key})", "failure_route": f"t_on_failure(\"{key}\")",
                       "reply_route": f"t_on_negative(\"{key}\")",
                       "onreply_route": f"t_on_reply(\"{key}\")",
                       "branch_route": f"t_on_branch(\"{key}\")"}[kind]
                self.warn(block, f"{self._block_title(block)} is never used (nothing calls {how})")

    # --- statements -----------------------------------------------------------------

    def _statements(self, statements: list) -> None:
        stopped_by: ast.Stop | None = None
        for statement in statements:
            if stopped_by is not None and not isinstance(statement, ast.Null):
                self.warn(statement, f"unreachable statement after '{stopped_by.kind}' "
                                     f"at line {stopped_by.line}")
                stopped_by = None
                continue
            self._statement(statement)
            if isinstance(statement, ast.Stop):
                stopped_by = statement

    def _statement(self, statement) -> None:
        if isinstance(statement, ast.Call):
            self._call(statement)
        elif isinstance(statement, ast.If):
            self._if(statement)
        elif isinstance(statement, ast.Stop):
            self._stop(statement)
        elif isinstance(statement, ast.Bare):
            self._bare(statement)
        elif isinstance(statement, ast.Assign):
            if self.needs(core.V20, statement, "assigning to an attribute"):
                self._assigned_value(statement.value)

    def _assigned_value(self, value) -> None:
        if isinstance(value, ast.Call):
            self._call(value)
        elif isinstance(value, (ast.Compare, ast.And, ast.Or, ast.Not)):
            self._condition(value)
        else:
            self._check_value(value)

    def _if(self, statement: ast.If) -> None:
        self._condition(statement.cond)
        if statement.nosemi_then:
            then = statement.then[0]
            if self.dialect == "2.0":
                self.error(then, "a statement before 'else' needs its ';' in SER 2.0")
            elif self.dialect == "0.9":
                self.warn(then, "SER 0.9.5 and later need a ';' after this statement, before 'else'")
        if (self.dialect == "0.8" and statement.orelse is not None and not statement.braced_then
                and not statement.nosemi_then and not isinstance(statement.then[0], ast.If)):
            self.error(ast.Null(line=statement.else_line, col=statement.else_col),
                       "'else' after 'statement;' is a syntax error before SER 0.9.5: the ';' ends "
                       "the if (write { statement; } else ...)")
        self._statements(statement.then)
        if statement.orelse is not None:
            self._statements(statement.orelse)

    def _stop(self, statement: ast.Stop) -> None:
        kind = statement.kind
        if kind in ("exit", "return"):
            if not self.needs(core.V20, statement, f"'{kind}'"):
                return
            if kind == "return" and statement.parens:
                self.error(statement, "SER 2.0 writes return without parentheses: return 1")
                return
        if statement.value is None:
            return
        if self.dialect != "2.0" or kind == "break":
            self.error(statement.value, f"'{kind}' takes no value in SER {self.dialect}"
                       if kind != "break" else "'break' takes no value")
            return
        if not isinstance(statement.value, (ast.Num, ast.RetCode)):
            self.error(statement.value, f"'{kind}' takes a number or $?, not {_describe(statement.value)}")
        else:
            self._check_value(statement.value)

    def _bare(self, statement: ast.Bare) -> None:
        action = core.CORE_ACTIONS.get(statement.name)
        if action is not None and action.bare:
            if self.needs(action.dialects, statement, f"'{statement.name}'") and \
                    self.block_kind == RouteKind.ONSEND and not action.onsend:
                self.error(statement, f"'{statement.name}' cannot be used in onsend_route")
            return
        if action is not None or self._module_functions(statement.name):
            self.error(statement, f"'{statement.name}' needs parentheses: {statement.name}(...)")
        else:
            self.error(statement, f"unknown statement '{statement.name}'"
                                  f"{self._did_you_mean(statement.name, core.CORE_ACTIONS)}")

    # --- calls --------------------------------------------------------------------------

    def _call(self, call: ast.Call) -> None:
        action = core.CORE_ACTIONS.get(call.name)
        if action is not None:
            self._core_call(call, action)
        else:
            self._module_call(call)

    def _core_call(self, call: ast.Call, action: core.CoreAction) -> None:
        if not self.needs(action.dialects, call, f"'{call.name}'"):
            return
        if self.block_kind == RouteKind.ONSEND and not action.onsend:
            self.error(call, f"'{call.name}' cannot be used in onsend_route")
        for arg in call.args:
            self._check_value(arg)
        forms = [f for f in action.forms if len(f) == len(call.args)]
        if not forms:
            self.error(call, f"'{call.name}' takes {self._arity_text(action)}, "
                             f"{len(call.args)} given")
            return
        mismatches = []
        for form in forms:
            bad = [(arg, kind) for arg, kind in zip(call.args, form) if not self._arg_fits(arg, kind, call)]
            if not bad:
                self._core_semantics(call)
                return
            mismatches.append(bad[0])
        arg, kind = mismatches[0]
        self.error(arg, self._mismatch_text(call, arg, kind))

    @staticmethod
    def _arity_text(action: core.CoreAction) -> str:
        counts = sorted({len(f) for f in action.forms})
        words = " or ".join(str(c) for c in counts)
        return f"{words} argument" + ("" if counts == [1] else "s")

    def _mismatch_text(self, call: ast.Call, arg, kind: str) -> str:
        text = f"'{call.name}' expects {self._kind_words(kind)} here, not {_describe(arg)}"
        quoted_number = isinstance(arg, ast.Str) and arg.value.isdigit()
        if kind in (core.NUM, core.FLAG, core.ROUTE) and quoted_number and len(call.args) == 1:
            text += f"; core actions take unquoted numbers: {call.name}({arg.value})"
        return text

    def _kind_words(self, kind: str) -> str:
        words = {core.NUM: "a number", core.STR: "a quoted string", core.HOST: "a host",
                 core.URIHOST: "uri:host", core.URIPORT: "uri:port or a number",
                 core.SOCKET: "[proto:]address[:port]", core.AVP: "an attribute ($name)"}
        if kind == core.FLAG:
            return "a flag number or name" if self.dialect == "2.0" else "a flag number"
        if kind == core.ROUTE:
            return "a route number or name" if self.dialect == "2.0" else "a route number"
        return words[kind]

    def _arg_fits(self, arg, kind: str, call: ast.Call) -> bool:
        if kind == core.NUM:
            return isinstance(arg, ast.Num) or (
                isinstance(arg, ast.Name) and (arg.name in BOOL_WORDS or arg.name in FAMILY_WORDS
                                               or (arg.name == "max_len" and call.name == "len_gt")))
        if kind == core.STR:
            return isinstance(arg, ast.Str)
        if kind == core.HOST:
            return isinstance(arg, (ast.Host, ast.Name, ast.Str, ast.Ip))
        if kind == core.URIHOST:
            return isinstance(arg, ast.UriHost)
        if kind == core.URIPORT:
            return isinstance(arg, ast.UriPort)
        if kind == core.SOCKET:
            return isinstance(arg, (ast.Socket, ast.Ip, ast.Host, ast.Name, ast.Str))
        if kind == core.AVP:
            return isinstance(arg, ast.Avp)
        named = self.dialect == "2.0" and isinstance(arg, (ast.Name, ast.Str))
        return isinstance(arg, ast.Num) or named

    def _core_semantics(self, call: ast.Call) -> None:
        name = call.name
        if name in ("setflag", "resetflag", "isflagset"):
            self._flag_arg(call.args[0])
        elif name == "route":
            self._route_target(call.args[0], "route")
        elif name == "append_branch" and len(call.args) == 2:
            self.needs(core.V09_20, call.args[1], "a q value in append_branch")
        elif name == "log" and len(call.args) == 2 and isinstance(call.args[0], ast.Num):
            level = call.args[0].value
            if level is not None and self.dialect != "2.0" and not 0 <= level <= 4:
                self.error(call.args[0], "log levels are 0 to 4 in SER 0.8 and 0.9")

    def _flag_arg(self, arg) -> None:
        if isinstance(arg, ast.Num):
            if arg.value is None:
                return
            lowest = 0 if self.dialect == "2.0" else 1
            if arg.value == 0 and lowest == 1:
                self.warn(arg, f"flag 0 does not exist in SER {self.dialect} (flags are 1 to 31); "
                               "this fails at run time")
            elif not 0 <= arg.value <= 31:
                self.error(arg, f"flag {arg.value} is out of range: flags are {lowest} to 31")
        elif isinstance(arg, (ast.Name, ast.Str)):
            name = arg.name if isinstance(arg, ast.Name) else arg.value
            if name not in self.flag_names:
                self.error(arg, f"unknown flag '{name}': declare it with flags {name}: N;")

    def _route_target(self, arg, kind: str) -> None:
        key = arg.value if isinstance(arg, ast.Str) else (
            str(arg.value) if isinstance(arg, ast.Num) else getattr(arg, "name", None))
        if key is None:
            return
        if isinstance(arg, ast.Str) and key.isdigit():
            key = str(int(key))
        self.route_refs.add((kind, key))
        if kind != "route" and key == "0":
            return
        if (kind, key) not in self.routes:
            self.error(arg, f"{kind}[{key}] is not defined")

    def _module_call(self, call: ast.Call) -> None:
        candidates = self._module_functions(call.name)
        if not candidates:
            self._unknown_function(call)
            return
        for arg in call.args:
            self._module_arg(call, arg)
        fitting = [(m, f) for m, f in candidates if f.arity == len(call.args)]
        if not fitting:
            arities = " or ".join(str(a) for a in sorted({f.arity for _, f in candidates}))
            self.error(call, f"'{call.name}' takes {arities} argument"
                             f"{'' if arities == '1' else 's'}, {len(call.args)} given")
            return
        module, function = fitting[0]
        if not function.kinds & self.block_kind:
            self.error(call, f"'{call.name}' cannot be used in {self.block_name} "
                             f"(allowed in: {function.kinds.describe()})")
        self._module_semantics(call)

    def _module_functions(self, name: str) -> list:
        return [(m, f) for m, _ in self.modules.values() for f in m.functions_named(name, self.dialect)]

    def _unknown_function(self, call: ast.Call) -> None:
        later = [(m, load) for m, load in self.later_loads.values()
                 if m.functions_named(call.name, self.dialect) and m.name not in self.modules]
        if later:
            module, load = later[0]
            self.error(call, f"'{call.name}' belongs to module '{module.name}', which is loaded "
                             f"only at line {load.line}: loadmodule must come before the first use")
            return
        owners = [m.name for m in registry.all_modules() if m.functions_named(call.name, self.dialect)]
        if owners:
            self.error(call, f"'{call.name}' belongs to module '{owners[0]}', which is not loaded")
            return
        other = [m.name for m in registry.all_modules() if any(f.name == call.name for f in m.functions)]
        if other:
            self.error(call, f"'{call.name}' of module '{other[0]}' does not exist in SER {self.dialect}")
            return
        known = set(core.CORE_ACTIONS) | {f.name for m, _ in self.modules.values() for f in m.functions}
        self.error(call, f"unknown function '{call.name}'{self._did_you_mean(call.name, known)}")

    def _module_arg(self, call: ast.Call, arg) -> None:
        if isinstance(arg, ast.Str):
            return
        if self.dialect == "2.0" and isinstance(arg, ast.Num):
            self._check_value(arg)
            return
        hint = f": write \"{arg.text}\"" if isinstance(arg, ast.Num) else ""
        kinds = "quoted strings or numbers" if self.dialect == "2.0" else "quoted strings"
        self.error(arg, f"arguments of module functions are {kinds} in SER {self.dialect}{hint}")

    def _module_semantics(self, call: ast.Call) -> None:
        if call.name in _ROUTE_ARGS and call.args:
            self._route_target(call.args[0], _ROUTE_ARGS[call.name])
        position = _REGEX_ARGS.get(call.name)
        if position is not None and len(call.args) > position and isinstance(call.args[position], ast.Str):
            self._regex(call.args[position])
        if call.name in _SUBST_FUNCTIONS and call.args and isinstance(call.args[0], ast.Str):
            self._subst(call.args[0])

    def _regex(self, node: ast.Str | ast.Name | ast.Host) -> None:
        try:
            compile_ere(node.value if isinstance(node, ast.Str) else node.name)
        except RegexError as exc:
            self.error(node, f"bad regular expression: {exc}")

    def _subst(self, node: ast.Str) -> None:
        text = node.value
        parts = re.split(r"(?<!\\)" + re.escape(text[0]), text[1:]) if text else []
        if len(parts) != 3 or not set(parts[2]) <= set("igs"):
            self.error(node, "a subst expression is written /regex/replacement/flags (flags i, g, s)")
            return
        try:
            compile_ere(parts[0])
        except RegexError as exc:
            self.error(node, f"bad regular expression: {exc}")

    # --- conditions ---------------------------------------------------------------------

    def _condition(self, expr) -> None:
        if isinstance(expr, (ast.And, ast.Or)):
            if self.dialect == "2.0" and expr.op in ("&", "|"):
                if not (isinstance(expr.left, ast.Avp) and isinstance(expr.right, ast.Num)):
                    logical = "&&" if expr.op == "&" else "||"
                    self.error(expr, f"in SER 2.0 '{expr.op}' is bitwise ($avp {expr.op} number); "
                                     f"write '{logical}' for logical")
                return
            self._condition(expr.left)
            self._condition(expr.right)
        elif isinstance(expr, ast.Not):
            self._condition(expr.operand)
        elif isinstance(expr, ast.BlockExpr):
            self._statements(expr.body)
        elif isinstance(expr, ast.If):
            self._if(expr)
        elif isinstance(expr, ast.Compare):
            self._compare(expr)
        elif isinstance(expr, ast.Call):
            self._call(expr)
        else:
            self._lone_operand(expr)

    def _lone_operand(self, node) -> None:
        self._check_value(node)
        if isinstance(node, ast.Num) or isinstance(node, (ast.Avp, ast.Select, ast.RetCode)):
            return
        if isinstance(node, ast.Name) and node.name in BOOL_WORDS:
            return
        if isinstance(node, ast.Name) and node.name in core.OPERANDS:
            self.error(node, f"'{node.name}' alone is not a condition; compare it, e.g. "
                             f"{node.name}==\"...\"")
        else:
            self.error(node, f"{_describe(node)} alone is not a condition")

    def _compare(self, expr: ast.Compare) -> None:
        left, op, right = expr.left, expr.op, expr.right
        self._check_value(left)
        self._check_value(right)
        if isinstance(left, ast.Name) and left.name == "myself":
            self._myself(expr, right)
        elif isinstance(left, ast.Name) and left.name in core.OPERANDS:
            self._operand_compare(expr, core.OPERANDS[left.name])
        elif isinstance(left, ast.MsgLen):
            self._int_compare(expr, "msg:len", right, allow_max_len=True)
        elif isinstance(left, ast.RetCode):
            self._int_compare(expr, "$?", right)
        elif isinstance(left, (ast.Avp, ast.Select)):
            if op == "=~":
                if isinstance(right, ast.Str):
                    self._regex(right)
                else:
                    self.error(expr, f"'=~' needs a regular expression string, not {_describe(right)}")
        elif isinstance(left, ast.Call):
            self.error(expr, "a function's result cannot be compared; use it alone as a condition")
        else:
            self.error(left, f"{_describe(left)} cannot be compared: the left side must be "
                             "method, uri, status, from_uri, to_uri, src_ip, dst_ip, src_port, "
                             "dst_port, proto, af, msg:len or myself")

    def _myself(self, expr: ast.Compare, right) -> None:
        if expr.op not in core.EQ_OPS:
            self.error(expr, f"myself is compared with == or !=, not {expr.op}")
        elif not (isinstance(right, ast.Name) and right.name in
                  ("uri", "status", "from_uri", "to_uri", "src_ip", "dst_ip")):
            self.error(right, "myself is compared with uri, from_uri, to_uri, src_ip or dst_ip")
        else:
            self.needs(core.OPERANDS[right.name].dialects, right, f"the operand '{right.name}'")

    def _operand_compare(self, expr: ast.Compare, operand: core.Operand) -> None:
        if not self.needs(operand.dialects, expr.left, f"the operand '{operand.name}'"):
            return
        if operand.onsend_only and self.block_kind != RouteKind.ONSEND:
            self.error(expr.left, f"'{operand.name}' can only be used in onsend_route")
            return
        check = {"method": self._string_compare, "uri": self._string_compare,
                 "ip": self._ip_compare, "port": self._port_compare,
                 "proto": self._proto_compare, "af": self._af_compare}[operand.kind]
        check(expr, operand)

    def _string_compare(self, expr: ast.Compare, operand: core.Operand) -> None:
        op, right = expr.op, expr.right
        if op not in core.STRING_OPS:
            self.error(expr, f"'{operand.name}' is compared with ==, != or =~, not {op}")
            return
        if isinstance(right, ast.Name) and right.name == "myself":
            if op == "=~" or operand.kind != "uri":
                self.error(right, f"'{operand.name} {op} myself' is not a valid comparison")
            return
        allowed = (ast.Str, ast.Name, ast.Host)
        if self.dialect == "2.0":
            allowed = allowed + (ast.Avp, ast.Select)
        if not isinstance(right, allowed):
            self.error(right, f"'{operand.name} {op}' needs {'a regular expression string' if op == '=~' else 'a string'}"
                              f", not {_describe(right)}")
            return
        if op == "=~" and isinstance(right, (ast.Str, ast.Name, ast.Host)):
            self._regex(right)
        elif (op in core.EQ_OPS and operand.kind == "uri" and self.dialect != "2.0"
              and isinstance(right, ast.Str)):
            self.warn(expr, f"in SER {self.dialect} '{operand.name} {op} \"...\"' compares "
                            "case-insensitively and also matches any value that is a prefix of "
                            "the string; use =~ \"^...$\" for an exact match")

    def _ip_compare(self, expr: ast.Compare, operand: core.Operand) -> None:
        op, right = expr.op, expr.right
        if isinstance(right, (ast.Ip, ast.Net)) or (isinstance(right, ast.Name) and right.name == "myself"):
            if op not in core.EQ_OPS:
                self.error(expr, f"'{operand.name}' is compared with an address using == or !=, not {op}")
        elif isinstance(right, ast.Str) and self.dialect != "0.8" and _is_address(right.value):
            if op not in core.EQ_OPS:
                self.error(expr, f"'{operand.name}' is compared with an address using == or !=, not {op}")
        elif isinstance(right, (ast.Str, ast.Host, ast.Name)):
            if op not in core.STRING_OPS:
                self.error(expr, f"'{operand.name}' is compared with a name using ==, != or =~")
            elif op == "=~":
                self._regex(right) if isinstance(right, ast.Str) else None
            else:
                self.warn(right, f"comparing {operand.name} with a name resolves it (and reverse-"
                                 "resolves the source) in DNS for every message")
        elif not (self.dialect == "2.0" and isinstance(right, (ast.Avp, ast.Select))):
            self.error(right, f"'{operand.name}' is compared with an address, a network or a name, "
                              f"not {_describe(right)}")

    def _port_compare(self, expr: ast.Compare, operand: core.Operand) -> None:
        self._int_compare(expr, operand.name, expr.right)

    def _int_compare(self, expr: ast.Compare, name: str, right, allow_max_len: bool = False) -> None:
        if expr.op not in core.INT_OPS:
            self.error(expr, f"'{name}' is compared with ==, !=, <, >, <= or >=, not {expr.op}")
        elif not (isinstance(right, ast.Num) or (allow_max_len and isinstance(right, ast.Name)
                                                 and right.name == "max_len")
                  or (self.dialect == "2.0" and isinstance(right, (ast.Avp, ast.Select)))):
            self.error(right, f"'{name}' is compared with a number, not {_describe(right)}")

    def _proto_compare(self, expr: ast.Compare, operand: core.Operand) -> None:
        right = expr.right
        if expr.op not in core.INT_OPS:
            self.error(expr, f"'{operand.name}' is compared with == or !=, not {expr.op}")
        elif not ((isinstance(right, ast.Name) and right.name in core.PROTO_WORDS)
                  or isinstance(right, ast.Star)
                  or (isinstance(right, ast.Num) and self.dialect == "0.8")):
            self.error(right, f"'{operand.name}' is compared with udp, tcp or tls")

    def _af_compare(self, expr: ast.Compare, operand: core.Operand) -> None:
        right = expr.right
        if expr.op not in core.INT_OPS:
            self.error(expr, f"'af' is compared with == or !=, not {expr.op}")
        elif not (isinstance(right, ast.Num) or (isinstance(right, ast.Name) and right.name in FAMILY_WORDS)):
            self.error(right, "'af' is compared with inet or inet6")

    # --- values ---------------------------------------------------------------------------

    def _check_value(self, node) -> None:
        if isinstance(node, ast.Str) and self.dialect == "0.8" and node.quote == '"' and '\\"' in node.value:
            # SER 0.8 ends the string at the escaped quote and fails on what follows.
            after = ast.Null(line=node.line, col=node.col + 1 + node.value.index('\\"') + 2)
            self.error(after, 'SER 0.8 strings cannot contain \\" (the escape came with 0.9): '
                              "the string ends at the quote; use single quotes")
        elif isinstance(node, ast.Num):
            self._number(node)
        elif isinstance(node, ast.Host):
            self._hostname(node)
        elif isinstance(node, ast.Ip):
            self._ip(node)
        elif isinstance(node, ast.Net):
            self._net(node)
        elif isinstance(node, ast.Socket):
            self._check_value(node.addr)
            if node.port is not None:
                self._check_value(node.port)
        elif isinstance(node, (ast.Avp, ast.Select, ast.RetCode)):
            what = {ast.Avp: f"the attribute {getattr(node, 'name', '')}",
                    ast.Select: f"the select {getattr(node, 'path', '')}", ast.RetCode: "'$?'"}[type(node)]
            self.needs(core.V20, node, what)

    def _number(self, node: ast.Num) -> None:
        if node.value is None:
            self.error(node, f"invalid number '{node.text}': a number starting with 0 is octal "
                             "(digits 0 to 7)")
        elif node.text.startswith("-"):
            self.needs(core.V20, node, "a negative number")
        elif node.text.endswith("b"):
            self.needs(core.V20, node, "a binary number")

    def _hostname(self, node: ast.Host) -> None:
        labels = re.split(r"[.\-]", node.name)
        reserved = [label for label in labels if label in core.RESERVED_WORDS]
        if reserved:
            self.error(node, f"'{reserved[0]}' is a reserved word and cannot be part of an "
                             f"unquoted hostname: write \"{node.name}\"")
        elif "-" in node.name and self.dialect == "0.8":
            self.error(node, f"SER 0.8 does not allow '-' in an unquoted hostname: write \"{node.name}\"")

    def _ip(self, node: ast.Ip) -> None:
        if node.bracketed and self.dialect == "0.8":
            self.error(node, "[bracketed] IPv6 addresses exist only in SER 0.9 and 2.0")
        if ":" in node.text:
            if ipv6_value(node.text) is None:
                self.error(node, f"invalid IPv6 address '{node.text}'")
            return
        if ipv4_value(node.text) is None:
            self.error(node, f"invalid IPv4 address '{node.text}': each part must be 0 to 255")
        elif has_octal_octet(node.text):
            self.warn(node, f"SER reads a part with a leading zero as octal: '{node.text}' is "
                            f"{ipv4_value(node.text)}")

    def _net(self, node: ast.Net) -> None:
        self._ip(node.ip)
        mask = node.mask
        bits = 128 if ":" in node.ip.text else 32
        if isinstance(mask, ast.Num):
            if mask.value is None or not 0 <= mask.value <= bits:
                self.error(mask, f"a network prefix length is 0 to {bits}")
            return
        address = ipv4_value(mask.text)
        if address is None:
            self.error(mask, f"invalid netmask '{mask.text}'")
            return
        try:
            ipaddress.IPv4Network(f"0.0.0.0/{address}")
        except ValueError:
            self.error(mask, f"'{mask.text}' is not a netmask (its one bits must be contiguous)")

    # --- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _did_you_mean(name: str, choices) -> str:
        close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.75)
        return f"; did you mean '{close[0]}'?" if close else ""
