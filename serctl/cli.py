"""`serctl`, SER's control tool (SER 0.9's scripts/sc and ser_mysql.sh), as a click application.

The database commands (`add`, `passwd`, `rm`, `mail`, `acl`, `domain add|rm`, `db`) use SQL
on the database serctl.settings finds; the server commands (`ul`, `alias`, `domain
show|reload`, `ps`, `fifo`, `moni`, `ping`) go over SER's FIFO (serctl.fifo) as the
original did; `start`, `stop`, `restart` drive ser through its pid file (serctl.daemon).
Listing commands take `--json`.

Errors are one line on stderr, `serctl: ...`: exit 1 for a refused operation, a
database or server problem, 2 for a usage error. Passwords are never printed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version as package_version

import click

from ser_runtime.db import Database, DbError, open_db
from ser_runtime.db.schema import create_schema, drop_schema
from ser_runtime.sip.errors import SipParseError
from ser_runtime.sip.uri import SipUri
from serctl import daemon, dump, moni
from serctl.daemon import DaemonError
from serctl.fifo import FifoClient, FifoError, Reply
from serctl.listings import contacts, ps_rows, records
from serctl.settings import Settings, SettingsError
from serctl.users import (UserError, add_domain, add_user, change_password, email_of, grant, groups,
                          parse_domain, parse_user, remove_domain, remove_user, revoke)

EXIT_FAILED, EXIT_USAGE = 1, 2
SUBSCRIBER_VERSION = 5  # the subscriber layout serctl writes: SER 0.9's
PERMANENT = "128"       # usrloc's FL_PERMANENT: SER 0.9's alias add and ul add
PING_FROM = "sip:daemon@localhost"
FIFO_TIMEOUT = 10.0
UAC_TIMEOUT = 40.0      # a t_uac_dlg answers when tm gives up: after fr_timer (30 s) at most


class Failed(Exception):
    """A one-line reason to stop with EXIT_FAILED."""


class Context:
    """What the subcommands share: settings, and the database and FIFO opened on first use, so
    that `--help` and usage errors touch neither."""

    def __init__(self, settings: Settings, db_url: str | None):
        self.settings = settings
        self._db_url_option = db_url
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = open_db(self.settings.db_url(self._db_url_option))
        return self._db

    def user_db(self) -> Database:
        """The database, once it is known to hold SER 0.9's subscriber table."""
        self.db.require_version("subscriber", SUBSCRIBER_VERSION)
        return self.db

    def user(self, text: str):
        return parse_user(text, self.settings.get("SIP_DOMAIN"))

    def aor(self, text: str) -> str:
        """What serctl 0.9 sends as the AOR: user@domain, SIP_DOMAIN completing a bare user."""
        domain = self.settings.get("SIP_DOMAIN")
        return f"{text}@{domain}" if "@" not in text and domain else text

    def fifo(self, timeout: float = FIFO_TIMEOUT) -> FifoClient:
        return FifoClient(self.settings.value("SER_FIFO"), self.settings.value("FIFO_DIR"), timeout)

    def call(self, command: str, *args: str) -> Reply:
        """One FIFO command that must succeed."""
        timeout = UAC_TIMEOUT if command.lower().startswith("t_uac") else FIFO_TIMEOUT
        reply = self.fifo(timeout).call(command, *args)
        if not reply.ok:
            raise Failed(f"{command}: {reply.status}")
        return reply

    def fifo_configured(self) -> bool:
        return bool(self.settings.get("SER_FIFO") or self.settings.managed().globals.get("fifo"))


pass_context = click.make_pass_decorator(Context)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def emit(as_json: bool, data, lines) -> None:
    """`data` as JSON, or the text `lines`."""
    if as_json:
        click.echo(json.dumps(data, indent=1, default=str))
    else:
        for line in lines:
            click.echo(line)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db-url", metavar="URL",
              help="mysql://user:password@host[:port]/db or sqlite:///path [default: $SER_DB_URL, the SQL_* "
                   "variables, the db_url of the managed ser.cfg, else the embedded SQLite file]")
