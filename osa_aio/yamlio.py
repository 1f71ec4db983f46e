"""Reading YAML files with errors that name the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from osa_aio.errors import ConfigError


def load_yaml(path: Path, *, mapping: bool = True) -> Any:
    """Parse one YAML file; an empty file is an empty mapping.

    Syntax errors become a ConfigError naming the file and line; with ``mapping`` the
    top level must be a mapping.
    """
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read the file ({exc.strerror})", file=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"YAML syntax error: {problem}", file=where,
                          hint="fix the YAML at that line") from None
    if data is None:
        return {} if mapping else None
    if mapping and not isinstance(data, dict):
        raise ConfigError(f"the top level must be a mapping, not a {type(data).__name__}",
                          file=str(path))
    return data


def merge_dict(base: dict, new: dict) -> dict:
    """Deep-merge ``new`` over ``base`` in place, with openstack-ansible's semantics.

    Non-empty mappings merge key by key; anything else (lists, scalars, an empty mapping)
    replaces what was there.
    """
    for key, value in new.items():
        if isinstance(value, dict) and value and isinstance(base.get(key), dict):
            merge_dict(base[key], value)
        elif isinstance(value, dict) and value:
            base[key] = merge_dict({}, value)
        else:
            base[key] = value
    return base
