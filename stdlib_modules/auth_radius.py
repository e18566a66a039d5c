"""auth_radius: digest credentials checked by a RADIUS server (SER modules/auth_radius; RFC 2865, draft-sterman-aaa-sip).

Needs radiusclient-ng and a RADIUS server with the digest extension.
"""

from stdlib_modules.exports import INT, R, STR, Module, fn, param

EXPORTS = Module(
    name="auth_radius",
    doc="RADIUS digest authentication",
    functions=(
        fn("radius_www_authorize", 1, R, doc="verify Authorization via RADIUS: realm"),
        fn("radius_proxy_authorize", 1, R, doc="verify Proxy-Authorization via RADIUS: realm"),
    ),
    params=(
        param("radius_config", STR, "/usr/local/etc/radiusclient/radiusclient.conf", doc="radiusclient config"),
        param("service_type", INT, 15, doc="RADIUS Service-Type (Sip-Session)"),
    ),
)
