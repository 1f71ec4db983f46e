"""The knobs in user_variables.yml (`<service>_<key>`, defaults in each role's ``defaults``),
checked before anything changes: a wrong type is an error naming the file and key; a key that
looks like a service's knob but is none of them (a misspelling) is a warning, an error with
--strict."""

from __future__ import annotations

import difflib
from typing import Any, Iterable

from osa_aio.config import USER_VARIABLES, Config
from osa_aio.errors import ConfigError
from osa_aio.roles.base import Role

TYPE_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}


def _fits(default: Any, value: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, type(default))


def check_knobs(config: Config, roles: Iterable[Role]) -> list[str]:
    """Warnings for keys no role knows; raises ConfigError for a knob of the wrong type."""
    where = str(config.path(USER_VARIABLES))
    by_prefix = sorted(((f"{role.name}_", role) for role in roles), key=lambda item: -len(item[0]))
    warnings = []
    for key, value in config.user_variables.items():
        key = str(key)
        if key.endswith("_overrides"):
            continue  # osa_aio.overrides checks those
        role = next((role for prefix, role in by_prefix if key.startswith(prefix)), None)
        if role is None:
            continue  # not a service's key (osa_aio_profile, or an OSA variable osa-aio does not read)
        knob = key[len(role.name) + 1:]
        if knob not in role.defaults:
            known = [f"{role.name}_{k}" for k in role.defaults]
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]}?" if close else (
                f"{role.name}'s settings: {', '.join(known)}" if known else f"{role.name} has no settings")
            warnings.append(f"{where}: {key}: not a setting of {role.name}, ignored; {hint}")
            continue
        default = role.defaults[knob]
        if not _fits(default, value):
            raise ConfigError(f"must be {TYPE_NAMES.get(type(default), type(default).__name__)}, not {value!r}",
                              file=where, key=key, hint=f"the default is {default!r}")
    return warnings
