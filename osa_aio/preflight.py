"""Preflight: is this host fit for the config, before anything on it changes?

Each check returns problems as one line each: what is wrong and what to do.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import netaddr

from osa_aio import profiles
from osa_aio.config import Config, HostEntry, load_config
from osa_aio.errors import HostError, OsaAioError
from osa_aio.host import interface_addresses, network_plan
from osa_aio.image import current_base
from osa_aio.lxchost import LXC_PATH
from osa_aio.inventory.generate import build_inventory
from osa_aio.inventory.query import containers
from osa_aio.transport import LocalRunner, Runner

NAMESPACES = ("mnt", "uts", "ipc", "pid", "net", "cgroup")
COMMANDS = ("ip", "iptables", "mmdebstrap", "chroot", "rsync", "lxc-start", "lxc-attach", "lxc-copy")
HOST_PACKAGES = "apt-get install lxc mmdebstrap iptables rsync iproute2"
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


def budget(config: Config, inventory: dict, host: str | None = None) -> Budget:
    """Memory and disk the inventory's containers (on ``host``, or all) ask for (env.d properties
    memory_mb / disk_mb)."""
    memory = disk = 0
    for row in containers(inventory):
        if host is not None and row.host != host:
            continue
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


@dataclass(frozen=True)
class HostFacts:
    """What preflight reads on a host (this machine, or a remote one through its runner)."""

    uid: int
    missing_namespaces: tuple[str, ...]
    cgroups: bool
    missing_commands: tuple[str, ...]
    lxc_config: bool
    memory_available_mb: int
    disk_free_mb: int


# One command reads them all (a remote host answers over one SSH round trip).
_FACTS = r"""echo "uid=$(id -u)"
m=; for ns in $1; do [ -e /proc/self/ns/$ns ] || m="$m $ns"; done; echo "missing_namespaces=$m"
if [ -n "$(ls -A /sys/fs/cgroup 2>/dev/null)" ]; then echo cgroups=1; else echo cgroups=0; fi
m=; for c in $2; do command -v $c >/dev/null 2>&1 || m="$m $c"; done; echo "missing_commands=$m"
if [ -e /usr/share/lxc/config/common.conf ]; then echo lxc_config=1; else echo lxc_config=0; fi
echo "memory_available_mb=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)"
d=$3; while [ ! -d "$d" ]; do d=$(dirname "$d"); done
echo "disk_free_mb=$(df -Pm "$d" | awk 'NR == 2 {print $4}')"
"""


def host_facts(runner: Runner, disk_path: Path = LXC_PATH) -> HostFacts:
    found = dict(line.split("=", 1) for line in runner.run(
        ["sh", "-c", _FACTS, "facts", " ".join(NAMESPACES), " ".join(COMMANDS), str(disk_path)]).stdout.splitlines()
        if "=" in line)

    def number(key: str) -> int:
        return int(found.get(key, "").strip() or 0)

    return HostFacts(uid=number("uid"), missing_namespaces=tuple(found.get("missing_namespaces", "").split()),
                     cgroups=found.get("cgroups") == "1",
                     missing_commands=tuple(found.get("missing_commands", "").split()),
                     lxc_config=found.get("lxc_config") == "1", memory_available_mb=number("memory_available_mb"),
                     disk_free_mb=number("disk_free_mb"))


def lxc_problems(facts: HostFacts, install: str = "scripts/aio.sh does", remote: bool = False) -> list[str]:
    """Can this host run osa-aio's containers (pure)? ``install``: how its packages are installed;
    ``remote``: osa-aio logged in there (as root, or it is a problem; here check_root says it)."""
    problems = []
    if remote and facts.uid != 0:
        problems.append("osa-aio logs in as a user that is not root: log in as root (ansible_user)")
    if facts.missing_namespaces:
        problems.append(f"the kernel lacks namespaces LXC needs ({', '.join(facts.missing_namespaces)}): "
                        "use a host kernel with them")
    if not facts.cgroups:
        problems.append("no cgroup filesystem is mounted at /sys/fs/cgroup: mount cgroups (LXC needs them)")
    for command in facts.missing_commands:
        problems.append(f"the command {command} is missing: install the host packages ({install})")
    if not facts.lxc_config:
        problems.append("LXC's config files are missing (/usr/share/lxc/config): install the lxc package")
    return problems


def check_lxc(runner: Runner | None = None) -> list[str]:
    """This machine runs LXC and osa-aio's python-lxc bindings (root is check_root's)."""
    facts = host_facts(runner or LocalRunner())
    problems = lxc_problems(facts)
    try:
        import lxc  # noqa: F401,PLC0415
    except ImportError:
        problems.append("the python-lxc bindings are missing: install lxc-dev and pkg-config, then `pip install lxc`")
    return problems


def check_resources(need: Budget, meminfo: Path = Path("/proc/meminfo"), disk_path: Path = LXC_PATH,
                    base_built: bool = True, profile: str | None = None) -> list[str]:
    """This machine's memory and disk against what its containers need."""
    available_kb = next((int(line.split()[1]) for line in meminfo.read_text().splitlines()
                         if line.startswith("MemAvailable:")), 0)
    probe = disk_path if disk_path.exists() else disk_path.parent
    return resource_problems(need, available_kb // 1024, shutil.disk_usage(probe).free // (1024 * 1024), disk_path,
                             base_built, profile)


