"""The host that carries the containers: its facts, its network plan and the steps that apply it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import netaddr

from osa_aio.config import Config, HostEntry
from osa_aio.errors import HostError, OsaAioError
from osa_aio.hosts import Fleet, fleet, split_hosts
from osa_aio.inventory.generate import host_network_address
from osa_aio.lxchost import read_text
from osa_aio.steps import FileContent
from osa_aio.transport import LocalRunner, Runner, put

NAT_CHAIN = "OSA-AIO-POSTROUTING"
FORWARD_CHAIN = "OSA-AIO-FORWARD"
SYSCTL_FILE = "/etc/sysctl.d/60-osa-aio.conf"
INOTIFY_INSTANCES = "fs.inotify.max_user_instances"
MIN_INOTIFY_INSTANCES = 1024
STATE_DIR = Path("/var/lib/osa-aio")


# ---- facts ---------------------------------------------------------------------------------

def primary_address(runner: Runner | None = None) -> str | None:
    """The IPv4 address of the host's default-route interface, or None when there is none."""
    runner = runner or LocalRunner()
    try:
        routes = json.loads(runner.run(["ip", "-j", "-4", "route", "show", "default"]).stdout or "[]")
        if not routes:
            return None
        if routes[0].get("prefsrc"):
            return routes[0]["prefsrc"]
        links = json.loads(runner.run(["ip", "-j", "-4", "addr", "show", "dev", routes[0]["dev"]]).stdout or "[]")
    except (OsaAioError, ValueError, KeyError):
        return None
    for link in links:
        for info in link.get("addr_info", []):
            if info.get("local"):
                return info["local"]
    return None


def interface_addresses(runner: Runner) -> list[tuple[str, str, int]]:
    """Every (device, address, prefixlen) on the host."""
    links = json.loads(runner.run(["ip", "-j", "addr", "show"]).stdout or "[]")
    return [(link["ifname"], info["local"], int(info["prefixlen"]))
            for link in links for info in link.get("addr_info", []) if info.get("local")]


def local_host(config: Config, runner: Runner) -> HostEntry:
    """The config's host that is this machine (osa_aio.hosts.split_hosts says which)."""
    return split_hosts(config, {address for _, address, _ in interface_addresses(runner)}).local


def host_fleet(config: Config, runner: Runner | None = None) -> Fleet:
    """The config's hosts, this machine's with ``runner`` (osa_aio.hosts.fleet)."""
    runner = runner or LocalRunner()
    return fleet(config, {address for _, address, _ in interface_addresses(runner)}, runner)


# ---- the plan (pure) -----------------------------------------------------------------------

@dataclass(frozen=True)
class BridgePlan:
    bridge: str
    addresses: tuple[tuple[str, int], ...]  # (address, prefixlen)


def network_plan(config: Config, host: HostEntry, vips: bool = True) -> list[BridgePlan]:
    """One bridge per provider network, with the host's address on it and (with ``vips``: on the
    host that runs HAProxy) any VIP in its network."""
    plans: dict[str, list[tuple[str, int]]] = {}
    for network in config.provider_networks:
        addresses = plans.setdefault(network.bridge, [])
        address = host_network_address(config, host, network)
        if address:
            addresses.append((address, config.cidr_networks[network.ip_from_q].prefixlen))
        for vip in dict.fromkeys([config.internal_vip, config.external_vip]) if vips else ():
            if network.ip_from_q and netaddr.IPAddress(vip) in config.cidr_networks[network.ip_from_q] \
                    and vip != address and (vip, 32) not in addresses:
                addresses.append((vip, 32))
    return [BridgePlan(bridge, tuple(addresses)) for bridge, addresses in plans.items()]


def nat_rules(config: Config) -> list[tuple[str, str, tuple[str, ...]]]:
    """(table, chain, rule): masquerade and forward only what comes from the container networks."""
    rules: list[tuple[str, str, tuple[str, ...]]] = []
    for cidr in (str(net) for net in config.cidr_networks.values()):
        rules.append(("nat", NAT_CHAIN, ("-s", cidr, "!", "-d", cidr, "-j", "MASQUERADE")))
        rules.append(("filter", FORWARD_CHAIN, ("-s", cidr, "-j", "ACCEPT")))
        rules.append(("filter", FORWARD_CHAIN, ("-d", cidr, "-m", "conntrack", "--ctstate",
                                                "RELATED,ESTABLISHED", "-j", "ACCEPT")))
    return rules


# ---- steps ---------------------------------------------------------------------------------