@click.option("--config", "-c", "ser_cfg", metavar="FILE", help="The ser.cfg serctl manages [$SER_CFG].")
@click.option("--fifo", metavar="PATH", help="SER's FIFO [$SER_FIFO, else fifo= of ser.cfg, else /tmp/ser_fifo].")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, ser_cfg: str | None, fifo: str | None) -> None:
    """Control SER: start and stop it, its users, contacts, aliases, ACLs and domains, its database.

    Settings come from options, the environment, then the [serctl] section of $SERCTL_CONF,
    ~/.serctlrc or /etc/ser/serctlrc (same keys as the environment variables)."""
    options = {key: value for key, value in (("SER_CFG", ser_cfg), ("SER_FIFO", fifo)) if value}
    ctx.obj = Context(Settings(options), db_url)


# --- the server -------------------------------------------------------------------

@cli.command()
@pass_context
def start(ctx: Context) -> None:
    """Start ser on the managed ser.cfg with -P PID_FILE; wait until it answers."""
    settings = ctx.settings
    fifo = ctx.fifo() if ctx.fifo_configured() else None
    pid = daemon.start(daemon.ser_command(settings.value("SER")), settings.ser_cfg, settings.pid_file, fifo)
    click.echo(f"started ser (pid {pid}) on {settings.ser_cfg}")


@cli.command()
@pass_context
def stop(ctx: Context) -> None:
    """Stop ser (SIGTERM to the pid in PID_FILE) and wait until it is gone."""
    click.echo(f"stopped ser (pid {daemon.stop(ctx.settings.pid_file)})")


@cli.command()
@click.pass_context
def restart(ctx: click.Context) -> None:
    """Stop ser, then start it again."""
    ctx.invoke(stop)
    ctx.invoke(start)


@cli.command("version")
def version_command() -> None:
    """Print serctl's version."""
    try:
        number = package_version("pyser")
    except PackageNotFoundError:
        number = "unknown"
    click.echo(f"serctl (pyser) {number}")


@cli.command()
@json_option
@pass_context
def ps(ctx: Context, as_json: bool) -> None:
    """List ser's processes (FIFO ps)."""
    rows = ps_rows(ctx.call("ps").lines)
    emit(as_json, rows, (f"{row['index']:>3} {row['pid']:>7}  {row['description']}" for row in rows))


@cli.command("fifo", context_settings={"ignore_unknown_options": True})
@json_option
@click.argument("command")
@click.argument("args", nargs=-1)
@pass_context
def fifo_command(ctx: Context, as_json: bool, command: str, args: tuple[str, ...]) -> None:
    """Send COMMAND with ARGS (one line each) over the FIFO and print the reply."""
    reply = ctx.call(command, *args)
    # As the original: only a plain `200 ok` status line is left out.
    lines = reply.lines if reply.text.lower() == "ok" else [reply.status, *reply.lines]
    emit(as_json, {"code": reply.code, "text": reply.text, "lines": reply.lines}, lines)


@cli.command("moni")
@click.argument("loops", type=click.IntRange(min=1), required=False)
@pass_context
def moni_command(ctx: Context, loops: int | None) -> None:
    """Watch uptime, transactions, registrations and replies, refreshed every WATCH_PERIOD s."""
    moni.run(ctx.fifo(), ctx.settings.watch_period, loops)