def resource_problems(need: Budget, available_mb: int, free_mb: int, disk_path: Path = LXC_PATH,
                      base_built: bool = True, profile: str | None = None) -> list[str]:
    """Memory and disk against what the containers need (pure)."""
    problems = []
    fix = "lower affinity" if profile is None else "choose a smaller profile (`osa-aio profiles`)"
    of = "" if profile is None else f" for profile {profile!r}"
    if available_mb < need.memory_mb:
        problems.append(f"not enough memory{of}: the containers need {need.memory_mb} MB, "
                        f"{available_mb} MB is available; free memory or {fix}")
    disk_need = need.disk_mb + (0 if base_built else BASE_IMAGE_DISK_MB)
    if free_mb < disk_need:
        problems.append(f"not enough disk at {disk_path}{of}: the containers need {disk_need} MB, "
                        f"{free_mb} MB is free; free space or {fix}")
    return problems


def check_networks(config: Config, host: HostEntry, runner: Runner, vips: bool = True) -> list[str]:
    """The container networks (and with ``vips`` the VIPs, which live on this machine) are not in
    use by any interface but osa-aio's bridges."""
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
    if not vips:
        return list(dict.fromkeys(problems))
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


def run_preflight(config: Config, inventory: dict, host: HostEntry, runner: Runner,
                  remote: Sequence[tuple[HostEntry, Runner]] = ()) -> Budget:
    """Everything bootstrap checks, on this machine and on each remote host (side by side);
    raises PreflightFailed listing every problem, before anything on any host changes."""
    problems = check_root() + check_lxc()
    need = budget(config, inventory, host.name)
    if not problems:
        problems += check_resources(need, base_built=current_base() is not None, profile=config.profile)
        problems += check_networks(config, host, runner)
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(remote)))) as pool:
        for found in pool.map(lambda pair: check_remote(config, inventory, *pair), remote):
            problems += found
    if problems:
        raise PreflightFailed(problems)
    return need


def check_remote(config: Config, inventory: dict, entry: HostEntry, runner: Runner) -> list[str]:
    """A remote host: reached over SSH as root, LXC there, memory and disk for its containers,
    its container networks free. Each problem names the host."""
    try:
        facts = host_facts(runner)
    except OsaAioError as exc:
        return [f"host {entry.name}: {exc}"]
    problems = lxc_problems(facts, install=HOST_PACKAGES, remote=True)
    if not problems:
        problems += resource_problems(budget(config, inventory, entry.name), facts.memory_available_mb,
                                      facts.disk_free_mb, base_built=current_base(runner) is not None,
                                      profile=config.profile)
        problems += check_networks(config, entry, runner, vips=False)
    return [f"host {entry.name}: {problem}" for problem in problems]
