"""Module export tables: what a SER module offers to ser.cfg.

Follows SER's `struct module_exports` (sr_module.h): a module names its script
functions (name, number of arguments, the route kinds allowed to call them) and
its parameters (name, type, default). `ser-check` and the runtime read the same
table, so a function the checker accepts is the function the server runs.

A function whose `impl` is None is declared but not implemented yet: the
checker accepts it, and `ser` refuses to start on a script that calls it.

Calling convention (SER's cmd_function and fixup_function): `impl(ctx, *args)`
returns SER's code (>0 true, <0 false, 0 stop) for a `RouteContext` ctx.
The arguments are the script's strings (2.0: or numbers) as written, unless
the function has a `fixup(args, state)`, which runs once at start-up and
returns the arguments the calls get (an int for "10", a compiled regex, a
table handle); `state` is what the module's `init(params)` returned. A fixup
raises FixupError to refuse an argument; the message names what is wrong.

A module's control commands (SER's FIFO commands) are `Command`s in its
`commands`; the control process (ser_runtime/control/) runs them for the
FIFO and JSON-RPC alike.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable


class RouteKind(enum.IntFlag):
    """Block kinds, with SER's mask values (route.h)."""

    REQUEST = 1
    FAILURE = 2
    ONREPLY = 4
    BRANCH = 8
    ONSEND = 16

    def describe(self) -> str:
        return ", ".join(KIND_NAMES[k] for k in RouteKind if k in self)


R, F, O, B, S = (RouteKind.REQUEST, RouteKind.FAILURE, RouteKind.ONREPLY,
                 RouteKind.BRANCH, RouteKind.ONSEND)

KIND_NAMES = {
    RouteKind.REQUEST: "route",
    RouteKind.FAILURE: "failure_route",
    RouteKind.ONREPLY: "onreply_route",
    RouteKind.BRANCH: "branch_route",
    RouteKind.ONSEND: "onsend_route",
}

# The rank child_init gets in the timer process (SER's PROC_TIMER).
TIMER_RANK = -1
# The rank child_init gets in the control process (SER's PROC_FIFO).
CONTROL_RANK = -2

DIALECTS = ("0.8", "0.9", "2.0")
ALL = frozenset(DIALECTS)
V08 = frozenset({"0.8"})
V09 = frozenset({"0.9"})
V20 = frozenset({"2.0"})
V08_09 = frozenset({"0.8", "0.9"})
V09_20 = frozenset({"0.9", "2.0"})


class ModuleStartError(Exception):
    """Why a module refuses to start in `ser` (a database it cannot reach, an old schema): one line."""


class FixupError(ValueError):
    """An argument a module function refuses at start-up; `position` is 0-based, None for all."""

    def __init__(self, message: str, position: int | None = 0):
        super().__init__(message)
        self.position = position


class ParamType(enum.Enum):
    INT = "int"
    STR = "str"
    # 2.0 lets an int flag parameter be given as a flag name declared with `flags`.
    FLAG = "flag"

    def accepts(self, value: Any, dialect: str) -> bool:
        if self is ParamType.INT:
            return isinstance(value, int)
        if self is ParamType.STR:
            return isinstance(value, str)
        return isinstance(value, int) or (dialect == "2.0" and isinstance(value, str))


INT, STR, FLAG = ParamType.INT, ParamType.STR, ParamType.FLAG


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    arity: int
    kinds: RouteKind
    dialects: frozenset[str] = ALL
    impl: Callable[..., Any] | None = None
    doc: str = ""
    fixup: Callable[[tuple, Any], tuple] | None = None


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: ParamType
    default: int | str | None = None
    dialects: frozenset[str] = ALL
    # Setter parameters (tm's tw_append, avpops' avp_aliases) collect every value.
    repeatable: bool = False
    doc: str = ""
    # A parameter that later SER versions moved to another module (auth's
    # calculate_ha1 went to auth_db): accepted here with a warning, used there.
    moved_to: str | None = None


