"""rr: record routing (SER modules/rr; RFC 3261 sections 16.4, 16.6 and 16.12, loose routing).

`record_route` keeps the proxy on the dialog path, `loose_route` follows a
Route set (with strict-router compatibility). 0.8.9 still shipped the
strict-routing pair `rewriteFromRoute`/`addRecordRoute`. 2.0 can carry
AVP "cookies" in the Record-Route URI.

What SER's rr module does, kept here on purpose:

* The Record-Route line goes before the first header of the message (SER
  anchors it at the first header, so it comes out above the Vias), and is
  `Record-Route: <sip:[user@]ADDRESS[:PORT][;transport=T][;ftag=TAG];lr>`
  (`;lr=on>` with enable_full_lr). ADDRESS:PORT is the socket the request
  came in on, never the advertised address (SER's SUBST_RCV_ALL lump):
  `record_route_preset` is how a proxy behind NAT writes another address.
  The port is left out when it is 5060, whatever the transport.
* The user part: 0.8 always, 0.9 with `add_username`, from the received
  Request-URI (the rewritten one only if the received one has no user);
  0.9's `record_route_preset` always. 2.0 writes the `add_username` string.
* `record_route` twice for one message is refused (-1), preset is not.
* `loose_route` decides on the *received* Request-URI: when it is ours the
  previous hop was a strict router (or the request was addressed to us
  with a preloaded Route) and SER restores the Request-URI from the last
  Route; otherwise our own top Route entry (two with double RR, `r2=on`)
  is removed and the next one is the next hop: `dst_uri` for a loose
  router, the Request-URI for a strict one, whose old Request-URI is then
  appended as the last Route header (the received one, as SER does).
  Removing our only Route returns -1 (the request is not Route-driven)
  with the Route already gone. A foreign top Route is simply followed.
* Overlapping removals are merged as SER's lump printer merges them (after
  a strict router, our entry followed by a loose router that is also the
  last route leaves an empty `Route: ` header, as SER's output does).
* An unparsable Route or Request-URI makes `loose_route` false (-1), as in
  SER; here nothing is changed then (SER may have removed a header first).
  Route headers past the ones needed are not parsed, so their errors do
  not matter.
* 2.0: `remove_record_route` takes back every Record-Route line of the
  message; `user_part_avp` and `next_route_avp` receive the user of our
  Route and the URI of the next hop.

* `enable_double_rr` (on by default): when a copy leaves from another
  socket than the request came in on (another interface, port or
  transport, e.g. UDP in and TCP out), it gets two Record-Routes, the
  outgoing socket's on top, both with `r2=on`; SER decided this at send
  time with conditional lumps, here `SipMessage.set_send_edits` does.

Not done: the 2.0 AVP cookie, and 0.8/0.9's `ignore_user` (a build
option SER ships disabled).

The server's `myself` (listen sockets and aliases) decides whether a Route
is ours; the runtime hands it over with `configure(myself)` at start-up.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import NamedTuple

from ser_runtime.context import PROTO_SCTP, PROTO_TCP, PROTO_TLS
from ser_runtime.myself import Myself
from ser_runtime.sip import NameAddr, SipParseError, SipUri
from ser_runtime.sip.lexer import byte_offset, split_outside_quotes, trim
from stdlib_modules.exports import F, INT, R, STR, V08, V08_09, V09, V20, Module, fn, param

LOG = logging.getLogger("ser.rr")

SIP_PORT = 5060
_TRANSPORTS = {PROTO_TCP: "tcp", PROTO_TLS: "tls", PROTO_SCTP: "sctp"}
# Each Record-Route line is a splice of its own tag, so that 2.0's
# remove_record_route can take them back (SER's HDR_RECORDROUTE_T lumps).
_RR_TAG = "record-route "
_rr_tags = itertools.count(1)

RR_DRIVEN, NOT_RR_DRIVEN = 1, -1

# --- start-up wiring ---------------------------------------------------------------------------

_myself: Myself | None = None


def configure(myself: Myself) -> None:
    """Tell rr which hosts are this server (the `myself` the script is bound with).

    The runtime calls this once the listen sockets are known, before the
    workers start (and again on a reload). Without it, rr assumes SER's
    defaults for a server without `listen` lines (Myself.default()).
    """
    global _myself
    _myself = myself


def _is_myself(uri: SipUri) -> bool:
    """SER's is_myself: host and port (5060 when absent, even for sips:) name this server."""
    global _myself
    if _myself is None:
        _myself = Myself.default()
    return _myself.host_port(uri.host, uri.port)


