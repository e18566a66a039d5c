"""uri: URI checks (SER modules/uri).

0.9/2.0: tests on the R-URI and the digest user without a database. In
0.8 the module also held the database checks (`check_to`, `check_from`,
`does_uri_exist`) that 0.9 moved into uri_db; they stay without a body
here, like uri_db's.

SER's behaviour kept:

* `is_user` compares with the user part (before any '@') of the digest
  username of the credentials `www_authorize`/`proxy_authorize` accepted,
  byte for byte; Authorization is looked at before Proxy-Authorization.
  The auth module records those credentials with `set_authorized(ctx,
  field)`; without them is_user is false.
* `uri_param(p)` is true only for a parameter `p` *without a value* (or
  an empty one); names and values compare case-sensitively; the first
  parameter named `p` decides.
* `add_uri_param` appends `;p` to the current R-URI (before its headers,
  where SER's code for that case garbles the URI); an empty `p` is true.
* `tel2sip` turns `tel:NUMBER[;params]` (exactly "tel:", lower case) into
  `sip:NUMBER[;params]@<From host>;user=phone`; anything else is left
  alone and true.
* A To or R-URI that does not parse makes the function false, as in SER.
"""

from __future__ import annotations

import logging
import re

from ser_runtime import core_actions
from ser_runtime.sip import SipParseError, SipUri
from stdlib_modules.exports import INT, R, STR, V08, V09_20, Module, fn, param

LOG = logging.getLogger("ser.uri")

_RODB_URL = "mysql://serro:47serro11@localhost/ser"

# Where www_authorize/proxy_authorize record the credentials they accepted
# (SER marks the parsed Authorization header): {"authorization" or
# "proxy-authorization": HeaderField}. A colon is never part of a script AVP name.
AUTHORIZED = "auth:authorized"

_DIGEST = re.compile(r"\s*digest\s+", re.IGNORECASE)
_USERNAME = re.compile(r'(?:^|,)\s*username\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))', re.IGNORECASE)


def set_authorized(ctx, field) -> None:
    """Record the Authorization/Proxy-Authorization header `field` as the accepted credentials."""
    ctx.avps.setdefault(AUTHORIZED, {})[field.key] = field


def authorized_username(ctx) -> str | None:
    """The digest username of the accepted credentials (Authorization first), or None."""
    accepted = ctx.avps.get(AUTHORIZED) or {}
    field = accepted.get("authorization") or accepted.get("proxy-authorization")
    if field is None:
        return None
    return digest_username(field.value)


def digest_username(value: str) -> str | None:
    """The username parameter of a `Digest ...` credentials value (unquoted), or None."""
    scheme = _DIGEST.match(value)
    if scheme is None:
        return None
    found = _USERNAME.search(value[scheme.end():])
    if found is None:
        return None
    quoted, token = found.groups()
    return quoted if quoted is not None else token


def _text_fixup(args: tuple, state) -> tuple:
    return tuple(str(arg) for arg in args)


def is_user(ctx, user: str) -> int:
    """The user part of the authorized digest username is `user` (case-sensitive)."""
    username = authorized_username(ctx)
    if username is None:
        LOG.error("is_user: no authorized credentials: call {www,proxy}_authorize before is_user")
        return -1
    # SER's digest parser splits username="user@domain"; is_user compares the user.
    name = username.partition("@")[0]
    return 1 if name and name == user else -1


def has_totag(ctx) -> int:
    """The To header has a non-empty tag: the request is inside a dialog."""
    try:
        to = ctx.msg.to
        tag = None if to is None else to.tag
    except SipParseError as exc:
        LOG.error("has_totag: To parsing failed: %s", exc.what)
        return -1
    return 1 if tag else -1


def _ruri(ctx, who: str) -> SipUri | None:
    if ctx.uri is None:
        return None
    try:
        return ctx.parsed_uri()
    except SipParseError as exc:
        LOG.error("%s: Request-URI %r does not parse: %s", who, ctx.uri, exc.what)
        return None


def uri_param(ctx, name: str, value: str | None = None) -> int:
    """The R-URI has parameter `name` without a value, or (two arguments) with value `value`."""
    uri = _ruri(ctx, "uri_param")
    if uri is None:
        return -1
    for key, body in uri.params:
        if key == name:
            if value is None:
                return -1 if body else 1
            return 1 if (body or "") == value else -1
    return -1


def add_uri_param(ctx, param_text: str) -> int:
    """Append `;param_text` to the current R-URI, before its headers."""
    if not param_text:
        return 1
    uri = _ruri(ctx, "add_uri_param")
    if uri is None:
        return -1
    if not uri.headers:
        return core_actions.rewriteuri(ctx, f"{ctx.uri};{param_text}")
    base = SipUri(uri.scheme, uri.user, uri.password, uri.host, uri.port_text, uri.params)
    headers = "&".join(f"{k}={v}" for k, v in uri.headers)
    return core_actions.rewriteuri(ctx, f"{base};{param_text}?{headers}")


def tel2sip(ctx) -> int:
    """A `tel:` R-URI becomes `sip:number@<From host>;user=phone`; other URIs are left alone."""
    ruri = ctx.uri
    if ruri is None or not ruri.startswith("tel:"):
        return 1
    try:
        sender = ctx.msg.from_
        if sender is None:
            raise SipParseError("no From header")
        host = sender.parsed_uri.host
    except SipParseError as exc:
        LOG.error("tel2sip: cannot take the host of the From URI: %s", exc.what)
        return -1
    return core_actions.rewriteuri(ctx, f"sip:{ruri[4:]}@{host};user=phone")


EXPORTS = Module(
    name="uri",
    doc="URI checks",
    functions=(
        fn("is_user", 1, R, doc="the authorized digest username equals the argument",
           impl=is_user, fixup=_text_fixup),
        fn("has_totag", 0, R, doc="To has a tag (in-dialog request)", impl=has_totag),
        fn("uri_param", 1, R, doc="R-URI has the parameter (without a value)",
           impl=uri_param, fixup=_text_fixup),
        fn("uri_param", 2, R, doc="R-URI has the parameter with the value",
           impl=uri_param, fixup=_text_fixup),
        fn("add_uri_param", 1, R, dialects=V09_20, doc="append ;param to the R-URI",
           impl=add_uri_param, fixup=_text_fixup),
        fn("tel2sip", 0, R, dialects=V09_20, doc="convert a tel: R-URI to sip:number@From-host;user=phone",
           impl=tel2sip),
        fn("check_to", 0, R, dialects=V08, doc="To username matches the digest username"),
        fn("check_from", 0, R, dialects=V08, doc="From username matches the digest username"),
        fn("does_uri_exist", 0, R, dialects=V08, doc="R-URI user exists in the subscriber/uri table"),
    ),
    params=(
        param("db_url", STR, _RODB_URL, V08, doc="database URL"),
        param("uri_table", STR, "uri", V08, doc="uri table"),
        param("uri_user_column", STR, "username", V08, doc="uri table username column"),
        param("uri_domain_column", STR, "domain", V08, doc="uri table domain column"),
        param("uri_uriuser_column", STR, "uri_user", V08, doc="uri table URI-user column"),
        param("subscriber_table", STR, "subscriber", V08, doc="subscriber table"),
        param("subscriber_user_column", STR, "username", V08, doc="subscriber username column"),
        param("subscriber_domain_column", STR, "domain", V08, doc="subscriber domain column"),
        param("use_uri_table", INT, 0, V08, doc="check against the uri table"),
        param("use_domain", INT, 0, V08, doc="match user@domain"),
    ),
)
