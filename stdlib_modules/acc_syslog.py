"""acc_syslog: accounting to syslog (SER 2.0 modules/acc_syslog).

The 2.0 split of acc: flagged transactions are logged as syslog lines
when tm completes them.
"""

from stdlib_modules._acc_common import ACC_COMMON_PARAMS_20
from stdlib_modules.exports import F, INT, R, STR, V20, Module, fn, param

EXPORTS = Module(
    name="acc_syslog",
    doc="syslog accounting",
    dialects=V20,
    functions=(
        fn("acc_syslog_log", 0, R | F, doc="log an accounting line for the request now"),
        fn("acc_syslog_log", 1, R | F, doc="log with the given status code"),
        fn("acc_syslog_missed", 0, R | F, doc="log a missed-call line now"),
        fn("acc_syslog_missed", 1, R | F, doc="log a missed-call line with the given status code"),
    ),
    params=(
        *ACC_COMMON_PARAMS_20,
        param("log_level", INT, 2, doc="syslog level"),
        param("log_fmt", STR, "miocfs", doc="fields to log"),
        param("attrs", STR, "", doc="AVPs logged with each record"),
    ),
)
