"""LXC containers from the inventory: the spec (pure) and the steps that make a container exist,
match its spec and run, on its host (through that host's runner)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import netaddr

from osa_aio import devstate, lxchost
from osa_aio.errors import HostError, OsaAioError
from osa_aio.hosts import Fleet, Host
from osa_aio.image import current_base
from osa_aio.inventory.query import containers as inventory_containers
from osa_aio.lxchost import LOCAL, LXC_PATH
from osa_aio.steps import FileContent, sh
from osa_aio.transport import Runner, put

DATA_ROOT = Path("/openstack")
SNAPSHOT_DATA = Path("/var/lib/osa-aio/snapshots")  # the /openstack data of each container's snapshots
LOG_ROOT = DATA_ROOT / "log"
DATA_MOUNT = "openstack"   # /openstack/<name> on the host is /openstack in the container
LOG_MOUNT = "var/log"      # /openstack/log/<name> on the host is the container's /var/log
AUTOSTART_GROUPS = ("onboot", "openstack")
DEFAULT_START_ORDER = 70  # lxc.start.order of a type no role declares (lower starts earlier)
START_TIMEOUT = 30
CONFIG_FORMAT = 2  # bump when the way a spec becomes LXC config changes: containers get reconfigured


def host_path(name: str, path: str) -> Path:
    """Where a path under a container's /openstack is on the host."""
    return DATA_ROOT / name / Path(path).relative_to(f"/{DATA_MOUNT}")


@dataclass(frozen=True)
class NetworkSpec:
    interface: str
    bridge: str
    mac: str
    address: str | None
    prefixlen: int | None
    gateway: str | None
    mtu: int | None


@dataclass(frozen=True)
class ContainerSpec:
    """What one container must look like; built from the inventory alone."""

    name: str
    container_type: str
    host: str
    networks: tuple[NetworkSpec, ...]
    start_order: int
    dev_mounts: tuple[tuple[str, str], ...] = ()  # (host checkout, path in the container): osa-aio dev
    shared_mounts: tuple[tuple[str, str], ...] = ()  # (host dir, path in the container): its role's
    lxc_config: tuple[tuple[str, str], ...] = ()  # more LXC keys its role declares (compute: /dev/net/tun)
    net_up: tuple[tuple[str, str], ...] = ()  # (interface, script LXC runs on the host when it makes its veth)

    def net_up_script(self, interface: str) -> Path:
        return LXC_PATH / self.name / f"osa-aio-net-up-{interface}"

    @property
    def data_dir(self) -> Path:
        return DATA_ROOT / self.name

    @property
    def log_dir(self) -> Path:
        return LOG_ROOT / self.name

    def digest(self) -> str:
        scripts = [list(pair) for pair in self.net_up]  # their content too (none: the digest stays as it was)
        return hashlib.sha256(json.dumps([CONFIG_FORMAT, lxc_config_items(self), *([scripts] if scripts else [])])
                              .encode()).hexdigest()


def _declared(container_type: str) -> dict:
    """What its role declares for a container type: start order, shared mounts, more LXC keys and
    the veth hooks (ContainerSpec's fields)."""
    # The roles build on this module (their steps make containers), so they are read lazily.
    from osa_aio.roles import role_for_type  # noqa: PLC0415

    role = role_for_type(container_type)
    if role is None:
        return {"start_order": DEFAULT_START_ORDER}
    return {"start_order": role.start_order, "shared_mounts": role.mounts, "lxc_config": role.lxc_config,
            "net_up": tuple(role.net_up.items())}


