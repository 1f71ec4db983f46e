"""LXC containers from the inventory, through python-lxc: the spec (pure) and the steps that
make a container exist, match its spec and run."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import netaddr

from osa_aio import devstate
from osa_aio.errors import ContainerError, HostError
from osa_aio.image import LXC_PATH, current_base, destroy_defined, read_marker, write_marker
from osa_aio.inventory.query import containers as inventory_containers
from osa_aio.steps import FileContent
from osa_aio.transport import LocalRunner, LxcAttachRunner
from osa_aio.transport.lxc import lxc_module

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
    """The spec of container ``name``; its default route is the host's management address."""
    hostvars = inventory["_meta"]["hostvars"]
    hv = hostvars[name]
    host_networks = hostvars.get(hv["physical_host"], {}).get("container_networks", {})
    networks = []
    for key, net in sorted(hv.get("container_networks", {}).items(), key=lambda kv: kv[1]["interface"]):
        is_management = net.get("address") == hv.get("management_address")
        prefix = netaddr.IPAddress(net["netmask"]).netmask_bits() if net.get("netmask") else None
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

@dataclass
class HostDirectories:
    spec: ContainerSpec
    name = "data and log directories"

    def _wanted(self) -> list[Path]:
        return [self.spec.data_dir, self.spec.log_dir, self.spec.log_dir / "apt", self.spec.log_dir / "journal",
                *[Path(source) for source, _ in self.spec.shared_mounts]]

    def check(self) -> str | None:
        missing = [str(p) for p in self._wanted() if not p.is_dir()]
        return f"missing {', '.join(missing)}" if missing else None

    def apply(self) -> None:
        for path in self._wanted():
            path.mkdir(parents=True, exist_ok=True)


@dataclass
class ContainerCreated:
    """The container exists: a copy-on-write clone of its type's image (or the base image)."""

    spec: ContainerSpec
    image: str | None = None  # the image to clone; None: the current base image
    name = "created"

    def check(self) -> str | None:
        if not lxc_module().Container(self.spec.name).defined:
            return "absent"
        # The marker is written last: without it the clone was interrupted half way.
        return None if (read_marker(self.spec.name) or {}).get("kind") == "container" else "half-made: remade"

    def apply(self) -> None:
        lxc = lxc_module()
        base = current_base()
        if base is None:
            raise HostError("there is no base image", hint="run `osa-aio bootstrap` first")
        image = self.image or base["name"]
        source = lxc.Container(image)
        # A half-made container from an interrupted run is in the way: remove it first.
        shutil.rmtree(LXC_PATH / self.spec.name, ignore_errors=True)
        clone = source.clone(self.spec.name, flags=lxc.LXC_CLONE_SNAPSHOT, bdevtype="overlayfs")
        how = "overlayfs snapshot"
        if not clone:
            shutil.rmtree(LXC_PATH / self.spec.name, ignore_errors=True)
            clone = source.clone(self.spec.name, flags=0)  # a full copy where overlayfs cannot
            how = "full copy"
        if not clone:
            raise ContainerError(f"LXC could not clone {image}", file=self.spec.name,
                                 hint="see /var/log/osa-aio/osa-aio.log and `lxc-copy` for details")
        # /var/log is a bind mount: give it the image's log folders (nginx, mysql ...) with their owners.
        self.spec.log_dir.mkdir(parents=True, exist_ok=True)
        LocalRunner().run(["rsync", "-a", "--include=*/", "--exclude=*", f"{LXC_PATH / image}/rootfs/var/log/",
                           f"{self.spec.log_dir}/"])
        write_marker(self.spec.name, {"kind": "container", "container_type": self.spec.container_type,
                                      "base": image, "clone": how, "spec_digest": None})


