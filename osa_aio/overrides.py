"""Config overrides, the way OSA and Kolla operators write them, merged over the files the roles
render (osa_aio.ini keeps their comments). In the order they apply:

1. user_variables.yml: `<service>_<file>_overrides`, e.g. `keystone_keystone_conf_overrides:
   {DEFAULT: {debug: true}, token: {expiration: 7200}}` (a null value removes a key);
2. `<config dir>/config/<service>/<file>`: an INI fragment for every container of the service;
3. `<config dir>/config/<service>/<container name>/<file>`: for that container only.

Which files take overrides: each role's CONFIG_FILES. Anything naming an unknown service, file
or container is an error that names it, found before anything changes.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any, Mapping

from osa_aio.config import USER_VARIABLES, Config
from osa_aio.errors import ConfigError
from osa_aio.ini import TOP, merge, parse
from osa_aio.inventory.naming import normalize

CONFIG_SUBDIR = "config"


def variable(service: str, file: str) -> str:
    """The user_variables key of a file's overrides: keystone, keystone.conf -> keystone_keystone_conf_overrides."""
    return f"{service}_{re.sub(r'[^a-z0-9]+', '_', file.lower()).strip('_')}_overrides"


def catalogue(roles) -> dict[str, dict[str, tuple[str, bool]]]:
    """service -> file -> (path in the container, has sections) from the roles' CONFIG_FILES."""
    return {role.name: dict(role.config_files) for role in roles if role.config_files}


def _as_layer(value: Any, sectioned: bool, where: str, key: str) -> dict:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key}: must be a mapping of {'sections to keys' if sectioned else 'keys'}", file=where,
                          hint="e.g. {DEFAULT: {debug: true}}" if sectioned else "e.g. {log.console: true}")
    if not sectioned:
        return {TOP: dict(value)}
    for section, keys in value.items():
        if not isinstance(keys, Mapping):
            raise ConfigError(f"{key}.{section}: must be a mapping of keys to values", file=where,
                              hint="a section holds keys, e.g. {token: {expiration: 7200}}")
    return {str(section): dict(keys) for section, keys in value.items()}


def _fragment(path: Path, sectioned: bool) -> dict:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read it: {exc}", file=str(path)) from None
    # configparser judges the syntax (merging is line-based, to keep the rendered file's comments).
    checker = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        checker.read_string(text if sectioned else "[top]\n" + text, source=str(path))
    except configparser.MissingSectionHeaderError:
        pass  # reported below, naming the key
    except configparser.Error as exc:
        raise ConfigError(f"not INI: {' '.join(str(exc).split())}", file=str(path),
                          hint="write [section] headers and key = value lines") from None
    parsed = parse(text)
    if sectioned and parsed.get(TOP):
        key = next(iter(parsed[TOP]))
        raise ConfigError(f"{key!r} is outside any [section]", file=str(path), hint="put it under a [section] header")
    if not sectioned:
        return {TOP: {k: v for section in parsed.values() for k, v in section.items()}}
    return {section: values for section, values in parsed.items() if section is not TOP}


def check(config: Config, files: dict[str, dict[str, tuple[str, bool]]], containers: Mapping[str, str]) -> None:
    """Every override names a known service, file and container (``containers``: name -> service)."""
    where = str(config.path(USER_VARIABLES))
    known = {variable(service, file): (service, file) for service, names in files.items() for file in names}
    for key, value in config.user_variables.items():
        if str(key).endswith("_overrides"):
            if key not in known:
                raise ConfigError(f"{key}: no service file takes these overrides", file=where,
                                  hint=f"overridable: {', '.join(sorted(known))}")
            service, file = known[key]
            _as_layer(value, files[service][file][1], where, key)
    root = config.path(CONFIG_SUBDIR)
    if not root.is_dir():
        return
    for service_dir in sorted(root.iterdir()):
        service = service_dir.name
        if service not in files or not service_dir.is_dir():
            raise ConfigError(f"{service!r} is not a service with config files", file=str(service_dir),
                              hint=f"services: {', '.join(sorted(files))}")
        for entry in sorted(service_dir.iterdir()):
            if entry.is_dir():
                owner = containers.get(normalize(entry.name))
                if owner != service:
                    raise ConfigError(f"{entry.name!r} is not a {service} container", file=str(entry),
                                      hint=f"see `osa-aio inventory --list` for the {service} containers")
                for fragment in sorted(entry.iterdir()):
                    _check_file(fragment, service, files)
            else:
                _check_file(entry, service, files)


def _check_file(path: Path, service: str, files: dict) -> None:
    if path.name not in files[service]:
        raise ConfigError(f"{service} has no config file {path.name!r}", file=str(path),
                          hint=f"{service}'s files: {', '.join(sorted(files[service]))}")
    _fragment(path, files[service][path.name][1])


def layers(config: Config, service: str, file: str, sectioned: bool, container: str) -> list[dict]:
    """The overrides of one file in one container, in the order they apply."""
    found = []
    key = variable(service, file)
    if key in config.user_variables:
        found.append(_as_layer(config.user_variables[key], sectioned, str(config.path(USER_VARIABLES)), key))
    root = config.path(CONFIG_SUBDIR) / service
    if (root / file).is_file():
        found.append(_fragment(root / file, sectioned))
    if root.is_dir():  # the container's folder, in osa-aio's or OSA's spelling of its name
        for entry in sorted(root.iterdir()):
            if entry.is_dir() and normalize(entry.name) == normalize(container) and (entry / file).is_file():
                found.append(_fragment(entry / file, sectioned))
    return found


def apply(text: str, found: list[dict]) -> str:
    for layer in found:
        text = merge(text, layer)
    return text