@dataclass(frozen=True, slots=True)
class Module:
    """One SER module's exports.

    `name` is the name the module registers under, which `modparam` matches
    (the 0.8 vm module registers as "voicemail"); `so_names` are the shared
    object base names `loadmodule` may give for it ("tm_mod.so" was a renamed tm).
    """

    name: str
    doc: str
    functions: tuple[Function, ...] = ()
    params: tuple[Param, ...] = ()
    so_names: tuple[str, ...] = ()
    dialects: frozenset[str] = ALL
    # Why this module cannot run on this machine (e.g. sms needs a GSM modem);
    # `ser` refuses to start with it, `ser-check` still knows its exports.
    unavailable: str | None = None
    # Called once at start-up with the module's parameter values by name
    # (defaults filled in); what it returns is the `state` fixups receive.
    init: Callable[[dict[str, Any]], Any] | None = field(default=None, compare=False)
    # SER's mod_init split in two: `init` also runs in ser-check, so whatever
    # touches the outside world (a database, a file) belongs in `start`, which
    # only `ser` calls, once, before forking; it raises ModuleStartError.
    start: Callable[[Any], None] | None = field(default=None, compare=False)
    # SER's child_init: once in every worker after the fork (rank 0, 1, ...)
    # and in the timer process (rank TIMER_RANK), for per-process resources.
    child_init: Callable[[Any, int], None] | None = field(default=None, compare=False)
    # SER's register_timer: `timer(state, now)` every `timer_interval`
    # seconds, in the one timer process the supervisor forks when a loaded
    # module has a timer.
    timer: Callable[[Any, float], None] | None = field(default=None, compare=False)
    timer_interval: float = 1.0
    # Other names the module registered under in some versions of a dialect,
    # which `modparam` matches as well (the last 0.8 vm module renamed itself
    # from "voicemail" to "vm").
    aliases: tuple[str, ...] = ()
    # Control commands (FIFO and JSON-RPC), run in the control process.
    commands: tuple[Command, ...] = ()

    @property
    def registered_names(self) -> tuple[str, ...]:
        """Every name `modparam`'s module regex is matched against."""
        return (self.name, *self.aliases)

    def functions_named(self, name: str, dialect: str) -> list[Function]:
        return [f for f in self.functions if f.name == name and dialect in f.dialects]

    def param_values(self, given: dict[str, Any], dialect: str) -> dict[str, Any]:
        """Every parameter of the dialect: the modparam value if set, else the default."""
        values = {p.name: ([] if p.repeatable else p.default) for p in self.params
                  if dialect in p.dialects and p.moved_to is None}
        values.update(given)
        return values

    def param(self, name: str, dialect: str) -> Param | None:
        for p in self.params:
            if p.name == name and dialect in p.dialects:
                return p
        return None


@dataclass(frozen=True, slots=True)
class Reply:
    """A control command's answer: SER's FIFO status line and body, and the same for JSON-RPC.

    `data` is the JSON-RPC result (a dict or list); when None the result
    is {"text": text, "lines": body}. A code of 400 or more is an error.
    """

    code: int
    text: str
    body: tuple[str, ...] = ()
    data: Any = None


class Deferred:
    """A reply that comes later (t_uac_dlg waits for the final answer): the front end calls `then`,
    the command calls `resolve` once."""

    def __init__(self):
        self._reply: Reply | None = None
        self._then: Callable[[Reply], None] | None = None

    def resolve(self, reply: Reply) -> None:
        if self._then is not None:
            self._then(reply)
        else:
            self._reply = reply

    def then(self, callback: Callable[[Reply], None]) -> None:
        if self._reply is not None:
            callback(self._reply)
        else:
            self._then = callback


@dataclass(frozen=True, slots=True)
class Command:
    """A control command a module registers (SER's register_fifo_cmd, Kamailio's RPC exports).

    `handler(state, args, control)` gets the module's state, the request's
    argument lines and the control process's services (ser_runtime.control
    .commands.Control); it returns a Reply or a Deferred, and raises
    CommandError for a bad request. `blocks`: after `lines` plain argument
    lines, that many blocks ended by a "." line follow (t_uac_dlg's headers
    and body), in which an empty line does not end the FIFO request.
    """

    name: str
    handler: Callable[[Any, list[str], Any], "Reply | Deferred"]
    doc: str = ""
    lines: int = 0
    blocks: int = 0


class CommandError(Exception):
    """A control request a command refuses: `code` and one line of text for the reply."""

    def __init__(self, code: int, text: str):
        super().__init__(text)
        self.code = code
        self.text = text


def fn(name: str, arity: int, kinds: RouteKind, dialects: frozenset[str] = ALL,
       impl: Callable[..., Any] | None = None, doc: str = "",
       fixup: Callable[[tuple, Any], tuple] | None = None) -> Function:
    return Function(name, arity, kinds, dialects, impl, doc, fixup)


def param(name: str, type: ParamType, default: int | str | None = None,
          dialects: frozenset[str] = ALL, repeatable: bool = False, doc: str = "",
          moved_to: str | None = None) -> Param:
    return Param(name, type, default, dialects, repeatable, doc, moved_to)
