"""Read-only questions about an inventory: which containers, which one a name means."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Mapping

from osa_aio.errors import UnknownTarget
from osa_aio.inventory.naming import normalize


@dataclass(frozen=True)
class ContainerInfo:
    name: str
    container_type: str
    host: str
    management_address: str | None


def containers(inventory: dict) -> list[ContainerInfo]:
    """Every LXC container of the inventory (metal hosts are not containers), by host and name."""
    hostvars = inventory.get("_meta", {}).get("hostvars", {})
    rows = [ContainerInfo(name, hv["container_type"], hv.get("physical_host", ""), hv.get("management_address"))
            for name, hv in hostvars.items() if hv.get("container_type")]
    return sorted(rows, key=lambda row: (row.host, row.container_type, row.name))


def resolve(inventory: dict, target: str) -> list[str]:
    """The containers a command-line target means: a container name (either spelling), a
    container type (keystone_container), a group (keystone, galera_all) or a host (aio2: its
    containers)."""
    rows = containers(inventory)
    names = {normalize(row.name): row.name for row in rows}
    wanted = normalize(target)
    if wanted in names:
        return [names[wanted]]
    hosts = {normalize(row.host) for row in rows}
    if wanted in hosts:
        return sorted(row.name for row in rows if normalize(row.host) == wanted)
    groups = {normalize(key): key for key, value in inventory.items()
              if isinstance(value, dict) and "hosts" in value}
    if wanted in groups:
        members = group_members(inventory, groups[wanted])
        found = sorted(name for name in members if normalize(name) in names)
        if found:
            return found
        raise UnknownTarget(f"{target!r} has no containers", hint="see `osa-aio inventory --list`")
    close = difflib.get_close_matches(wanted, list(names) + list(groups), n=1)
    hint = f"did you mean {close[0]}?" if close else "see `osa-aio inventory --list` for names and types"
    raise UnknownTarget(f"no container, type or group named {target!r}", hint=hint)



def group_members(groups: Mapping[str, Any], name: str, seen: set[str] | None = None) -> set[str]:
    """Every host in group ``name``, through its children (groups map names to hosts/children)."""
    seen = set() if seen is None else seen
    group = groups.get(name)
    if name in seen or not isinstance(group, Mapping):
        return set()
    seen.add(name)
    result = set(group.get("hosts") or ())
    for child in group.get("children") or ():
        result |= group_members(groups, child, seen)
    return result