def bridge_mac(bridge: str, host: str = "") -> str:
    """A fixed MAC for a host's bridge. Without one, Linux gives a bridge the lowest MAC of its
    ports, so starting a container could change the host's MAC on br-mgmt and strand every
    container's ARP entry for the host and the VIPs for a minute. Another host's name (``host``)
    is in it: the bridges of several hosts are joined into one network. This machine's (no name)
    keeps the MAC it always had."""
    seed = f"osa-aio-bridge/{host}/{bridge}" if host else f"osa-aio-bridge/{bridge}"
    digest = hashlib.sha256(seed.encode()).digest()
    return "02:" + ":".join(f"{byte:02x}" for byte in digest[:5])


@dataclass
class BridgePresent:
    runner: Runner
    bridge: str
    host: str = ""  # another host's name (its bridge's MAC); "" on this machine

    @property
    def name(self) -> str:
        return f"bridge {self.bridge}"

    def check(self) -> str | None:
        result = self.runner.run(["ip", "-j", "-d", "link", "show", "dev", self.bridge], check=False)
        if result.rc != 0:
            return "absent"
        link = json.loads(result.stdout)[0]
        if link.get("linkinfo", {}).get("info_kind") != "bridge":
            raise HostError(f"{self.bridge} exists but is not a bridge", file="host",
                            hint="rename that interface or change container_bridge in the config")
        if link.get("address") != bridge_mac(self.bridge, self.host):
            return "its MAC is not fixed"
        return None if "UP" in link.get("flags", []) else "down"

    def apply(self) -> None:
        if self.runner.run(["ip", "link", "show", "dev", self.bridge], check=False).rc != 0:
            self.runner.run(["ip", "link", "add", self.bridge, "type", "bridge"])
        self.runner.run(["ip", "link", "set", "dev", self.bridge, "address", bridge_mac(self.bridge, self.host)])
        self.runner.run(["ip", "link", "set", "dev", self.bridge, "up"])


@dataclass
class AddressPresent:
    runner: Runner
    device: str
    address: str
    prefixlen: int

    @property
    def name(self) -> str:
        return f"address {self.address}/{self.prefixlen} on {self.device}"

    def check(self) -> str | None:
        present = {(a, p) for dev, a, p in interface_addresses(self.runner) if dev == self.device}
        return None if (self.address, self.prefixlen) in present else "absent"

    def apply(self) -> None:
        self.runner.run(["ip", "addr", "add", f"{self.address}/{self.prefixlen}", "dev", self.device])


# ---- joining the hosts' bridges -------------------------------------------------------------

VXLAN_PORT = 4789
VXLAN_OVERHEAD = 50
ALL_ZEROS = "00:00:00:00:00:00"  # the forwarding entry that floods broadcasts to a peer


def vxlan_device(bridge: str) -> str:
    """The VXLAN port that joins a bridge to the same bridge of the other hosts (IFNAMSIZ: 15)."""
    name = f"vx-{bridge}"
    return name if len(name) <= 15 else "vx-" + hashlib.sha256(bridge.encode()).hexdigest()[:12]


def vxlan_id(bridge: str) -> int:
    """The bridge's VXLAN network identifier: the same on every host, from its name."""
    return int(hashlib.sha256(f"osa-aio-vxlan/{bridge}".encode()).hexdigest()[:6], 16) % 16_000_000 + 1


def route_source(runner: Runner, peer: str) -> tuple[str, int]:
    """(the address this host reaches ``peer`` from, that interface's MTU)."""
    route = json.loads(runner.run(["ip", "-j", "route", "get", peer]).stdout or "[{}]")[0]
    link = json.loads(runner.run(["ip", "-j", "link", "show", "dev", route["dev"]]).stdout)[0]
    return route["prefsrc"], int(link["mtu"])


