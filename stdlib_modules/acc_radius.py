"""acc_radius: accounting to RADIUS (SER 2.0 modules/acc_radius; RFC 2866).

The 2.0 split of acc: flagged transactions produce RADIUS
Accounting-Request packets (needs a RADIUS server and radiusclient).
"""

from stdlib_modules.exports import F, FLAG, INT, R, STR, V20, Module, fn, param

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
        param("early_media", INT, 0, doc="account 183 replies too"),
        param("failed_transactions", INT, 0, doc="account negative final replies"),
        param("report_ack", INT, None, doc="account e2e ACKs"),
        param("report_cancels", INT, 0, doc="account CANCEL transactions"),
        param("log_flag", FLAG, 0, doc="flag (number or name) marking transactions to account"),
        param("log_missed_flag", FLAG, 0, doc="flag (number or name) for missed calls"),
        param("attrs", STR, "", doc="AVPs sent with each record"),
        param("radius_config", STR, "/usr/local/etc/radiusclient/radiusclient.conf", doc="radiusclient config"),
        param("service_type", INT, -1, doc="RADIUS Service-Type"),
    ),
)
