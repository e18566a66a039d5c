"""SER 0.9's database schema (`ser_mysql.sh create` of SER 0.9.3 to 0.9.7) for MySQL and SQLite.

The tables, columns, keys and `version` rows are those of the 0.9.3-0.9.7 script; the
table versions are what SER's modules check at start-up (`Database.require_version`).
Where a 2005 MySQL-ism no longer works, the portable equivalent is used:
InnoDB and utf8mb4 instead of MyISAM (transactions), `timestamp` instead of
`timestamp(14)`, '1970-01-01 00:00:00' instead of the zero date (refused by MySQL's
NO_ZERO_DATE and not a date to Python), and no default on BLOB/TEXT columns. SQLite
gets the same tables with its own types; its text columns compare without case, as
MySQL's default collation does (a user `Alice` is `alice` on both backends); its index
names carry the table name, as they share one namespace there; its `timestamp` columns default to the insert time,
and writers set them on UPDATE (SQLite has no ON UPDATE CURRENT_TIMESTAMP).
"""

from __future__ import annotations

from dataclasses import dataclass

from ser_runtime.db import Database, DbError

NO_DATE = "1970-01-01 00:00:00"
FOREVER = "2020-05-28 21:32:15"  # ser_mysql.sh's default `expires` of location and aliases


@dataclass(frozen=True)
class Column:
    """`type` is MySQL's spelling (varchar(N), int unsigned, float(10,2), datetime, timestamp, blob...)
    or `serial`, an auto-increment primary key; `_SQLITE_TYPES` maps it for SQLite."""

    name: str
    type: str
    default: str | int | float | None = None
    null: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    version: int
    columns: tuple[Column, ...]
    primary: tuple[str, ...] = ()
    unique: tuple[tuple[str, tuple[str, ...]], ...] = ()
    indexes: tuple[tuple[str, tuple[str, ...]], ...] = ()


# Short constructors keep the table list below as dense as ser_mysql.sh: _c any column, _s a varchar.
def _c(name: str, type_: str, default=None, null: bool = False) -> Column:
    return Column(name, type_, default, null)


def _s(name: str, size: int, default="") -> Column:
    return Column(name, f"varchar({size})", default)


def _user_cols() -> tuple[Column, ...]:
    return _s("username", 64), _s("domain", 128)


def _acc_cols() -> tuple[Column, ...]:
    return (_s("sip_from", 128), _s("sip_to", 128), _s("sip_status", 128), _s("sip_method", 16),
            _s("i_uri", 128), _s("o_uri", 128), _s("from_uri", 128), _s("to_uri", 128),
            _s("sip_callid", 128), *_user_cols(), _s("fromtag", 128), _s("totag", 128),
            _c("time", "datetime", NO_DATE), _c("timestamp", "timestamp"))


def _usrloc_cols() -> tuple[Column, ...]:
    return (*_user_cols(), _s("contact", 255), _c("received", "varchar(255)", null=True),
            _c("expires", "datetime", FOREVER), _c("q", "float(10,2)", 1.0),
            _s("callid", 255, "Default-Call-ID"), _c("cseq", "int", 42), _c("last_modified", "timestamp"),
            _c("replicate", "int unsigned", 0), _c("state", "tinyint unsigned", 0), _c("flags", "int", 0),
            _s("user_agent", 50))


def _subscriber_cols() -> tuple[Column, ...]:
    return (_s("phplib_id", 32), *_user_cols(), _s("password", 25), _s("first_name", 25),
            _s("last_name", 45), _s("phone", 15), _s("email_address", 50),
            _c("datetime_created", "datetime", NO_DATE), _c("datetime_modified", "datetime", NO_DATE),
            _s("confirmation", 64), _c("flag", "char(1)", "o"), _s("sendnotification", 50),
            _s("greeting", 50), _s("ha1", 128), _s("ha1b", 128), _c("allow_find", "char(1)", "0"),
            _c("timezone", "varchar(128)", null=True), _c("rpid", "varchar(128)", null=True),
            _c("domn", "int", null=True), _c("uuid", "varchar(64)", null=True))


_USER_KEYS = dict(primary=("username", "domain"), unique=(("phplib_id", ("phplib_id",)),),
                  indexes=(("user_2", ("username",)),))

