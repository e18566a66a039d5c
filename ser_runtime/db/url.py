"""Parsing SER's `db_url` (e.g. `mysql://ser:heslo@localhost/ser`, SER's db_parse_url).

Two drivers: `mysql://user:password@host[:port]/db` (`sql://` is 0.8.x's name for it)
and `sqlite:///path`, SQLAlchemy-style: `sqlite:///ser.db` is relative to the current
directory, `sqlite:////var/lib/ser/ser.db` absolute. User and password may be
percent-encoded. `str()` of a URL masks the password, so a URL is safe to log.

The embedded default (`default_url()`) is /var/lib/ser/ser.db for root, as a
packaged SER keeps its state there, and $XDG_DATA_HOME/ser/ser.db
(~/.local/share/ser/ser.db) for anyone else, who cannot write to /var/lib.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import unquote

MYSQL_SCHEMES = ("mysql", "sql")
SCHEMES = ("mysql", "sqlite")


class DbError(Exception):
    """Any database failure; the message is one line and never contains a password."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


@dataclass(frozen=True)
class DbUrl:
    scheme: str
    database: str
    user: str = ""
    password: str = field(default="", repr=False)
    host: str = ""
    port: int | None = None

    def __str__(self) -> str:
        if self.scheme == "sqlite":
            return f"sqlite:///{self.database}"
        credentials = self.user + (":***" if self.password else "")
        port = f":{self.port}" if self.port else ""
        return f"mysql://{credentials}{'@' if credentials else ''}{self.host}{port}/{self.database}"


def default_url() -> str:
    if os.geteuid() == 0:
        return "sqlite:////var/lib/ser/ser.db"
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return "sqlite:///" + os.path.join(os.path.abspath(data_home), "ser", "ser.db")


def parse_url(text: str) -> DbUrl:
    scheme, sep, rest = str(text).partition("://")
    scheme = scheme.lower()
    if not sep:
        raise DbError(f"bad db_url {_mask(text)!r}: expected mysql://user:password@host/db or sqlite:///path")
    if scheme == "sqlite":
        return _parse_sqlite(rest)
    if scheme in MYSQL_SCHEMES:
        return _parse_mysql(rest, text)
    raise DbError(f"no database driver for {scheme}:// in db_url (supported: {', '.join(SCHEMES)})")


def _parse_sqlite(rest: str) -> DbUrl:
    if not rest.startswith("/") or rest == "/":
        raise DbError(f"bad db_url sqlite://{rest}: expected sqlite:///path/to/file.db")
    return DbUrl("sqlite", os.path.abspath(rest[1:]))


def _parse_mysql(rest: str, text: str) -> DbUrl:
    userinfo, at, hostpart = rest.rpartition("@")
    hostport, slash, database = hostpart.partition("/")
    if not slash or not database or "/" in database:
        raise DbError(f"bad db_url {_mask(text)!r}: expected mysql://user:password@host[:port]/db")
    user, _, password = userinfo.partition(":")
    host, _, port_text = hostport.partition(":")
    return DbUrl("mysql", unquote(database), unquote(user), unquote(password),
                 host or "localhost", _port(port_text, text))


def _port(text: str, url: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise DbError(f"bad port {text!r} in db_url {_mask(url)!r}")
    return int(text)


def _mask(text: str) -> str:
    """The URL as given with anything between `user:` and the last `@` replaced (for error messages)."""
    head, sep, rest = str(text).partition("://")
    userinfo, at, tail = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return str(text)
    return f"{head}{sep}{userinfo.partition(':')[0]}:***@{tail}"
