"""acc_radius: accounting to RADIUS (SER 2.0 modules/acc_radius; RFC 2866).

The 2.0 split of acc: flagged transactions produce RADIUS
Accounting-Request packets (needs a RADIUS server and radiusclient).
"""

from stdlib_modules._acc_common import ACC_COMMON_PARAMS_20
from stdlib_modules.exports import F, INT, R, STR, V20, Module, fn, param

EXPORTS = Module(
    name="acc_radius",
    doc="RADIUS accounting",
    dialects=V20,
    functions=(
        fn("acc_rad_log", 0, R | F, doc="send an accounting record for the request now"),
        fn("acc_rad_log", 1, R | F, doc="send with the given status code"),
        fn("acc_rad_missed", 0, R | F, doc="send a missed-call record now"),
        fn("acc_rad_missed", 1, R | F, doc="send a missed-call record with the given status code"),
    ),
    params=(
        *ACC_COMMON_PARAMS_20,
        param("attrs", STR, "", doc="AVPs sent with each record"),
        param("radius_config", STR, "/usr/local/etc/radiusclient/radiusclient.conf", doc="radiusclient config"),
        param("service_type", INT, -1, doc="RADIUS Service-Type"),
    ),
)