# --- module parameters -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Config:
    dialect: str
    full_lr: bool
    fromtag: bool
    double_rr: bool
    add_username: int | str | None
    user_part_avp: str | None
    next_route_avp: str | None


def _init(params: dict) -> _Config:
    # The parameter set tells the dialect: add_username is 0.9's int or 2.0's
    # string, the cookie parameters exist only in 2.0.
    if "cookie_secret" in params:
        dialect = "2.0"
    elif "add_username" in params:
        dialect = "0.9"
    else:
        dialect = "0.8"
    if params.get("ignore_user"):
        LOG.warning("rr: ignore_user needs SER's ENABLE_USER_CHECK build option; it is ignored")
    return _Config(dialect=dialect,
                   full_lr=bool(params.get("enable_full_lr")),
                   fromtag=bool(params.get("append_fromtag")),
                   double_rr=bool(params.get("enable_double_rr")),
                   add_username=params.get("add_username"),
                   user_part_avp=_avp_name(params.get("user_part_avp")),
                   next_route_avp=_avp_name(params.get("next_route_avp")))


def _avp_name(name: str | None) -> str | None:
    """An AVP parameter as the script writes the attribute: `$name` (a bare name gets the `$`)."""
    if not name:
        return None
    return name if name[0] in "$%" else "$" + name


def _with_config(args: tuple, config: _Config) -> tuple:
    """The calls get the module's configuration as their last argument."""
    return (*args, config)


# --- Record-Route ------------------------------------------------------------------------------

class _RrError(Exception):
    """A Record-Route that cannot be built; `code` is what SER returns then."""

    def __init__(self, code: int, why: str):
        super().__init__(why)
        self.code = code


# SER's static last_rr_msg: the message record_route last worked on.
_last_record_routed = None


def record_route(ctx, config: _Config) -> int:
    """Add `Record-Route: <sip:[user@]incoming-socket[;ftag=..];lr>` on top of the headers."""
    global _last_record_routed
    msg = ctx.msg
    if msg is _last_record_routed:
        LOG.error("record_route: double attempt to record-route")
        return -1
    try:
        if config.dialect == "2.0":
            user = _configured_user(ctx, config)
        elif config.dialect == "0.8" or config.add_username:
            user = _ruri_user(msg, -3)
        else:
            user = None
        tag = _from_tag(msg, config, -3)
        rcv = ctx.rcv
        end = ";lr=on>" if config.full_lr else ";lr>"
        line = _rr_line(user, _socket_text(rcv.dst_ip, rcv.dst_port, rcv.proto), tag, end)
        edit_tag, offset = _add_rr(msg, line, -3)
        if config.double_rr:
            msg.set_send_edits(edit_tag, _double_rr(rcv, user, tag, end, offset))
    except _RrError as exc:
        LOG.error("record_route: %s", exc)
        return exc.code
    _last_record_routed = msg
    return 1


def _socket_text(ip: str, port: int, proto: int) -> str:
    text = _host_text(ip)
    if port != SIP_PORT:
        text += f":{port}"
    transport = _TRANSPORTS.get(proto)
    return f"{text};transport={transport}" if transport else text


def _double_rr(rcv, user: str | None, tag: str | None, end: str, offset: int):
    """enable_double_rr: a copy leaving from another socket than the request came in on gets two
    Record-Routes, the outgoing socket's on top, both marked `r2=on` (loose_route removes both)."""
    def decide(ip: str, port: int, proto: int):
        if (ip, port, proto) == (rcv.dst_ip, rcv.dst_port, rcv.proto):
            return None
        lines = [_rr_line(user, _socket_text(ip, port, proto) + ";r2=on", tag, end),
                 _rr_line(user, _socket_text(rcv.dst_ip, rcv.dst_port, rcv.proto) + ";r2=on", tag, end)]
        return [(offset, offset, b"".join(lines))]
    return decide


