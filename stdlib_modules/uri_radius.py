"""uri_radius: R-URI existence check via RADIUS (SER modules/uri_radius; RFC 2865)."""

from stdlib_modules.exports import INT, R, STR, Module, fn, param

EXPORTS = Module(
    name="uri_radius",
    doc="RADIUS URI check",
    functions=(
        fn("radius_does_uri_exist", 0, R, doc="the R-URI user exists according to RADIUS"),
    ),
    params=(
        param("radius_config", STR, "/usr/local/etc/radiusclient/radiusclient.conf", doc="radiusclient config"),
        param("service_type", INT, 10, doc="RADIUS Service-Type (Call-Check)"),
    ),
)