@cli.command()
@click.argument("uri")
@pass_context
def ping(ctx: Context, uri: str) -> None:
    """Send OPTIONS to URI through ser (FIFO t_uac_dlg) and print the reply and round trip."""
    _check_uri(uri)
    started = time.monotonic()
    reply = ctx.fifo(UAC_TIMEOUT).call("t_uac_dlg", "OPTIONS", uri, ".", f"From: <{PING_FROM}>", f"To: <{uri}>",
                          "Contact: <sip:daemon@!!>", ".", ".")
    elapsed = (time.monotonic() - started) * 1000
    if not reply.ok:
        raise Failed(f"ping {uri}: {reply.status} after {elapsed:.1f} ms")
    click.echo(f"{uri}: {reply.status} in {elapsed:.1f} ms")


# --- usrloc and aliases over the FIFO -----------------------------------------------

@cli.group()
def ul() -> None:
    """Show, add and remove registered contacts (usrloc's `location` table, via the FIFO)."""


cli.add_command(ul, "usrloc")


@ul.command("show")
@click.argument("user", required=False)
@json_option
@pass_context
def ul_show(ctx: Context, user: str | None, as_json: bool) -> None:
    """USER's contacts (ul_show_contact), or every registration (ul_dump)."""
    _show(ctx, "location", user, as_json)


@ul.command("add")
@click.argument("user")
@click.argument("contact")
@click.argument("expires", type=click.IntRange(min=1), required=False)
@pass_context
def ul_add(ctx: Context, user: str, contact: str, expires: int | None) -> None:
    """Add CONTACT for USER, for EXPIRES seconds or permanently."""
    _check_uri(contact)
    flags = "0" if expires else PERMANENT
    ctx.call("ul_add", "location", ctx.aor(user), contact, str(expires or 0), "1.00", "0", flags)
    click.echo(f"added {contact} to {ctx.aor(user)}")


@ul.command("rm")
@click.argument("user")
@click.argument("contact", required=False)
@pass_context
def ul_rm(ctx: Context, user: str, contact: str | None) -> None:
    """Remove USER's contacts, or only CONTACT."""
    if contact:
        ctx.call("ul_rm_contact", "location", ctx.aor(user), contact)
        click.echo(f"removed {contact} of {ctx.aor(user)}")
    else:
        ctx.call("ul_rm", "location", ctx.aor(user))
        click.echo(f"removed the contacts of {ctx.aor(user)}")


@cli.group()
def alias() -> None:
    """Show, add and remove aliases (usrloc's `aliases` table, via the FIFO)."""


@alias.command("show")
@click.argument("name", required=False)
@json_option
@pass_context
def alias_show(ctx: Context, name: str | None, as_json: bool) -> None:
    """Where alias NAME points, or every alias."""
    _show(ctx, "aliases", name, as_json)


@alias.command("add")
@click.argument("name")
@click.argument("uri")
@pass_context
def alias_add(ctx: Context, name: str, uri: str) -> None:
    """Make NAME a permanent alias of URI (refused for a subscriber's name)."""
    _check_uri(uri)
    if ctx.db.has_table("subscriber") and _subscriber_exists(ctx, name):
        raise Failed(f"{ctx.aor(name)} is a subscriber, not a free alias")
    ctx.call("ul_add", "aliases", ctx.aor(name), uri, "0", "1.00", "0", PERMANENT)
    click.echo(f"added alias {ctx.aor(name)} -> {uri}")


@alias.command("rm")
@click.argument("name")
@pass_context
def alias_rm(ctx: Context, name: str) -> None:
    """Remove alias NAME."""
    ctx.call("ul_rm", "aliases", ctx.aor(name))
    click.echo(f"removed alias {ctx.aor(name)}")


def _show(ctx: Context, table: str, user: str | None, as_json: bool) -> None:
    if user:
        reply = ctx.call("ul_show_contact", table, ctx.aor(user))
        emit(as_json, contacts(reply.lines), reply.lines)
    else:
        reply = ctx.call("ul_dump")
        emit(as_json, records(reply.lines), reply.lines)


def _subscriber_exists(ctx: Context, name: str) -> bool:
    try:
        user = ctx.user(name)
    except UserError:
        return False
    return bool(ctx.db.query("SELECT 1 FROM subscriber WHERE username=? AND domain=?", (user.username, user.domain)))