def record_route_preset(ctx, address: str, config: _Config) -> int:
    """Add `Record-Route: <sip:[user@]ADDRESS[;ftag=..];lr>`: the script's text replaces host[:port]."""
    msg = ctx.msg
    try:
        if config.dialect == "2.0":
            user = _configured_user(ctx, config, missing=-1)
        else:
            user = _ruri_user(msg, -1)
        tag = _from_tag(msg, config, -2)
        _add_rr(msg, _rr_line(user, address, tag, ";lr=on>" if config.full_lr else ";lr>"), -5)
    except _RrError as exc:
        LOG.error("record_route_preset: %s", exc)
        return exc.code
    return 1


def remove_record_route(ctx, config: _Config) -> int:
    """2.0: take back the Record-Route lines record_route and record_route_preset added."""
    msg = ctx.msg
    for tag in msg.edit_tags():
        if tag.startswith(_RR_TAG):
            msg.set_edits(tag, [])
    return 1


def add_record_route(ctx) -> int:
    """0.8.9's addRecordRoute: `Record-Route: <sip:[user@]address[:port];branch=0>` (strict routing)."""
    msg = ctx.msg
    uri = msg.new_ruri if msg.new_ruri is not None else msg.ruri
    try:
        user = SipUri.parse(uri).user
    except SipParseError:
        user = None
    hostport = _host_text(ctx.rcv.dst_ip)
    if ctx.rcv.dst_port != SIP_PORT:
        hostport += f":{ctx.rcv.dst_port}"
    try:
        _add_rr(msg, _rr_line(user, hostport, None, ";branch=0>"), -1)
    except _RrError as exc:
        LOG.error("addRecordRoute: %s", exc)
        return exc.code
    return 1


def _rr_line(user: str | None, hostport: str, tag: str | None, end: str) -> bytes:
    parts = ["Record-Route: <sip:"]
    if user:
        parts += [user, "@"]
    parts.append(hostport)
    if tag:
        parts += [";ftag=", tag]
    parts += [end, "\r\n"]
    return "".join(parts).encode("utf-8", "surrogateescape")


def _add_rr(msg, line: bytes, code: int) -> tuple[str, int]:
    """Insert a Record-Route line before the first header (after those inserted there before);
    return its edit tag and offset.

    The splice gets a tag of its own, which SipMessage.insert cannot give:
    remove_record_route finds the Record-Route lines by it.
    """
    offset = msg.entries[0][1] if msg.entries else msg.headers_end
    tag = f"{_RR_TAG}{next(_rr_tags)}"
    try:
        msg.set_edits(tag, [(offset, offset, line)])
    except SipParseError as exc:
        raise _RrError(code, f"cannot insert Record-Route: {exc}") from None
    return tag, offset


def _host_text(ip: str) -> str:
    return f"[{ip}]" if ":" in ip and not ip.startswith("[") else ip


def _ruri_user(msg, code: int) -> str | None:
    """SER's get_username: the received Request-URI's user, else the rewritten one's."""
    try:
        user = msg.parsed_ruri.user
        if not user and msg.new_ruri is not None:
            user = SipUri.parse(msg.new_ruri).user
    except SipParseError as exc:
        raise _RrError(code, f"cannot parse the Request-URI: {exc}") from None
    return user or None


def _configured_user(ctx, config: _Config, missing: int | None = None) -> str | None:
    """2.0's add_username: a string, or an attribute (`$name`) read when the call runs."""
    value = config.add_username
    if not value:
        return None
    if value[0] in "$%":
        found = ctx.avps.get(value)
        if found is None:
            if missing is not None:
                raise _RrError(missing, f"add_username: {value} is not set")
            LOG.error("record_route: add_username: %s is not set", value)
            return None
        return str(found)
    return value


def _from_tag(msg, config: _Config, code: int) -> str | None:
    if not config.fromtag:
        return None
    try:
        sender = msg.from_
    except SipParseError as exc:
        raise _RrError(code, f"bad From header: {exc}") from None
    if sender is None:
        raise _RrError(code, "no From header")
    return sender.tag or None


# --- the Route set -----------------------------------------------------------------------------

class _Entry(NamedTuple):
    """One route of a Route header: where it lies in the message (display name to last parameter)."""
    start: int
    end: int
    addr: NameAddr


