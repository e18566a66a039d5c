"""acc: transaction accounting (SER modules/acc, 0.8/0.9).

Transactions whose request carries the configured flag are logged when
tm completes them: to syslog always, to SQL/RADIUS/DIAMETER when built in.
The explicit `acc_*_request` functions log the current request at once.
2.0 splits the module into acc_syslog, acc_db and acc_radius.
"""

from stdlib_modules.exports import INT, R, STR, V08, V08_09, Module, fn, param

_DB_URL = "mysql://ser:heslo@localhost/ser"

_COLUMNS = ("sip_from", "sip_to", "sip_status", "sip_method", "i_uri", "o_uri",
            "sip_callid", "username", "time", "from_uri", "to_uri", "totag",
            "fromtag", "domain")

EXPORTS = Module(
    name="acc",
    doc="transaction accounting",
    dialects=V08_09,
    functions=(
        fn("acc_log_request", 1, R, doc="log the current request to syslog now: comment"),
        fn("acc_db_request", 2, R, doc="log the current request to a DB table: comment, table"),
        fn("acc_rad_request", 1, R, doc="log the current request to RADIUS: comment"),
        fn("acc_diam_request", 1, R, doc="log the current request to DIAMETER: comment"),
    ),
    params=(
        param("log_flag", INT, 0, doc="flag marking transactions for syslog accounting"),
        param("acc_flag", INT, 0, V08, doc="2002 name of log_flag"),
        param("log_missed_flag", INT, 0, doc="flag for missed-call reporting"),
        param("log_level", INT, 2, doc="syslog level of accounting lines"),
        param("log_fmt", STR, "miocfs", doc="fields to log"),
        param("early_media", INT, 0, doc="account 183 replies too"),
        param("failed_transactions", INT, 0, doc="account negative final replies"),
        param("report_ack", INT, 1, doc="account e2e ACKs"),
        param("report_cancels", INT, 0, doc="account CANCEL transactions"),
        param("db_flag", INT, 0, doc="flag for SQL accounting"),
        param("db_missed_flag", INT, 0, doc="flag for SQL missed calls"),
        param("db_url", STR, _DB_URL, doc="database URL"),
        param("db_table_acc", STR, "acc", doc="accounting table"),
        param("db_table_missed_calls", STR, "missed_calls", doc="missed-calls table"),
        param("db_localtime", INT, 0, doc="store local instead of UTC time"),
        *(param(f"acc_{c}_column", STR, c, doc=f"{c} column") for c in _COLUMNS),
        param("radius_config", STR, "/usr/local/etc/radiusclient/radiusclient.conf", doc="radiusclient config"),
        param("radius_flag", INT, 0, doc="flag for RADIUS accounting"),
        param("radius_missed_flag", INT, 0, doc="flag for RADIUS missed calls"),
        param("service_type", INT, -1, doc="RADIUS Service-Type"),
        param("diameter_flag", INT, 1, doc="flag for DIAMETER accounting"),
        param("diameter_missed_flag", INT, 2, doc="flag for DIAMETER missed calls"),
        param("diameter_client_host", STR, "localhost", doc="DIAMETER client host"),
        param("diameter_client_port", INT, 3000, doc="DIAMETER client port"),
    ),
)
