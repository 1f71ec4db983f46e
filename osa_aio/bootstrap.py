"""`osa-aio bootstrap`: config dir, secrets, host networking and the base image, idempotently."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from osa_aio import profiles
from osa_aio.config import USER_SECRETS, USER_VARIABLES, Config, load_config, project_path
from osa_aio.errors import ConfigError
from osa_aio.fsutil import write_atomic
from osa_aio.inventory.query import containers
from osa_aio.yamlio import load_yaml
from osa_aio.engine import Engine
from osa_aio.host import HostStateRecorded, bridge_joins, host_fleet, join_problems, network_steps, primary_address
from osa_aio.image import BaseImageBuilt, current_base, host_recipe
from osa_aio.inventory.generate import build_inventory
from osa_aio.inventory.store import dumps, inventory_path, load_inventory, save_inventory
from osa_aio.preflight import PreflightFailed, budget, check_resources, run_preflight
from osa_aio.roles import used_secrets
from osa_aio.secrets import fill_secrets, load_secrets
from osa_aio.transport import LocalRunner


@dataclass
class ConfigDirInstalled:
    """The config dir exists; when absent it is copied from the project's user_config/."""

    target: Path
    name = "config dir"

    def check(self) -> str | None:
        return None if self.target.is_dir() else f"absent: install {project_path('user_config')}"

    def apply(self) -> None:
        shutil.copytree(project_path("user_config"), self.target)
        self.target.chmod(0o750)


@dataclass
class ProfileChosen:
    """user_variables.yml names the service profile (`osa_aio_profile`), its other lines kept."""

    config_dir: Path
    profile: str

    @property
    def name(self) -> str:
        return f"profile {self.profile}"

    @property
    def path(self) -> Path:
        return self.config_dir / USER_VARIABLES

    def check(self) -> str | None:
        current = (load_yaml(self.path) or {}).get(profiles.VARIABLE) if self.path.exists() else None
        return None if current == self.profile else f"is {current or 'not set'}"

    def apply(self) -> None:
        lines = self.path.read_text().splitlines() if self.path.exists() else []
        lines = [line for line in lines if line.strip() not in ("{}", "---")
                 and not line.startswith(f"{profiles.VARIABLE}:")]
        lines.append(f"{profiles.VARIABLE}: {self.profile}")
        write_atomic(self.path, "\n".join(lines) + "\n", 0o640)
        load_yaml(self.path)  # still valid YAML


@dataclass
class SecretsFilled:
    """Every secret has a value, and every secret a role uses is in the file (added when a
    newer osa-aio deploys more services than the file was made for)."""

    path: Path
    wanted: tuple[str, ...] = ()
    name = "secrets filled"

    def check(self) -> str | None:
        found = load_secrets(self.path)
        empty = [key for key, value in found.items() if value is None]
        missing = [key for key in self.wanted if key not in found]
        return f"{len(empty)} empty, {len(missing)} missing" if empty or missing else None

    def apply(self) -> None:
        fill_secrets(self.path, self.wanted)


@dataclass
class InventorySaved:
    config_dir: Path
    host_address: str | None
    name = "inventory"

    def _build(self) -> dict:
        config = load_config(self.config_dir, host_address=self.host_address)
        return build_inventory(config, load_inventory(self.config_dir))[0]

    def check(self) -> str | None:
        path = inventory_path(self.config_dir)
        if not path.exists():
            return "absent"
        return None if path.read_text() == dumps(self._build()) else "config changed"

    def apply(self) -> None:
        save_inventory(self.config_dir, self._build())


def bootstrap(config_dir: Path, engine: Engine, rebuild_image: bool = False, profile: str | None = None) -> None:
    """Preflight first (nothing changes before it passes), then each idempotent step."""
    runner = LocalRunner()
    address = primary_address(runner)
    with engine.phase("preflight"):
        # Validate the config that will be installed when there is none yet.
        source = config_dir if config_dir.is_dir() else project_path("user_config")
        if profile is None and profiles.GROW_DEFAULT:
            profile = _grown_default(config_dir, source, address, engine)
        config: Config = load_config(source, host_address=address, profile=profile)
        config.check_vips()
        inventory, _ = build_inventory(config, load_inventory(config_dir) if config_dir.is_dir() else None)
        if profile:
            _check_profile_fits_inventory(config, inventory)
        hosts = host_fleet(config, runner)
        entries = config.hosts()
        remote = [(entries[h.name], h.runner) for h in hosts.hosts.values() if h.remote]
        run_preflight(config, inventory, entries[hosts.local.name], runner, remote)
        recipe = host_recipe()
        joins = bridge_joins(config, hosts)
        if join_problems(config, joins):
            raise PreflightFailed(join_problems(config, joins))
    with engine.phase("config"):
        engine.run("config", "localhost", [ConfigDirInstalled(config_dir),
                                           *([ProfileChosen(config_dir, config.profile)] if profile else []),
                                           SecretsFilled(config_dir / USER_SECRETS, used_secrets()),
                                           InventorySaved(config_dir, address)])
    if engine.failed:
        return
    # Every host side by side; the VIPs (and HAProxy) are this machine's.
    with engine.phase("network"):
        bridges = tuple(network.bridge for network in config.provider_networks)
        engine.run_parallel("network", [(h.name, [HostStateRecorded(h.runner, bridges),
                                                  *network_steps(config, entries[h.name], h.runner, here=not h.remote),
                                                  *joins.get(h.name, [])]) for h in hosts.hosts.values()])
    if engine.failed:
        return
    with engine.phase("base image"):
        engine.run_parallel("image", [(h.name, [BaseImageBuilt(recipe, rebuild=rebuild_image, runner=h.runner)])
                                      for h in hosts.hosts.values()])


def _grown_default(config_dir: Path, source: Path, address: str | None, engine: Engine) -> str | None:
    """With no profile chosen yet on a config dir with no deployment, the default grows to
    profiles.LARGEST (nova, neutron and a compute node) when this host holds it; otherwise the
    shipped config (profiles.DEFAULT) stays, and the line says what did not fit. None: leave it."""
    if load_config(source, host_address=address).profile is not None or load_inventory(config_dir) is not None:
        return None
    config = load_config(source, host_address=address, profile=profiles.LARGEST)
    inventory, _ = build_inventory(config, None)
    problems = check_resources(budget(config, inventory), base_built=current_base() is not None,
                               profile=profiles.LARGEST)
    if problems:
        engine.console.print(f"note: {problems[0]}; deploying profile {profiles.DEFAULT!r} instead", markup=False,
                             soft_wrap=True)
        return profiles.DEFAULT
    return profiles.LARGEST


def _check_profile_fits_inventory(config: Config, inventory: dict) -> None:
    """A profile asking for fewer containers than the saved inventory holds cannot take effect:
    osa-aio never drops saved containers by itself."""
    asked = {(entry.name, ctype): count for entry in config.host_entries for ctype, count in entry.affinity.items()}
    held = Counter((row.host, row.container_type) for row in containers(inventory))
    for key, count in sorted(held.items()):
        if key in asked and count > asked[key]:
            raise ConfigError(f"profile {config.profile!r} asks for {asked[key]} {key[1]} on {key[0]}, the saved "
                              f"inventory holds {count}", file=str(inventory_path(config.config_dir)),
                              hint="bootstrap with a fresh config dir, or `osa-aio destroy --all --yes --purge` first")