def _entries(field) -> list[_Entry]:
    """The routes of one Route header, in order; SipParseError when it is malformed."""
    addresses = field.parsed
    text = field.value
    spans = []
    for start, end in split_outside_quotes(text, ",", angles=True):
        start, end = trim(text, start, end)
        if start < end:
            spans.append((field.value_start + byte_offset(text, start),
                          field.value_start + byte_offset(text, end)))
    return [_Entry(start, end, addr) for (start, end), addr in zip(spans, addresses)]


def _is_strict(uri: SipUri) -> bool:
    """A Route URI without `lr` is a strict router (any value: `lr=on`, `lr=true`)."""
    return "lr" not in uri.params


class _Plan:
    """What loose_route will do to the message, decided before anything changes."""

    def __init__(self, fields):
        self.fields = fields
        self.h = 0
        self.entries = _entries(fields[0])
        self.e = 0
        self.deletions: list[tuple[int, int]] = []
        self.ruri: str | None = None
        self.dst_uri: str | None = None
        self.save_ruri = False
        self.avps: dict[str, str] = {}

    @property
    def entry(self) -> _Entry:
        return self.entries[self.e]

    @property
    def field(self):
        return self.fields[self.h]

    def step(self) -> bool:
        """Past the current route: the next one of its header, or (the header removed) the
        first of the next Route header; False when no route is left."""
        if self.e + 1 < len(self.entries):
            self.e += 1
            return True
        self.deletions.append((self.field.start, self.field.end))
        if self.h + 1 == len(self.fields):
            return False
        self.h += 1
        self.entries = _entries(self.field)
        self.e = 0
        return True

    def drop_through_current(self) -> None:
        """Remove the current route and those before it in its header (the header if it was the last)."""
        if self.e + 1 < len(self.entries):
            self.deletions.append((self.field.value_start, self.entries[self.e + 1].start))
        else:
            self.deletions.append((self.field.start, self.field.end))

    def drop_before_current(self) -> None:
        """Remove the routes before the current one in its header (ours, already passed)."""
        if self.e:
            self.deletions.append((self.field.value_start, self.entry.start))

    def store(self, name: str | None, value: str | None) -> None:
        if name and value:
            self.avps[name] = value


def loose_route(ctx, config: _Config) -> int:
    """Follow the Route set (RFC 3261 §16.4, §16.12); 1 when the next hop came from it."""
    msg = ctx.msg
    fields = msg.headers_named("route")
    if not fields:
        return -1
    try:
        plan = _Plan(fields)
        if _is_myself(msg.parsed_ruri):
            code = _after_strict(msg, plan, config)
        else:
            code = _after_loose(plan, config)
    except SipParseError as exc:
        LOG.error("loose_route: %s", exc)
        return -1
    return code if _apply(ctx, plan) else -1


def _after_loose(plan: _Plan, config: _Config) -> int:
    """The previous hop was a loose router: drop our top route(s), follow the next one."""
    uri = plan.entry.addr.parsed_uri
    if _is_myself(uri):
        plan.store(config.user_part_avp, uri.user)
        if not plan.step():
            return NOT_RR_DRIVEN
        if config.double_rr and "r2" in uri.params:
            # We put two Record-Routes (in and out interface): the second is ours too.
            if not plan.step():
                return NOT_RR_DRIVEN
        uri = plan.entry.addr.parsed_uri
    plan.store(config.next_route_avp, plan.entry.addr.uri)
    if _is_strict(uri):
        # §16.12.1.2 / SER's handle_sr: the strict router gets the Route as its Request-URI,
        # the Request-URI goes to the end of the Route set.
        plan.save_ruri = True
        plan.ruri = plan.entry.addr.uri
        plan.drop_through_current()
    else:
        plan.dst_uri = plan.entry.addr.uri
        plan.drop_before_current()
    return RR_DRIVEN


