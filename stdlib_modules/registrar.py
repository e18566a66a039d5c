"""registrar: REGISTER processing (SER modules/registrar; RFC 3261 section 10.3).

`save` stores the contacts of a REGISTER in a usrloc table and replies
200 with every current binding; `lookup` rewrites the R-URI to the best
registered contact, and with `append_branches` the others become branches
with their q. 2.0 adds aliases, an explicit AOR argument and NAT flags
that accept flag names.

How a REGISTER is processed (RFC 3261 §10.3 steps 5-8, and SER):

* The AOR is the To URI's user (unescaped), `@host` with `use_domain`
  (the host without `realm_prefix`), lower-cased unless `case_sensitive`.
* A contact's expiry is its `expires` parameter, else the Expires header,
  else `default_expires`; a malformed parameter counts as absent (SER,
  and RFC 3261 §10.2.1.1), a malformed header is 400. `max_expires` lowers
  it. One under `min_expires` is refused with 423 and a Min-Expires header
  when under an hour (§10.3 step 7); one of an hour or more is raised.
* `Contact: *` needs `Expires: 0` and no other contact (400 otherwise), and
  removes every binding, under the Call-ID/CSeq rule below (§10.3 step 6).
* For an existing binding with the same Call-ID, a lower CSeq is out of
  order: the whole request fails with 500, as RFC 3261 §12.2.2 answers an
  out-of-order request in a dialog. An equal CSeq is a retransmission of a
  REGISTER whose 200 was lost (`save` is stateless): the binding is left as
  it is and the 200 is sent again.
* `max_contacts` counts the bindings the request would leave: over it,
  503 with `Retry-After` when `retry_after` is set.
* The 200 lists every binding: `Contact: <uri>;q=..;expires=..` (q when the
  contact gave one or `default_q` is set), received as `received_param`.
* Error replies carry SER's `P-Registrar-Error:` header saying why.
* NAT: with the message flag `nat_flag` set, the binding is saved as NATed;
  its received address is the contact's `received` parameter or the AVP
  `received_avp` (nathelper's fix_nated_register stores `i:42`). `lookup`
  sends to the received address (the dst_uri of the R-URI and of each
  branch) and sets `nat_flag` again.

Return codes: `save` 1 (replied 200), 0 (refused; the error reply sent),
-1 (the reply could not be sent); `lookup` 1, -1 bad AOR, -2 usrloc error,
-3 not found, -4 the contact cannot be the R-URI; `registered` 1 / -1.

Not done: 2.0 flag names for save_nat_flag/load_nat_flag (numbers work).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from ser_runtime.context import MAX_BRANCHES, Branch
from ser_runtime.control import stats
from ser_runtime.sip import SipParseError, SipUri
from stdlib_modules import usrloc
from stdlib_modules.exports import (
    F, FLAG, INT, O, R, STR, V08, V08_09, V09, V09_20, V20, FixupError, Module, fn, param,
)
from stdlib_modules.textops import reply_headers
from stdlib_modules.usrloc import FL_NAT, Q_UNSPECIFIED, Binding, Location, UsrlocError

LOG = logging.getLogger("ser.registrar")

MAX_EXPIRES = 2**32 - 1
ONE_HOUR = 3600
# The location table's column sizes (ser_mysql.sh): longer values cannot be stored.
MAX_URI, MAX_CALLID, MAX_USER, MAX_DOMAIN, MAX_USER_AGENT = 255, 255, 64, 128, 50
_QVALUE = re.compile(r"(0(\.\d{0,3})?|1(\.0{0,3})?)\Z")


@dataclass(frozen=True, slots=True)
class _Config:
    dialect: str
    default_expires: int
    min_expires: int
    max_expires: int
    default_q: int
    append_branches: bool
    case_sensitive: bool
    use_domain: bool | None
    realm_prefix: str
    save_nat_bit: int
    load_nat_bit: int
    received_param: str
    received_avp: str | None
    max_contacts: int
    retry_after: int


def _flag_bit(value) -> int:
    if isinstance(value, int) and 0 <= value <= 31:
        return 1 << value
    if value is not None:
        LOG.warning("registrar: NAT flag %r is not a flag number 0-31; NATed contacts are not marked", value)
    return 0


def _init(params: dict) -> _Config:
    if "save_nat_flag" in params:
        dialect = "2.0"
    elif "max_contacts" in params:
        dialect = "0.9"
    else:
        dialect = "0.8"
    # 0.8 counts default_q in hundredths, 0.9 and 2.0 in thousandths (SER's qvalue), unset: no q.
    default_q = params.get("default_q")
    if default_q is None:
        default_q = Q_UNSPECIFIED
    else:
        default_q = max(0, min(1000, default_q * (10 if dialect == "0.8" else 1)))
    received_avp = params.get("received_avp")
    return _Config(
        dialect=dialect, default_expires=params["default_expires"], min_expires=params["min_expires"],
        max_expires=params["max_expires"], default_q=default_q,
        append_branches=bool(params["append_branches"]), case_sensitive=bool(params.get("case_sensitive")),
        use_domain=None if "use_domain" not in params else bool(params["use_domain"]),
        realm_prefix=params.get("realm_prefix") or "",
        save_nat_bit=_flag_bit(params.get("nat_flag", params.get("save_nat_flag"))),
        load_nat_bit=_flag_bit(params.get("nat_flag", params.get("load_nat_flag"))),
        received_param=params.get("received_param") or "received",
        received_avp=None if received_avp is None else f"i:{received_avp}",
        max_contacts=params.get("max_contacts") or 0, retry_after=params.get("retry_after") or 0)


def _table_fixup(args: tuple, config: _Config) -> tuple:
    """SER's domain_fixup: the table name becomes usrloc's table, registered on first use."""
    store = usrloc.active()
    if store is None:
        raise FixupError("registrar needs the usrloc module loaded")
    if config.use_domain is not None and config.use_domain != store.use_domain:
        raise FixupError("'use_domain' of usrloc and registrar must have the same value "
                         "(modparam(\"registrar\", \"use_domain\", ...) missing?)", None)
    return (store.table(str(args[0])), *args[1:], _Aor(config, store.use_domain))


@dataclass(frozen=True, slots=True)
class _Aor:
    """The configuration a call gets, with usrloc's use_domain (which decides the AOR)."""

    config: _Config
    use_domain: bool

    def of(self, uri: SipUri) -> str:
        """SER's extract_aor: user, `@host` with use_domain, lower-cased unless case_sensitive."""
        user = uri.user_decoded or ""
        if not self.use_domain:
            return user if self.config.case_sensitive else user.lower()
        host = uri.host.lower()
        prefix = self.config.realm_prefix
        if prefix and len(host) > len(prefix) and host.startswith(prefix.lower()):
            host = host[len(prefix):]
        return f"{user if self.config.case_sensitive else user.lower()}@{host}"


