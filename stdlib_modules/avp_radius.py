"""avp_radius: AVPs from RADIUS (SER modules/avp_radius, 0.9 and 2.0; RFC 2865).

`avp_load_radius` asks the RADIUS server for the caller's or callee's
attributes and stores the reply values as AVPs.
"""

from stdlib_modules.exports import F, INT, R, STR, V09_20, Module, fn, param

EXPORTS = Module(
    name="avp_radius",
    doc="AVPs from RADIUS",
    dialects=V09_20,
    functions=(
        fn("avp_load_radius", 1, R | F, doc="load attributes: caller or callee"),
    ),
    params=(
        param("radius_config", STR, "/usr/local/etc/radiusclient/radiusclient.conf", doc="radiusclient config"),
        param("caller_service_type", INT, None, doc="Service-Type for caller queries"),
        param("callee_service_type", INT, None, doc="Service-Type for callee queries"),
    ),
)
