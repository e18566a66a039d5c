"""tls: TLS transport (SER 2.0 modules/tls; RFC 3261 section 26, RFC 5246).

Provides the TLS engine for `listen=tls:...` sockets; certificates,
verification and per-domain settings come from the parameters.
"""

from stdlib_modules.exports import INT, R, STR, V20, Module, fn, param

EXPORTS = Module(
    name="tls",
    doc="TLS transport",
    dialects=V20,
    functions=(
        fn("is_peer_verified", 0, R, doc="the TLS peer presented a verified certificate"),
    ),
    params=(
        param("tls_method", STR, "TLSv1", doc="SSLv2, SSLv3, SSLv23 or TLSv1"),
        param("verify_certificate", INT, 0, doc="verify the peer's certificate"),
        param("verify_depth", INT, 9, doc="certificate chain depth"),
        param("require_certificate", INT, 0, doc="require a client certificate"),
        param("private_key", STR, "cert.pem", doc="private key file"),
        param("certificate", STR, "cert.pem", doc="certificate file"),
        param("ca_list", STR, None, doc="trusted CA file"),
        param("cipher_list", STR, None, doc="OpenSSL cipher list"),
        param("config", STR, None, doc="per-domain TLS configuration file"),
        param("handshake_timeout", INT, 120, doc="handshake timeout (s)"),
        param("send_timeout", INT, 120, doc="send timeout (s)"),
        param("connection_timeout", INT, 600, doc="idle connection timeout (s)"),
        param("tls_log", INT, 3, doc="log level of TLS messages"),
        param("session_cache", INT, 0, doc="enable the session cache"),
        param("session_id", STR, "ser-tls-2.0.0", doc="session id context"),
    ),
)
