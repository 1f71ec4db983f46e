"""The role contract: what every role declares, read by deploy, images, wheels, HAProxy, verify,
dev, rebuild, profiles and overrides. A field a role does not need keeps its default; nothing
reads a role any other way (no getattr on modules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:
    from osa_aio.haproxy import HaService
    from osa_aio.roles.context import Context


@dataclass(frozen=True)
class Check:
    """One `osa-aio verify` row: ``probe`` returns what it saw, or raises saying what is wrong."""

    name: str
    probe: Callable[["Context"], str]


@dataclass(frozen=True)
class DevAlso:
    """Other containers that run the same code (nova-compute on the compute node): the checkout is
    mounted there too, installed editable into ``venv`` and ``units`` restarted on it; ``role``
    puts the released code back there (`dev --off`)."""

    role: str                  # "compute"
    group: str                 # "nova_compute"
    venv: str
    units: tuple[str, ...]


@dataclass(frozen=True)
class DevSpec:
    """How `osa-aio dev SERVICE` swaps a checkout in: what it is, where it goes, what restarts."""

    distribution: str          # the name in setup.cfg/pyproject.toml: "openstack-placement"
    module: str                # the package directory in the checkout: "placement"
    version: str               # pbr's version for a checkout without git tags
    venv: str
    user: str
    units: tuple[str, ...]     # restarted on the checkout, in this order
    health: tuple[tuple[str, str], ...]  # (HAProxy backend, URL with {address}) per app
    sync: tuple[tuple[str, ...], ...] = ()  # run as ``user`` after the install (db sync)
    build: tuple[tuple[str, ...], ...] = ()  # run after the install and before every restart (static files)
    # Units that take work from a queue (heat-engine): stopped on the other containers while a
    # checkout runs, so every RPC reaches the dev code; started again by --off.
    exclusive: tuple[str, ...] = ()
    foreground: Callable[["Context", str], list[str]] | None = None  # argv of the first app in a terminal
    also: tuple[DevAlso, ...] = ()

    @property
    def backends(self) -> tuple[str, ...]:
        return tuple(backend for backend, _ in self.health)


@dataclass(frozen=True, eq=False)  # one object per role: compared and hashed by identity
class Role:
    """One service osa-aio deploys."""

    name: str
    deploy: Callable[["Context"], None]
    # What needs only its containers and the repo (packages, venv, config files, units): run ahead of
    # its stage, beside the stages before it (osa_aio.deploy); False when a step failed.
    install: Callable[["Context"], bool] | None = None
    group: str = ""                          # the inventory group of its containers
    container_type: str | None = None        # None: it runs on the host (haproxy)
    packages: tuple[str, ...] = ()           # apt packages in its container image
    disabled_services: tuple[str, ...] = ()  # units the image keeps from starting at boot
    python_packages: tuple[str, ...] = ()    # its own venv: one wheel set, resolved on its own
    client_packages: tuple[str, ...] = ()    # added to the utility container's client venv
    secrets: tuple[str, ...] = ()            # user_secrets.yml keys it uses
    haproxy: tuple["HaService", ...] = ()    # its frontends
    config_files: Mapping[str, tuple[str, bool]] = field(default_factory=dict)  # file -> (path in the container, has sections)
    defaults: Mapping[str, Any] = field(default_factory=dict)      # knobs: <name>_<key> in user_variables.yml
    dev: DevSpec | None = None               # `osa-aio dev` support
    start_order: int = 70                    # lxc.start.order of its containers (lower first)
    profiles: Mapping[str, int] = field(default_factory=dict)      # profile name -> containers per host (absent: 0)
    checks: tuple[Check, ...] = ()           # its `osa-aio verify` rows
    catalog: tuple = ()                      # its keystone catalog entries (osa_aio.roles.catalog.CatalogEntry)
    mounts: tuple[tuple[str, str], ...] = () # (host dir, path in the container) shared by its containers
    # More LXC config keys of its containers, set last: a key set once replaces the image's value
    # (lxc.apparmor.profile), lxc.mount.entry adds to the others.
    lxc_config: tuple[tuple[str, str], ...] = ()
    # interface -> a script LXC runs on the host when it makes that interface's veth (LXC passes the
    # host's end last): what only the host side of a veth can set.
    net_up: Mapping[str, str] = field(default_factory=dict)
    venv: str | None = None                  # its venv under /openstack/venvs (dev mode installs there)
    log_units: tuple[str, ...] = ()          # `osa-aio logs`: the units whose journal it reads
    log_files: tuple[str, ...] = ()          # and the log files (shell globs) in each container

    def settings(self, user_variables: Mapping[str, Any]) -> dict[str, Any]:
        """Its knobs: the defaults, overridden by <name>_<key> in user_variables.yml (osa_aio.knobs checks them)."""
        return knob_values(self.name, self.defaults, user_variables)


def knob_values(service: str, defaults: Mapping[str, Any], user_variables: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults, each overridden by <service>_<key> in user_variables.yml."""
    return {key: user_variables.get(f"{service}_{key}", value) for key, value in defaults.items()}
