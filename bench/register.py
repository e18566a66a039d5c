"""Registrations per second through our `ser` and Kamailio 5.6's registrar, three workloads in one run.

SIPp's UAC registers 1,000 users from an injection file (the same users
for both servers), one REGISTER per "call", from one socket (`-t u1`), so
every user keeps one binding that each REGISTER refreshes; the server
answers itself, there is no UAS. The workloads:

* register: REGISTER without authentication, usrloc in memory (ser
  db_mode 0; Kamailio runs the anchor's registrar.cfg). One SIP message
  per registration.
* register-auth-sqlite: REGISTER, 401 challenge, REGISTER with digest
  credentials checked against a SQLite subscriber table with plain-text
  passwords (calculate_ha1), then save. Two SIP messages per registration.
  Kamailio runs the anchor's registrar-auth.cfg on a file with Kamailio's
  own schema (/usr/share/kamailio/db_sqlite); ser runs auth_db on a file
  with SER 0.9's schema (ser_runtime.db.schema.create_schema).
* register-auth-mysql: the same against MariaDB (127.0.0.1:3306, root):
  a database per server, created before it starts and dropped after it
  stops; Kamailio's config is the same file with db_mysql for db_sqlite.

Both servers run the same route, in SER 0.9 syntax for ser:
Max-Forwards check; a REGISTER without valid credentials gets
www_challenge (realm 127.0.0.1, no qop), then consume_credentials and
save("location"); anything else 404. Scenarios: the anchor's
register.xml and register-auth.xml (/work/shared/bench/scenarios).

For each workload, ser with 1 worker and then Kamailio with 1 process get
the ramp, bisection and confirm run of bench/common.py (the highest rate
with no failed registration, no retransmission, 95% of the rate carried);
Kamailio then gets one more run at ser's confirm rate, for the CPU per
registration of both at the same offered rate. Goals (issue 6): ser at
40% of Kamailio's rate with authentication, 50% without.

Run: python bench/register.py [--quick] [--seconds N] [--profile [--rate R] [--workload NAME]]
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

import common

from ser_runtime.db import Database, open_db
from ser_runtime.db.schema import create_schema

USERS = 1000
INJECTION = "users.csv"  # in the run directory, where SIPp runs
REALM = common.HOST
SECRET = "register-bench-nonce-secret"
MYSQL_SERVER = "root@127.0.0.1:3306"
KAMAILIO_SQL = Path("/usr/share/kamailio")  # the schema files of kamailio-{sqlite,mysql}-modules
KAMAILIO_SQL_DIR = {"sqlite": "db_sqlite", "mysql": "mysql"}

SER_HEAD = """debug=0
log_stderror=yes
{processes}
maxbuffer={buffer}
listen=udp:{host}:{port}
loadmodule "/usr/lib/ser/modules/sl.so"
loadmodule "/usr/lib/ser/modules/maxfwd.so"
loadmodule "/usr/lib/ser/modules/usrloc.so"
loadmodule "/usr/lib/ser/modules/registrar.so"
modparam("usrloc", "db_mode", 0)
"""

SER_REGISTER = SER_HEAD + """route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); break; }};
    if (method=="REGISTER") {{
        if (!save("location")) {{ sl_reply_error(); }};
        break;
    }};
    sl_send_reply("404", "Not Here");
}}
"""

SER_REGISTER_AUTH = SER_HEAD + f"""loadmodule "/usr/lib/ser/modules/auth.so"
loadmodule "/usr/lib/ser/modules/auth_db.so"
modparam("auth", "secret", "{SECRET}")
modparam("auth_db", "db_url", "{{db_url}}")
modparam("auth_db", "calculate_ha1", 1)
modparam("auth_db", "password_column", "password")
route {{{{
    if (!mf_process_maxfwd_header("10")) {{{{ sl_send_reply("483", "Too Many Hops"); break; }}}};
    if (method=="REGISTER") {{{{
        if (!www_authorize("{REALM}", "subscriber")) {{{{ www_challenge("{REALM}", "0"); break; }}}};
        consume_credentials();
        if (!save("location")) {{{{ sl_reply_error(); }}}};
        break;
    }}}};
    sl_send_reply("404", "Not Here");
}}}}
"""


def user(i: int) -> tuple[str, str]:
    return f"bench{i:04d}", f"secret-{i:04d}"


def write_injection(directory: Path) -> None:
    """SIPp's injection file: field 0 the user, field 1 the [authentication] keyword register-auth.xml sends."""
    lines = (f"{name};[authentication username={name} password={password}]\n"
             for name, password in map(user, range(USERS)))
    (directory / INJECTION).write_text("SEQUENTIAL\n" + "".join(lines))


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def subscriber_rows() -> list[tuple[str, str, str, str, str]]:
    """(username, domain, password, ha1, ha1b) of every user."""
    return [(name, REALM, password, md5(f"{name}:{REALM}:{password}"), md5(f"{name}@{REALM}:{REALM}:{password}"))
            for name, password in map(user, range(USERS))]


def ser_subscribers(db: Database) -> None:
    create_schema(db)
    db.executemany("INSERT INTO subscriber (phplib_id, username, domain, password, ha1, ha1b) "
                   "VALUES (?, ?, ?, ?, ?, ?)", [(row[0], *row) for row in subscriber_rows()])


