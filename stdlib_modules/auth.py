"""auth: digest authentication core (SER modules/auth; RFC 2617, RFC 3261 section 22).

Challenges (401/407) and nonce handling; the credential check lives in
auth_db/auth_radius/auth_diameter since 0.8.11, which call `pre_auth`
and `post_auth` here (SER's auth API). The 2002 module (still loaded by
the iptel.org configs of that era) did everything itself: database
lookups, `authorize`/`challenge`, group and To/From checks; those
functions have no body here. In 2.0 the challenge is built by the
*_authenticate functions, so auth keeps only `consume_credentials`.

SER 0.9's behaviour kept:

* The nonce carries its own expiry, signed with `secret` (digest.py): any
  server with the same secret accepts it, a nonce made with another
  secret is refused like missing credentials. `secret` defaults to a
  random value made when the configuration is loaded, before the workers
  fork, so all of them share it; a restart invalidates every nonce.
* A right response on an expired nonce is refused, and the next
  challenge says stale=true, so the phone retries without asking its user.
* ACK and CANCEL are always authorized: they cannot be challenged.
* An empty realm is the To host for REGISTER under www_*, the From host
  otherwise, with `realm_prefix` stripped from its start.
* Credentials that do not parse or lack a parameter the response needs
  get 400 and the function returns 0.
* `consume_credentials` removes one header: the Authorization that was
  accepted, or else the accepted Proxy-Authorization.
* The RPID is the AVP `rpid`, loaded by auth_db from the subscriber table.

Added to SER: the digest `uri` must name the Request-URI's destination
(scheme, user, host), else 400 (RFC 2617 section 3.2.2.5), so a response
captured for one destination cannot be replayed towards another. Nonce counts are not
tracked: within its lifetime a nonce can be replayed with the same
method and URI, as in SER.
"""

from __future__ import annotations

import enum
import logging
import re
import secrets
import time
from dataclasses import dataclass

from ser_runtime.sip import HeaderField, SipParseError, SipUri
from stdlib_modules.digest import (
    Credentials, CredentialsError, make_nonce, nonce_expires, nonce_is_ours, parse_credentials,
)
from stdlib_modules.exports import INT, R, STR, V08, V08_09, V09, V09_20, V20, FixupError, Module, fn, param
from stdlib_modules.textops import reply_headers
from stdlib_modules.uri import AUTHORIZED, set_authorized

LOG = logging.getLogger("ser.auth")

_RPID_SUFFIX = ";party=calling;id-type=subscriber;screen=yes"
RPID_AVP = "rpid"

# Where a refused stale nonce is remembered for the challenge that follows:
# the set of credential header keys. A colon is never part of a script AVP name.
STALE = "auth:stale"

_E164 = re.compile(r"\+[0-9]{2,15}")


@dataclass(frozen=True, slots=True)
class AuthConfig:
    secret: str
    nonce_expire: int
    realm_prefix: str
    rpid_prefix: str
    rpid_suffix: str


@dataclass(frozen=True, slots=True)
class Kind:
    """www_* or proxy_*: which credentials header, which challenge."""

    header: str           # header_key of the credentials
    challenge: str
    code: int
    reason: str


WWW = Kind("authorization", "WWW-Authenticate", 401, "Unauthorized")
PROXY = Kind("proxy-authorization", "Proxy-Authenticate", 407, "Proxy Authentication Required")


class Outcome(enum.Enum):
    """SER's auth_result_t: what pre_auth leaves the credential modules to do."""

    ERROR = "a reply has been sent"                 # the function returns 0
    NOT_AUTHORIZED = "no usable credentials"        # -1
    DO_AUTHORIZATION = "check the response"
    AUTHORIZED = "authorized without a check"       # ACK, CANCEL: 1


@dataclass(frozen=True, slots=True)
class Attempt:
    """Credentials pre_auth found for the realm: the header, its parsed value, the realm."""

    field: HeaderField
    credentials: Credentials
    realm: str


# The configuration auth_db's functions see: set by the last auth `init`
# (SER's auth_db found auth's API with find_export at start-up).
_current: AuthConfig | None = None


