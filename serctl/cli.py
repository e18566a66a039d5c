"""`serctl`, SER's control tool (SER 0.9's scripts/sc), as a click application.

Database commands so far: `db create` / `db drop` (what `ser_mysql.sh create` and
`drop` did) and the user commands `add`, `passwd`, `rm`. The database is `--db-url`,
else $SER_DB_URL, else the embedded SQLite default (ser_runtime.db.default_url); a
user given without `@domain` is in $SIP_DOMAIN. Each further command (ul, ping, moni,
fifo, start/stop) is one more function registered on `cli`.

Errors are one line on stderr, `serctl: ...`: exit 1 for a refused operation or a
database problem, 2 for a usage error. Passwords are never printed.
"""

from __future__ import annotations

import os
import sys

import click

from ser_runtime.db import Database, DbError, default_url, open_db
from ser_runtime.db.schema import create_schema
from serctl.users import UserError, add_user, change_password, parse_user, remove_user

EXIT_FAILED, EXIT_USAGE = 1, 2
SUBSCRIBER_VERSION = 5  # the subscriber layout serctl writes: SER 0.9's


class Failed(Exception):
    """A one-line reason to stop with EXIT_FAILED."""


class Context:
    """What the subcommands share: the database, opened on first use, so that `--help` and
    usage errors never touch it."""

    def __init__(self, db_url: str):
        self.db_url = db_url
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = open_db(self.db_url)
        return self._db

    def user_db(self) -> Database:
        """The database, once it is known to hold SER 0.9's subscriber table."""
        self.db.require_version("subscriber", SUBSCRIBER_VERSION)
        return self.db


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db-url", envvar="SER_DB_URL", metavar="URL",
              help="mysql://user:password@host[:port]/db or sqlite:///path "
                   "[default: $SER_DB_URL, else the embedded SQLite file]")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None) -> None:
    """Control SER: its database and its users."""
    ctx.obj = Context(db_url or default_url())


@cli.group()
def db() -> None:
    """Create or drop SER's database schema."""


@db.command("create")
@pass_context
def db_create(ctx: Context) -> None:
    """Create the database and SER 0.9's tables with their version rows."""
    create_schema(ctx.db)
    click.echo(f"created the SER schema in {ctx.db.url}")


@db.command("drop")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def db_drop(ctx: Context, yes: bool) -> None:
    """Drop the database (mysql: DROP DATABASE; sqlite: remove the file)."""
    if not yes:
        if not sys.stdin.isatty():
            raise Failed(f"not dropping {ctx.db.url} without --yes")
        click.confirm(f"Drop {ctx.db.url} and everything in it?", abort=True)
    ctx.db.drop_database()
    click.echo(f"dropped {ctx.db.url}")


@cli.command()
@click.argument("user")
@click.argument("password")
@click.argument("email")
@pass_context
def add(ctx: Context, user: str, password: str, email: str) -> None:
    """Add subscriber USER (user or user@domain) with PASSWORD and EMAIL."""
    subscriber = parse_user(user, _sip_domain())
    add_user(ctx.user_db(), subscriber, password, email)
    click.echo(f"added {subscriber}")


@cli.command()
@click.argument("user")
@click.argument("password")
@pass_context
def passwd(ctx: Context, user: str, password: str) -> None:
    """Set the password of subscriber USER."""
    subscriber = parse_user(user, _sip_domain())
    change_password(ctx.user_db(), subscriber, password)
    click.echo(f"changed the password of {subscriber}")


@cli.command()
@click.argument("user")
@pass_context
def rm(ctx: Context, user: str) -> None:
    """Remove subscriber USER with his groups, uri entries and stored contacts."""
    subscriber = parse_user(user, _sip_domain())
    remove_user(ctx.user_db(), subscriber)
    click.echo(f"removed {subscriber}")


def _sip_domain() -> str | None:
    return os.environ.get("SIP_DOMAIN") or None


def main(argv: list[str] | None = None) -> None:
    try:
        status = cli.main(argv, prog_name="serctl", standalone_mode=False)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "serctl"
        _fail(f"{exc.format_message().rstrip('.')} (see `{command} --help`)", EXIT_USAGE)
    except click.Abort:
        _fail("aborted", EXIT_FAILED)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except (DbError, UserError, Failed) as exc:
        _fail(str(exc), EXIT_FAILED)
    sys.exit(status if isinstance(status, int) else 0)


def _fail(message: str, status: int) -> None:
    click.echo(f"serctl: {' '.join(message.split())}", err=True)
    sys.exit(status)
