"""Where serctl finds things: its environment variables (SER 0.9's scripts/sc), a config
file with the same keys, and the ser.cfg it manages.

Each setting is the environment variable, else the key in the config file, else what
the managed ser.cfg says (`fifo=`, `fifo_dir=`, a module's `db_url`), else the default.
The config file is INI with one `[serctl]` section: $SERCTL_CONF, else ~/.serctlrc, else
/etc/ser/serctlrc. The database is $SER_DB_URL; else a mysql:// URL built from the
SQL_* variables when any is set (SER's defaults ser@localhost/ser); else ser.cfg's db_url
(usrloc's first, as serctl edits its tables); else the embedded SQLite default.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
from urllib.parse import quote

from ser_runtime.db import default_url
from ser_script import ast
from ser_script.parser import parse_file

KEYS = ("SIP_DOMAIN", "SER_DB_URL", "SQL_HOST", "SQL_PORT", "SQL_USER", "SQL_PASSWORD", "SQL_DB",
        "SER_FIFO", "FIFO_DIR", "SER_CFG", "PID_FILE", "WATCH_PERIOD", "ACL_GROUPS", "SER")
DEFAULTS = {"SER_FIFO": "/tmp/ser_fifo", "FIFO_DIR": "/tmp/", "SER_CFG": "/etc/ser/ser.cfg",
            "WATCH_PERIOD": "1", "ACL_GROUPS": "local ld int voicemail free-pstn prepaid", "SER": "ser"}
CONFIG_FILES = ("~/.serctlrc", "/etc/ser/serctlrc")
DB_URL_MODULES = ("usrloc", "auth_db", "group", "uri_db", "domain")


class SettingsError(Exception):
    """A config file or ser.cfg serctl cannot read; one line."""


@dataclass
class ManagedConfig:
    """What serctl reads from the ser.cfg it manages."""
    globals: dict[str, str] = field(default_factory=dict)
    db_urls: dict[str, str] = field(default_factory=dict)

    @property
    def db_url(self) -> str | None:
        for module in DB_URL_MODULES:
            if module in self.db_urls:
                return self.db_urls[module]
        return next(iter(self.db_urls.values()), None)


class Settings:
    def __init__(self, options: dict[str, str]):
        """`options`: values from the command line, which win over the environment."""
        self.environ = {**os.environ, **options}
        self.file_values = _read_config_file(self.environ)
        self._managed: ManagedConfig | None = None

    def get(self, key: str) -> str | None:
        return self.environ.get(key) or self.file_values.get(key) or None

    def value(self, key: str) -> str:
        return self.get(key) or self._from_ser_cfg(key) or DEFAULTS[key]

    @property
    def ser_cfg(self) -> str:
        return os.path.abspath(self.value("SER_CFG"))

    @property
    def pid_file(self) -> str:
        if self.get("PID_FILE"):
            return self.get("PID_FILE")
        if os.geteuid() == 0:
            return "/var/run/ser.pid"
        return os.path.join(os.environ.get("XDG_RUNTIME_DIR") or "/tmp", f"ser-{os.getuid()}.pid")

    @property
    def watch_period(self) -> float:
        text = self.value("WATCH_PERIOD")
        try:
            period = float(text)
        except ValueError:
            period = 0
        if not 0 < period <= 3600:
            raise SettingsError(f"bad WATCH_PERIOD {text!r}: seconds between 0 and 3600")
        return period

    def db_url(self, option: str | None) -> str:
        if option or self.get("SER_DB_URL"):
            return option or self.get("SER_DB_URL")
        if any(self.get(key) for key in ("SQL_HOST", "SQL_PORT", "SQL_USER", "SQL_PASSWORD", "SQL_DB")):
            return self._sql_url()
        return self.managed().db_url or default_url()

    def managed(self) -> ManagedConfig:
        """The managed ser.cfg's settings; empty when it does not exist."""
        if self._managed is None:
            self._managed = read_ser_cfg(self.ser_cfg) if os.path.exists(self.ser_cfg) else ManagedConfig()
        return self._managed

    def _from_ser_cfg(self, key: str) -> str | None:
        name = {"SER_FIFO": "fifo", "FIFO_DIR": "fifo_dir"}.get(key)
        return self.managed().globals.get(name) if name else None

    def _sql_url(self) -> str:
        user = quote(self.get("SQL_USER") or "ser", safe="")
        password = self.get("SQL_PASSWORD")
        credentials = f"{user}:{quote(password, safe='')}" if password else user
        port = f":{self.get('SQL_PORT')}" if self.get("SQL_PORT") else ""
        return f"mysql://{credentials}@{self.get('SQL_HOST') or 'localhost'}{port}/{self.get('SQL_DB') or 'ser'}"


def _read_config_file(environ: dict[str, str]) -> dict[str, str]:
    named = environ.get("SERCTL_CONF")
    candidates = [named] if named else [os.path.expanduser(path) for path in CONFIG_FILES]
    for path in candidates:
        if named or os.path.exists(path):
            return _parse_config_file(path)
    return {}


def _parse_config_file(path: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str.upper
    try:
        with open(path, encoding="utf-8") as file:
            parser.read_file(file)
    except OSError as exc:
        raise SettingsError(f"cannot read the config file {path}: {exc.strerror}") from None
    except configparser.Error as exc:
        raise SettingsError(f"{path}: {' '.join(str(exc).split())}") from None
    if not parser.sections():
        return {}
    if not parser.has_section("serctl"):
        raise SettingsError(f"{path}: no [serctl] section")
    values = dict(parser.items("serctl"))
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise SettingsError(f"{path}: unknown key {unknown[0]} (known: {', '.join(KEYS)})")
    return values


def read_ser_cfg(path: str) -> ManagedConfig:
    """`fifo`, `fifo_dir` and the modules' `db_url`s, with SER's own parser."""
    try:
        result = parse_file(path)
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror}") from None
    if not result.ok:
        first = next(d for d in result.diagnostics if d.is_error)
        raise SettingsError(f"{first.location()}: {first.message} (the ser.cfg serctl manages; see ser-check)")
    managed = ManagedConfig()
    for item in result.config.items:
        if isinstance(item, ast.GlobalParam) and item.values and isinstance(item.values[0], ast.Str):
            managed.globals[item.name] = item.values[0].value
        elif isinstance(item, ast.ModParam) and item.param.value == "db_url" and isinstance(item.value, ast.Str):
            managed.db_urls.setdefault(item.module.value, item.value.value)
    return managed