def current() -> AuthConfig | None:
    return _current


def _init(params: dict) -> AuthConfig:
    global _current
    _current = AuthConfig(secret=params["secret"] or secrets.token_hex(16),
                          nonce_expire=params["nonce_expire"],
                          realm_prefix=params.get("realm_prefix") or "",
                          rpid_prefix=params["rpid_prefix"] or "", rpid_suffix=params["rpid_suffix"] or "")
    return _current


# --- replies ---------------------------------------------------------------------------------

def send_reply(ctx, code: int, reason: str, extra: tuple[str, ...] = ()) -> bool:
    """A stateless reply as sl_send_reply sends it, with `extra` header lines."""
    if ctx.sender is None:
        LOG.error("cannot reply %d: no transport in this process", code)
        return False
    return ctx.sender.reply(ctx.msg, ctx.rcv, code, reason, force_rport=ctx.force_rport,
                            extra_headers=[*reply_headers(ctx), *extra])


def _bad_request(ctx, why: str) -> Outcome:
    LOG.info("%s from %s:%d: 400", why, ctx.rcv.src_ip, ctx.rcv.src_port)
    send_reply(ctx, 400, "Bad Request")
    return Outcome.ERROR


# --- the auth API: pre_auth / post_auth ------------------------------------------------------

def default_realm(ctx, kind: Kind, prefix: str) -> str | None:
    """SER's get_realm + strip_realm: the To host of a REGISTER under www_*, else the From host."""
    msg = ctx.msg
    try:
        use_to = kind is WWW and msg.method.upper() == "REGISTER"
        address = msg.to if use_to else msg.from_
        if address is None:
            return None
        host = address.parsed_uri.host
    except SipParseError:
        return None
    if prefix and host[:len(prefix)].lower() == prefix.lower():
        host = host[len(prefix):]
    return host


def pre_auth(ctx, realm: str, kind: Kind, config: AuthConfig) -> tuple[Outcome, Attempt | None]:
    """Find and check the credentials for `realm` before the credential module looks up the user."""
    msg = ctx.msg
    if msg.method.upper() in ("ACK", "CANCEL"):
        return Outcome.AUTHORIZED, None
    if not realm:
        realm = default_realm(ctx, kind, config.realm_prefix)
        if not realm:
            return _bad_request(ctx, "no realm: the From/To URI does not parse"), None
    try:
        found = _find_credentials(msg, realm, kind)
    except CredentialsError as exc:
        return _bad_request(ctx, f"malformed {kind.header} ({exc})"), None
    if found is None:
        return Outcome.NOT_AUTHORIZED, None
    field, credentials = found
    missing = credentials.missing()
    if missing:
        return _bad_request(ctx, f"{kind.header} without {', '.join(missing)}"), None
    if credentials.algorithm is not None and credentials.algorithm.lower() != "md5":
        LOG.info("%s: unsupported algorithm %r", kind.header, credentials.algorithm)
        return Outcome.NOT_AUTHORIZED, None
    if not nonce_is_ours(credentials.nonce, config.secret):
        LOG.info("a nonce we did not make, from %s:%d", ctx.rcv.src_ip, ctx.rcv.src_port)
        return Outcome.NOT_AUTHORIZED, None
    if not _same_uri(credentials.uri, msg.ruri):
        return _bad_request(ctx, f"digest uri {credentials.uri!r} is not the Request-URI"), None
    return Outcome.DO_AUTHORIZATION, Attempt(field, credentials, realm)


def post_auth(ctx, attempt: Attempt, kind: Kind) -> bool:
    """After a right response: refuse a stale nonce (remembered for the challenge), else mark the credentials."""
    if nonce_expires(attempt.credentials.nonce) < time.time():
        ctx.avps.setdefault(STALE, set()).add(kind.header)
        return False
    set_authorized(ctx, attempt.field)
    return True


def _find_credentials(msg, realm: str, kind: Kind):
    """The first Digest credentials of the kind whose realm is `realm` (any case), or None."""
    for field in msg.headers_named(kind.header):
        credentials = parse_credentials(field.value)
        if credentials is not None and (credentials.realm or "").lower() == realm.lower():
            return field, credentials
    return None