def _check_uri(uri: str) -> None:
    try:
        parsed = SipUri.parse(uri)
    except SipParseError:
        parsed = None
    if parsed is None or parsed.is_tel:
        raise Failed(f"bad SIP URI {uri!r}: expected sip:user@host or sips:...")


# --- subscribers -----------------------------------------------------------------

@cli.command()
@click.argument("user")
@click.argument("password")
@click.argument("email")
@pass_context
def add(ctx: Context, user: str, password: str, email: str) -> None:
    """Add subscriber USER (user or user@domain) with PASSWORD and EMAIL."""
    subscriber = ctx.user(user)
    add_user(ctx.user_db(), subscriber, password, email)
    click.echo(f"added {subscriber}")


@cli.command()
@click.argument("user")
@click.argument("password")
@pass_context
def passwd(ctx: Context, user: str, password: str) -> None:
    """Set the password of subscriber USER."""
    subscriber = ctx.user(user)
    change_password(ctx.user_db(), subscriber, password)
    click.echo(f"changed the password of {subscriber}")


@cli.command()
@click.argument("user")
@pass_context
def rm(ctx: Context, user: str) -> None:
    """Remove subscriber USER with his groups, uri entries and contacts (in ser too when it runs)."""
    subscriber = ctx.user(user)
    remove_user(ctx.user_db(), subscriber)
    if ctx.fifo_configured():
        try:
            ctx.fifo().call("ul_rm", "location", str(subscriber))
        except FifoError:
            pass  # ser is not running: it loads what is left in the database, which is nothing
    click.echo(f"removed {subscriber}")


@cli.command()
@click.argument("user")
@pass_context
def mail(ctx: Context, user: str) -> None:
    """Write to USER's e-mail address with mail(1); the text comes from stdin."""
    subscriber = ctx.user(user)
    address = email_of(ctx.user_db(), subscriber)
    program = shutil.which("mail")
    if not program:
        raise Failed("the mail program is not installed (Debian: mailutils or bsd-mailx)")
    status = subprocess.run([program, "-s", f"Message from {subscriber.domain} SIP admin", address]).returncode
    if status:
        raise Failed(f"mail to {address} failed with status {status}")


@cli.group()
def acl() -> None:
    """Show, grant and revoke group membership (the `grp` table)."""


@acl.command("show")
@click.argument("user", required=False)
@json_option
@pass_context
def acl_show(ctx: Context, user: str | None, as_json: bool) -> None:
    """Every user's groups, or USER's."""
    rows = groups(ctx.user_db(), ctx.user(user) if user else None)
    emit(as_json, rows, (f"{row['user']}\t{row['group']}\t{row['last_modified']}" for row in rows))


@acl.command("grant")
@click.argument("user")
@click.argument("group_names", metavar="GROUP...", nargs=-1, required=True)
@pass_context
def acl_grant(ctx: Context, user: str, group_names: tuple[str, ...]) -> None:
    """Put USER into each GROUP (one of ACL_GROUPS)."""
    allowed = ctx.settings.value("ACL_GROUPS").split()
    unknown = [name for name in group_names if name not in allowed]
    if unknown:
        raise Failed(f"group {unknown[0]!r} is not in ACL_GROUPS ({' '.join(allowed)})")
    subscriber = ctx.user(user)
    grant(ctx.user_db(), subscriber, group_names)
    click.echo(f"granted {' '.join(group_names)} to {subscriber}")


@acl.command("revoke")
@click.argument("user")
@click.argument("group", required=False)
@pass_context
def acl_revoke(ctx: Context, user: str, group: str | None) -> None:
    """Take USER out of GROUP, or out of every group."""
    subscriber = ctx.user(user)
    count = revoke(ctx.user_db(), subscriber, group)
    click.echo(f"revoked {count} group(s) of {subscriber}")