@dataclass
class ContainerConfigured:
    """The container's LXC config matches its spec (networks, mounts, autostart)."""

    spec: ContainerSpec
    name = "configured"

    def check(self) -> str | None:
        marker = read_marker(self.spec.name) or {}
        return None if marker.get("spec_digest") == self.spec.digest() else "config differs from the inventory"

    def apply(self) -> None:
        for interface, script in self.spec.net_up:
            path = self.spec.net_up_script(interface)
            path.write_text(script)
            path.chmod(0o755)
        container = lxc_module().Container(self.spec.name)
        for key in ("lxc.net", "lxc.mount.entry", "lxc.group"):
            container.clear_config_item(key)
        seen: set[str] = set()
        for key, value in lxc_config_items(self.spec):
            # Multi-value keys (lxc.mount.entry, lxc.group): set replaces, append adds.
            setter = container.append_config_item if key in seen else container.set_config_item
            seen.add(key)
            if not setter(key, value):
                raise ContainerError(f"LXC refused {key} = {value}", file=self.spec.name)
        if not container.save_config():
            raise ContainerError("LXC could not save the config", file=self.spec.name)
        if container.running:  # a running container only takes a new config on restart
            container.stop()
        marker = read_marker(self.spec.name) or {}
        write_marker(self.spec.name, {**marker, "spec_digest": self.spec.digest()})


@dataclass
class ContainerRunning:
    spec: ContainerSpec
    name = "running"

    def check(self) -> str | None:
        return None if lxc_module().Container(self.spec.name).running else "stopped"

    def apply(self) -> None:
        container = lxc_module().Container(self.spec.name)
        if not container.start() or not container.wait("RUNNING", START_TIMEOUT):
            raise ContainerError("LXC could not start the container", file=self.spec.name,
                                 hint=f"try `lxc-start -n {self.spec.name} -F` to see why")
        # Let systemd finish booting: the roles read unit states next, and a unit still starting
        # (or a restart racing the boot's own start) would mislead them.
        LxcAttachRunner(self.spec.name).run(["systemctl", "is-system-running", "--wait"], check=False,
                                            timeout=START_TIMEOUT * 4)


def container_steps(inventory: dict, name: str, image: str | None = None,
                    dev_mounts: tuple[tuple[str, str], ...] = ()) -> Iterator:
    """Everything that makes one container exist, match the inventory (and any dev checkout) and run."""
    spec = container_spec(inventory, name, dev_mounts)
    yield HostDirectories(spec)
    yield ContainerCreated(spec, image)
    yield ContainerConfigured(spec)
    yield ContainerRunning(spec)
    runner = LxcAttachRunner(name)
    yield FileContent(runner, "/etc/hosts", hosts_file(inventory))
    yield FileContent(runner, "/etc/resolv.conf", Path("/etc/resolv.conf").read_text())


# ---- reading state and destroying ------------------------------------------------------------

def osa_aio_containers() -> list[str]:
    """Every container osa-aio made on this host (by its marker), in or out of the inventory."""
    if not LXC_PATH.is_dir():
        return []
    return sorted(p.name for p in LXC_PATH.iterdir() if (read_marker(p.name) or {}).get("kind") == "container")


@dataclass(frozen=True)
class ContainerState:
    name: str
    container_type: str
    state: str
    addresses: tuple[str, ...]
    autostart: bool
    dev: str | None = None  # the host checkout it runs (osa-aio dev), if any


def container_state(name: str, container_type: str = "", dev: str | None = None) -> ContainerState:
    container = lxc_module().Container(name)
    if not container.defined:
        return ContainerState(name, container_type, "ABSENT", (), False, dev)
    marker = read_marker(name) or {}
    addresses = tuple(container.get_ips()) if container.running else ()
    return ContainerState(name, container_type or marker.get("container_type", ""), container.state,
                          addresses, container.get_config_item("lxc.start.auto") == "1", dev)


def destroy_container(name: str, keep_data: bool = False) -> bool:
    """Stop and destroy a container, and its data and logs unless ``keep_data``; True if it existed."""
    existed = lxc_module().Container(name).defined or (LXC_PATH / name).exists()
    destroy_defined(name)
    shutil.rmtree(SNAPSHOT_DATA / name, ignore_errors=True)
    if not keep_data:
        shutil.rmtree(DATA_ROOT / name, ignore_errors=True)
        shutil.rmtree(LOG_ROOT / name, ignore_errors=True)
    return existed



def container_states(inventory: dict | None) -> list[ContainerState]:
    """The inventory's containers in start order, then osa-aio's leftovers the inventory lacks."""
    known = ordered(inventory) if inventory else []
    types = {row.name: row.container_type for row in inventory_containers(inventory)} if inventory else {}
    names = known + [name for name in osa_aio_containers() if name not in types]
    dev = {c.container: f"{c.service} from {c.source}" for c in devstate.load().values()}
    return [container_state(name, types.get(name, ""), dev.get(name)) for name in names]
