"""group_radius: group membership from RADIUS (SER modules/group_radius; RFC 2865).

`radius_is_user_in(which, group)` asks the RADIUS server.
"""

from stdlib_modules.exports import INT, R, STR, Module, fn, param

EXPORTS = Module(
    name="group_radius",
    doc="RADIUS group membership",
    functions=(
        fn("radius_is_user_in", 2, R, doc="which (Request-URI/To/From/Credentials), group"),
    ),
    params=(
        param("radius_config", STR, "/usr/local/etc/radiusclient/radiusclient.conf", doc="radiusclient config"),
        param("use_domain", INT, 0, doc="send user@domain"),
    ),
)
