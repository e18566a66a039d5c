"""Parsing ser.cfg text into the AST of `ast.py`.

Three steps: comments are blanked (`scan.py`), Lark parses the superset
grammar (`ser_cfg.lark`, LALR with the contextual lexer), then the dialect is
chosen (given, or detected from the constructs used) and the Lark tree becomes
typed nodes with the dialect's string escapes. Syntax errors are reported in
words, and parsing resumes after an error so one run shows several.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ser_script import ast
from ser_script.diagnostics import ERROR, WARNING, Diagnostic
from ser_script.lexical import decode_string, number_value
from ser_script.scan import strip_comments

GRAMMAR = Path(__file__).with_name("ser_cfg.lark")
MAX_SYNTAX_ERRORS = 25


class _SyncTracker(threading.local):
    """Whether a ';' or '}' was lexed since the last syntax error (per thread)."""

    synced = True

    def saw(self, token: Token) -> Token:
        self.synced = True
        return token


_sync = _SyncTracker()


@cache
def lark_parser(strict: bool = False) -> Lark:
    return Lark(GRAMMAR.read_text(), parser="lalr", lexer="contextual",
                propagate_positions=True, maybe_placeholders=True, strict=strict,
                cache=not strict,
                lexer_callbacks={"SEMI": _sync.saw, "RBRACE": _sync.saw})


@dataclass
class ParseResult:
    config: ast.Config | None
    diagnostics: list[Diagnostic]
    dialect: str
    dialect_reason: str = ""
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.config is not None


def parse(text: str, file: str = "<string>", dialect: str | None = None) -> ParseResult:
    """Parse ser.cfg text; `config` is None when there are syntax errors."""
    blanked, scan_issues = strip_comments(text)
    diagnostics = [_scan_diagnostic(file, text, issue) for issue in scan_issues]
    tree, syntax_errors = _parse_tree(blanked, file)
    diagnostics += syntax_errors
    if tree is None or any(d.is_error for d in diagnostics):
        return ParseResult(None, diagnostics, dialect or "0.9", source=text)
    reason = "given"
    if dialect is None:
        dialect, reason = detect_dialect(tree)
    config = ast.Config(file=file, dialect=dialect, items=_Builder(dialect).transform(tree))
    return ParseResult(config, diagnostics, dialect, reason, source=text)


def parse_file(path: str | Path, dialect: str | None = None) -> ParseResult:
    """Parse a file; raises OSError when it cannot be read."""
    data = Path(path).read_bytes()
    # Old configurations are Latin-1 as often as UTF-8; neither may stop a check.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return parse(text, str(path), dialect)


# --- syntax errors -------------------------------------------------------------

def _parse_tree(text: str, file: str) -> tuple[Tree | None, list[Diagnostic]]:
    errors: list[Diagnostic] = []
    _sync.synced = True

    def on_error(error: UnexpectedInput) -> bool:
        at_end = isinstance(error, UnexpectedToken) and error.token.type == "$END"
        # One error per statement: later ones before the next ';' or '}' are
        # echoes of the first.
        if _sync.synced or at_end:
            errors.append(syntax_diagnostic(error, file, text))
            _sync.synced = False
        if isinstance(error, UnexpectedToken) and _insert_missing_token(error):
            _sync.synced = True
        return not at_end and len(errors) < MAX_SYNTAX_ERRORS

    try:
        tree = lark_parser().parse(text, on_error=on_error)
    except UnexpectedInput as error:
        if not errors:
            errors.append(syntax_diagnostic(error, file, text))
        return None, errors
    return (None if errors else tree), errors


# Recovery by insertion: most slips are one missing closing token.
_INSERTABLE = {"RPAR": ")", "SEMI": ";", "RBRACE": "}", "RSQB": "]"}


def _insert_missing_token(error: UnexpectedToken) -> bool:
    """Feed the one missing token that lets the unexpected token parse; True if found."""
    parser_state = error.interactive_parser
    for kind, text in _INSERTABLE.items():
        trial = parser_state.copy()
        missing = Token(kind, text, error.token.start_pos, error.token.line, error.token.column)
        try:
            trial.feed_token(missing)
            trial.feed_token(error.token)
        except UnexpectedInput:
            continue
        parser_state.feed_token(missing)
        parser_state.feed_token(error.token)
        return True
    return False


_WORDS = {
    "STRING": "a string", "NUMBER": "a number", "ID": "a name", "HOST": "a hostname",
    "IPV4": "an IPv4 address", "IPV6": "an IPv6 address", "AVP": "an attribute ($name)",
    "SELECT": "a select (@name)", "RETCODE": "'$?'", "GLOBAL_NAME": "a global parameter",
    "PROTO": "a protocol prefix (udp:, tcp:, tls:)", "URIHOST": "'uri:host'",
    "URIPORT": "'uri:port'", "MSGLEN": "'msg:len'", "SEMI": "';'", "STAR": "'*'",
    "$END": "the end of the file",
}
_VALUE_TERMINALS = {"STRING", "NUMBER", "ID", "HOST", "IPV4", "IPV6", "AVP", "SELECT",
                    "RETCODE", "LSQB"}
_STATEMENT_TERMINALS = {"IF", "ID", "ROUTE", "DROP", "BREAK", "EXIT", "RETURN", "AVP", "SEMI"}
_TOP_TERMINALS = {"GLOBAL_NAME", "LOADMODULE", "MODPARAM", "ROUTE", "FAILURE_ROUTE",
                  "ONREPLY_ROUTE", "REPLY_ROUTE", "BRANCH_ROUTE", "ONSEND_ROUTE",
                  "FLAGS", "AVPFLAGS", "SEMI"}
_CONDITION_TERMINALS = _VALUE_TERMINALS | {"LPAR", "BANG", "NOT", "LBRACE", "MSGLEN"}
_KEYWORDS = {"if", "else", "route", "failure_route", "onreply_route", "reply_route",
             "branch_route", "onsend_route", "loadmodule", "modparam", "flags", "avpflags",
             "drop", "break", "exit", "return"}


def syntax_diagnostic(error: UnexpectedInput, file: str, text: str) -> Diagnostic:
    previous = _previous_token(error)
    if previous is not None and previous.type == "ID" and str(previous) in _KEYWORDS:
        word = str(previous)
        message = ("'else' without an 'if' before it" if word == "else"
                   else f"'{word}' is a keyword and cannot be used here")
        return Diagnostic(file, previous.line, previous.column, ERROR, message)
    expected = _describe_expected(_acceptable(error))
    if isinstance(error, UnexpectedCharacters):
        return Diagnostic(file, error.line, error.column, ERROR,
                          _unexpected_characters(error, text, expected))
    token = error.token
    line, col = error.line, error.column
    if token.type == "$END":
        line, col = _end_position(text)
    if token.type == "RBRACE" and previous is not None and previous.type == "LBRACE":
        message = "empty block: SER needs at least one statement inside { } (write { ; })"
    elif token.type == "$END" and "RBRACE" in error.expected:
        message = "unexpected end of the file: a block is not closed (expected '}')"
    else:
        found = "the end of the file" if token.type == "$END" else _quote(str(token))
        message = f"expected {expected}, found {found}"
    return Diagnostic(file, line, col, ERROR, message)


def _acceptable(error: UnexpectedInput) -> set[str]:
    """The terminals that can really come next (LALR's merged states list more)."""
    parser_state = getattr(error, "interactive_parser", None)
    if parser_state is not None:
        try:
            return set(parser_state.accepts())
        except UnexpectedInput:
            pass
    return set(getattr(error, "expected", None) or getattr(error, "allowed", None) or ())


def _previous_token(error: UnexpectedInput) -> Token | None:
    parser_state = getattr(error, "interactive_parser", None)
    if parser_state is None:
        return None
    stack = parser_state.parser_state.value_stack
    return stack[-1] if stack and isinstance(stack[-1], Token) else None


def _unexpected_characters(error: UnexpectedCharacters, text: str, expected: str) -> str:
    char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
    if char in "\"'":
        return "unterminated string: no closing " + char
    return f"unexpected character {_quote(char)}" + (f", expected {expected}" if expected else "")


def _describe_expected(expected: set[str]) -> str:
    phrases: list[str] = []
    remaining = set(expected)
    for group, phrase in (
        (_TOP_TERMINALS, "a top-level item (global parameter, loadmodule, modparam or route block)"),
        (_STATEMENT_TERMINALS, "a statement"),
        (_CONDITION_TERMINALS - {"LBRACE"}, "a condition"),
        (_VALUE_TERMINALS, "a value"),
        (_comparison_terminals(), "a comparison operator"),
    ):
        if len(group & remaining) >= min(len(group), 4):
            phrases.append(phrase)
            remaining -= group
    phrases += sorted(_terminal_words(name) for name in remaining)
    if len(phrases) > 6:
        phrases = phrases[:6] + ["..."]
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " or " + phrases[-1]


@cache
def _comparison_terminals() -> frozenset[str]:
    ops = {"==", "!=", "=~", "<=", ">=", "<", ">"}
    return frozenset(t.name for t in lark_parser().terminals if t.pattern.value in ops)


@cache
def _terminal_words(name: str) -> str:
    if name in _WORDS:
        return _WORDS[name]
    for terminal in lark_parser().terminals:
        if terminal.name == name:
            return _quote(terminal.pattern.value)
    return name.lower()


def _quote(text: str) -> str:
    text = text if len(text) <= 30 else text[:27] + "..."
    return "'" + text.replace("\n", "\\n") + "'"


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def _scan_diagnostic(file: str, text: str, issue) -> Diagnostic:
    line = text.count("\n", 0, issue.offset) + 1
    col = issue.offset - (text.rfind("\n", 0, issue.offset) + 1) + 1
    return Diagnostic(file, line, col, ERROR if issue.is_error else WARNING, issue.message)


# --- dialect detection -------------------------------------------------------------

_V20_TREES = {"flags_decl": "a flags declaration", "avpflags_decl": "an avpflags declaration",
              "assign": "an attribute assignment", "stray_semicolon": "a ';' at top level"}
_V20_TOKENS = {"AVP": "an attribute", "SELECT": "a select", "RETCODE": "'$?'"}
_V08_CALLS = {"len_gt", "rewriteFromRoute", "t_on_negative"}
_V08_MODULES = ("/vm.so", "/im.so", "vm/vm.so")


def detect_dialect(tree: Tree) -> tuple[str, str]:
    """Guess 0.8, 0.9 or 2.0 from constructs only one of them has; 0.9 otherwise."""
    for subtree in tree.iter_subtrees_topdown():
        reason = _v20_reason(subtree)
        if reason:
            return "2.0", reason
    for subtree in tree.iter_subtrees_topdown():
        reason = _v08_reason(subtree)
        if reason:
            return "0.8", reason
    return "0.9", "no construct specific to 0.8 or 2.0"


def _at(node: Tree | Token) -> str:
    if isinstance(node, Token):
        return f"line {node.line}"
    return f"line {node.meta.line}" if not node.meta.empty else ""


def _v20_reason(subtree: Tree) -> str:
    if subtree.data in _V20_TREES:
        return f"{_V20_TREES[subtree.data]} at {_at(subtree)}"
    if subtree.data == "stop_kw" and str(subtree.children[0]) in ("exit", "return"):
        return f"'{subtree.children[0]}' at {_at(subtree)}"
    if subtree.data == "route_kind" and str(subtree.children[0]) in ("branch_route", "onsend_route"):
        return f"{subtree.children[0]} at {_at(subtree)}"
    if subtree.data == "route_label":
        label = subtree.children[0]
        if label.type in ("ID", "STRING"):
            return f"a named route at {_at(label)}"
    for child in subtree.children:
        if isinstance(child, Token):
            if child.type in _V20_TOKENS:
                return f"{_V20_TOKENS[child.type]} at {_at(child)}"
            if child.type == "NUMBER" and (child.startswith("-") or child.endswith("b")):
                return f"the number {child} at {_at(child)}"
    return ""


def _v08_reason(subtree: Tree) -> str:
    if subtree.data == "route_kind" and str(subtree.children[0]) == "reply_route":
        return f"reply_route at {_at(subtree)}"
    if subtree.data == "call" and str(subtree.children[0]) in _V08_CALLS:
        return f"{subtree.children[0]}() at {_at(subtree)}"
    if subtree.data == "loadmodule" and str(subtree.children[0]).strip("\"'").endswith(_V08_MODULES):
        return f"a 0.8 module at {_at(subtree)}"
    if subtree.data == "modparam" and str(subtree.children[2]).startswith(("\"sql://", "'sql://")):
        return f"an sql:// database URL at {_at(subtree)}"
    return ""


# --- the AST builder ------------------------------------------------------------------

def _pos(node: Tree | Token) -> dict[str, int]:
    if isinstance(node, Token):
        return {"line": node.line, "col": node.column}
    return {"line": node.meta.line, "col": node.meta.column}


class _Builder(Transformer):
    """Turns the Lark tree into `ast` nodes; tokens become values by type."""

    def __init__(self, dialect: str):
        super().__init__(visit_tokens=False)
        self.dialect = dialect

    # values
    def value(self, token: Token) -> ast.Value:
        kind, pos = token.type, _pos(token)
        if kind == "STRING":
            text, quote = decode_string(str(token), self.dialect)
            return ast.Str(value=text, quote=quote, **pos)
        if kind == "NUMBER":
            return ast.Num(text=str(token), value=number_value(str(token)), **pos)
        if kind == "ID":
            return ast.Name(name=str(token), **pos)
        if kind == "HOST":
            return ast.Host(name=str(token), **pos)
        if kind == "AVP":
            return ast.Avp(name=str(token), **pos)
        if kind == "SELECT":
            return ast.Select(path=str(token), **pos)
        if kind == "RETCODE":
            return ast.RetCode(**pos)
        if kind == "MSGLEN":
            return ast.MsgLen(**pos)
        if kind == "URIHOST":
            return ast.UriHost(**pos)
        if kind == "URIPORT":
            return ast.UriPort(**pos)
        if kind == "STAR":
            return ast.Star(**pos)
        if kind in ("IPV4", "IPV6"):
            return ast.Ip(text=str(token), **pos)
        raise AssertionError(f"no value for token {kind}")

    def _values(self, children: list) -> list:
        return [self.value(c) if isinstance(c, Token) else c for c in children]

    @v_args(tree=True)
    def ip(self, tree: Tree) -> ast.Ip:
        token = tree.children[0]
        return ast.Ip(text=str(token), bracketed=tree.meta.column != token.column, **_pos(tree))

    @v_args(tree=True)
    def net(self, tree: Tree) -> ast.Net:
        ip, mask = self._values(tree.children)
        return ast.Net(ip=ip, mask=mask, **_pos(tree))

    @v_args(tree=True)
    def port(self, tree: Tree) -> ast.Num | ast.Star:
        return self.value(tree.children[0])

    @v_args(tree=True)
    def socket(self, tree: Tree) -> ast.Socket | ast.Value:
        children = list(tree.children)
        if len(children) == 2:  # socket_arg's `addr ":" port`
            children.insert(0, None)
        proto, addr, port = children
        addr = self._values([addr])[0]
        if proto is None and port is None:
            return addr
        return ast.Socket(proto=str(proto)[:-1].lower() if proto else None,
                          addr=addr, port=port, **_pos(tree))

    socket_arg = socket

    @v_args(tree=True)
    def arg(self, tree: Tree) -> ast.Value:
        return self._values(tree.children)[0]

    # statements
    @v_args(tree=True)
    def call(self, tree: Tree) -> ast.Call:
        name, *args = tree.children
        return ast.Call(name=str(name), args=[a for a in args if a is not None], **_pos(tree))

    @v_args(tree=True)
    def bare(self, tree: Tree) -> ast.Bare:
        return ast.Bare(name=str(tree.children[0]), **_pos(tree))

    @v_args(tree=True)
    def stop(self, tree: Tree, parens: bool = False) -> ast.Stop:
        kind, value = tree.children
        return ast.Stop(kind=kind, value=value, parens=parens, **_pos(tree))

    @v_args(tree=True)
    def stop_paren(self, tree: Tree) -> ast.Stop:
        return self.stop(tree, parens=True)

    def stop_kw(self, children: list[Token]) -> str:
        return str(children[0])

    @v_args(tree=True)
    def assign(self, tree: Tree) -> ast.Assign:
        target, value = self._values(tree.children)
        return ast.Assign(target=target, value=value, **_pos(tree))

    @v_args(tree=True)
    def null_stmt(self, tree: Tree) -> ast.Null:
        return ast.Null(**_pos(tree))

    def block(self, children: list) -> list:
        return children

    @v_args(tree=True)
    def nosemi_branch(self, tree: Tree) -> list:
        return [tree.children[0], "nosemi"]

    @v_args(tree=True)
    def if_closed(self, tree: Tree) -> ast.If:
        return self._if(tree, *tree.children)

    @v_args(tree=True)
    def if_open(self, tree: Tree) -> ast.If:
        return self._if(tree, *tree.children)

    def _if(self, tree: Tree, cond, then, else_token: Token | None = None, orelse=None) -> ast.If:
        nosemi = isinstance(then, list) and then[-1:] == ["nosemi"]
        braced = isinstance(then, list) and not nosemi
        then = then[:1] if nosemi else (then if isinstance(then, list) else [then])
        if orelse is not None and not isinstance(orelse, list):
            orelse = [orelse]
        where = {"else_line": else_token.line, "else_col": else_token.column} if else_token else {}
        return ast.If(cond=self._values([cond])[0], then=then, orelse=orelse, nosemi_then=nosemi,
                      braced_then=braced, **where, **_pos(tree))

    # conditions
    @v_args(tree=True)
    def element(self, tree: Tree):
        values = self._values(tree.children)
        if len(values) == 1:
            return values[0]
        left, op, right = values
        return ast.Compare(left=left, op=op, right=right, **_pos(tree))

    def cmpop(self, children: list[Token]) -> str:
        return str(children[0])

    or_op = and_op = not_op = cmpop

    @v_args(tree=True)
    def or_expr(self, tree: Tree) -> ast.Or:
        left, op, right = self._values(tree.children)
        return ast.Or(left=left, op=op, right=right, **_pos(tree))

    @v_args(tree=True)
    def and_expr(self, tree: Tree) -> ast.And:
        left, op, right = self._values(tree.children)
        return ast.And(left=left, op=op, right=right, **_pos(tree))

    @v_args(tree=True)
    def not_expr(self, tree: Tree) -> ast.Not:
        op, operand = self._values(tree.children)
        return ast.Not(operand=operand, op=op, **_pos(tree))

    @v_args(tree=True)
    def block_expr(self, tree: Tree) -> ast.BlockExpr:
        return ast.BlockExpr(body=list(tree.children), **_pos(tree))

    # top level
    def start(self, children: list) -> list:
        return children

    @v_args(tree=True)
    def global_assign(self, tree: Tree) -> ast.GlobalParam:
        name, *values = tree.children
        return ast.GlobalParam(name=str(name), values=self._values(values), **_pos(tree))

    @v_args(tree=True)
    def loadmodule(self, tree: Tree) -> ast.LoadModule:
        return ast.LoadModule(path=self.value(tree.children[0]), **_pos(tree))

    @v_args(tree=True)
    def modparam(self, tree: Tree) -> ast.ModParam:
        module, name, value = self._values(tree.children)
        return ast.ModParam(module=module, param=name, value=value, **_pos(tree))

    @v_args(tree=True)
    def flag_def(self, tree: Tree) -> ast.FlagDef:
        name, bit = tree.children
        return ast.FlagDef(name=str(name), bit=self.value(bit) if bit else None, **_pos(tree))

    @v_args(tree=True)
    def flags_decl(self, tree: Tree) -> ast.FlagsDecl:
        return ast.FlagsDecl(flags=list(tree.children), **_pos(tree))

    @v_args(tree=True)
    def avpflags_decl(self, tree: Tree) -> ast.AvpFlagsDecl:
        return ast.AvpFlagsDecl(names=self._values(tree.children), **_pos(tree))

    @v_args(tree=True)
    def stray_semicolon(self, tree: Tree) -> ast.StraySemicolon:
        return ast.StraySemicolon(**_pos(tree))

    @v_args(tree=True)
    def route_block(self, tree: Tree) -> ast.RouteBlock:
        kind, label, body = tree.children
        return ast.RouteBlock(kind=kind, label=label, body=body, **_pos(tree))

    def route_kind(self, children: list[Token]) -> str:
        return str(children[0])

    @v_args(tree=True)
    def route_label(self, tree: Tree):
        return self.value(tree.children[0])
