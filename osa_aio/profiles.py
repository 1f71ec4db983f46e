"""Service profiles (Kolla's profiles, OSA's scenarios): named sets of services and how many
containers of each, chosen with `osa-aio bootstrap --profile NAME` (kept in user_variables.yml as
`osa_aio_profile`). A profile sets the affinity of its container types on every host that
carries them; 0 means none. Its memory and disk budget follows from env.d (`osa-aio profiles`),
and the preflight refuses a profile this host cannot hold, naming it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

from osa_aio.errors import ConfigError

VARIABLE = "osa_aio_profile"
DEFAULT = "aio"       # the shipped config's counts
LARGEST = "compute"   # what a fresh bootstrap chooses when the host holds it (osa_aio.bootstrap)
# A fresh bootstrap with no profile chosen grows to LARGEST where the host holds its budget.
GROW_DEFAULT = True


@dataclass(frozen=True)
class Profile:
    name: str
    description: str

    @property
    def counts(self) -> Mapping[str, int]:
        """container type -> containers per host (0: none), as each role declares for this profile."""
        # The roles build on the config (which applies profiles), so they are read lazily.
        from osa_aio.roles import ROLES  # noqa: PLC0415

        return {role.container_type: role.profiles.get(self.name, 0) for role in ROLES.values() if role.container_type}


PROFILES = {p.name: p for p in (
    Profile("infra", "the shared infrastructure alone: repo, HAProxy, galera x3, rabbitmq x3, memcached, utility"),
    Profile("identity", "infra + keystone x2: redundant like OSA's AIO"),
    Profile("minimal", "one of each service: for a laptop"),
    Profile("aio", "every service but nova and neutron, redundant where production is (the shipped config)"),
    Profile("compute", "aio + nova, neutron (ML2/OVN) and a compute node: VMs boot (the default where it fits)"),
)}


def get(name: str, file: str, key: str | None = VARIABLE) -> Profile:
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}", file=file, key=key,
                          hint=f"profiles: {', '.join(PROFILES)} (see `osa-aio profiles`)")
    return PROFILES[name]


def apply(entries: tuple, skeleton, profile: Profile) -> tuple:
    """Host entries with the profile's counts as their affinity, for the groups that carry each type."""
    result = []
    for entry in entries:
        affinity = dict(entry.affinity)
        for ctype, count in profile.counts.items():
            if ctype in skeleton.containers and entry.group in skeleton.host_groups_of(ctype):
                affinity[ctype] = count
        result.append(dataclasses.replace(entry, affinity=affinity))
    return tuple(result)