def kamailio_subscribers(db: Database, backend: str) -> None:
    """Kamailio's version and subscriber tables from its own schema files, then the users."""
    directory = KAMAILIO_SQL / KAMAILIO_SQL_DIR[backend]
    for name in ("standard-create.sql", "auth_db-create.sql"):
        path = directory / name
        if not path.exists():
            raise RuntimeError(f"{path} is missing: install kamailio-sqlite-modules and kamailio-mysql-modules")
        for statement in path.read_text().split(";"):
            if statement.strip():
                db.execute(statement)
    db.executemany("INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, ?, ?, ?)",
                   subscriber_rows())


def database_url(backend: str, directory: Path, server: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory / f'{server}-subscriber.sqlite'}"
    return f"mysql://{MYSQL_SERVER}/regbench_{server}_{os.getpid()}"


def setup(backend: str | None):
    """The workload's setup hook: the injection file and, with `backend`, a fresh database of users."""
    def prepare(stack: ExitStack, directory: Path, server: str) -> dict[str, str]:
        write_injection(directory)
        if backend is None:
            return {}
        url = database_url(backend, directory, server)
        db = open_db(url)
        db.drop_database()  # what an interrupted run may have left
        db.create_database()
        stack.callback(db.drop_database)
        if server == "ser":
            ser_subscribers(db)
        else:
            kamailio_subscribers(db, backend)
        db.close()
        return {"db_url": url}
    return prepare


def kamailio_db_define(next_port: int | None, db_url: str) -> str:
    return f'DBURL="{db_url}"'


NO_AUTH = common.Workload(
    name="register", unit="registration", messages=1,
    uac=common.SCENARIOS / "register.xml", uas=None, ser_config=SER_REGISTER,
    kamailio_cfg="registrar.cfg", kamailio_define=lambda next_port: "",
    sipp_options=("-inf", INJECTION), transport="u1", setup=setup(None))

AUTH_SQLITE = common.Workload(
    name="register-auth-sqlite", unit="registration", messages=2,
    uac=common.SCENARIOS / "register-auth.xml", uas=None, ser_config=SER_REGISTER_AUTH,
    kamailio_cfg="registrar-auth.cfg", kamailio_define=kamailio_db_define,
    sipp_options=("-inf", INJECTION), transport="u1", setup=setup("sqlite"))

AUTH_MYSQL = common.Workload(
    name="register-auth-mysql", unit="registration", messages=2,
    uac=common.SCENARIOS / "register-auth.xml", uas=None, ser_config=SER_REGISTER_AUTH,
    kamailio_cfg="registrar-auth.cfg", kamailio_define=kamailio_db_define,
    kamailio_replace=(('loadmodule "db_sqlite.so"', 'loadmodule "db_mysql.so"'),),
    sipp_options=("-inf", INJECTION), transport="u1", setup=setup("mysql"))

WORKLOADS = (NO_AUTH, AUTH_SQLITE, AUTH_MYSQL)
GOALS = {NO_AUTH.name: 0.50, AUTH_SQLITE.name: 0.40, AUTH_MYSQL.name: 0.40}


def bench(plan: common.Plan) -> None:
    summary = []
    for work in WORKLOADS:
        with tempfile.TemporaryDirectory(prefix=f"{work.name}-") as tmp:
            directory = Path(tmp)
            ser = common.measure(work, directory, None, "ser", 1, plan)
            # ser's last confirm run is its run at the common rate; Kamailio gets one more.
            ser.at_rate, rate = ser.confirm, ser.confirm.rate
            kamailio = common.measure(work, directory, None, "kamailio", 1, plan, at_rate=rate)
        summary.append(report(work, ser, kamailio, rate, plan))
    print("\nsummary (ser 1 worker / Kamailio 1 process):")
    for line in summary:
        print(f"  {line}")


def report(work: common.Workload, ser: common.Result, kamailio: common.Result, rate: int,
           plan: common.Plan) -> str:
    """Print one workload's tables and ratios; return its summary line."""
    print(f"\n== {work.name}")
    print("confirm runs (the highest rate found clean; NOT CLEAN: even the last, lowest try failed):")
    common.print_table(work, [("ser 1w", ser.confirm), ("kamailio 1p", kamailio.confirm)])
    print(f"\nsame offered rate, {rate} registrations/s (ser's last confirm run):")
    common.print_table(work, [("ser 1w", ser.at_rate), ("kamailio 1p", kamailio.at_rate)])
    goal = GOALS[work.name]
    share = ser.confirm.achieved / kamailio.confirm.achieved
    by_cpu = kamailio.at_rate.cpu_us / ser.at_rate.cpu_us
    line = (f"{work.name}: rate {share:.1%}, by CPU per registration at {rate}/s {by_cpu:.1%} "
            f"({ser.at_rate.cpu_us:.0f} against {kamailio.at_rate.cpu_us:.0f} µs); goal {goal:.0%}: "
            f"{'met' if share >= goal else 'NOT met'} by rate, {'met' if by_cpu >= goal else 'NOT met'} by CPU")
    print(f"\n{line}")
    common.print_ramps(work, [ser, kamailio], plan)
    return line


if __name__ == "__main__":
    common.main(WORKLOADS, __doc__.splitlines()[0], bench, profile_rate=500)