@dataclass
class VxlanJoined:
    """A bridge joined to the same bridge on every other host: a VXLAN port (unicast, over the
    hosts' own network) whose forwarding table sends broadcasts to each peer; MACs are learned."""

    runner: Runner
    bridge: str
    local: str                # this host's address on the hosts' own network
    peers: tuple[str, ...]    # the other hosts' addresses there
    mtu: int                  # the underlay's MTU less VXLAN's overhead, at most 1500

    @property
    def device(self) -> str:
        return vxlan_device(self.bridge)

    @property
    def name(self) -> str:
        return f"{self.bridge} joined to {', '.join(self.peers)} (VXLAN {vxlan_id(self.bridge)})"

    def _link(self) -> dict | None:
        found = self.runner.run(["ip", "-j", "-d", "link", "show", "dev", self.device], check=False)
        return json.loads(found.stdout)[0] if found.rc == 0 else None

    def _peers(self) -> set[str]:
        rows = json.loads(self.runner.run(["bridge", "-j", "fdb", "show", "dev", self.device]).stdout or "[]")
        return {row["dst"] for row in rows if row.get("mac") == ALL_ZEROS and row.get("dst")}

    def _same_tunnel(self, link: dict) -> bool:
        data = link.get("linkinfo", {}).get("info_data", {})
        return data.get("id") == vxlan_id(self.bridge) and data.get("local") == self.local \
            and data.get("port") == VXLAN_PORT

    def check(self) -> str | None:
        link = self._link()
        if link is None:
            return "absent"
        if not self._same_tunnel(link):
            return "its tunnel differs"
        if link.get("master") != self.bridge or "UP" not in link.get("flags", []) or link.get("mtu") != self.mtu:
            return "not up in the bridge"
        peers = self._peers()
        return None if peers == set(self.peers) else f"peers {', '.join(sorted(peers)) or 'none'}"

    def apply(self) -> None:
        link = self._link()
        if link is not None and not self._same_tunnel(link):
            self.runner.run(["ip", "link", "del", "dev", self.device])
            link = None
        if link is None:
            self.runner.run(["ip", "link", "add", self.device, "type", "vxlan", "id", str(vxlan_id(self.bridge)),
                             "local", self.local, "dstport", str(VXLAN_PORT)])
        self.runner.run(["ip", "link", "set", "dev", self.device, "mtu", str(self.mtu), "master", self.bridge, "up"])
        peers = self._peers()
        for peer in sorted(set(self.peers) - peers):
            self.runner.run(["bridge", "fdb", "append", ALL_ZEROS, "dev", self.device, "dst", peer])
        for peer in sorted(peers - set(self.peers)):
            self.runner.run(["bridge", "fdb", "del", ALL_ZEROS, "dev", self.device, "dst", peer])


@dataclass
class SysctlValue:
    runner: Runner
    key: str
    value: str
    at_least: bool = False  # a number: a higher value is left as it is

    @property
    def name(self) -> str:
        return f"sysctl {self.key}{' >= ' if self.at_least else '='}{self.value}"

    def check(self) -> str | None:
        path = "/proc/sys/" + self.key.replace(".", "/")
        current = self.runner.run(["cat", path]).stdout.strip()
        if self.at_least and current.isdigit() and int(current) >= int(self.value):
            return None
        return None if current == self.value else f"is {current}"

    def apply(self) -> None:
        self.runner.run(["sysctl", "-q", "-w", f"{self.key}={self.value}"])


@dataclass
class IptablesChain:
    runner: Runner
    table: str
    chain: str

    @property
    def name(self) -> str:
        return f"iptables chain {self.table}/{self.chain}"

    def check(self) -> str | None:
        found = self.runner.run(["iptables", "-w", "-t", self.table, "-n", "-L", self.chain], check=False)
        return None if found.rc == 0 else "absent"

    def apply(self) -> None:
        self.runner.run(["iptables", "-w", "-t", self.table, "-N", self.chain])


@dataclass
class IptablesRule:
    runner: Runner
    table: str
    chain: str
    rule: tuple[str, ...]
    insert: bool = False  # first in the chain (FORWARD may end in someone else's DROP)

    @property
    def name(self) -> str:
        return f"iptables {self.table}/{self.chain} {' '.join(self.rule)}"

    def check(self) -> str | None:
        found = self.runner.run(["iptables", "-w", "-t", self.table, "-C", self.chain, *self.rule], check=False)
        return None if found.rc == 0 else "absent"

    def apply(self) -> None:
        verb = ["-I", self.chain, "1"] if self.insert else ["-A", self.chain]
        self.runner.run(["iptables", "-w", "-t", self.table, *verb, *self.rule])