TABLES: tuple[Table, ...] = (
    Table("acc", 2, (*_acc_cols(), _c("caller_deleted", "char(1)", "0"), _c("callee_deleted", "char(1)", "0")),
          indexes=(("acc_user", ("username", "domain")), ("sip_callid", ("sip_callid",)))),
    Table("active_sessions", 1, (_s("sid", 32), _s("name", 32), _c("val", "text", null=True), _s("changed", 14)),
          primary=("name", "sid"), indexes=(("changed", ("changed",)),)),
    Table("aliases", 6, _usrloc_cols(), primary=("username", "domain", "contact"),
          indexes=(("aliases_contact", ("contact",)),)),
    Table("event", 1, (_c("id", "serial"), *_user_cols(), _s("uri", 255), _s("description", 255))),
    Table("grp", 2, (*_user_cols(), _s("grp", 50), _c("last_modified", "datetime", NO_DATE)),
          primary=("username", "domain", "grp")),
    Table("location", 6, _usrloc_cols(), primary=("username", "domain", "contact")),
    Table("missed_calls", 2, _acc_cols(), indexes=(("mc_user", ("username", "domain")),)),
    Table("pending", 4, _subscriber_cols(), **_USER_KEYS),
    Table("phonebook", 1, (_c("id", "serial"), *_user_cols(), _s("fname", 32), _s("lname", 32),
                           _s("sip_uri", 128))),
    Table("reserved", 1, (_c("username", "char(64)", ""),), unique=(("user2", ("username",)),)),
    Table("subscriber", 5, _subscriber_cols(), **_USER_KEYS),
    Table("config", 1, (_c("attribute", "varchar(32)"), _c("value", "varchar(128)"), *_user_cols(),
                        _c("modified", "timestamp"))),
    Table("silo", 3, (_c("mid", "serial"), _s("src_addr", 255), _s("dst_addr", 255), _s("r_uri", 255),
                      *_user_cols(), _c("inc_time", "int", 0), _c("exp_time", "int", 0),
                      _s("ctype", 32, "text/plain"), _c("body", "blob"))),
    Table("domain", 1, (_s("domain", 128), _c("last_modified", "datetime", NO_DATE)), primary=("domain",)),
    Table("uri", 1, (*_user_cols(), _s("uri_user", 50), _c("last_modified", "datetime", NO_DATE)),
          primary=("username", "domain", "uri_user")),
    Table("server_monitoring", 1, (_c("time", "datetime", NO_DATE), _c("id", "int unsigned", 0),
                                   _s("param", 32), _c("value", "int", 0), _c("increment", "int", 0)),
          primary=("id", "param")),
    Table("usr_preferences", 2, (_s("uuid", 64), _s("username", 100, "0"), _s("domain", 128),
                                 _s("attribute", 32), _s("value", 128), _c("type", "int", 0),
                                 _c("modified", "timestamp")),
          primary=("attribute", "username", "domain")),
    Table("preferences_types", 1, (_s("att_name", 50), _s("att_rich_type", 32, "string"),
                                   _c("att_raw_type", "int unsigned", 2), _c("att_type_spec", "text", null=True),
                                   _s("default_value", 100)),
          primary=("att_name",)),
    Table("trusted", 1, (_c("src_ip", "varchar(39)"), _c("proto", "varchar(4)"), _c("from_pattern", "varchar(64)")),
          primary=("src_ip", "proto", "from_pattern")),
    Table("server_monitoring_agg", 1, (
        _s("param", 32), _c("s_value", "int", 0), _c("s_increment", "int", 0),
        _c("last_aggregated_increment", "int", 0), _c("av", "float", 0), _c("mv", "int", 0),
        _c("ad", "float", 0), _c("lv", "int", 0), _c("min_val", "int", 0), _c("max_val", "int", 0),
        _c("min_inc", "int", 0), _c("max_inc", "int", 0), _c("lastupdate", "datetime", NO_DATE)),
          primary=("param",)),
    Table("admin_privileges", 1, (*_user_cols(), _s("priv_name", 64), _s("priv_value", 64)),
          primary=("username", "priv_name", "priv_value", "domain")),
    Table("calls_forwarding", 1, (*_user_cols(), _s("uri_re", 128), _s("purpose", 32), _s("action", 32),
                                  _c("param1", "varchar(128)", null=True), _c("param2", "varchar(128)", null=True)),
          primary=("username", "domain", "uri_re", "purpose")),
    Table("speed_dial", 2, (*_user_cols(), _s("sd_username", 64), _s("sd_domain", 128), _s("new_uri", 192),
                            _s("fname", 128), _s("lname", 128), _s("description", 64)),
          primary=("username", "domain", "sd_username", "sd_domain")),
)