def _same_uri(digest_uri: str, ruri: str) -> bool:
    """The digest uri names the Request-URI's destination: the same scheme, user and host (any case).

    Ports must agree only when both URIs give one, and parameters do not
    count: clients such as SIPp name the port in the digest uri only.
    """
    if digest_uri == ruri:
        return True
    try:
        ours, theirs = SipUri.parse(ruri), SipUri.parse(digest_uri)
    except SipParseError:
        return False
    same_port = ours.port is None or theirs.port is None or ours.port == theirs.port
    return same_port and _destination(ours) == _destination(theirs)


def _destination(uri: SipUri) -> tuple:
    return uri.scheme.lower(), uri.user_decoded, uri.host.lower()


# --- script functions ------------------------------------------------------------------------

def _challenge_fixup(args: tuple, config: AuthConfig) -> tuple:
    realm, qop = args
    try:
        offer_qop = int(qop) != 0
    except (TypeError, ValueError):
        raise FixupError(f"qop must be a number (1: offer qop=auth), not '{qop}'", 1) from None
    return str(realm), offer_qop, config


def www_challenge(ctx, realm: str, qop: bool, config: AuthConfig) -> int:
    """Send 401 with a WWW-Authenticate challenge; 0 stops the script."""
    return challenge(ctx, realm, qop, WWW, config)


def proxy_challenge(ctx, realm: str, qop: bool, config: AuthConfig) -> int:
    """Send 407 with a Proxy-Authenticate challenge; 0 stops the script."""
    return challenge(ctx, realm, qop, PROXY, config)


def challenge(ctx, realm: str, qop: bool, kind: Kind, config: AuthConfig) -> int:
    if not realm:
        realm = default_realm(ctx, kind, config.realm_prefix)
        if not realm:
            _bad_request(ctx, "no realm for the challenge: the From/To URI does not parse")
            return 0
    nonce = make_nonce(int(time.time()) + config.nonce_expire, config.secret)
    header = f'{kind.challenge}: Digest realm="{realm}", nonce="{nonce}"'
    if qop:
        header += ', qop="auth"'
    if kind.header in ctx.avps.get(STALE, ()):
        header += ", stale=true"
    header += ", algorithm=MD5"
    return 0 if send_reply(ctx, kind.code, kind.reason, (header,)) else -1


def consume_credentials(ctx) -> int:
    """Remove the accepted credentials header (Authorization first) from the request."""
    accepted = ctx.avps.get(AUTHORIZED) or {}
    field = accepted.get(WWW.header) or accepted.get(PROXY.header)
    if field is None:
        if ctx.msg.method.upper() not in ("ACK", "CANCEL"):
            LOG.error("consume_credentials: no authorized credentials: call {www,proxy}_authorize first")
        return -1
    try:
        ctx.msg.remove_header(field)
    except SipParseError as exc:
        LOG.error("consume_credentials: cannot remove %s: %s", field.name, exc.what)
        return -1
    return 1


def is_rpid_user_e164(ctx) -> int:
    """The user of the RPID URI auth_db loaded is an E.164 number (+ and 2 to 15 digits)."""
    rpid = ctx.avps.get(RPID_AVP)
    if not rpid:
        return -1
    text = str(rpid)
    if "<" in text:
        text = text[text.index("<") + 1:].partition(">")[0]
    try:
        user = SipUri.parse(text.strip()).user
    except SipParseError:
        user = text.strip()
    return 1 if user and _E164.fullmatch(user) else -1


def append_rpid_hf(ctx, prefix: str | None = None, suffix: str | None = None, config: AuthConfig = None) -> int:
    """Add `Remote-Party-ID: <prefix><rpid><suffix>` when auth_db loaded an RPID."""
    rpid = ctx.avps.get(RPID_AVP)
    if not rpid:
        return -1
    if prefix is None:
        prefix, suffix = config.rpid_prefix, config.rpid_suffix
    try:
        ctx.msg.add_header("Remote-Party-ID", f"{prefix}{rpid}{suffix}")
    except SipParseError as exc:
        LOG.error("append_rpid_hf: %s", exc.what)
        return -1
    return 1


