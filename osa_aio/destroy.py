"""`osa-aio destroy`: containers, or everything osa-aio put on the host."""

from __future__ import annotations

import shutil
from pathlib import Path

from osa_aio.config import load_config, project_path
from osa_aio.containers import DATA_ROOT, destroy_container, osa_aio_containers
from osa_aio.errors import OsaAioError
from osa_aio.host import FORWARD_CHAIN, INOTIFY_INSTANCES, NAT_CHAIN, STATE_DIR, SYSCTL_FILE, network_plan, local_host, read_host_state
from osa_aio.image import CACHE_DIR, base_images, destroy_defined, type_images
from osa_aio.roles.haproxy import stop_haproxy
from osa_aio.inventory.naming import normalize
from osa_aio.inventory.query import containers, resolve
from osa_aio.inventory.store import load_inventory
from osa_aio.logs import LOG_DIR
from osa_aio.transport import LocalRunner, Runner


def destroy_all(config_dir: Path, purge: bool, say) -> None:
    """Remove containers, bridges, NAT, sysctl and host files; with ``purge`` also the config
    dir, base images, caches and logs. The host is left as it was before bootstrap."""
    runner = LocalRunner()
    if stop_haproxy(runner):
        say("stopped haproxy (the distribution's haproxy.cfg is back)")
    saved = _saved_inventory(config_dir)
    names = sorted(set(osa_aio_containers()) | {row.name for row in containers(saved or {"_meta": {"hostvars": {}}})})
    for name in names:
        if destroy_container(name):
            say(f"destroyed container {name}")
    state = read_host_state() or {}
    for bridge, addresses in _bridges(config_dir, runner).items():
        if runner.run(["ip", "link", "show", "dev", bridge], check=False).rc != 0:
            continue
        if bridge in state.get("bridges_before", []):
            for address, prefix in addresses:
                runner.run(["ip", "addr", "del", f"{address}/{prefix}", "dev", bridge], check=False)
            say(f"removed osa-aio's addresses from {bridge} (it existed before bootstrap)")
        else:
            runner.run(["ip", "link", "del", bridge])
            say(f"removed bridge {bridge}")
    for table, builtin, chain in (("nat", "POSTROUTING", NAT_CHAIN), ("filter", "FORWARD", FORWARD_CHAIN)):
        if _remove_chain(runner, table, builtin, chain):
            say(f"removed iptables chain {table}/{chain}")
    if Path(SYSCTL_FILE).exists():
        Path(SYSCTL_FILE).unlink()
        say(f"removed {SYSCTL_FILE}")
    if state.get("ip_forward") in ("0", "1"):
        runner.run(["sysctl", "-q", "-w", f"net.ipv4.ip_forward={state['ip_forward']}"])
        say(f"net.ipv4.ip_forward back to {state['ip_forward']}")
    if str(state.get("inotify_instances", "")).isdigit():
        runner.run(["sysctl", "-q", "-w", f"{INOTIFY_INSTANCES}={state['inotify_instances']}"])
        say(f"{INOTIFY_INSTANCES} back to {state['inotify_instances']}")
    for path in (DATA_ROOT / "log", DATA_ROOT, STATE_DIR):
        if path.exists():
            shutil.rmtree(path)
            say(f"removed {path}")
    if purge:
        for name in type_images():
            destroy_defined(name)
            say(f"destroyed image {name}")
        for name in base_images():
            destroy_defined(name)
            say(f"destroyed base image {name}")
        for path in (CACHE_DIR, config_dir, LOG_DIR):
            if path.exists():
                shutil.rmtree(path)
                say(f"removed {path}")


def _saved_inventory(config_dir: Path) -> dict | None:
    try:
        return load_inventory(config_dir) if config_dir.is_dir() else None
    except OsaAioError:
        return None


def _bridges(config_dir: Path, runner: Runner) -> dict[str, list[tuple[str, int]]]:
    """osa-aio's bridges and the addresses it put on them, from the config (or the defaults)."""
    for source in (config_dir, project_path("user_config")):
        try:
            config = load_config(source)
            return {plan.bridge: list(plan.addresses) for plan in network_plan(config, local_host(config, runner))}
        except OsaAioError:
            continue
    return {}


def _remove_chain(runner: Runner, table: str, builtin: str, chain: str) -> bool:
    if shutil.which("iptables") is None:
        return False
    if runner.run(["iptables", "-w", "-t", table, "-n", "-L", chain], check=False).rc != 0:
        return False
    while runner.run(["iptables", "-w", "-t", table, "-D", builtin, "-j", chain], check=False).rc == 0:
        pass
    runner.run(["iptables", "-w", "-t", table, "-F", chain])
    runner.run(["iptables", "-w", "-t", table, "-X", chain])
    return True


def destroy_targets(inventory: dict, target: str) -> list[str]:
    """Inventory names and types, and leftovers osa-aio made that the inventory lost."""
    leftovers = {normalize(n): n for n in osa_aio_containers()}
    if normalize(target) in leftovers and normalize(target) not in {normalize(r.name) for r in containers(inventory)}:
        return [leftovers[normalize(target)]]
    return resolve(inventory, target)
