"""What a role sees: the config, the inventory, the engine, runners, addresses and secrets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from osa_aio import overrides
from osa_aio.config import Config, load_config
from osa_aio.containers import ordered
from osa_aio.engine import Engine
from osa_aio.errors import ConfigError
from osa_aio.host import host_fleet, primary_address
from osa_aio.hosts import Fleet, Host
from osa_aio.inventory.query import group_members
from osa_aio.inventory.store import load_inventory
from osa_aio.steps import InstallerPresent, PythonVenv, VenvSiblings
from osa_aio.transport import LocalRunner, Runner

REPO_PORT = 8181


@dataclass
class Context:
    config: Config
    inventory: dict
    engine: Engine
    limit: set[str] | None = None  # containers a --limit selected (None: all)
    wheel_sets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # service -> its venv's packages
    haproxy_services: tuple = ()  # every role's HAProxy frontends (HaService)
    host: Runner = field(default_factory=LocalRunner)  # this machine (HAProxy, the repo, the VIPs)
    fleet: Fleet | None = None  # every host; None: this machine alone

    def members(self, group: str) -> list[str]:
        """Every container of an inventory group, in start order (cluster membership)."""
        return ordered(self.inventory, sorted(group_members(self.inventory, group)))

    def targets(self, group: str) -> list[str]:
        """The members this run acts on (--limit narrows them)."""
        return [n for n in self.members(group) if self.limit is None or n in self.limit]

    def __post_init__(self) -> None:
        if self.fleet is None:
            self.fleet = Fleet({"localhost": Host("localhost", self.host)})

    def runner(self, name: str) -> Runner:
        """Container ``name``'s runner, on whichever host it lives."""
        return self.host_of(name).container(name)

    def host_of(self, name: str) -> Host:
        """The host container ``name`` lives on."""
        hosts = self.fleet.hosts
        return next(iter(hosts.values())) if len(hosts) == 1 else self.fleet.of(self.inventory, name)

    def running(self, name: str) -> bool:
        return self.host_of(name).running(name)

    def address(self, name: str) -> str:
        return self.inventory["_meta"]["hostvars"][name]["management_address"]

    def config_file(self, service: str, files: dict, file: str, container: str, text: str) -> str:
        """A rendered config file (one of a role's CONFIG_FILES) with the operator's overrides
        for it in this container merged in (osa_aio.overrides)."""
        return overrides.apply(text, overrides.layers(self.config, service, file, files[file][1], container))

    def settings(self, role) -> dict[str, Any]:
        """A role's knobs: its defaults, overridden by user_variables.yml."""
        return role.settings(self.config.user_variables)

    def secret(self, key: str) -> str:
        return self.config.secret(key)

    @property
    def internal_vip(self) -> str:
        return self.config.internal_vip

    @property
    def external_vip(self) -> str:
        return self.config.external_vip

    @property
    def repo_url(self) -> str:
        return f"http://{self.internal_vip}:{REPO_PORT}"

    @property
    def repo_links(self) -> str:
        """The repo's listing of wheels (pip's and uv's --find-links)."""
        return f"{self.repo_url}/"

    @property
    def repo_constraints(self) -> str:
        return f"{self.repo_url}/upper-constraints.txt"

    def venv_steps(self, name: str, path: str, packages: tuple[str, ...], notify: tuple[str, ...] = (),
                   siblings: VenvSiblings | None = None, compile: bool = True) -> list:
        """A venv of ``packages`` at ``path`` in container ``name``, from the private repo: the
        installer first, then the venv."""
        runner = self.runner(name)
        return [InstallerPresent(runner, self.repo_links),
                PythonVenv(runner, path, packages, self.repo_links, self.repo_constraints, notify=notify,
                           siblings=siblings, compile=compile)]


def saved_context(config_dir, engine: Engine | None = None) -> Context:
    """A Context on the saved inventory, for commands that read a deployment (verify, openrc)."""
    config = load_config(config_dir, host_address=primary_address())
    inventory = load_inventory(config_dir)
    if inventory is None:
        raise ConfigError("there is no inventory yet", file=str(config_dir),
                          hint="run `osa-aio bootstrap && osa-aio run` first")
    return Context(config, inventory, engine or Engine(), fleet=host_fleet(config))