def network_steps(config: Config, host: HostEntry, runner: Runner, here: bool = True) -> list:
    """Bridges and addresses, forwarding, and NAT for the container networks (``here``: this
    machine, which also holds the VIPs)."""
    steps: list = []
    for plan in network_plan(config, host, vips=here):
        steps.append(BridgePresent(runner, plan.bridge, "" if here else host.name))
        steps += [AddressPresent(runner, plan.bridge, address, prefix) for address, prefix in plan.addresses]
    steps += [
        SysctlValue(runner, "net.ipv4.ip_forward", "1"),
        # Each container's systemd holds several inotify instances; the kernel's default of 128 per
        # user (all containers are root's) stops the 20th-odd container's init at once (OSA's hosts
        # raise it too).
        SysctlValue(runner, INOTIFY_INSTANCES, str(MIN_INOTIFY_INSTANCES), at_least=True),
        FileContent(runner, SYSCTL_FILE, "# Written by osa-aio: containers reach the package mirror through NAT.\n"
                                         "net.ipv4.ip_forward = 1\n"
                                         "# Every container's systemd watches files with inotify.\n"
                                         f"{INOTIFY_INSTANCES} = {MIN_INOTIFY_INSTANCES}\n"),
        IptablesChain(runner, "nat", NAT_CHAIN),
        IptablesRule(runner, "nat", "POSTROUTING", ("-j", NAT_CHAIN)),
        IptablesChain(runner, "filter", FORWARD_CHAIN),
        IptablesRule(runner, "filter", "FORWARD", ("-j", FORWARD_CHAIN), insert=True),
    ]
    steps += [IptablesRule(runner, table, chain, rule) for table, chain, rule in nat_rules(config)]
    return steps


@dataclass
class HostStateRecorded:
    """What the host looked like before osa-aio changed it, so `destroy --all` can put it back."""

    runner: Runner
    bridges: tuple[str, ...]
    path: Path = STATE_DIR / "host-state.json"

    name = "host state before osa-aio"

    def check(self) -> str | None:
        return None if self.runner.run(["test", "-e", str(self.path)], check=False).ok else "not recorded yet"

    def apply(self) -> None:
        existing = [b for b in self.bridges
                    if self.runner.run(["ip", "link", "show", "dev", b], check=False).rc == 0]
        state = {"ip_forward": self.runner.run(["cat", "/proc/sys/net/ipv4/ip_forward"]).stdout.strip(),
                 "inotify_instances": self.runner.run(
                     ["cat", "/proc/sys/" + INOTIFY_INSTANCES.replace(".", "/")]).stdout.strip(),
                 "bridges_before": existing}
        self.runner.run(["mkdir", "-p", str(self.path.parent)])
        put(self.runner, str(self.path), json.dumps(state, indent=2) + "\n")


def read_host_state(path: Path = STATE_DIR / "host-state.json", runner: Runner | None = None) -> dict | None:
    try:
        return json.loads(read_text(path, runner or LocalRunner()) or "")
    except ValueError:
        return None


def join_problems(config: Config, joins: dict[str, list[VxlanJoined]]) -> list[str]:
    """A bridge whose VXLAN port cannot carry its containers' frames would drop the large ones
    silently: said instead, per host (pure)."""
    mtus = {network.bridge: network.mtu or 1500 for network in config.provider_networks}
    problems = []
    for host, ports in joins.items():
        narrow = [port for port in ports if port.mtu < mtus.get(port.bridge, 1500)]
        if narrow:
            problems.append(f"host {host}: its link to the other hosts carries {narrow[0].mtu + VXLAN_OVERHEAD} bytes, "
                            f"VXLAN between the hosts' bridges needs {mtus[narrow[0].bridge] + VXLAN_OVERHEAD} for "
                            f"{narrow[0].bridge}'s {mtus[narrow[0].bridge]}-byte frames: raise that link's MTU on "
                            f"every host, or give the provider networks container_mtu: {narrow[0].mtu}")
    return problems


def bridge_joins(config: Config, hosts: Fleet) -> dict[str, list[VxlanJoined]]:
    """Each host's VXLAN ports joining its bridges to the other hosts' (none for a single host).
    Each host's own address is the one its routes pick towards this machine (this machine's,
    towards the first remote host); the MTU is its interface's less VXLAN's overhead."""
    remote = [host for host in hosts.hosts.values() if host.remote]
    if not remote:
        return {}
    here, mtu = route_source(hosts.local.runner, remote[0].address)
    underlay = {hosts.local.name: (here, mtu), **{host.name: route_source(host.runner, here) for host in remote}}
    bridges = list(dict.fromkeys(network.bridge for network in config.provider_networks))
    return {name: [VxlanJoined(hosts.host(name).runner, bridge, address,
                               tuple(other for peer, (other, _) in underlay.items() if peer != name),
                               min(1500, link_mtu - VXLAN_OVERHEAD)) for bridge in bridges]
            for name, (address, link_mtu) in underlay.items()}