# --- save ----------------------------------------------------------------------------------------

class _Refusal(Exception):
    """Why a REGISTER is refused: the reply code, SER's P-Registrar-Error text, extra headers."""

    def __init__(self, code: int, why: str, headers: tuple[str, ...] = ()):
        super().__init__(why)
        self.code = code
        self.why = why
        self.headers = headers


_REASONS = {400: "Bad Request", 423: "Interval Too Brief", 500: "Server Internal Error",
            503: "Service Unavailable"}


@dataclass(frozen=True, slots=True)
class _Contact:
    uri: str
    expires: int
    q: int
    received: str | None


@dataclass(frozen=True, slots=True)
class _Register:
    """What a REGISTER asks for, checked (RFC 3261 §10.3 steps 5-7 up to the stored bindings)."""

    aor: str
    star: bool
    contacts: tuple[_Contact, ...]
    callid: str
    cseq: int
    user_agent: str


def _save(ctx, table: Location, aor_rule: _Aor, reply: bool, memory_only: bool, aor_text: str | None = None) -> int:
    now = time.time()
    config = aor_rule.config
    try:
        request = _parse_register(ctx, aor_rule, aor_text)
        bindings = _store(ctx, table, request, config, now, memory_only)
    except _Refusal as refusal:
        LOG.info("registrar: REGISTER refused with %d: %s", refusal.code, refusal.why)
        if reply:
            _send(ctx, refusal.code, _REASONS[refusal.code], _error_headers(refusal, config))
        return 0
    if reply and not _send(ctx, 200, "OK", _contact_header(bindings, config, now)):
        return -1
    return 1