def container_spec(inventory: dict, name: str, dev_mounts: tuple[tuple[str, str], ...] = ()) -> ContainerSpec:
    """The spec of container ``name``; its default route is the host's management address, or a
    provider network's ``gateway`` when one of its networks has one (OSA's)."""
    hostvars = inventory["_meta"]["hostvars"]
    hv = hostvars[name]
    host_networks = hostvars.get(hv["physical_host"], {}).get("container_networks", {})
    chosen = hv.get("gateway")
    networks = []
    for key, net in sorted(hv.get("container_networks", {}).items(), key=lambda kv: kv[1]["interface"]):
        is_management = net.get("address") == hv.get("management_address")
        prefix = netaddr.IPAddress(net["netmask"]).netmask_bits() if net.get("netmask") else None
        if chosen:
            gateway = chosen if net.get("gateway") == chosen else None
        else:
            gateway = host_networks.get(key, {}).get("address") if is_management else None
        networks.append(NetworkSpec(interface=net["interface"], bridge=net["bridge"], mac=net["mac"],
                                    address=net.get("address"), prefixlen=prefix, gateway=gateway,
                                    mtu=net.get("mtu")))
    return ContainerSpec(name=name, container_type=hv["container_type"], host=hv["physical_host"],
                         networks=tuple(networks), dev_mounts=tuple(dev_mounts), **_declared(hv["container_type"]))


def lxc_config_items(spec: ContainerSpec) -> list[tuple[str, str]]:
    """The LXC config keys osa-aio sets on a clone of the base image (pure)."""
    items = [("lxc.uts.name", spec.name)]
    for index, net in enumerate(spec.networks):
        prefix = f"lxc.net.{index}"
        items += [(f"{prefix}.type", "veth"), (f"{prefix}.link", net.bridge), (f"{prefix}.flags", "up"),
                  (f"{prefix}.name", net.interface), (f"{prefix}.hwaddr", net.mac)]
        if net.address:
            items.append((f"{prefix}.ipv4.address", f"{net.address}/{net.prefixlen}"))
        if net.gateway:
            items.append((f"{prefix}.ipv4.gateway", net.gateway))
        if net.mtu:
            items.append((f"{prefix}.mtu", str(net.mtu)))
        if net.interface in dict(spec.net_up):
            items.append((f"{prefix}.script.up", str(spec.net_up_script(net.interface))))
    items += [
        ("lxc.mount.entry", f"{spec.data_dir} {DATA_MOUNT} none bind,create=dir 0 0"),
        ("lxc.mount.entry", f"{spec.log_dir} {LOG_MOUNT} none bind,create=dir 0 0"),
        *[("lxc.mount.entry", f"{source} {target} none bind,create=dir 0 0") for source, target in spec.shared_mounts],
        *[("lxc.mount.entry", f"{source} {target} none bind,create=dir 0 0") for source, target in spec.dev_mounts],
        ("lxc.start.auto", "1"),
        ("lxc.start.order", str(spec.start_order)),
        *spec.lxc_config,
    ]
    items += [("lxc.group", group) for group in AUTOSTART_GROUPS]
    return items


def hosts_file(inventory: dict) -> str:
    """/etc/hosts for every container: localhost, then each container and host by name."""
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", ""]
    hostvars = inventory["_meta"]["hostvars"]
    for name in sorted(hostvars):
        address = hostvars[name].get("management_address")
        if address:
            lines.append(f"{address}\t{name}")
    return "\n".join(lines) + "\n"


def ordered(inventory: dict, names: list[str] | None = None) -> list[str]:
    """Container names in start order (galera first), then by name."""
    rows = [row.name for row in inventory_containers(inventory) if names is None or row.name in names]
    specs = {name: container_spec(inventory, name) for name in rows}
    return sorted(rows, key=lambda n: (specs[n].start_order, n))


# ---- steps ---------------------------------------------------------------------------------
# Each step acts on the container's host through that host's runner (``host``): this machine's,
# or a remote host's over SSH.

@dataclass
class HostDirectories:
    spec: ContainerSpec
    host: Runner = LOCAL
    name = "data and log directories"

    def _wanted(self) -> list[str]:
        spec = self.spec
        return [str(p) for p in (spec.data_dir, spec.log_dir, spec.log_dir / "apt", spec.log_dir / "journal",
                                 *[Path(source) for source, _ in spec.shared_mounts])]

    def check(self) -> str | None:
        missing = self.host.run(sh('for d; do [ -d "$d" ] || echo "$d"; done', *self._wanted())).stdout.split()
        return f"missing {', '.join(missing)}" if missing else None

    def apply(self) -> None:
        self.host.run(["mkdir", "-p", *self._wanted()])


