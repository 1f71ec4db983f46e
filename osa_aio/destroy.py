"""`osa-aio destroy`: containers, or everything osa-aio put on the host."""

from __future__ import annotations

import shutil
from pathlib import Path

from osa_aio.config import Config, load_config, project_path
from osa_aio.containers import DATA_ROOT, destroy_container, osa_aio_containers
from osa_aio.errors import HostError, OsaAioError
from osa_aio.host import (FORWARD_CHAIN, INOTIFY_INSTANCES, MIN_INOTIFY_INSTANCES, NAT_CHAIN, STATE_DIR, SYSCTL_FILE,
                          host_fleet, local_host, network_plan, read_host_state, vxlan_device)
from osa_aio.hosts import Fleet, Host
from osa_aio.image import CACHE_DIR, base_images, type_images
from osa_aio.lxchost import destroy as destroy_defined
from osa_aio.roles.haproxy import stop_haproxy
from osa_aio.inventory.naming import normalize
from osa_aio.inventory.query import containers, resolve
from osa_aio.inventory.store import load_inventory
from osa_aio.logs import LOG_DIR
from osa_aio.transport import LocalRunner, Runner


def destroy_all(config_dir: Path, purge: bool, say) -> None:
    """Remove containers, bridges, NAT, sysctl and host files on every host; with ``purge`` also
    the config dir, base images, caches and logs. Each host is left as it was before bootstrap.
    A host that cannot be reached is said, the others are cleaned, and the command fails."""
    runner = LocalRunner()
    if stop_haproxy(runner):
        say("stopped haproxy (the distribution's haproxy.cfg is back)")
    saved = _saved_inventory(config_dir)
    config = _config(config_dir)
    unreachable = []
    try:
        hosts = host_fleet(config, runner) if config else Fleet({"localhost": Host("localhost", runner)})
    except OsaAioError as exc:  # a remote host's SSH settings are wrong: this machine is cleaned all the same
        say(f"could not reach the other hosts: {exc}")
        here = local_host(config, runner).name
        unreachable += [name for name in config.hosts() if name != here]
        hosts = Fleet({here: Host(here, runner)})
    entries = config.hosts() if config else {}
    for host in hosts.hosts.values():
        where = f" on {host.name}" if host.remote else ""
        try:
            entry = entries.get(host.name)
            plans = network_plan(config, entry, vips=not host.remote) if entry else []
            others = {name for name in hosts.hosts if name != host.name}
            _clean_host(host, saved, others, plans, purge, lambda line: say(line + where))
        except OsaAioError as exc:
            if not host.remote:
                raise
            unreachable.append(host.name)
            say(f"could not clean host {host.name}: {exc}")
    if purge:
        # The config dir says how to reach the hosts not cleaned yet: it stays until they are.
        for path in (LOG_DIR,) if unreachable else (config_dir, LOG_DIR):
            if path.exists():
                shutil.rmtree(path)
                say(f"removed {path}")
    if unreachable:
        raise HostError(f"host {unreachable[0]} was not cleaned", hint="see the line above; `destroy --all` again "
                        "once it answers (the config dir is kept for it)")


def _clean_host(host: Host, saved: dict | None, others: set[str], plans: list, purge: bool, say) -> None:
    """One host back to how it was before bootstrap (``others``: the other hosts' names, whose
    containers are theirs to destroy)."""
    runner = host.runner
    rows = containers(saved or {"_meta": {"hostvars": {}}})
    names = sorted(set(osa_aio_containers(runner)) | {row.name for row in rows if row.host not in others})
    for name in names:
        if destroy_container(name, runner=runner):
            say(f"destroyed container {name}")
    state = read_host_state(runner=runner) or {}
    for plan in plans:
        device = vxlan_device(plan.bridge)
        if runner.run(["ip", "link", "show", "dev", device], check=False).ok:
            runner.run(["ip", "link", "del", "dev", device])
            say(f"removed VXLAN port {device}")
        if runner.run(["ip", "link", "show", "dev", plan.bridge], check=False).rc != 0:
            continue
        if plan.bridge in state.get("bridges_before", []):
            for address, prefix in plan.addresses:
                runner.run(["ip", "addr", "del", f"{address}/{prefix}", "dev", plan.bridge], check=False)
            say(f"removed osa-aio's addresses from {plan.bridge} (it existed before bootstrap)")
        else:
            runner.run(["ip", "link", "del", plan.bridge])
            say(f"removed bridge {plan.bridge}")
    for table, builtin, chain in (("nat", "POSTROUTING", NAT_CHAIN), ("filter", "FORWARD", FORWARD_CHAIN)):
        if _remove_chain(runner, table, builtin, chain):
            say(f"removed iptables chain {table}/{chain}")
    if _removed(runner, SYSCTL_FILE):
        say(f"removed {SYSCTL_FILE}")
    # Only what bootstrap changed goes back: forwarding it turned on, a limit it raised.
    for key, value, changed in (
            ("net.ipv4.ip_forward", state.get("ip_forward"), lambda v: v == "0"),
            (INOTIFY_INSTANCES, str(state.get("inotify_instances", "")), lambda v: int(v) < MIN_INOTIFY_INSTANCES)):
        if value and value.isdigit() and changed(value) and _sysctl(runner, key) != value:
            runner.run(["sysctl", "-q", "-w", f"{key}={value}"])
            say(f"{key} back to {value}")
    for path in (DATA_ROOT / "log", DATA_ROOT, STATE_DIR):
        if _removed(runner, path):
            say(f"removed {path}")
    if purge:
        for name in type_images(runner):
            destroy_defined(name, runner)
            say(f"destroyed image {name}")
        for name in base_images(runner):
            destroy_defined(name, runner)
            say(f"destroyed base image {name}")
        if _removed(runner, CACHE_DIR):
            say(f"removed {CACHE_DIR}")


def _sysctl(runner: Runner, key: str) -> str:
    return runner.run(["cat", "/proc/sys/" + key.replace(".", "/")], check=False).stdout.strip()


def _removed(runner: Runner, path: str | Path) -> bool:
    """rm -rf a path osa-aio made on a host; True if it was there."""
    if runner.run(["test", "-e", str(path)], check=False).rc != 0:
        return False
    runner.run(["rm", "-rf", "--one-file-system", str(path)])
    return True


def _saved_inventory(config_dir: Path) -> dict | None:
    try:
        return load_inventory(config_dir) if config_dir.is_dir() else None
    except OsaAioError:
        return None


def _config(config_dir: Path) -> Config | None:
    """The deployment's config (or the defaults): its hosts and bridges."""
    for source in (config_dir, project_path("user_config")):
        try:
            return load_config(source)
        except OsaAioError:
            continue
    return None


def _remove_chain(runner: Runner, table: str, builtin: str, chain: str) -> bool:
    if runner.run(["sh", "-c", "command -v iptables"], check=False).rc != 0:
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