def _error_headers(refusal: _Refusal, config: _Config) -> list[str]:
    headers = [f"P-Registrar-Error: {refusal.why}", *refusal.headers]
    if refusal.code >= 500 and config.retry_after:
        headers.append(f"Retry-After: {config.retry_after}")
    return headers


def _parse_register(ctx, aor_rule: _Aor, aor_text: str | None) -> _Register:
    msg = ctx.msg
    config = aor_rule.config
    try:
        to = msg.to
        callid, cseq = msg.call_id, msg.cseq
    except SipParseError:
        raise _Refusal(400, "Message parse error") from None
    if to is None:
        raise _Refusal(400, "To header not found")
    if callid is None or cseq is None:
        raise _Refusal(400, "Call-ID header not found" if callid is None else "CSeq header not found")
    try:
        header_expires = msg.expires
    except SipParseError:
        raise _Refusal(400, "Expires parse error") from None
    try:
        contacts = msg.contacts
        star = msg.contact_star
    except SipParseError:
        raise _Refusal(400, "Contact parse error") from None
    if star:
        if header_expires != 0:
            raise _Refusal(400, "* used in contact and expires is not zero")
        if contacts or len(msg.headers_named("contact")) > 1:
            raise _Refusal(400, "* used in contact and more than 1 contact")
    aor = _register_aor(to.uri if aor_text is None else aor_text, aor_rule)
    if len(callid) > MAX_CALLID:
        raise _Refusal(400, "Callid too long")
    checked = tuple(_contact(ctx, c, header_expires, config) for c in contacts)
    agent = msg.header("user-agent")
    return _Register(aor, star, checked, callid, cseq.number, agent.value.strip()[:MAX_USER_AGENT] if agent else "")


def _register_aor(text: str, aor_rule: _Aor) -> str:
    try:
        uri = SipUri.parse(text)
    except SipParseError:
        raise _Refusal(400, "Error while parsing AOR") from None
    aor = aor_rule.of(uri)
    user, _, domain = aor.rpartition("@") if aor_rule.use_domain else (aor, "", "")
    if not user:
        raise _Refusal(400, "No username in To URI")
    if len(user) > MAX_USER or len(domain) > MAX_DOMAIN:
        raise _Refusal(400, "Address Of Record too long")
    return aor


def _contact(ctx, contact, header_expires: int | None, config: _Config) -> _Contact:
    """One Contact of the REGISTER with its expiry (relative seconds), q and received address."""
    expires = _contact_expires(contact, header_expires, config)
    q = contact.q
    if q is None:
        qvalue = config.default_q
    elif _QVALUE.match(q):
        qvalue = round(float(q) * 1000)
    else:
        raise _Refusal(400, "Invalid q param in contact")
    received = contact.params.get("received")
    if received is not None:
        received = received.strip('"')
    if received is None and config.received_avp is not None:
        found = ctx.avps.get(config.received_avp)
        received = None if found is None else str(found)
    if len(contact.uri) > MAX_URI or (received and len(received) > MAX_URI):
        raise _Refusal(400, "Contact/received too long")
    return _Contact(contact.uri, expires, qvalue, received or None)


def _contact_expires(contact, header_expires: int | None, config: _Config) -> int:
    try:
        expires = contact.expires
    except (SipParseError, ValueError):  # ValueError: more digits than int() takes
        expires = None
    if expires is None:
        expires = header_expires if header_expires is not None else config.default_expires
    expires = min(expires, MAX_EXPIRES)
    if expires and config.max_expires and expires > config.max_expires:
        expires = config.max_expires
    if expires and config.min_expires and expires < config.min_expires:
        if expires < ONE_HOUR:
            raise _Refusal(423, "Interval too brief", (f"Min-Expires: {config.min_expires}",))
        expires = config.min_expires
    return expires


