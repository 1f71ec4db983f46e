"""`osa-aio run`: inventory, then every container created and started (services come later)."""

from __future__ import annotations

from pathlib import Path

from osa_aio.config import load_config
from osa_aio.containers import container_spec, container_steps, ordered, osa_aio_containers
from osa_aio.engine import Engine
from osa_aio.errors import HostError
from osa_aio.host import BridgePresent, local_host, primary_address
from osa_aio.image import current_base, read_marker, remove_unused_bases
from osa_aio.inventory.generate import build_inventory
from osa_aio.inventory.query import resolve
from osa_aio.inventory.store import load_inventory, save_inventory
from osa_aio.preflight import PreflightFailed, check_lxc, check_root
from osa_aio.transport import LocalRunner


def deploy(config_dir: Path, engine: Engine, limit: str | None = None) -> list[str]:
    """Bring the containers (all, or those ``limit`` names) to their spec; return their names."""
    runner = LocalRunner()
    with engine.phase("inventory"):
        config = load_config(config_dir, host_address=primary_address(runner))
        inventory, warnings = build_inventory(config, load_inventory(config_dir))
        for warning in warnings:
            engine.console.print(f"warning: {warning}", markup=False)
        names = ordered(inventory, resolve(inventory, limit) if limit else None)
        problems = check_root() + check_lxc()
        if problems:
            raise PreflightFailed(problems)
        host = local_host(config, runner)
        foreign = [n for n in names if container_spec(inventory, n).host != host.name]
        if foreign:
            raise HostError(f"{foreign[0]} belongs to another host; osa-aio deploys one host for now",
                            hint="deploy from each host, or run on an all-in-one config")
        if current_base() is None:
            raise HostError("there is no base image", hint="run `osa-aio bootstrap` first")
        bridges = {n.bridge for name in names for n in container_spec(inventory, name).networks}
        missing = sorted(b for b in bridges if BridgePresent(runner, b).check() is not None)
        if missing:
            raise HostError(f"bridge {missing[0]} is not up", hint="run `osa-aio bootstrap` first")
        if not engine.check_mode:
            save_inventory(config_dir, inventory)
    with engine.phase("containers"):
        for name in names:
            engine.run(container_spec(inventory, name).container_type, name, container_steps(inventory, name))
    if not engine.check_mode and not engine.failed:
        # Base images that no container is cloned from any more are dead weight.
        remove_unused_bases({(read_marker(n) or {}).get("base") for n in osa_aio_containers()})
    return names
