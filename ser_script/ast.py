"""The ser.cfg syntax tree: small typed nodes, each knowing its line and column.

Nodes are msgspec Structs (immutable, cheap, serialisable for `--format json`
dumps and tests). The builder in `parser.py` makes them from the Lark tree;
the checker and the route compiler read them. Values keep the text they were
written as, because diagnostics quote it and SER's semantics sometimes depend
on it (an octal IP octet, a quoted versus unquoted port).
"""

from __future__ import annotations

import msgspec


class Node(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    line: int
    col: int


# --- values -----------------------------------------------------------------

class Str(Node):
    value: str          # decoded with the dialect's escapes
    quote: str          # '"' or "'"


class Num(Node):
    text: str
    value: int | None   # None when the text is not a valid number (e.g. "08")


class Name(Node):
    """A bare identifier: an operand (`method`, `myself`), `yes`, `INVITE`, `udp`."""
    name: str


class Host(Node):
    """An unquoted dotted or dashed hostname, e.g. `sip.example.com`."""
    name: str


class Ip(Node):
    text: str
    bracketed: bool = False


class Net(Node):
    ip: Ip
    mask: Num | Ip


class Avp(Node):
    """A 2.0 attribute: `$name`, `$f.uid`, `%name`."""
    name: str


class Select(Node):
    """A 2.0 select: `@from.uri`, `@hf_value["contact"]`."""
    path: str


class RetCode(Node):
    """2.0 `$?`: the return code of the last route() call."""


class MsgLen(Node):
    """`msg:len`, the length of the message in bytes."""


class UriHost(Node):
    """`uri:host` as a forward() target."""


class UriPort(Node):
    """`uri:port` as a forward() port."""


class Star(Node):
    """`*` as a port in listen/alias: any port."""


class Socket(Node):
    """`[proto:]addr[:port]` in listen/alias and force_send_socket()."""
    proto: str | None
    addr: Name | Host | Ip | Str
    port: Num | Star | None


Value = Str | Num | Name | Host | Ip | Net | Avp | Select | RetCode | MsgLen | UriHost | UriPort | Socket


# --- statements and expressions ----------------------------------------------

class Call(Node):
    """A core action or module function call: `name(arg, ...)`."""
    name: str
    args: list[Value]


class Bare(Node):
    """An action written without parentheses: `revert_uri;`, `force_rport;`."""
    name: str


class Stop(Node):
    """drop, break, exit or return, with an optional value."""
    kind: str
    value: Value | None = None
    parens: bool = False


class Assign(Node):
    """2.0 `$avp = value;`."""
    target: Avp
    value: "Value | Call | Expr"


class Null(Node):
    """A lone `;`."""


class If(Node):
    cond: "Expr"
    then: list["Stmt"]
    orelse: list["Stmt"] | None
    # A then-branch written as a bare command without ';' before else (pre-0.9.5).
    nosemi_then: bool = False
    braced_then: bool = False
    else_line: int = 0
    else_col: int = 0


class Compare(Node):
    left: "Value | Call"
    op: str
    right: "Value | Call"


class And(Node):
    left: "Expr"
    right: "Expr"
    op: str


class Or(Node):
    left: "Expr"
    right: "Expr"
    op: str


class Not(Node):
    operand: "Expr"
    op: str


class BlockExpr(Node):
    """A `{ ... }` block used as a condition: its value is its last action's."""
    body: list["Stmt"]


Stmt = Call | Bare | Stop | Assign | Null | If
Expr = Compare | And | Or | Not | BlockExpr | Call | Value


# --- top level ------------------------------------------------------------------

class GlobalParam(Node):
    name: str
    values: list[Value]


class LoadModule(Node):
    path: Str


class ModParam(Node):
    module: Str
    param: Str
    value: Str | Num | Name


class FlagDef(Node):
    name: str
    bit: Num | None


class FlagsDecl(Node):
    flags: list[FlagDef]


class AvpFlagsDecl(Node):
    names: list[Name]


class StraySemicolon(Node):
    pass


class RouteBlock(Node):
    kind: str                          # route, failure_route, onreply_route, ...
    label: Num | Name | Str | None     # None: the main/default block
    body: list[Stmt]


TopItem = GlobalParam | LoadModule | ModParam | FlagsDecl | AvpFlagsDecl | StraySemicolon | RouteBlock


class Config(msgspec.Struct, frozen=True, kw_only=True):
    file: str
    dialect: str
    items: list[TopItem]