def _store(ctx, table: Location, request: _Register, config: _Config, now: float,
           memory_only: bool) -> list[Binding]:
    """Apply the REGISTER to the AOR's bindings (§10.3 step 7); the bindings after it."""
    flags = FL_NAT if ctx.flags & config.save_nat_bit else 0
    try:
        with table.hold(request.aor, now, memory_only) as record:
            contacts = request.contacts
            if request.star:
                contacts = tuple(_Contact(uri, 0, Q_UNSPECIFIED, None) for uri in record.bindings)
            updates = _updates(record.bindings, contacts, request)
            _check_max_contacts(record.bindings, updates, config)
            for contact in updates:
                if contact.expires == 0:
                    record.remove(contact.uri)
                else:
                    record.put(Binding(contact.uri, int(now) + contact.expires, contact.q, request.callid,
                                       request.cseq, flags, request.user_agent, contact.received, now))
            bindings = list(record.bindings.values())
    except UsrlocError as exc:
        LOG.error("registrar: %s", exc)
        raise _Refusal(500, "Usrloc error") from None
    return usrloc.ordered(bindings, table.usrloc.by_time)


def _updates(existing: dict[str, Binding], contacts: tuple[_Contact, ...], request: _Register) -> list[_Contact]:
    """The contacts to write: a retransmission (same Call-ID and CSeq) changes nothing."""
    updates = []
    for contact in contacts:
        old = existing.get(contact.uri)
        if old is not None and old.callid == request.callid:
            if request.cseq < old.cseq:
                raise _Refusal(500, "Out of order request")
            if request.cseq == old.cseq:
                continue
        updates.append(contact)
    return updates


def _check_max_contacts(existing: dict[str, Binding], updates: list[_Contact], config: _Config) -> None:
    if not config.max_contacts:
        return
    after = set(existing)
    for contact in updates:
        if contact.expires:
            after.add(contact.uri)
        else:
            after.discard(contact.uri)
    if len(after) > config.max_contacts:
        raise _Refusal(503, "Too many registered contacts")


def _contact_header(bindings: list[Binding], config: _Config, now: float) -> list[str]:
    """The 200's Contact: every binding with the seconds it has left (§10.3 step 8)."""
    if not bindings:
        return []
    entries = []
    for b in bindings:
        entry = f"<{b.contact}>"
        if b.q != Q_UNSPECIFIED:
            entry += f";q={_q_text(b.q)}"
        entry += f";expires={max(0, b.expires - int(now))}"
        if b.received:
            entry += f';{config.received_param}="{b.received}"'
        entries.append(entry)
    return ["Contact: " + ", ".join(entries)]


def _q_text(q: int) -> str:
    return f"{q / 1000:.3f}".rstrip("0").rstrip(".")


def _send(ctx, code: int, reason: str, headers: list[str]) -> bool:
    """A stateless reply, as SER's registrar sends with sl_send_reply."""
    if ctx.sender is None:
        LOG.error("registrar: no transport to reply %d on", code)
        return False
    sent = ctx.sender.reply(ctx.msg, ctx.rcv, code, reason, force_rport=ctx.force_rport,
                            extra_headers=reply_headers(ctx) + headers)
    stats.count_sl_reply(code, sent)
    return sent


def save(ctx, table: Location, aor_rule: _Aor) -> int:
    return _save(ctx, table, aor_rule, reply=True, memory_only=False)


def save_noreply(ctx, table: Location, aor_rule: _Aor) -> int:
    return _save(ctx, table, aor_rule, reply=False, memory_only=False)


def save_memory(ctx, table: Location, aor_rule: _Aor) -> int:
    return _save(ctx, table, aor_rule, reply=True, memory_only=True)


def save_mem_nr(ctx, table: Location, aor_rule: _Aor) -> int:
    return _save(ctx, table, aor_rule, reply=False, memory_only=True)


def _with_aor(function):
    """2.0's two-argument forms: the AOR (or URI) is the second argument, an attribute or a text."""
    def call(ctx, table: Location, source: str, aor_rule: _Aor) -> int:
        value = ctx.avps.get(source) if source[:1] in "$%" else source
        return function(ctx, table, aor_rule, None if value is None else str(value))
    return call


def _save_aor(reply: bool, memory_only: bool):
    def call(ctx, table: Location, aor_rule: _Aor, aor_text: str | None) -> int:
        if aor_text is None:
            LOG.error("registrar: the AOR attribute is not set")
            return -1
        return _save(ctx, table, aor_rule, reply=reply, memory_only=memory_only, aor_text=aor_text)
    return _with_aor(call)


# --- lookup --------------------------------------------------------------------------------------