# --- domains ---------------------------------------------------------------------

@cli.group()
def domain() -> None:
    """Show, add and remove the domains ser is responsible for (the `domain` table)."""


@domain.command("show")
@json_option
@pass_context
def domain_show(ctx: Context, as_json: bool) -> None:
    """The domains ser has loaded (FIFO domain_dump)."""
    lines = [line.strip() for line in ctx.call("domain_dump").lines if line.strip()]
    emit(as_json, lines, lines)


@domain.command("add")
@click.argument("name")
@pass_context
def domain_add(ctx: Context, name: str) -> None:
    """Add domain NAME, then make ser reload the table."""
    name = parse_domain(name)
    add_domain(ctx.db, name)
    click.echo(f"added domain {name}{_reload_domains(ctx)}")


@domain.command("rm")
@click.argument("name")
@pass_context
def domain_rm(ctx: Context, name: str) -> None:
    """Remove domain NAME, then make ser reload the table."""
    name = parse_domain(name)
    remove_domain(ctx.db, name)
    click.echo(f"removed domain {name}{_reload_domains(ctx)}")


@domain.command("reload")
@pass_context
def domain_reload(ctx: Context) -> None:
    """Make ser reload the domain table (FIFO domain_reload)."""
    ctx.call("domain_reload")
    click.echo("ser reloaded the domain table")


def _reload_domains(ctx: Context) -> str:
    """domain_reload when ser runs; a note for the confirmation line."""
    if not ctx.fifo_configured():
        return ""
    try:
        ctx.call("domain_reload")
    except FifoError:
        return " (ser is not running)"
    return "; ser reloaded the domain table"


# --- the database ------------------------------------------------------------------

@cli.group()
def db() -> None:
    """Create, drop, back up and restore SER's database (ser_mysql.sh)."""


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
    _confirm(yes, f"Drop {ctx.db.url} and everything in it?", f"not dropping {ctx.db.url} without --yes")
    ctx.db.drop_database()
    click.echo(f"dropped {ctx.db.url}")


@db.command("reinit")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def db_reinit(ctx: Context, yes: bool) -> None:
    """Drop SER's tables and create them empty again."""
    _confirm(yes, f"Empty every SER table in {ctx.db.url}?", f"not emptying {ctx.db.url} without --yes")
    drop_schema(ctx.db)
    create_schema(ctx.db)
    click.echo(f"recreated the SER schema in {ctx.db.url}")


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@pass_context
def db_backup(ctx: Context, file: str) -> None:
    """Write every SER table to FILE (JSON lines; - for stdout)."""
    try:
        with click.open_file(file, "w", atomic=file != "-") as out:
            counts = dump.backup(ctx.db, out)
    except OSError as exc:
        raise Failed(f"cannot write {file}: {exc.strerror}") from None
    click.echo(f"backed up {sum(counts.values())} rows of {len(counts)} tables", err=file == "-")


@db.command("restore")
@click.argument("file", type=click.File("r"))
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def db_restore(ctx: Context, file, yes: bool) -> None:
    """Replace the rows of the tables in FILE (from `db backup`) with FILE's."""
    _confirm(yes, f"Replace the rows of {ctx.db.url} with {file.name}?", "not restoring without --yes")
    counts = dump.restore(ctx.db, file, file.name)
    click.echo(f"restored {sum(counts.values())} rows of {len(counts)} tables")


def _confirm(yes: bool, question: str, refusal: str) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise Failed(refusal)
    click.confirm(question, abort=True)


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
    except (DbError, UserError, Failed, FifoError, DaemonError, SettingsError, dump.DumpError) as exc:
        _fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_FAILED)
    sys.exit(status if isinstance(status, int) else 0)


def _fail(message: str, status: int) -> None:
    click.echo(f"serctl: {' '.join(message.split())}", err=True)
    sys.exit(status)
