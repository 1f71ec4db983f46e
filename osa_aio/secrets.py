"""Secrets: a value type that never prints, and filling user_secrets.yml."""

from __future__ import annotations

import os
import re
import secrets as _random
import string
from pathlib import Path
from typing import Iterable

from osa_aio.errors import ConfigError
from osa_aio.fsutil import write_atomic
from osa_aio.yamlio import load_yaml

SECRET_LENGTH = 40
_ALPHABET = string.ascii_letters + string.digits
# `key:` with nothing, '', "", ~ or null after it (and maybe a comment): an empty secret.
_EMPTY_LINE = re.compile(r"""^(?P<key>[A-Za-z_][\w.-]*):[ \t]*(?:''|""|~|null)?[ \t]*(?:#.*)?$""")


class Secret:
    """A secret value: prints as *** everywhere; ``reveal()`` gives the value."""

    __slots__ = ("_value",)
    _known: set[str] = set()  # every secret value this process has seen: mask() hides them

    def __init__(self, value: str) -> None:
        self._value = str(value)
        if len(self._value) >= 4:
            Secret._known.add(self._value)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret('***')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def new_secret_value(length: int = SECRET_LENGTH) -> str:
    """A random value from ``secrets``: letters first so YAML always reads it as a string."""
    first = _random.choice(string.ascii_letters)
    return first + "".join(_random.choice(_ALPHABET) for _ in range(length - 1))


def mask(text: str) -> str:
    """``text`` with every secret value this process knows replaced by ***."""
    for value in sorted(Secret._known, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def load_secrets(path: Path) -> dict[str, Secret | None]:
    """Read user_secrets.yml: every key maps to a Secret, or None while it is empty."""
    if not path.exists():
        return {}
    data = load_yaml(path)
    result: dict[str, Secret | None] = {}
    for key, value in data.items():
        if isinstance(value, (dict, list)):
            raise ConfigError("a secret must be a single value, not a mapping or a list",
                              file=str(path), key=str(key))
        result[str(key)] = None if value in (None, "") else Secret(value)
    return result


def fill_secrets(path: Path, wanted: Iterable[str] = ()) -> list[str]:
    """Fill every empty value of ``path`` with a new random value, and add the ``wanted`` keys it
    lacks (a service osa-aio deploys since the file was made); return the keys filled.

    Filled values are never changed; comments and order are kept (the file is edited line by
    line, then re-read to prove it still parses). The file ends with mode 0600.
    """
    before = load_secrets(path)  # validates first: nothing is written to a broken file
    missing = [key for key in dict.fromkeys(wanted) if key not in before]
    empty = {key for key, value in before.items() if value is None} | set(missing)
    lines = path.read_text().splitlines(keepends=True)
    if missing:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines += ["\n## Added by osa-aio for the services it deploys now\n", *[f"{key}:\n" for key in missing]]
    filled: list[str] = []
    for number, line in enumerate(lines):
        match = _EMPTY_LINE.match(line.rstrip("\n"))
        if match and match.group("key") in empty:
            lines[number] = f"{match.group('key')}: {new_secret_value()}\n"
            filled.append(match.group("key"))
    if len(filled) != len(empty):
        missing = sorted(empty - set(filled))
        raise ConfigError("cannot fill an empty secret written in this form", file=str(path),
                          key=missing[0], hint="write it as `key:` on a line of its own")
    if filled:
        write_atomic(path, "".join(lines), mode=0o600)
        after = load_secrets(path)
        assert all(after[key] for key in filled), "filled secrets must read back non-empty"
    os.chmod(path, 0o600)
    return filled

