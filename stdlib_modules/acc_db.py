"""acc_db: accounting into a database (SER 2.0 modules/acc_db).

The 2.0 split of acc: transactions flagged with `log_flag` (a flag number
or a name declared with `flags`) are written to the acc table when tm
completes them; `log_missed_flag` writes negative outcomes to missed_calls.
"""

from stdlib_modules._acc_common import ACC_COMMON_PARAMS_20
from stdlib_modules.exports import F, R, STR, V20, Module, fn, param

_DB_URL = "mysql://ser:heslo@localhost/ser"

EXPORTS = Module(
    name="acc_db",
    doc="database accounting",
    dialects=V20,
    functions=(
        fn("acc_db_log", 0, R | F, doc="write an accounting record for the request now"),
        fn("acc_db_log", 1, R | F, doc="write an accounting record with the given status code"),
        fn("acc_db_missed", 0, R | F, doc="write a missed-call record now"),
        fn("acc_db_missed", 1, R | F, doc="write a missed-call record with the given status code"),
    ),
    params=(
        *ACC_COMMON_PARAMS_20,
        param("log_fmt", STR, None, doc="fields to store (all when unset)"),
        param("attrs", STR, "", doc="AVPs stored with each record"),
        param("db_url", STR, _DB_URL, doc="database URL"),
        param("acc_table", STR, "acc", doc="accounting table"),
        param("mc_table", STR, "missed_calls", doc="missed-calls table"),
    ),
)