# `realm` has a version row but no table, as in every SER release since 0.8.11.
VERSIONS: dict[str, int] = {**{table.name: table.version for table in TABLES}, "realm": 1}

VERSION_TABLE = Table("version", 0, (_c("table_name", "varchar(64)"), _c("table_version", "smallint", 0)))


def create_schema(db: Database) -> None:
    """Creates the database if needed, every table and the `version` rows; refuses if any table exists."""
    db.create_database()
    existing = [table.name for table in (VERSION_TABLE, *TABLES) if db.has_table(table.name)]
    if existing:
        shown = ", ".join(existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3 else "")
        raise DbError(f"the SER schema already exists in {db.url} (tables {shown}); "
                      "`serctl db drop` removes it")
    dialect = db.url.scheme
    for table in (VERSION_TABLE, *TABLES):
        for statement in table_ddl(table, dialect):
            db.execute(statement)
    db.executemany("INSERT INTO version (table_name, table_version) VALUES (?, ?)", list(VERSIONS.items()))


def drop_schema(db: Database) -> None:
    """Drops every SER table (the database itself stays)."""
    for table in (*TABLES, VERSION_TABLE):
        db.execute(f"DROP TABLE IF EXISTS {table.name}")


def table_ddl(table: Table, dialect: str) -> list[str]:
    """CREATE TABLE (and, for SQLite, CREATE INDEX) statements for `dialect` ("mysql" or "sqlite")."""
    mysql = dialect == "mysql"
    parts = [_column_ddl(column, mysql) for column in table.columns]
    serial = any(column.type == "serial" for column in table.columns)
    if table.primary:
        parts.append(f"PRIMARY KEY ({', '.join(table.primary)})")
    elif serial and mysql:
        parts.append(f"PRIMARY KEY ({next(c.name for c in table.columns if c.type == 'serial')})")
    if mysql:
        parts += [f"UNIQUE KEY {name} ({', '.join(cols)})" for name, cols in table.unique]
        parts += [f"KEY {name} ({', '.join(cols)})" for name, cols in table.indexes]
    body = ",\n  ".join(parts)
    options = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" if mysql else ""
    statements = [f"CREATE TABLE {table.name} (\n  {body}\n){options}"]
    if not mysql:
        statements += [f"CREATE UNIQUE INDEX {table.name}_{name} ON {table.name} ({', '.join(cols)})"
                       for name, cols in table.unique]
        statements += [f"CREATE INDEX {table.name}_{name} ON {table.name} ({', '.join(cols)})"
                       for name, cols in table.indexes]
    return statements


_SQLITE_TYPES = {"int": "INTEGER", "int unsigned": "INTEGER", "smallint": "INTEGER",
                 "tinyint unsigned": "INTEGER", "float": "REAL", "float(10,2)": "REAL",
                 "datetime": "DATETIME", "timestamp": "DATETIME", "text": "TEXT", "blob": "BLOB"}


def _column_ddl(column: Column, mysql: bool) -> str:
    if column.type == "serial":
        kind = "int unsigned NOT NULL AUTO_INCREMENT" if mysql else "INTEGER PRIMARY KEY AUTOINCREMENT"
        return f"{column.name} {kind}"
    if column.type == "timestamp":
        on_update = " ON UPDATE CURRENT_TIMESTAMP" if mysql else ""
        kind = "timestamp" if mysql else "DATETIME"
        return f"{column.name} {kind} NOT NULL DEFAULT CURRENT_TIMESTAMP{on_update}"
    kind = column.type if mysql else _SQLITE_TYPES.get(column.type, column.type)
    if not mysql and column.type.startswith(("varchar", "char", "text")):
        kind += " COLLATE NOCASE"
    null = " NULL" if column.null else " NOT NULL"
    return f"{column.name} {kind}{null}{_default(column)}"


def _default(column: Column) -> str:
    if column.default is None:
        return ""
    if isinstance(column.default, str):
        return " DEFAULT '" + column.default.replace("'", "''") + "'"
    return f" DEFAULT {column.default}"
