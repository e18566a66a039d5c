"""serctl's SQL commands (SER 0.9's scripts/sc): subscribers (`add`, `passwd`, `rm`, `mail`),
their groups (`acl`, the `grp` table) and the `domain` table.

As SER 0.9's serctl did: the password is kept in plain text next to its two digests,
ha1 = MD5(user:domain:password) and ha1b = MD5(user@domain:domain:password) (the
domain is the digest realm); `add` also lets the user appear as himself in To/From
(a `uri` row, for uri_db's check_to/check_from); `rm` removes his groups, uri rows
and stored contacts with him (serctl.cli then has a running ser forget them too).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from ser_runtime.db import Database

_USER = re.compile(r"[^\s@:;?<>\"]+")
_DOMAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]")
_EMAIL = re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
# Column sizes of SER 0.9's subscriber table.
MAX_USERNAME, MAX_DOMAIN, MAX_PASSWORD, MAX_EMAIL = 64, 128, 25, 50


class UserError(Exception):
    """A request serctl refuses (bad name, unknown user...); the message is one line."""


@dataclass(frozen=True)
class Subscriber:
    username: str
    domain: str

    def __str__(self) -> str:
        return f"{self.username}@{self.domain}"


def parse_user(text: str, default_domain: str | None) -> Subscriber:
    """`user@domain`, or `user` in the default domain (serctl's SIP_DOMAIN)."""
    username, at, domain = text.partition("@")
    if not at:
        if not default_domain:
            raise UserError(f"no domain for user {text!r}: give user@domain or set SIP_DOMAIN")
        domain = default_domain
    if not _USER.fullmatch(username) or len(username) > MAX_USERNAME:
        raise UserError(f"bad user name {username!r}")
    return Subscriber(username, parse_domain(domain))


def parse_domain(text: str) -> str:
    domain = text.lower()
    if not _DOMAIN.fullmatch(domain) or len(domain) > MAX_DOMAIN:
        raise UserError(f"bad domain {domain!r}")
    return domain


def digests(user: Subscriber, password: str) -> tuple[str, str]:
    """(ha1, ha1b) with the domain as the realm."""
    ha1 = _md5(f"{user.username}:{user.domain}:{password}")
    ha1b = _md5(f"{user.username}@{user.domain}:{user.domain}:{password}")
    return ha1, ha1b


def add_user(db: Database, user: Subscriber, password: str, email: str) -> None:
    _check_password(password)
    if not _EMAIL.fullmatch(email) or len(email) > MAX_EMAIL:
        raise UserError(f"bad e-mail address {email!r}")
    ha1, ha1b = digests(user, password)
    now = _now()
    with db.transaction():
        if _exists(db, user):
            raise UserError(f"user {user} already exists")
        db.execute("INSERT INTO subscriber (phplib_id, username, domain, password, email_address, "
                   "datetime_created, datetime_modified, ha1, ha1b) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (uuid.uuid4().hex, user.username, user.domain, password, email, now, now, ha1, ha1b))
        # A uri row left behind by another tool would otherwise collide with the primary key.
        db.execute("DELETE FROM uri WHERE username=? AND domain=? AND uri_user=?",
                   (user.username, user.domain, user.username))
        db.execute("INSERT INTO uri (username, domain, uri_user, last_modified) VALUES (?, ?, ?, ?)",
                   (user.username, user.domain, user.username, now))


def change_password(db: Database, user: Subscriber, password: str) -> None:
    _check_password(password)
    ha1, ha1b = digests(user, password)
    matched = db.execute("UPDATE subscriber SET password=?, ha1=?, ha1b=?, datetime_modified=? "
                         "WHERE username=? AND domain=?",
                         (password, ha1, ha1b, _now(), user.username, user.domain))
    if not matched:
        raise UserError(f"no such user {user}")


def remove_user(db: Database, user: Subscriber) -> None:
    with db.transaction():
        if not _exists(db, user):
            raise UserError(f"no such user {user}")
        for table in ("grp", "uri", "location", "subscriber"):
            db.execute(f"DELETE FROM {table} WHERE username=? AND domain=?", (user.username, user.domain))


def email_of(db: Database, user: Subscriber) -> str:
    rows = db.query("SELECT email_address FROM subscriber WHERE username=? AND domain=?",
                    (user.username, user.domain))
    if not rows:
        raise UserError(f"no such user {user}")
    if not rows[0][0]:
        raise UserError(f"user {user} has no e-mail address")
    return rows[0][0]


def groups(db: Database, user: Subscriber | None) -> list[dict]:
    """`grp` rows, all or one user's, as {user, group, last_modified}."""
    sql = "SELECT username, domain, grp, last_modified FROM grp"
    params: tuple = ()
    if user:
        sql += " WHERE username=? AND domain=?"
        params = (user.username, user.domain)
    rows = db.query(sql + " ORDER BY username, domain, grp", params)
    return [{"user": f"{name}@{domain}", "group": group, "last_modified": str(modified)}
            for name, domain, group, modified in rows]


def grant(db: Database, user: Subscriber, names: tuple[str, ...]) -> None:
    with db.transaction():
        if not _exists(db, user):
            raise UserError(f"no such user {user}")
        for name in names:
            # Granting a group twice is not an error; the primary key would make it one.
            db.execute("DELETE FROM grp WHERE username=? AND domain=? AND grp=?", (user.username, user.domain, name))
            db.execute("INSERT INTO grp (username, domain, grp, last_modified) VALUES (?, ?, ?, ?)",
                       (user.username, user.domain, name, _now()))


def revoke(db: Database, user: Subscriber, name: str | None) -> int:
    """Removes one group or all of them; how many rows went."""
    if name:
        return db.execute("DELETE FROM grp WHERE username=? AND domain=? AND grp=?", (user.username, user.domain, name))
    return db.execute("DELETE FROM grp WHERE username=? AND domain=?", (user.username, user.domain))


def add_domain(db: Database, domain: str) -> None:
    db.require_version("domain", 1)
    with db.transaction():
        if db.query("SELECT 1 FROM domain WHERE domain=?", (domain,)):
            raise UserError(f"domain {domain} already exists")
        db.execute("INSERT INTO domain (domain, last_modified) VALUES (?, ?)", (domain, _now()))


def remove_domain(db: Database, domain: str) -> None:
    db.require_version("domain", 1)
    if not db.execute("DELETE FROM domain WHERE domain=?", (domain,)):
        raise UserError(f"no such domain {domain}")


def _exists(db: Database, user: Subscriber) -> bool:
    return bool(db.query("SELECT 1 FROM subscriber WHERE username=? AND domain=?", (user.username, user.domain)))


def _check_password(password: str) -> None:
    # The length only: the password itself must never reach an error message.
    if not password or len(password) > MAX_PASSWORD:
        raise UserError(f"the password must have 1 to {MAX_PASSWORD} characters")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
