"""SER's log levels on Python's logging (language reference §9.1; SER's dprint.h).

`debug=N` shows every message of level N and below. SER's levels map onto
logging's so that one threshold works for both: L_ALERT and L_CRIT are
CRITICAL, L_ERR is ERROR, L_DEFAULT and L_WARN are WARNING, L_NOTICE sits
between WARNING and INFO, L_INFO is INFO, L_DBG is DEBUG.
"""

from __future__ import annotations

import logging

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
