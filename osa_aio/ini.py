"""INI overrides merged into rendered files, keeping their comments (pure).

An override is {section: {key: value}}: sections and keys are added or replaced, a value of None
removes the key. Files without sections (rabbitmq.conf's `key = value`) take {key: value}.
configparser would drop the comments and reorder the file, so this works on lines.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
KEY = re.compile(r"^\s*([^#;=\s][^=]*?)\s*=")
TOP = None  # the part of a file before its first section


def ini_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(ini_value(v) for v in value)
    return str(value)


def parse(text: str) -> dict[str | None, dict[str, str]]:
    """{section: {key: value}} of an INI text (TOP for keys before any section)."""
    result: dict[str | None, dict[str, str]] = {}
    section = TOP
    for line in text.splitlines():
        if match := SECTION.match(line):
            section = match.group(1).strip()
            result.setdefault(section, {})
        elif (match := KEY.match(line)) and not line.lstrip().startswith(("#", ";")):
            result.setdefault(section, {})[match.group(1).strip()] = line.split("=", 1)[1].strip()
    return result


def merge(text: str, overrides: Mapping[str | None, Mapping[str, Any]]) -> str:
    """``text`` with ``overrides`` applied; untouched lines (comments included) stay as they are."""
    lines = text.splitlines()
    for section, values in overrides.items():
        for key, value in values.items():
            lines = _set(lines, section, str(key), None if value is None else ini_value(value))
    return "\n".join(lines) + "\n"


def _bounds(lines: list[str], section: str | None) -> tuple[int, int] | None:
    """[start, end) of the section's body (TOP: before the first header); None if it is absent."""
    if section is TOP:
        end = next((i for i, line in enumerate(lines) if SECTION.match(line)), len(lines))
        return 0, end
    for i, line in enumerate(lines):
        match = SECTION.match(line)
        if match and match.group(1).strip() == section:
            end = next((j for j in range(i + 1, len(lines)) if SECTION.match(lines[j])), len(lines))
            return i + 1, end
    return None


def _set(lines: list[str], section: str | None, key: str, value: str | None) -> list[str]:
    bounds = _bounds(lines, section)
    if bounds is None:
        if value is None:
            return lines
        while lines and not lines[-1].strip():
            lines = lines[:-1]
        return [*lines, "", f"[{section}]", f"{key} = {value}"]
    start, end = bounds
    found = [i for i in range(start, end)
             if (m := KEY.match(lines[i])) and m.group(1).strip() == key and not lines[i].lstrip().startswith(("#", ";"))]
    if found:
        keep = [] if value is None else [f"{key} = {value}"]
        return lines[:found[0]] + keep + [line for i, line in enumerate(lines[found[0] + 1:], found[0] + 1)
                                          if i not in found]
    if value is None:
        return lines
    insert = end
    while insert > start and not lines[insert - 1].strip():
        insert -= 1  # after the section's last line, before the blank lines that close it
    return lines[:insert] + [f"{key} = {value}"] + lines[insert:]
