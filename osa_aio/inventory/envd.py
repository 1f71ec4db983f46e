"""env.d skeletons in openstack-ansible's schema: component_skel, container_skel, physical_skel."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from osa_aio.errors import EnvdError
from osa_aio.yamlio import load_yaml, merge_dict

SECTIONS = ("component_skel", "container_skel", "physical_skel")
ENTRY_KEYS = {
    "component_skel": {"belongs_to"},
    "container_skel": {"belongs_to", "contains", "properties"},
    "physical_skel": {"belongs_to"},
}
IGNORED_TOP_LEVEL = {"version"}  # openstack-ansible's loader skips it too


@dataclass(frozen=True)
class Skeleton:
    """The merged env.d: what groups exist and which container types hold which components."""

    components: dict[str, dict[str, Any]]
    containers: dict[str, dict[str, Any]]
    physical: dict[str, dict[str, Any]]
    sources: dict[tuple[str, str], str] = field(default_factory=dict)

    def host_groups(self) -> set[str]:
        """The host groups a user config may fill (physical_skel keys ending in _hosts)."""
        return {name for name in self.physical if name.endswith("_hosts")}

    def is_metal(self, container_type: str) -> bool:
        properties = self.containers[container_type].get("properties") or {}
        return properties.get("is_metal") is True

    def host_groups_of(self, container_type: str) -> list[str]:
        """The user host groups whose hosts get this container type (X_containers -> X_hosts)."""
        groups = self.containers[container_type].get("belongs_to") or []
        return [group[: -len("_containers")] + "_hosts" for group in groups]

    def source(self, section: str, name: str) -> str:
        return self.sources.get((section, name), "env.d")


def load_envd(directories: Iterable[Path]) -> Skeleton:
    """Load and deep-merge every ``*.yml`` of the directories in order (later ones win)."""
    merged: dict[str, dict] = {section: {} for section in SECTIONS}
    sources: dict[tuple[str, str], str] = {}
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.yml")) + sorted(directory.glob("*.yaml")):
            data = load_yaml(path)
            _check_file(path, data)
            for section in SECTIONS:
                for name in data.get(section) or {}:
                    sources[(section, name)] = str(path)
                merge_dict(merged[section], data.get(section) or {})
    tidy = {section: {name: entry or {} for name, entry in merged[section].items()}
            for section in SECTIONS}
    skeleton = Skeleton(components=tidy["component_skel"], containers=tidy["container_skel"],
                        physical=tidy["physical_skel"], sources=sources)
    _check_references(skeleton)
    return skeleton


def _check_file(path: Path, data: dict) -> None:
    for key in data:
        if key not in SECTIONS and key not in IGNORED_TOP_LEVEL:
            raise EnvdError(f"unknown top-level key {key!r}", file=str(path), key=str(key),
                            hint=f"env.d files hold only {', '.join(SECTIONS)}")
    for section in SECTIONS:
        entries = data.get(section)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            raise EnvdError("must be a mapping of names to entries", file=str(path), key=section)
        for name, entry in entries.items():
            _check_entry(path, section, str(name), entry)


def _check_entry(path: Path, section: str, name: str, entry: Any) -> None:
    key = f"{section}.{name}"
    if entry is None:
        return
    if not isinstance(entry, dict):
        raise EnvdError("must be a mapping (belongs_to, contains, properties)", file=str(path), key=key)
    for item in entry:
        if item not in ENTRY_KEYS[section]:
            allowed = ", ".join(sorted(ENTRY_KEYS[section]))
            raise EnvdError(f"unknown key {item!r}", file=str(path), key=key,
                            hint=f"{section} entries take {allowed}")
    for list_key in ("belongs_to", "contains"):
        value = entry.get(list_key)
        if value is not None and (not isinstance(value, list)
                                  or not all(isinstance(v, str) for v in value)):
            raise EnvdError("must be a list of group names", file=str(path), key=f"{key}.{list_key}")
    if entry.get("properties") is not None and not isinstance(entry["properties"], dict):
        raise EnvdError("must be a mapping", file=str(path), key=f"{key}.properties")


def _check_references(skeleton: Skeleton) -> None:
    for ctype, entry in skeleton.containers.items():
        where = skeleton.source("container_skel", ctype)
        for group in entry.get("belongs_to") or []:
            if group not in skeleton.physical or not group.endswith("_containers"):
                raise EnvdError(f"unknown group {group!r}", file=where,
                                key=f"container_skel.{ctype}.belongs_to",
                                hint="name a *_containers group defined in physical_skel")
        for component in entry.get("contains") or []:
            if component not in skeleton.components:
                raise EnvdError(f"unknown component {component!r}", file=where,
                                key=f"container_skel.{ctype}.contains",
                                hint="name a component defined in component_skel")
