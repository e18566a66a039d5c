"""SSL contexts for SIP over TLS, built from SER's tls_* parameters (RFC 3261 §26.2.1).

SER's tls module reads tls_certificate, tls_private_key, tls_ca_list,
tls_verify, tls_require_certificate and tls_method; `server_context` and
`client_context` turn those into `ssl.SSLContext` objects for the stream
transport.  Every problem with the files surfaces as `TlsConfigError`
with a one-line message naming the file, so startup can report it and stop.

tls_method: SSLv23 ("any version") allows every version this build
supports, which is TLS 1.2 and later.  TLSv1 is accepted but also means
TLS 1.2 or later: modern OpenSSL refuses TLS 1.0, and a peer that only
speaks TLS 1.0 fails the handshake either way.  SSLv2 and SSLv3 cannot be
honoured at all and are configuration errors.

Peer host names are not checked: SIP peers are identified by the
transport address, and SER never checked them either.
"""

from __future__ import annotations

import os
import ssl

_METHODS = {"sslv23": ssl.TLSVersion.TLSv1_2, "tlsv1": ssl.TLSVersion.TLSv1_2}
_OBSOLETE = {"sslv2", "sslv3"}


class TlsConfigError(Exception):
    """A TLS parameter or file cannot be used; the message names it."""


def server_context(certificate: str, private_key: str, ca_list: str | None = None, verify: bool = False,
                   require_certificate: bool = False, method: str | None = None) -> ssl.SSLContext:
    """The context for accepted TLS connections.

    require_certificate makes a client certificate mandatory (CERT_REQUIRED);
    verify alone verifies one when the client offers it (CERT_OPTIONAL),
    like OpenSSL's SSL_VERIFY_PEER that SER set for tls_verify.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = _minimum_version(method)
    _load_chain(context, certificate, private_key)
    if require_certificate:
        context.verify_mode = ssl.CERT_REQUIRED
    elif verify:
        context.verify_mode = ssl.CERT_OPTIONAL
    if verify or require_certificate or ca_list:
        _load_authorities(context, ca_list)
    return context


def client_context(ca_list: str | None = None, verify: bool = False, certificate: str | None = None,
                   private_key: str | None = None) -> ssl.SSLContext:
    """The context for TLS connections we open; the certificate is for client authentication."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
    if verify or ca_list:
        _load_authorities(context, ca_list)
    if certificate:
        _load_chain(context, certificate, private_key or certificate)
    return context


def _minimum_version(method: str | None) -> ssl.TLSVersion:
    name = (method or "SSLv23").lower()
    if name in _OBSOLETE:
        raise TlsConfigError(f"tls_method {method}: not supported by this OpenSSL build; use SSLv23 or TLSv1")
    if name not in _METHODS:
        raise TlsConfigError(f"tls_method {method}: unknown method (SSLv23, SSLv2, SSLv3 or TLSv1)")
    return _METHODS[name]


def _load_chain(context: ssl.SSLContext, certificate: str, private_key: str) -> None:
    _check_readable(certificate, "certificate")
    _check_readable(private_key, "private key")
    _check_certificate(certificate)
    try:
        context.load_cert_chain(certificate, private_key, password=_refuse_password)
    except _EncryptedKey:
        raise TlsConfigError(f"{private_key}: private key is encrypted; a passphrase cannot be given") from None
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise TlsConfigError(f"{private_key}: private key does not match certificate {certificate}") from None
        raise TlsConfigError(f"{private_key}: no usable PEM private key ({exc.reason or exc})") from None


def _check_certificate(path: str) -> None:
    """Parse the certificate on its own: load_cert_chain's errors do not say which file is bad."""
    try:
        with open(path, encoding="ascii", errors="replace") as pem:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=pem.read())
    except (ssl.SSLError, ValueError) as exc:
        raise TlsConfigError(f"{path}: no usable PEM certificate ({getattr(exc, 'reason', None) or exc})") from None


def _load_authorities(context: ssl.SSLContext, ca_list: str | None) -> None:
    if not ca_list:
        context.load_default_certs(ssl.Purpose.CLIENT_AUTH if context.protocol == ssl.PROTOCOL_TLS_SERVER
                                   else ssl.Purpose.SERVER_AUTH)
        return
    _check_readable(ca_list, "CA list")
    try:
        context.load_verify_locations(cafile=ca_list)
    except ssl.SSLError as exc:
        raise TlsConfigError(f"{ca_list}: no usable CA certificates ({exc.reason or exc})") from None


def _check_readable(path: str, what: str) -> None:
    if not os.path.isfile(path):
        raise TlsConfigError(f"{path}: {what} file not found")
    if not os.access(path, os.R_OK):
        raise TlsConfigError(f"{path}: {what} file not readable")


class _EncryptedKey(Exception):
    pass


def _refuse_password() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal and block startup.
    raise _EncryptedKey
