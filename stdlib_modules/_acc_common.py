"""Parameters shared by SER 2.0's accounting modules (acc_syslog, acc_db, acc_radius).

SER 2.0 split acc into one module per backend; all three read the same
transaction flags and reporting switches from the common accounting code.
"""

from stdlib_modules.exports import FLAG, INT, param

ACC_COMMON_PARAMS_20 = (
    param("early_media", INT, 0, doc="account 183 replies too"),
    param("failed_transactions", INT, 0, doc="account negative final replies"),
    param("report_ack", INT, None, doc="account e2e ACKs"),
    param("report_cancels", INT, 0, doc="account CANCEL transactions"),
    param("log_flag", FLAG, 0, doc="flag (number or name) marking transactions to account"),
    param("log_missed_flag", FLAG, 0, doc="flag (number or name) for missed calls"),
)
