"""SER's log levels on Python's logging (language reference §9.1; SER's dprint.h).

`debug=N` shows every message of level N and below. SER's levels map onto
logging's so that one threshold works for both: L_ALERT and L_CRIT are
CRITICAL, L_ERR is ERROR, L_DEFAULT and L_WARN are WARNING, L_NOTICE sits
between WARNING and INFO, L_INFO is INFO, L_DBG is DEBUG.
"""

from __future__ import annotations

import logging
import socket
from logging.handlers import SysLogHandler

L_ALERT, L_CRIT, L_ERR, L_DEFAULT, L_WARN, L_NOTICE, L_INFO, L_DBG = -3, -2, -1, 0, 1, 2, 3, 4
NOTICE = 25
logging.addLevelName(NOTICE, "NOTICE")

_PYTHON_LEVELS = {L_ALERT: logging.CRITICAL, L_CRIT: logging.CRITICAL, L_ERR: logging.ERROR,
                  L_DEFAULT: logging.WARNING, L_WARN: logging.WARNING, L_NOTICE: NOTICE,
                  L_INFO: logging.INFO, L_DBG: logging.DEBUG}

SCRIPT_LOG = logging.getLogger("ser.script")


def python_level(ser_level: int) -> int:
    """The logging level of a SER level; out-of-range levels clamp to the nearest."""
    return _PYTHON_LEVELS[min(max(ser_level, L_ALERT), L_DBG)]


def setup(debug: int, to_stderr: bool, facility: str = "LOG_DAEMON", syslog_address: str = "/dev/log") -> None:
    """Log at SER's `debug` threshold to stderr, or to syslog under `facility` (SER's log_facility)."""
    # A log line that cannot be written (syslogd restarting) is lost, never a traceback on stderr.
    logging.raiseExceptions = False
    root = logging.getLogger("ser")
    root.setLevel(python_level(debug))
    root.propagate = False
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = None if to_stderr else _syslog_handler(facility, syslog_address)
    if handler is not None:
        root.addHandler(handler)
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s ser[%(process)d] %(levelname)s: %(message)s"))
    root.addHandler(handler)
    if not to_stderr:
        root.warning("syslog is not reachable at %s: logging to standard error", syslog_address)


def _syslog_handler(facility: str, address: str) -> logging.Handler | None:
    name = facility.lower().removeprefix("log_")
    code = SysLogHandler.facility_names.get(name, SysLogHandler.LOG_DAEMON)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(address)
        except OSError:
            return None
    handler = SysLogHandler(address=address, facility=code)
    handler.setFormatter(logging.Formatter("ser[%(process)d]: %(levelname)s: %(message)s"))
    return handler