def lookup(ctx, table: Location, aor_rule: _Aor, uri_text: str | None = None) -> int:
    """R-URI <- the best binding of its AOR; the others become branches (append_branches)."""
    config = aor_rule.config
    aor = _lookup_aor(ctx, aor_rule, uri_text)
    if aor is None:
        return -1
    try:
        bindings = table.lookup(aor, time.time())
    except UsrlocError as exc:
        LOG.error("lookup: %s", exc)
        return -2
    if not bindings:
        return -3
    best = bindings[0]
    try:
        ctx.set_uri(best.contact)
    except SipParseError as exc:
        LOG.error("lookup: cannot use %r as the Request-URI: %s", best.contact, exc)
        return -4
    ctx.dst_uri = best.received
    nated = best.flags & FL_NAT
    if config.append_branches:
        nated |= _append(ctx, bindings[1:], config)
    if nated:
        ctx.flags |= config.load_nat_bit
    return 1


def _append(ctx, bindings: list[Binding], config: _Config) -> int:
    """The other bindings as branches with their q and received address; FL_NAT if any is NATed."""
    nated = 0
    limit = MAX_BRANCHES[config.dialect]
    for b in bindings:
        if len(ctx.branches) + 1 >= limit:
            # SER logs it and keeps what fits: the R-URI is rewritten already.
            LOG.error("lookup: the destination set is full (%d branches)", limit)
            break
        ctx.branches.append(Branch(b.contact, None if b.q == Q_UNSPECIFIED else _q_text(b.q), b.received))
        nated |= b.flags & FL_NAT
    return nated


def registered(ctx, table: Location, aor_rule: _Aor, uri_text: str | None = None) -> int:
    """1 when the AOR of the R-URI (or the given URI) has an unexpired binding."""
    aor = _lookup_aor(ctx, aor_rule, uri_text)
    if aor is None:
        return -1
    try:
        return 1 if table.lookup(aor, time.time()) else -1
    except UsrlocError as exc:
        LOG.error("registered: %s", exc)
        return -1


def _lookup_aor(ctx, aor_rule: _Aor, uri_text: str | None) -> str | None:
    try:
        uri = ctx.parsed_uri() if uri_text is None else SipUri.parse(uri_text)
    except SipParseError as exc:
        LOG.error("registrar: cannot take an AOR from %r: %s", uri_text or ctx.uri, exc)
        return None
    return aor_rule.of(uri)


def _uri_form(function):
    def call(ctx, table: Location, aor_rule: _Aor, uri_text: str | None) -> int:
        if uri_text is None:
            LOG.error("registrar: the URI attribute is not set")
            return -1
        return function(ctx, table, aor_rule, uri_text)
    return _with_aor(call)


_T = _table_fixup