def _rpid_fixup(args: tuple, config: AuthConfig) -> tuple:
    if args:
        return str(args[0]), str(args[1]), config
    return None, None, config


EXPORTS = Module(
    name="auth",
    doc="digest authentication",
    functions=(
        fn("www_challenge", 2, R, dialects=V08_09, doc="send 401 with WWW-Authenticate: realm, qop",
           impl=www_challenge, fixup=_challenge_fixup),
        fn("proxy_challenge", 2, R, dialects=V08_09, doc="send 407 with Proxy-Authenticate: realm, qop",
           impl=proxy_challenge, fixup=_challenge_fixup),
        fn("consume_credentials", 0, R, doc="remove the credentials used to authorize the request",
           impl=consume_credentials),
        fn("is_rpid_user_e164", 0, R, dialects=V08_09, doc="is the RPID obtained during auth an E.164 number",
           impl=is_rpid_user_e164),
        fn("append_rpid_hf", 0, R, dialects=V08_09, doc="add Remote-Party-ID from the RPID",
           impl=append_rpid_hf, fixup=_rpid_fixup),
        fn("append_rpid_hf", 2, R, dialects=V09, doc="add Remote-Party-ID with prefix, suffix",
           impl=append_rpid_hf, fixup=_rpid_fixup),
        # 2002 combined module (before auth_db/group/uri were split out)
        fn("www_authorize", 2, R, dialects=V08, doc="2002: check Authorization against the DB: realm, table"),
        fn("proxy_authorize", 2, R, dialects=V08, doc="2002: check Proxy-Authorization: realm, table"),
        fn("authorize", 1, R, dialects=V08, doc="2002: check credentials for realm"),
        fn("challenge", 2, R, dialects=V08, doc="2002: send a challenge: realm, qop"),
        fn("is_in_group", 1, R, dialects=V08, doc="2002: authenticated user is in group"),
        fn("is_user", 1, R, dialects=V08, doc="2002: authenticated username equals the argument"),
        fn("check_to", 0, R, dialects=V08, doc="2002: To username equals the authenticated user"),
        fn("check_from", 0, R, dialects=V08, doc="2002: From username equals the authenticated user"),
    ),
    params=(
        param("secret", STR, None, doc="nonce secret (random when unset)"),
        param("nonce_expire", INT, 300, doc="nonce lifetime (s)"),
        param("rpid_prefix", STR, "", doc="prefix of the Remote-Party-ID header"),
        param("rpid_suffix", STR, _RPID_SUFFIX, doc="suffix of the Remote-Party-ID header"),
        param("realm_prefix", STR, "", V09_20, doc="prefix stripped from generated realms"),
        param("qop", STR, "auth", V20, doc="qop offered in challenges (empty = none)"),
        param("calculate_ha1", INT, 0, V09_20, moved_to="auth_db",
              doc="auth_db's parameter since 0.8.11; accepted here and passed on"),
        # 2002 combined module
        param("db_url", STR, None, V08, doc="2002: credentials database"),
        param("table", STR, "subscriber", V08, doc="2002: credentials table"),
        param("user_column", STR, "user", V08, doc="2002: username column"),
        param("domain_column", STR, "domain", V08, doc="2002: domain column"),
        param("password_column", STR, "ha1", V08, doc="2002: HA1 column"),
        param("password_column_2", STR, "ha1b", V08, doc="2002: HA1 with domain column"),
        param("calculate_ha1", INT, 0, V08, doc="2002: column holds plaintext passwords"),
        param("retry_count", INT, 5, V08, doc="2002: challenges before giving up"),
        param("grp_table", STR, "grp", V08, doc="2002: group table"),
        param("grp_user_column", STR, "user", V08, doc="2002: group username column"),
        param("grp_group_column", STR, "grp", V08, doc="2002: group name column"),
    ),
    init=_init,
)
