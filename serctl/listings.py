"""Reading the text replies of SER's FIFO commands into data for serctl's `--json`
(formats of SER 0.9's fifo_server.c `ps` and usrloc's ul_fifo.c).
"""

from __future__ import annotations

import re

_CONTACT = re.compile(r"<?(?P<contact>[^<>;]+(?:;[^<>]*?)?)>?;q=(?P<q>[^;]*);expires=(?P<expires>-?\d+)\s*$")
_FIELD = re.compile(r"\s*(?P<key>[A-Za-z][\w -]*?)\s*:\s*'?(?P<value>.*?)'?\s*$")


def ps_rows(lines: list[str]) -> list[dict]:
    """`<index>\\t<pid>\\t<description>` lines."""
    rows = []
    for line in lines:
        parts = line.split("\t", 2) if "\t" in line else line.split(None, 2)
        if len(parts) == 3 and parts[0].strip().isdigit() and parts[1].strip().isdigit():
            rows.append({"index": int(parts[0]), "pid": int(parts[1]), "description": parts[2].strip()})
    return rows


def contacts(lines: list[str]) -> list[dict]:
    """ul_show_contact's `<uri>;q=<q>;expires=<seconds>` lines."""
    found = []
    for line in lines:
        match = _CONTACT.match(line.strip())
        if match:
            found.append({"contact": match["contact"], "q": _number(match["q"]), "expires": int(match["expires"])})
    return found


def records(lines: list[str]) -> list[dict]:
    """ul_dump's `aor : '...'` records, each with its `Contact : '...'` entries and their fields."""
    result: list[dict] = []
    table = None
    for line in lines:
        match = _FIELD.match(line)
        if not match:
            continue
        key, value = match["key"].strip().lower(), match["value"]
        if key == "domain":
            table = value
        elif key == "aor":
            result.append({"table": table, "aor": value, "contacts": []})
        elif key == "contact" and result:
            result[-1]["contacts"].append({"contact": value})
        elif result and result[-1]["contacts"]:
            result[-1]["contacts"][-1][key.replace(" ", "_").replace("-", "_")] = value
    return result


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text