EXPORTS = Module(
    name="registrar",
    doc="REGISTER processing",
    functions=(
        fn("save", 1, R, dialects=V08_09, doc="store contacts of the REGISTER in table and reply",
           impl=save, fixup=_T),
        fn("save_noreply", 1, R, dialects=V08_09, doc="save without sending a reply", impl=save_noreply, fixup=_T),
        fn("save_memory", 1, R, dialects=V09, doc="save into memory only", impl=save_memory, fixup=_T),
        fn("lookup", 1, R | F, dialects=V08_09, doc="R-URI <- registered contacts of its AOR",
           impl=lookup, fixup=_T),
        fn("registered", 1, R | F, dialects=V09, doc="is the R-URI AOR registered", impl=registered, fixup=_T),
        # 2.0
        fn("save", 1, R | F, dialects=V20, doc="store contacts of the REGISTER in table and reply",
           impl=save, fixup=_T),
        fn("save", 2, R | F, dialects=V20, doc="save with the AOR given as second argument",
           impl=_save_aor(True, False), fixup=_T),
        fn("save_contacts", 1, R | F, dialects=V20, doc="alias of save", impl=save, fixup=_T),
        fn("save_contacts", 2, R | F, dialects=V20, doc="alias of save/2", impl=_save_aor(True, False), fixup=_T),
        fn("save_noreply", 1, R | O | F, dialects=V20, doc="save without a reply", impl=save_noreply, fixup=_T),
        fn("save_noreply", 2, R | O | F, dialects=V20, doc="save without a reply, explicit AOR",
           impl=_save_aor(False, False), fixup=_T),
        fn("save_contacts_noreply", 1, R | F, dialects=V20, doc="alias of save_noreply",
           impl=save_noreply, fixup=_T),
        fn("save_contacts_noreply", 2, R | F, dialects=V20, doc="alias of save_noreply/2",
           impl=_save_aor(False, False), fixup=_T),
        fn("save_memory", 1, R | F, dialects=V20, doc="save into memory only", impl=save_memory, fixup=_T),
        fn("save_memory", 2, R | F, dialects=V20, doc="save into memory only, explicit AOR",
           impl=_save_aor(True, True), fixup=_T),
        fn("save_mem_nr", 1, R | F, dialects=V20, doc="memory-only save without a reply",
           impl=save_mem_nr, fixup=_T),
        fn("save_mem_nr", 2, R | F, dialects=V20, doc="memory-only save without a reply, explicit AOR",
           impl=_save_aor(False, True), fixup=_T),
        fn("lookup", 1, R | F, dialects=V20, doc="R-URI <- registered contacts", impl=lookup, fixup=_T),
        fn("lookup", 2, R | F, dialects=V20, doc="lookup with the URI given as second argument",
           impl=_uri_form(lookup), fixup=_T),
        fn("lookup_contacts", 1, R | F, dialects=V20, doc="alias of lookup", impl=lookup, fixup=_T),
        fn("lookup_contacts", 2, R | F, dialects=V20, doc="alias of lookup/2", impl=_uri_form(lookup), fixup=_T),
        fn("registered", 1, R | F, dialects=V20, doc="is the R-URI AOR registered", impl=registered, fixup=_T),
        fn("registered", 2, R | F, dialects=V20, doc="is the given URI registered",
           impl=_uri_form(registered), fixup=_T),
    ),
    params=(
        param("default_expires", INT, 3600, doc="expires when the REGISTER gives none (s)"),
        param("min_expires", INT, 60, doc="lower bound of expires (0 = off)"),
        param("max_expires", INT, 0, doc="upper bound of expires (0 = off)"),
        param("default_q", INT, 0, V08, doc="q x 100 for contacts without q"),
        param("default_q", INT, None, V09_20, doc="q x 1000 for contacts without q (unset: none)"),
        param("append_branches", INT, 1, doc="lookup adds all contacts as branches"),
        param("case_sensitive", INT, 0, V08_09, doc="case-sensitive AOR comparison"),
        param("desc_time_order", INT, 0, V08_09, doc="order contacts by last update (usrloc's decides)"),
        param("nat_flag", INT, 4, V08_09, doc="message flag marking NATed contacts (0.8.12+)"),
        param("use_domain", INT, 0, V08_09, doc="AOR is user@domain"),
        param("realm_prefix", STR, "", V08_09, doc="prefix stripped from the domain"),
        param("received_param", STR, "received", V09, doc="Contact parameter reporting the received address"),
        param("received_avp", INT, 42, V09, doc="AVP id holding the received URI"),
        param("max_contacts", INT, 0, V09, doc="contacts per AOR (0 = unlimited)"),
        param("retry_after", INT, 0, V09, doc="Retry-After value for 503 replies"),
        # 2.0
        param("save_nat_flag", FLAG, 4, V20, doc="flag (number or name) saved with NATed contacts"),
        param("load_nat_flag", FLAG, 4, V20, doc="flag (number or name) set by lookup for NATed contacts"),
        param("received_param", STR, "received", V20, doc="Contact parameter reporting the received address"),
        param("max_contacts", INT, 0, V20, doc="contacts per AOR (0 = unlimited)"),
        param("received_to_uri", INT, 0, V20, doc="put the received address into the contact URI"),
        param("reply_code_attr", STR, "$code", V20, doc="AVP receiving the reply code"),
        param("reply_reason_attr", STR, "$reason", V20, doc="AVP receiving the reply reason"),
        param("contact_attr", STR, "$contact", V20, doc="AVP receiving the reply contacts"),
        param("aor_attr", STR, "$aor", V20, doc="AVP holding the AOR"),
        param("server_id_attr", STR, "$server_id", V20, doc="AVP holding the server id"),
        param("trust_received_flag", FLAG, None, V20, doc="flag: trust the received parameter of contacts"),
    ),
    init=_init,
)