@dataclass
class ContainerCreated:
    """The container exists: a copy-on-write clone of its type's image (or the base image)."""

    spec: ContainerSpec
    image: str | None = None  # the image to clone; None: the current base image
    host: Runner = LOCAL
    name = "created"

    def check(self) -> str | None:
        if not lxchost.defined(self.spec.name, self.host):
            return "absent"
        # The marker is written last: without it the clone was interrupted half way.
        marker = lxchost.read_marker(self.spec.name, self.host) or {}
        return None if marker.get("kind") == "container" else "half-made: remade"

    def apply(self) -> None:
        base = current_base(self.host)
        if base is None:
            raise HostError("there is no base image", hint="run `osa-aio bootstrap` first")
        image = self.image or base["name"]
        how = lxchost.clone(image, self.spec.name, self.host)
        # /var/log is a bind mount: give it the image's log folders (nginx, mysql ...) with their owners.
        self.host.run(["mkdir", "-p", str(self.spec.log_dir)])
        self.host.run(["rsync", "-a", "--include=*/", "--exclude=*", f"{LXC_PATH / image}/rootfs/var/log/",
                       f"{self.spec.log_dir}/"])
        lxchost.write_marker(self.spec.name, {"kind": "container", "container_type": self.spec.container_type,
                                              "base": image, "clone": how, "spec_digest": None}, self.host)


# Keys osa-aio owns wholly in a container's config: the image's values of these give way.
OWNED_KEYS = ("lxc.net.", "lxc.mount.entry", "lxc.group")


@dataclass
class ContainerConfigured:
    """The container's LXC config matches its spec (networks, mounts, autostart)."""

    spec: ContainerSpec
    host: Runner = LOCAL
    name = "configured"

    def check(self) -> str | None:
        marker = lxchost.read_marker(self.spec.name, self.host) or {}
        return None if marker.get("spec_digest") == self.spec.digest() else "config differs from the inventory"

    def apply(self) -> None:
        for interface, script in self.spec.net_up:
            put(self.host, str(self.spec.net_up_script(interface)), script, mode=0o755)
        lxchost.configure(self.spec.name, lxc_config_items(self.spec), OWNED_KEYS, self.host)
        lxchost.stop(self.spec.name, self.host)  # a running container only takes a new config on restart
        marker = lxchost.read_marker(self.spec.name, self.host) or {}
        lxchost.write_marker(self.spec.name, {**marker, "spec_digest": self.spec.digest()}, self.host)


@dataclass
class ContainerRunning:
    spec: ContainerSpec
    host: Runner
    runner: Runner  # the container's own
    name = "running"

    def check(self) -> str | None:
        return None if lxchost.running(self.spec.name, self.host) else "stopped"

    def apply(self) -> None:
        lxchost.start(self.spec.name, START_TIMEOUT, self.host)
        # Let systemd finish booting: the roles read unit states next, and a unit still starting
        # (or a restart racing the boot's own start) would mislead them.
        self.runner.run(["systemctl", "is-system-running", "--wait"], check=False, timeout=START_TIMEOUT * 4)


def container_steps(inventory: dict, name: str, image: str | None = None,
                    dev_mounts: tuple[tuple[str, str], ...] = (), host: Host | None = None) -> Iterator:
    """Everything that makes one container exist, match the inventory (and any dev checkout) and run,
    on its host (default: this machine)."""
    host = host or Host("localhost", LOCAL)
    spec = container_spec(inventory, name, dev_mounts)
    runner = host.container(name)
    yield HostDirectories(spec, host.runner)
    yield ContainerCreated(spec, image, host.runner)
    yield ContainerConfigured(spec, host.runner)
    yield ContainerRunning(spec, host.runner, runner)
    yield FileContent(runner, "/etc/hosts", hosts_file(inventory))
    resolver = lxchost.read_text("/etc/resolv.conf", host.runner)
    if resolver is None:
        raise HostError("cannot read /etc/resolv.conf", file=host.name, hint="the containers take the host's resolver")
    yield FileContent(runner, "/etc/resolv.conf", resolver)


