"""acc_syslog: accounting to syslog (SER 2.0 modules/acc_syslog).

The 2.0 split of acc: flagged transactions are logged as syslog lines
when tm completes them.
"""

from stdlib_modules.exports import F, FLAG, INT, R, STR, V20, Module, fn, param

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
        param("early_media", INT, 0, doc="account 183 replies too"),
        param("failed_transactions", INT, 0, doc="account negative final replies"),
        param("report_ack", INT, None, doc="account e2e ACKs"),
        param("report_cancels", INT, 0, doc="account CANCEL transactions"),
        param("log_flag", FLAG, 0, doc="flag (number or name) marking transactions to log"),
        param("log_missed_flag", FLAG, 0, doc="flag (number or name) for missed calls"),
        param("log_level", INT, 2, doc="syslog level"),
        param("log_fmt", STR, "miocfs", doc="fields to log"),
        param("attrs", STR, "", doc="AVPs logged with each record"),
    ),
)
