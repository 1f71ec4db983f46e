"""Build the inventory: a pure function of the Config and the saved inventory.

Output follows openstack-ansible's layout: groups with ``hosts``/``children`` and
``_meta.hostvars``. Saved containers keep their names, addresses and MACs; new ones get
deterministic names and the lowest free addresses; nothing saved is dropped unless asked.
An inventory written by openstack-ansible's generator is adopted the same way: its containers
(which carry no ``container_type``) are known by their ``<type>_container`` group or their name.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Mapping

import netaddr

from osa_aio.config import Config, HostEntry, ProviderNetwork
from osa_aio.errors import InventoryError, UnknownTarget
from osa_aio.inventory.ipam import Pool
from osa_aio.inventory.query import group_members
from osa_aio.inventory.naming import MAX_HOSTNAME, container_mac, container_name, normalize

_SUFFIX = r"-[0-9a-f]{8}"

CONTAINER_TECH = "lxc"


@dataclass(frozen=True)
class Placement:
    """How many containers of one type a host should carry, and the host group that asked."""

    host: str
    container_type: str
    count: int
    group: str


def build_inventory(config: Config, previous: dict | None) -> tuple[dict, list[str]]:
    """Return (inventory, warnings) for ``config``, keeping what ``previous`` assigned."""
    warnings = list(config.warnings)
    prev_hostvars: dict[str, dict] = copy.deepcopy((previous or {}).get("_meta", {}).get("hostvars", {}))
    hosts = config.hosts()
    placements = _placements(config)

    containers, dropped = _saved_containers(config, previous or {}, prev_hostvars)
    warnings += dropped
    _add_new_containers(config, placements, containers, set(prev_hostvars) | set(hosts))
    warnings += _unasked_containers(placements, containers)

    tree = _groups(config, placements, _slots(placements, config))
    hostvars: dict[str, dict] = {}
    for name, entry in hosts.items():
        hostvars[name] = _host_vars(config, entry, prev_hostvars.get(name, {}), placements, tree)
    for name, hv in sorted(containers.items()):
        hostvars[name] = _container_vars(config, name, hv, hostvars)

    groups = _groups(config, placements, hostvars)
    _assign_networks(config, groups, hostvars)
    inventory: dict[str, Any] = {name: {"children": sorted(g["children"]), "hosts": sorted(g["hosts"])}
                                 for name, g in sorted(groups.items())}
    inventory["all"] = {"vars": _all_vars(config)}
    inventory["_meta"] = {"hostvars": hostvars}
    return inventory, warnings


def remove_container(inventory: dict, name: str) -> dict:
    """A copy of ``inventory`` without container ``name`` (OSA's older spelling accepted)."""
    hostvars = inventory.get("_meta", {}).get("hostvars", {})
    wanted = normalize(name)
    match = next((n for n, hv in hostvars.items() if hv.get("container_type") and normalize(n) == wanted), None)
    if match is None:
        raise UnknownTarget(f"no container named {name!r} in the inventory",
                            hint="see `osa-aio inventory --list` for the names")
    result = copy.deepcopy(inventory)
    del result["_meta"]["hostvars"][match]
    for group in result.values():
        if isinstance(group, dict) and match in group.get("hosts", []):
            group["hosts"].remove(match)
    return result


def _saved_containers(config: Config, previous: dict, prev_hostvars: dict[str, dict]) -> tuple[dict, list[str]]:
    """The saved inventory's containers, each with its container_type and physical_host. osa-aio
    writes container_type; OSA's generator does not: there the type is the ``<type>_container``
    group the container is in, or the type its name spells. Anything else saved that is not a
    host of the config is dropped, and said."""
    hosts = config.hosts()
    types = set(config.skeleton.containers)
    by_group: dict[str, str] = {}
    for group in sorted(previous):
        if group.endswith("_container") and isinstance(previous[group], dict):
            for member in previous[group].get("hosts") or ():
                by_group.setdefault(member, group)
    containers: dict[str, dict] = {}
    warnings = []
    for name, hv in sorted(prev_hostvars.items()):
        if name in hosts:
            continue
        metal = hv.get("is_metal") or (hv.get("properties") or {}).get("is_metal")
        ctype = hv.get("container_type") or (None if metal else by_group.get(name))
        host = hv.get("physical_host")
        if not ctype and not metal:
            ctype, host = _type_from_name(name, host, types)
        if metal or host == name:
            warnings.append(f"host {name} is in the saved inventory but not in the config; dropped")
            continue
        if not ctype or not host:
            warnings.append(f"entry {name} is in the saved inventory but neither a host of the config nor a "
                            f"container osa-aio can place (no container type in its groups or name); dropped")
            continue
        if ctype not in types:
            warnings.append(f"container {name} is in the saved inventory but its type {ctype} is not in env.d; dropped "
                            f"(the saved inventory is in backups/; define {ctype} in env.d to keep it)")
            continue
        containers[name] = {**hv, "container_type": ctype, "physical_host": host}
    return containers, warnings


def _type_from_name(name: str, host: str | None, types: set[str]) -> tuple[str | None, str | None]:
    """(container type, physical host) read from a name in OSA's shape, ``<host>-<type>-<8 hex>``
    (older ones with underscores); the longest type that fits wins."""
    spelled = normalize(name)
    for ctype in sorted(types, key=len, reverse=True):
        found = re.fullmatch(rf"(.+)-{re.escape(normalize(ctype))}{_SUFFIX}", spelled)
        if found and (host is None or normalize(host) == found.group(1)):
            return ctype, host or found.group(1)
    return None, host


def _slots(placements: dict[tuple[str, str], Placement], config: Config) -> dict[str, dict]:
    """Stand-ins for the containers the placements ask for ("host/type"): enough to know which
    groups a host's containers will be in before they have names."""
    return {f"{host}/{ctype}": {"container_type": ctype, "physical_host": host}
            for (host, ctype), placement in placements.items()
            if placement.count > 0 and not config.skeleton.is_metal(ctype)}


def _placements(config: Config) -> dict[tuple[str, str], Placement]:
    """(host, container type) -> Placement, from host groups and affinity (largest wins)."""
    skeleton = config.skeleton
    result: dict[tuple[str, str], Placement] = {}
    for ctype in sorted(skeleton.containers):
        entry = skeleton.containers[ctype]
        if not entry.get("contains") or not entry.get("belongs_to"):
            continue
        for group in skeleton.host_groups_of(ctype):
            for host in config.host_entries:
                if host.group != group:
                    continue
                count = host.affinity.get(ctype, 1)
                known = result.get((host.name, ctype))
                if known is None or count > known.count:
                    first_group = known.group if known else group
                    result[(host.name, ctype)] = Placement(host.name, ctype, count, first_group)
    return result


def _add_new_containers(config: Config, placements: dict[tuple[str, str], Placement],
                        containers: dict[str, dict], taken: set[str]) -> None:
    """Add hostvars stubs for the containers the placements ask for beyond the saved ones."""
    by_slot: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, hv in containers.items():
        by_slot[(hv.get("physical_host"), hv.get("container_type"))].append(name)
    for key, placement in sorted(placements.items()):
        if config.skeleton.is_metal(placement.container_type):
            continue
        index = 0
        while len(by_slot[key]) < placement.count:
            name = container_name(placement.host, placement.container_type, index)
            index += 1
            if name in taken:
                continue
            if len(name) > MAX_HOSTNAME:
                raise InventoryError(f"container name {name} is longer than {MAX_HOSTNAME} characters",
                                     file=config.source(placement.group), key=f"{placement.group}.{placement.host}",
                                     hint="use a shorter host name")
            taken.add(name)
            by_slot[key].append(name)
            containers[name] = {"container_type": placement.container_type,
                                "physical_host": placement.host,
                                "physical_host_group": placement.group}


def _unasked_containers(placements: dict[tuple[str, str], Placement],
                        containers: dict[str, dict]) -> list[str]:
    """Saved containers the config no longer asks for: kept, and said."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    warnings = []
    for name, hv in sorted(containers.items()):
        key = (hv.get("physical_host"), hv.get("container_type"))
        counts[key] += 1
        placement = placements.get(key)
        if placement is None or counts[key] > placement.count:
            warnings.append(f"container {name} is in the saved inventory but not asked for by the "
                            f"config; it is kept (remove it with `osa-aio inventory --remove {name}`)")
    return warnings


def _host_vars(config: Config, entry: HostEntry, previous: dict, placements: dict[tuple[str, str], Placement],
               tree: dict[str, dict[str, set]]) -> dict:
    hv = dict(previous)
    skeleton = config.skeleton
    metal = [component for (host, ctype) in sorted(placements) if host == entry.name
             and skeleton.is_metal(ctype) for component in skeleton.containers[ctype].get("contains") or ()]
    hv.update({
        "ansible_host": entry.ip,
        "container_address": entry.address,
        "management_address": entry.address,
        "container_name": entry.name,
        "container_networks": _host_networks(config, entry, tree),
        "container_tech": CONTAINER_TECH,
        "is_metal": True,
        "physical_host": entry.name,
        "physical_host_addr": entry.ip,
        "physical_host_group": entry.group,
        "component": metal[0] if metal else None,  # OSA's: a component it carries on metal
        "properties": {**(previous.get("properties") or {}), "is_metal": True},
    })
    hv.update(entry.host_vars)
    return hv


def host_networks(config: Config, host: str, tree: dict[str, dict[str, set]] | None = None) -> list[ProviderNetwork]:
    """The provider networks host ``host`` carries: the management network, and every network
    bound (group_binds, reference_group) to the host itself or to a container it will carry."""
    if tree is None:
        placements = _placements(config)
        tree = _groups(config, placements, _slots(placements, config))
    here = {host} | group_members(tree, f"{host}_host_containers")
    physical = dict.fromkeys(here, host)  # each is the host or one of its containers
    return [network for network in config.provider_networks
            if network.is_management or here & network_members(tree, network, physical)]


def network_members(groups: dict[str, dict[str, set]], network: ProviderNetwork,
                    physical: Mapping[str, str]) -> set[str]:
    """The members of a network's group_binds (``physical``: member -> its host), less those
    whose host is outside its reference_group (OSA's filter)."""
    members = set().union(*[group_members(groups, group) for group in network.group_binds]) \
        if network.group_binds else set()
    if network.reference_group:
        allowed = group_members(groups, network.reference_group)
        members = {member for member in members if physical.get(member, member) in allowed}
    return members


def host_network_address(config: Config, entry: HostEntry, network: ProviderNetwork,
                         tree: dict[str, dict[str, set]] | None = None) -> str | None:
    """The host's address on a provider network it carries (host_networks), or None.

    On the management network it is the host's management address; on the others, the address
    at the same offset (172.29.236.100 -> 172.29.240.100), as openstack-ansible's AIO does.
    """
    if not network.ip_from_q or network not in host_networks(config, entry.name, tree):
        return None
    cidr = config.cidr_networks[network.ip_from_q]
    address = netaddr.IPAddress(entry.address)
    if network.is_management:
        return entry.address if address in cidr else None
    if address not in config.management_cidr:
        return None
    candidate = netaddr.IPAddress(cidr.first + int(address) - config.management_cidr.first)
    return str(candidate) if candidate in cidr else None


def _host_networks(config: Config, entry: HostEntry, tree: dict[str, dict[str, set]]) -> dict:
    networks = {}
    for network in host_networks(config, entry.name, tree):
        item: dict[str, Any] = {"bridge": network.bridge, "type": network.net_type}
        address = host_network_address(config, entry, network, tree)
        if address:
            item["address"] = address
            item["netmask"] = str(config.cidr_networks[network.ip_from_q].netmask)
        networks[network.address_key] = item
    return networks


def _container_vars(config: Config, name: str, previous: dict, hostvars: dict[str, dict]) -> dict:
    ctype = previous["container_type"]
    entry = config.skeleton.containers.get(ctype, {})
    components = list(entry.get("contains") or [])
    hv = dict(previous)
    hv.update({
        "container_name": name,
        "container_type": ctype,
        "container_tech": CONTAINER_TECH,
        "physical_host_addr": hostvars.get(previous["physical_host"], {}).get("ansible_host"),
        "component": components[0] if components else None,
        "components": components,
        "properties": {**(previous.get("properties") or {}), **(entry.get("properties") or {})},
    })
    host = next((h for h in config.host_entries if h.name == hv["physical_host"]), None)
    for key, value in (host.container_vars if host else {}).items():
        limit = value.get("limit_container_types") if isinstance(value, dict) else None
        if limit is None or any(limit in component for component in components):
            hv[key] = {k: v for k, v in value.items() if k != "limit_container_types"} \
                if isinstance(value, dict) else value
    return hv


def _groups(config: Config, placements: dict[tuple[str, str], Placement],
            hostvars: dict[str, dict]) -> dict[str, dict[str, set]]:
    skeleton = config.skeleton
    groups: dict[str, dict[str, set]] = defaultdict(lambda: {"children": set(), "hosts": set()})
    for section in (skeleton.components, skeleton.containers, skeleton.physical):
        for name, entry in section.items():
            groups[name]  # every skeleton name is a group, even an empty one
            for parent in entry.get("belongs_to") or []:
                groups[parent]["children"].add(name)
    listed: dict[str, set[str]] = defaultdict(set)  # host -> its host groups, as OSA spells them
    for host in config.host_entries:
        groups[host.group]["hosts"].add(host.name)
        listed[host.name].add(host.group.replace("-", "_"))

    def all_groups(host: str, ctype: str) -> list[str]:
        """OSA's <x>_all groups of a type on a host: one per <x>_containers it belongs to whose
        <x>_hosts lists the host."""
        return [all_group(group) for group in skeleton.containers.get(ctype, {}).get("belongs_to") or []
                if _hosts_group(group) in listed[host]]

    # A host is in the <x>_all groups of the types its host groups give it, and (on metal) in
    # their components' groups; never in a <type>_container group (OSA's container playbooks act on those).
    for (host, ctype), placement in placements.items():
        entry = skeleton.containers[ctype]
        on_metal = list(entry.get("contains") or []) if skeleton.is_metal(ctype) and placement.count > 0 else []
        for group in [*on_metal, *all_groups(host, ctype)]:
            groups[group]["hosts"].add(host)
    for name, hv in hostvars.items():
        ctype = hv.get("container_type")
        if not ctype:
            continue
        host = hv["physical_host"]
        entry = skeleton.containers.get(ctype, {})
        for group in [ctype, f"{host}_host_containers", *(entry.get("contains") or []), *all_groups(host, ctype)]:
            groups[group]["hosts"].add(name)
        groups["lxc_hosts"]["hosts"].add(host)
    return groups


def _hosts_group(containers_group: str) -> str:
    """shared-infra_containers -> shared_infra_hosts (OSA spells host groups with '_')."""
    return re.sub(r"_containers$", "_hosts", containers_group).replace("-", "_")


def all_group(containers_group: str) -> str:
    """OSA's ``<physical>_all`` group of a ``<physical>_containers`` group (shared-infra_containers
    -> shared_infra_all): every container, and every metal host, of the types that belong to it."""
    return re.sub(r"_[^_]*$", "_all", containers_group).replace("-", "_")


def _assign_networks(config: Config, groups: dict[str, dict[str, set]], hostvars: dict[str, dict]) -> None:
    """Give every container an entry (and an address, a MAC) on each network bound to it."""
    containers = {name: hv for name, hv in hostvars.items() if hv.get("container_type")}
    order = sorted(containers, key=lambda n: (containers[n]["physical_host"], containers[n]["container_type"], n))
    wanted: dict[str, list[ProviderNetwork]] = defaultdict(list)
    physical = {name: hv["physical_host"] for name, hv in containers.items()}
    for network in config.provider_networks:
        members = network_members(groups, network, physical)
        for name in order:
            if name in members:
                wanted[name].append(network)

    pools = _pools(config, hostvars)
    previous = {name: hv.get("container_networks") or {} for name, hv in containers.items()}
    macs = {item.get("mac") for nets in previous.values() for item in nets.values() if item.get("mac")}
    keep: dict[tuple[str, str], str] = {}
    for name in order:
        for network in wanted[name]:
            old = previous[name].get(network.address_key, {}).get("address")
            if network.addresses_containers and old:
                _keep_address(config, pools[network.ip_from_q], name, network, old)
                keep[(name, network.address_key)] = old
    _check_pool_sizes(config, pools, order, wanted, keep)

    for name in order:
        networks = {}
        for network in wanted[name]:
            key = network.address_key
            item: dict[str, Any] = {"bridge": network.bridge, "interface": network.interface,
                                    "type": network.net_type}
            if network.mtu:
                item["mtu"] = network.mtu
            if network.gateway:
                item["gateway"] = network.gateway
            if network.addresses_containers:
                item["address"] = keep.get((name, key)) or pools[network.ip_from_q].allocate()
                item["netmask"] = str(config.cidr_networks[network.ip_from_q].netmask)
            else:
                item["address"] = None  # said, not left out: OSA's generator reads every entry's address
            item["mac"] = previous[name].get(key, {}).get("mac") or _new_mac(name, network, macs)
            networks[key] = item
        hv = hostvars[name]
        hv["container_networks"] = networks
        gateway = next((item["gateway"] for item in networks.values() if item.get("gateway")), None)
        if gateway:
            hv["gateway"] = gateway  # OSA's: the container's default route
        else:
            hv.pop("gateway", None)
        management = networks.get(config.management.address_key, {}).get("address")
        if not management:
            raise InventoryError(f"container {name} is not on the management network",
                                 file=config.source("global_overrides"),
                                 key=f"global_overrides.provider_networks[{config.management.index}].network.group_binds",
                                 hint="bind all_containers to the management network")
        hv.update(ansible_host=management, container_address=management, management_address=management)


def _pools(config: Config, hostvars: dict[str, dict]) -> dict[str, Pool]:
    """One pool per cidr network, minus used_ips, VIPs and every host's addresses."""
    reserved = netaddr.IPSet(config.used_ips)
    reserved.update([*config.literal_vips(), *config.gateways])
    for hv in hostvars.values():
        if hv.get("container_type"):
            continue
        reserved.update([hv["ansible_host"], hv["management_address"]])
        reserved.update(item["address"] for item in hv["container_networks"].values() if item.get("address"))
    return {name: Pool(name, cidr, reserved) for name, cidr in config.cidr_networks.items()}


def _keep_address(config: Config, pool: Pool, name: str, network: ProviderNetwork, address: str) -> None:
    if not pool.is_free(address):
        where = "outside" if netaddr.IPAddress(address) not in pool.network else "reserved or taken in"
        raise InventoryError(f"container {name} has address {address} from the saved inventory, "
                             f"which is {where} cidr_networks.{pool.name} ({pool.network})",
                             file=config.source("cidr_networks"), key=f"cidr_networks.{pool.name}",
                             hint=f"undo the change, or `osa-aio inventory --remove {name}` to give it a new address")
    pool.take(address)


def _check_pool_sizes(config: Config, pools: dict[str, Pool], order: list[str],
                      wanted: dict[str, list[ProviderNetwork]], keep: dict[tuple[str, str], str]) -> None:
    needed: dict[str, int] = defaultdict(int)
    for name in order:
        for network in wanted[name]:
            if network.addresses_containers and (name, network.address_key) not in keep:
                needed[network.ip_from_q] += 1
    for queue, count in sorted(needed.items()):
        free = pools[queue].free_count()
        if count > free:
            raise InventoryError(f"pool too small: {count} new containers need an address, {free} are free",
                                 file=config.source("cidr_networks"), key=f"cidr_networks.{queue}",
                                 hint="widen the network, shrink used_ips or lower affinity")


def _new_mac(name: str, network: ProviderNetwork, macs: set[str]) -> str:
    attempt = 0
    while (mac := container_mac(name, network.interface or network.bridge, attempt)) in macs:
        attempt += 1
    macs.add(mac)
    return mac


def _all_vars(config: Config) -> dict:
    overrides = dict(config.user_config.get("global_overrides") or {})
    overrides["internal_lb_vip_address"] = config.vips["internal"]
    overrides["external_lb_vip_address"] = config.vips["external"]
    overrides["container_cidr"] = str(config.management_cidr)  # OSA's generator writes it too
    return overrides
