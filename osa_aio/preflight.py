"""Preflight: is this host fit for the config, before anything on it changes?

Each check returns problems as one line each: what is wrong and what to do.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import netaddr

from osa_aio import profiles
from osa_aio.config import Config, HostEntry, load_config
from osa_aio.errors import HostError
from osa_aio.host import interface_addresses, network_plan
from osa_aio.image import LXC_PATH, current_base
from osa_aio.inventory.generate import build_inventory
from osa_aio.inventory.query import containers
from osa_aio.transport import Runner

NAMESPACES = ("mnt", "uts", "ipc", "pid", "net", "cgroup")
COMMANDS = ("ip", "iptables", "mmdebstrap", "chroot", "lxc-start")
DEFAULT_MEMORY_MB = 256
DEFAULT_DISK_MB = 512
BASE_IMAGE_DISK_MB = 1024


class PreflightFailed(HostError):
    """One or more preflight problems; each is its own line."""

    def __init__(self, problems: list[str]) -> None:
        self.lines = problems
        super().__init__(problems[0])


@dataclass(frozen=True)
class Budget:
    memory_mb: int
    disk_mb: int


def budget(config: Config, inventory: dict) -> Budget:
    """Memory and disk the inventory's containers ask for (env.d properties memory_mb / disk_mb)."""
    memory = disk = 0
    for row in containers(inventory):
        properties = config.skeleton.containers.get(row.container_type, {}).get("properties") or {}
        memory += int(properties.get("memory_mb", DEFAULT_MEMORY_MB))
        disk += int(properties.get("disk_mb", DEFAULT_DISK_MB))
    return Budget(memory, disk)


@dataclass(frozen=True)
class ProfileBudget:
    name: str
    description: str
    current: bool
    counts: dict[str, int]  # container type -> containers
    budget: Budget


def profile_budgets(config_dir: Path, host_address: str | None) -> list[ProfileBudget]:
    """Each service profile's containers and budget on this config dir (`osa-aio profiles`)."""
    current = load_config(config_dir, host_address=host_address).profile or profiles.DEFAULT
    rows = []
    for profile in profiles.PROFILES.values():
        config = load_config(config_dir, host_address=host_address, profile=profile.name)
        inventory, _ = build_inventory(config, None)
        counts = Counter(row.container_type for row in containers(inventory))
        rows.append(ProfileBudget(profile.name, profile.description, profile.name == current, dict(counts),
                                  budget(config, inventory)))
    return rows


def check_root() -> list[str]:
    return [] if os.geteuid() == 0 else ["osa-aio must run as root: run it with sudo"]


def check_lxc(proc: Path = Path("/proc")) -> list[str]:
    problems = []
    missing = [ns for ns in NAMESPACES if not (proc / "self" / "ns" / ns).exists()]
    if missing:
        problems.append(f"the kernel lacks namespaces LXC needs ({', '.join(missing)}): use a host kernel with them")
    if not Path("/sys/fs/cgroup").is_dir() or not any(Path("/sys/fs/cgroup").iterdir()):
        problems.append("no cgroup filesystem is mounted at /sys/fs/cgroup: mount cgroups (LXC needs them)")
    for command in COMMANDS:
        if shutil.which(command) is None:
            problems.append(f"the command {command} is missing: install the host packages (scripts/aio.sh does)")
    try:
        import lxc  # noqa: F401,PLC0415
    except ImportError:
        problems.append("the python-lxc bindings are missing: install lxc-dev and pkg-config, then `pip install lxc`")
    if not Path("/usr/share/lxc/config/common.conf").exists():
        problems.append("LXC's config files are missing (/usr/share/lxc/config): install the lxc package")
    return problems


def check_resources(need: Budget, meminfo: Path = Path("/proc/meminfo"), disk_path: Path = LXC_PATH,
                    base_built: bool = True, profile: str | None = None) -> list[str]:
    problems = []
    fix = "lower affinity" if profile is None else "choose a smaller profile (`osa-aio profiles`)"
    of = "" if profile is None else f" for profile {profile!r}"
    available_kb = next((int(line.split()[1]) for line in meminfo.read_text().splitlines()
                         if line.startswith("MemAvailable:")), 0)
    if available_kb // 1024 < need.memory_mb:
        problems.append(f"not enough memory{of}: the containers need {need.memory_mb} MB, "
                        f"{available_kb // 1024} MB is available; free memory or {fix}")
    disk_need = need.disk_mb + (0 if base_built else BASE_IMAGE_DISK_MB)
    probe = disk_path if disk_path.exists() else disk_path.parent
    free_mb = shutil.disk_usage(probe).free // (1024 * 1024)
    if free_mb < disk_need:
        problems.append(f"not enough disk at {disk_path}{of}: the containers need {disk_need} MB, "
                        f"{free_mb} MB is free; free space or {fix}")
    return problems


def check_networks(config: Config, host: HostEntry, runner: Runner) -> list[str]:
    """The container networks and the VIPs are not in use by any interface but osa-aio's bridges."""
    problems = []
    bridges = {network.ip_from_q: network.bridge for network in config.provider_networks if network.ip_from_q}
    addresses = interface_addresses(runner)
    routes = json.loads(runner.run(["ip", "-j", "-4", "route", "show"]).stdout or "[]")
    file = str(config.path("openstack_user_config.yml"))
    for name, cidr in config.cidr_networks.items():
        own = bridges.get(name)
        for device, address, prefix in addresses:
            if device != own and netaddr.IPNetwork(f"{address}/{prefix}").cidr.first <= cidr.last \
                    and cidr.first <= netaddr.IPNetwork(f"{address}/{prefix}").cidr.last:
                problems.append(f"{file}: cidr_networks.{name}: {cidr} is already used by {device} "
                                f"({address}/{prefix}); choose another network")
        for route in routes:
            device, dst = route.get("dev"), route.get("dst")
            if device and device != own and dst not in (None, "default"):
                other = netaddr.IPNetwork(dst)
                if other.first <= cidr.last and cidr.first <= other.last:
                    problems.append(f"{file}: cidr_networks.{name}: {cidr} overlaps the route {dst} via "
                                    f"{device}; choose another network")
    plans = network_plan(config, host)
    planned = {address for plan in plans for address, _ in plan.addresses}
    owners = {address: device for device, address, _ in addresses}
    for key, vip in (("internal_lb_vip_address", config.internal_vip),
                     ("external_lb_vip_address", config.external_vip)):
        device = owners.get(vip)
        expected = {plan.bridge for plan in plans if (vip, 32) in plan.addresses}
        if device and expected and device not in expected:
            problems.append(f"{file}: global_overrides.{key}: {vip} is already on {device}; choose a free address")
        if vip not in planned and device is None:
            problems.append(f"{file}: global_overrides.{key}: {vip} is neither in a container network nor "
                            "an address of this host; set it to `auto` or to one of the host's addresses")
    return list(dict.fromkeys(problems))


def run_preflight(config: Config, inventory: dict, host: HostEntry, runner: Runner) -> Budget:
    """Everything bootstrap checks; raises PreflightFailed listing every problem."""
    problems = check_root() + check_lxc()
    need = budget(config, inventory)
    if not problems:
        problems += check_resources(need, base_built=current_base() is not None, profile=config.profile)
        problems += check_networks(config, host, runner)
    if problems:
        raise PreflightFailed(problems)
    return need