def _after_strict(msg, plan: _Plan, config: _Config) -> int:
    """The Request-URI is ours: a strict router put our Record-Route there (§16.4), or the
    request came to us with a preloaded Route."""
    uri = plan.entry.addr.parsed_uri
    if _is_myself(uri):
        plan.store(config.user_part_avp, uri.user)
        if not plan.step():
            return NOT_RR_DRIVEN
        uri = plan.entry.addr.parsed_uri
    plan.store(config.next_route_avp, plan.entry.addr.uri)
    if _is_strict(uri):
        # Strict next hop too: behave as a strict router (the remote target is saved already).
        plan.ruri = plan.entry.addr.uri
        plan.drop_through_current()
        return RR_DRIVEN
    plan.dst_uri = plan.entry.addr.uri
    plan.drop_before_current()
    # The real Request-URI is the last route of the last Route header.
    last = plan.fields[-1]
    entries = _entries(last)
    plan.ruri = entries[-1].addr.uri
    if len(entries) > 1:
        plan.deletions.append((entries[-2].end, entries[-1].end))
    else:
        plan.deletions.append((last.start, last.end))
    return RR_DRIVEN


def _apply(ctx, plan: _Plan) -> bool:
    """Carry out the plan; False (and nothing changed) when the new Request-URI is unusable."""
    msg = ctx.msg
    if plan.ruri is not None:
        try:
            ctx.set_uri(plan.ruri)
        except SipParseError as exc:
            LOG.error("cannot use %r as the Request-URI: %s", plan.ruri, exc)
            return False
    for start, end in _merged(plan.deletions):
        try:
            msg.delete(start, end)
        except SipParseError:
            # Another edit of the script removed part of it already.
            LOG.warning("loose_route: Route text at %d..%d is edited already", start, end)
    if plan.save_ruri:
        msg.add_header("Route", f"<{msg.ruri}>")
    if plan.dst_uri is not None:
        ctx.dst_uri = plan.dst_uri
    ctx.avps.update(plan.avps)
    return True


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping deletions as one, as SER's lump printer does."""
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def rewrite_from_route(ctx) -> int:
    """0.8.9's rewriteFromRoute (strict routing): the first Route becomes the Request-URI."""
    fields = ctx.msg.headers_named("route")
    if not fields:
        return -1
    try:
        plan = _Plan(fields)
    except SipParseError as exc:
        LOG.error("rewriteFromRoute: %s", exc)
        return -1
    plan.ruri = plan.entry.addr.uri
    plan.drop_through_current()
    return 1 if _apply(ctx, plan) else -1


EXPORTS = Module(
    name="rr",
    doc="record routing",
    functions=(
        fn("rewriteFromRoute", 0, R, dialects=V08, doc="strict routing: R-URI from the first Route (0.8.9)",
           impl=rewrite_from_route),
        fn("addRecordRoute", 0, R, dialects=V08, doc="strict routing: add Record-Route (2002)",
           impl=add_record_route),
        fn("loose_route", 0, R, doc="follow the Route set; true if the next hop came from it",
           impl=loose_route, fixup=_with_config),
        fn("record_route", 0, R, doc="add Record-Route with this proxy's address",
           impl=record_route, fixup=_with_config),
        fn("record_route_preset", 1, R, doc="add Record-Route with the given host[:port]",
           impl=record_route_preset, fixup=_with_config),
        fn("remove_record_route", 0, R | F, dialects=V20, doc="remove Record-Route added by this proxy",
           impl=remove_record_route, fixup=_with_config),
    ),
    params=(
        param("enable_full_lr", INT, 0, doc="write ;lr=on instead of ;lr"),
        param("append_fromtag", INT, 1, doc="add ;ftag=<From tag> to Record-Route"),
        param("enable_double_rr", INT, 1, doc="two Record-Route headers when interfaces differ"),
        param("add_username", INT, 0, V09, doc="put the R-URI username into the RR URI"),
        param("add_username", STR, None, V20, doc="user part to put into the RR URI"),
        param("ignore_user", STR, None, V08_09, doc="only with ENABLE_USER_CHECK builds"),
        param("cookie_filter", STR, None, V20, doc="regex of AVP names carried in the RR cookie"),
        param("cookie_secret", STR, None, V20, doc="secret for the RR cookie signature"),
        param("user_part_avp", STR, None, V20, doc="AVP receiving the user part of our Route URI"),
        param("next_route_avp", STR, None, V20, doc="AVP receiving the next Route URI"),
    ),
    init=_init,
)