# ---- reading state and destroying ------------------------------------------------------------

def osa_aio_containers(runner: Runner = LOCAL) -> list[str]:
    """Every container osa-aio made on the runner's host (by its marker), in or out of the inventory."""
    return sorted(name for name, marker in lxchost.markers(runner).items() if marker.get("kind") == "container")


@dataclass(frozen=True)
class ContainerState:
    name: str
    container_type: str
    state: str
    addresses: tuple[str, ...]
    autostart: bool
    dev: str | None = None  # the host checkout it runs (osa-aio dev), if any
    host: str = ""


def container_state(name: str, container_type: str = "", dev: str | None = None,
                    runner: Runner = LOCAL) -> ContainerState:
    return host_states([(name, container_type, dev)], runner)[0]


def host_states(rows: list[tuple[str, str, str | None]], runner: Runner = LOCAL,
                host: str = "") -> list[ContainerState]:
    """(name, type, dev) -> each one's state on the runner's host, read in two commands."""
    found = lxchost.states(runner) if rows else {}
    marked = lxchost.markers(runner) if rows else {}
    result = []
    for name, container_type, dev in rows:
        if name not in found:
            result.append(ContainerState(name, container_type, "ABSENT", (), False, dev, host))
            continue
        state, autostart, addresses = found[name]
        ctype = container_type or marked.get(name, {}).get("container_type", "")
        result.append(ContainerState(name, ctype, state, addresses if state == "RUNNING" else (), autostart, dev,
                                     host))
    return result


def destroy_container(name: str, keep_data: bool = False, runner: Runner = LOCAL) -> bool:
    """Stop and destroy a container, and its data and logs unless ``keep_data``; True if it existed."""
    existed = lxchost.exists(name, runner)
    lxchost.destroy(name, runner)
    lxchost.remove_tree(SNAPSHOT_DATA / name, runner)
    if not keep_data:
        lxchost.remove_tree(DATA_ROOT / name, runner)
        lxchost.remove_tree(LOG_ROOT / name, runner)
    return existed


def container_states(inventory: dict | None, fleet: Fleet | None = None) -> list[ContainerState]:
    """The inventory's containers in start order, then osa-aio's leftovers the inventory lacks, on
    every host of ``fleet`` (default: this machine alone)."""
    known = ordered(inventory) if inventory else []
    hostvars = inventory["_meta"]["hostvars"] if inventory else {}
    types = {row.name: row.container_type for row in inventory_containers(inventory)} if inventory else {}
    dev = {c.container: f"{c.service} from {c.source}" for c in devstate.load().values()}
    hosts = list(fleet.hosts.values()) if fleet else [Host("", LOCAL)]
    # A container of a host the config no longer lists is looked for on this machine.
    where = {n: hostvars[n].get("physical_host") if fleet and hostvars[n].get("physical_host") in fleet.hosts
             else hosts[0].name for n in known}
    states: dict[str, ContainerState] = {}
    leftovers: list[str] = []
    for host in hosts:
        mine = [n for n in known if where[n] == host.name]
        try:
            extra = [n for n in osa_aio_containers(host.runner) if n not in types]
            found = host_states([(n, types.get(n, ""), dev.get(n)) for n in mine + extra], host.runner, host.name)
        except OsaAioError:  # a host that does not answer: its containers' state is unknown, the rest is shown
            extra, found = [], [ContainerState(n, types.get(n, ""), "UNREACHABLE", (), False, dev.get(n), host.name)
                                for n in mine]
        leftovers += extra
        for state in found:
            states[state.name] = state
    return [states[name] for name in known + leftovers if name in states]
