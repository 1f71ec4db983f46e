"""Read a config dir in openstack-ansible's formats into a validated, frozen Config.

A config dir holds openstack_user_config.yml, conf.d/*.yml (merged over it), user_variables.yml,
user_secrets.yml and env.d/*.yml (merged over the project's env.d). Nothing here touches the host.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import netaddr

from osa_aio import profiles
from osa_aio.errors import ConfigError
from osa_aio.inventory.envd import Skeleton, load_envd
from osa_aio.secrets import Secret, load_secrets
from osa_aio.yamlio import load_yaml, merge_dict

DEFAULT_CONFIG_DIR = Path("/etc/osa-aio")
CONFIG_DIR_ENV = "OSA_AIO_CONFIG_DIR"
USER_CONFIG = "openstack_user_config.yml"
CONF_D = "conf.d"
USER_VARIABLES = "user_variables.yml"
USER_SECRETS = "user_secrets.yml"
ENV_D = "env.d"

KNOWN_TOP_LEVEL = {"cidr_networks", "used_ips", "global_overrides"}
HOST_ENTRY_KEYS = {"ip", "management_ip", "affinity", "container_vars", "host_vars"}
# Keys of OSA's that osa-aio refuses rather than half-honours (each with why).
NOT_SUPPORTED = {
    "no_containers": "osa-aio runs every service but HAProxy in a container",
    "static_routes": "osa-aio gives a container no routes but its default one",
}
# A provider network's keys: what osa-aio reads, and OSA's neutron keys it accepts unused
# (osa-aio's neutron is OVN with physnet1 and its own VLAN and Geneve ranges: see the README).
NETWORK_KEYS = {"container_bridge", "container_bridge_type", "container_interface", "container_type",
                "container_mtu", "ip_from_q", "address_prefix", "is_management_address", "is_container_address",
                "group_binds", "reference_group", "type", "gateway", "static_routes"}
NEUTRON_NETWORK_KEYS = {"net_name", "range", "host_bind_override", "sriov_host_interfaces", "network_interface"}
# A host's name. OSA's examples have underscores in some (ironic_infra1); container names spell them as '-'.
HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$")
DNS_NAME = re.compile(r"^(?=.{1,253}\.?$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")  # a DNS name
AUTO = "auto"  # external_lb_vip_address: the host's own address


def project_path(name: str) -> Path:
    """A folder the project ships (env.d, user_config): in the checkout, or installed under share/."""
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "osa-aio" / name


def resolve_config_dir(explicit: str | os.PathLike | None) -> Path:
    """--config-dir wins, then $OSA_AIO_CONFIG_DIR, then /etc/osa-aio."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_DIR_ENV):
        return Path(os.environ[CONFIG_DIR_ENV])
    return DEFAULT_CONFIG_DIR


@dataclass(frozen=True)
class HostEntry:
    """One host as listed under one host group (a host may be listed under several)."""

    group: str
    name: str
    ip: str
    management_ip: str | None
    affinity: Mapping[str, int]
    container_vars: Mapping[str, Any]
    host_vars: Mapping[str, Any]

    @property
    def address(self) -> str:
        """The host's address on the management network."""
        return self.management_ip or self.ip


@dataclass(frozen=True)
class ProviderNetwork:
    """One entry of global_overrides.provider_networks."""

    index: int
    bridge: str
    interface: str | None
    ip_from_q: str | None
    net_type: str
    group_binds: tuple[str, ...]
    is_management: bool
    mtu: int | None
    kind: str = "raw"          # OSA's `type`: raw, vxlan, flat, vlan
    prefix: str | None = None  # OSA's address_prefix: the hostvars key is <prefix>_address
    gateway: str | None = None  # the containers' default route (reserved from the pool)
    reference_group: str | None = None  # only containers whose host is in this group get it

    @property
    def addresses_containers(self) -> bool:
        """Its containers get an address from ip_from_q. Not on a flat or VLAN network: there the
        container's interface is a port of OVS's provider bridge (a kernel address on it would
        answer for the guests); the host's bridge still gets its own, the guests' gateway."""
        return bool(self.ip_from_q) and self.kind not in ("flat", "vlan")

    @property
    def address_key(self) -> str:
        """The hostvars key of this network's address (OSA: <queue>_address)."""
        return f"{self.prefix or self.ip_from_q or self.interface or self.bridge}_address"


@dataclass(frozen=True)
class Config:
    """Everything read from a config dir, validated. Build it with load_config()."""

    config_dir: Path
    user_config: Mapping[str, Any]
    user_variables: Mapping[str, Any]
    secrets: Mapping[str, Secret | None]
    skeleton: Skeleton
    cidr_networks: Mapping[str, netaddr.IPNetwork]
    used_ips: netaddr.IPSet
    provider_networks: tuple[ProviderNetwork, ...]
    host_entries: tuple[HostEntry, ...]
    vips: Mapping[str, str]  # internal/external -> what the config says: an address or a host name
    sources: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    profile: str | None = None  # the service profile applied to the host entries (osa_aio.profiles)
    _resolved: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def internal_vip(self) -> str:
        """The internal VIP's address (a host name in the config is resolved, once)."""
        return self.vip_address("internal")

    @property
    def external_vip(self) -> str:
        return self.vip_address("external")

    def vip_address(self, which: str) -> str:
        """A VIP's address; a host name is looked up where an address is needed (HAProxy, the
        host's bridge, endpoints), never while building the inventory."""
        value = self.vips[which]
        if value not in self._resolved:
            self._resolved[value] = resolve_address(value, self.source("global_overrides"),
                                                    f"global_overrides.{which}_lb_vip_address")
        return self._resolved[value]

    def check_vips(self) -> None:
        """Look the VIPs up now: a host name that does not resolve stops a command before it changes anything."""
        for which in self.vips:
            self.vip_address(which)

    def literal_vips(self) -> list[str]:
        """The VIPs given as addresses (a host name's address is not known without a lookup)."""
        return [value for value in dict.fromkeys(self.vips.values()) if is_address(value)]

    @property
    def gateways(self) -> list[str]:
        return [network.gateway for network in self.provider_networks if network.gateway]

    @property
    def management(self) -> ProviderNetwork:
        return next(net for net in self.provider_networks if net.is_management)

    @property
    def management_cidr(self) -> netaddr.IPNetwork:
        return self.cidr_networks[self.management.ip_from_q]

    def hosts(self) -> dict[str, HostEntry]:
        """Each host once (its first entry, in file order)."""
        result: dict[str, HostEntry] = {}
        for entry in self.host_entries:
            result.setdefault(entry.name, entry)
        return result

    def source(self, key: str) -> str:
        """The file that last set a top-level key of the user config."""
        return self.sources.get(key, str(self.config_dir / USER_CONFIG))

    def path(self, name: str) -> Path:
        return self.config_dir / name

    def secret(self, key: str) -> str:
        """A secret's value, for a template, stdin or the environment only; never argv or output."""
        value = self.secrets.get(key)
        if not value:
            raise ConfigError("empty or missing", file=str(self.path(USER_SECRETS)), key=key,
                              hint="run `osa-aio bootstrap` (or `osa-aio secrets`) to fill it")
        return value.reveal()


def load_config(config_dir: Path, *, host_address: str | None = None, profile: str | None = None) -> Config:
    """Read and validate a config dir. ``host_address`` is the default external VIP."""
    if not config_dir.is_dir():
        raise ConfigError("the config dir does not exist", file=str(config_dir),
                          hint="run `osa-aio bootstrap` to install the defaults, "
                               f"or pass --config-dir / set {CONFIG_DIR_ENV}")
    main_file = config_dir / USER_CONFIG
    if not main_file.is_file():
        raise ConfigError("missing", file=str(main_file),
                          hint="copy user_config/openstack_user_config.yml from osa-aio and edit it")
    user_config, sources = _load_user_config(main_file, config_dir / CONF_D)
    user_variables = load_yaml(config_dir / USER_VARIABLES) if (config_dir / USER_VARIABLES).exists() else {}
    secrets = load_secrets(config_dir / USER_SECRETS)
    skeleton = load_envd([project_path(ENV_D), config_dir / ENV_D])
    config = _validate(config_dir, user_config, sources, user_variables, secrets, skeleton, host_address)
    chosen = profile or user_variables.get(profiles.VARIABLE)
    if chosen is None:
        return config
    if profile is None:
        found = profiles.get(str(chosen), str(config_dir / USER_VARIABLES))
    else:
        found = profiles.get(profile, "--profile", key=None)
    return dataclasses.replace(config, profile=found.name,
                               host_entries=profiles.apply(config.host_entries, skeleton, found))


def _load_user_config(main_file: Path, conf_d: Path) -> tuple[dict, dict[str, str]]:
    user_config = load_yaml(main_file)
    sources = {str(key): str(main_file) for key in user_config}
    if conf_d.is_dir():
        for path in sorted(conf_d.glob("*.yml")) + sorted(conf_d.glob("*.yaml")):
            data = load_yaml(path)
            for key in data:
                sources[str(key)] = str(path)
            merge_dict(user_config, data)
    return user_config, sources


def _validate(config_dir: Path, uc: dict, sources: dict[str, str], user_variables: dict,
              secrets: Mapping[str, Secret | None], skeleton: Skeleton,
              host_address: str | None) -> Config:
    main_file = str(config_dir / USER_CONFIG)

    def where(key: str) -> str:
        return sources.get(key.split(".")[0].split("[")[0], main_file)

    warnings: list[str] = []
    # A top-level key starting with '_' only holds a YAML anchor for others to use (OSA's example
    # configs do this with `_infrastructure_hosts: &infrastructure_hosts`): not a host group.
    uc = {key: value for key, value in uc.items() if not str(key).startswith("_")}
    for key in uc:
        if key not in KNOWN_TOP_LEVEL and not str(key).endswith("_hosts"):
            raise ConfigError(f"unknown top-level key {key!r}", file=where(str(key)), key=str(key),
                              hint="use cidr_networks, used_ips, global_overrides or a *_hosts group")
    cidrs = _parse_cidr_networks(uc, where)
    used, used_warnings = _parse_used_ips(uc.get("used_ips"), cidrs, where)
    warnings += used_warnings
    overrides = uc.get("global_overrides")
    if not isinstance(overrides, dict):
        raise ConfigError("missing" if overrides is None else "must be a mapping", file=where("global_overrides"),
                          key="global_overrides",
                          hint="add global_overrides with internal_lb_vip_address and provider_networks")
    providers = _parse_provider_networks(overrides, cidrs, where)
    _check_reference_groups(providers, skeleton, where("global_overrides"))
    internal_vip = _parse_vip(overrides.get("internal_lb_vip_address"),
                              where("global_overrides"), "global_overrides.internal_lb_vip_address")
    external = overrides.get("external_lb_vip_address", AUTO)
    if external in (None, "", AUTO):
        external_vip = host_address or internal_vip
    else:
        external_vip = _parse_vip(external, where("global_overrides"), "global_overrides.external_lb_vip_address")
    _refuse_unsupported(overrides, where("global_overrides"), "global_overrides")
    entries = _parse_host_groups(uc, skeleton, where)
    _check_host_addresses(entries, where)
    return Config(config_dir=config_dir, user_config=uc, user_variables=user_variables,
                  secrets=secrets, skeleton=skeleton, cidr_networks=cidrs, used_ips=used,
                  provider_networks=providers, host_entries=entries,
                  vips={"internal": internal_vip, "external": external_vip}, sources=sources,
                  warnings=tuple(warnings))


def _parse_cidr_networks(uc: dict, where) -> dict[str, netaddr.IPNetwork]:
    raw = uc.get("cidr_networks")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError("missing" if raw is None else "must be a mapping of network names to CIDRs",
                          file=where("cidr_networks"), key="cidr_networks",
                          hint="add e.g. `cidr_networks: {management: 172.29.236.0/22}`")
    cidrs: dict[str, netaddr.IPNetwork] = {}
    for name, value in raw.items():
        key = f"cidr_networks.{name}"
        try:
            if not isinstance(value, str) or "/" not in value:
                raise ValueError(value)
            network = netaddr.IPNetwork(value)
        except (ValueError, netaddr.AddrFormatError):
            raise ConfigError(f"{value!r} is not a CIDR", file=where("cidr_networks"), key=key,
                              hint="write it as address/prefix, e.g. 172.29.236.0/22") from None
        if network.ip != network.network:
            raise ConfigError(f"{value!r} has host bits set", file=where("cidr_networks"), key=key,
                              hint=f"write the network address: {network.cidr}")
        for other_name, other in cidrs.items():
            if network.first <= other.last and other.first <= network.last:
                raise ConfigError(f"{network} overlaps cidr_networks.{other_name} ({other})",
                                  file=where("cidr_networks"), key=key,
                                  hint="give each network its own address range")
        cidrs[str(name)] = network
    return cidrs


def _parse_used_ips(raw: Any, cidrs: Mapping[str, netaddr.IPNetwork],
                    where) -> tuple[netaddr.IPSet, list[str]]:
    used = netaddr.IPSet()
    warnings: list[str] = []
    if raw is None:
        return used, warnings
    if not isinstance(raw, list):
        raise ConfigError("must be a list of addresses or 'first,last' ranges",
                          file=where("used_ips"), key="used_ips")
    for index, entry in enumerate(raw):
        key = f"used_ips[{index}]"
        parts = [part.strip() for part in entry.split(",")] if isinstance(entry, str) else []
        try:
            if len(parts) not in (1, 2):
                raise ValueError(entry)
            first, last = netaddr.IPAddress(parts[0]), netaddr.IPAddress(parts[-1])
        except (ValueError, netaddr.AddrFormatError):
            raise ConfigError(f"{entry!r} does not parse", file=where("used_ips"), key=key,
                              hint="write one address or a range 'first,last'") from None
        if first > last:
            raise ConfigError(f"range {entry!r} is reversed", file=where("used_ips"), key=key,
                              hint=f"write it as '{last},{first}'")
        inside = [name for name, net in cidrs.items() if first in net or last in net]
        if not inside:
            # OSA's own AIO config keeps such entries for networks it no longer defines; they
            # reserve nothing here, so they are reported rather than refused (--strict refuses).
            warnings.append(f"{where('used_ips')}: {key}: {entry!r} lies outside every "
                            f"cidr_networks entry and reserves nothing; remove it or add its network")
        used.add(netaddr.IPRange(first, last))
    return used, warnings


def _parse_provider_networks(overrides: dict, cidrs: Mapping[str, netaddr.IPNetwork],
                             where) -> tuple[ProviderNetwork, ...]:
    file = where("global_overrides")
    raw = overrides.get("provider_networks")
    if not isinstance(raw, list) or not raw:
        raise ConfigError("missing" if raw is None else "must be a non-empty list", file=file,
                          key="global_overrides.provider_networks",
                          hint="add at least the br-mgmt network with is_management_address: true")
    networks = []
    for index, item in enumerate(raw):
        key = f"global_overrides.provider_networks[{index}].network"
        net = item.get("network") if isinstance(item, dict) else None
        if not isinstance(net, dict):
            raise ConfigError("each entry must be `- network: {...}`", file=file, key=key)
        _refuse_unsupported(net, file, key)
        for option in net:
            if option not in NETWORK_KEYS | NEUTRON_NETWORK_KEYS:
                raise ConfigError(f"unknown key {option!r}", file=file, key=key,
                                  hint=f"provider networks take {', '.join(sorted(NETWORK_KEYS))}")
        if net.get("container_bridge_type") not in (None, "", "linuxbridge"):
            raise ConfigError(f"container_bridge_type {net['container_bridge_type']!r} is not supported yet: "
                              "osa-aio makes Linux bridges", file=file, key=f"{key}.container_bridge_type",
                              hint="leave it out")
        if not net.get("container_bridge"):
            raise ConfigError("container_bridge is missing", file=file, key=key,
                              hint="name the host bridge, e.g. br-mgmt")
        queue = net.get("ip_from_q")
        if queue is not None and queue not in cidrs:
            raise ConfigError(f"ip_from_q names unknown network {queue!r}", file=file,
                              key=f"{key}.ip_from_q",
                              hint=f"use one of cidr_networks: {', '.join(sorted(cidrs))}")
        binds = net.get("group_binds") or []
        if not isinstance(binds, list) or not all(isinstance(b, str) for b in binds):
            raise ConfigError("must be a list of group names", file=file, key=f"{key}.group_binds")
        is_management = bool(net.get("is_management_address") or net.get("is_container_address"))
        if is_management and queue is None:
            raise ConfigError("the management network needs ip_from_q", file=file,
                              key=f"{key}.ip_from_q", hint="set ip_from_q: management")
        if is_management and str(net.get("type") or "raw") in ("flat", "vlan"):
            raise ConfigError("the management network cannot be a flat or VLAN provider network (its containers "
                              "need addresses)", file=file, key=f"{key}.type", hint="use type: raw")
        mtu = net.get("container_mtu")
        gateway = net.get("gateway")
        if gateway is not None:
            gateway = _parse_address(gateway, file, f"{key}.gateway")
            if queue and netaddr.IPAddress(gateway) not in cidrs[queue]:
                raise ConfigError(f"{gateway} is outside cidr_networks.{queue} ({cidrs[queue]})", file=file,
                                  key=f"{key}.gateway",
                                  hint="a gateway is reached on this network: use one of its addresses")
        reference = net.get("reference_group")
        if reference is not None and not isinstance(reference, str):
            raise ConfigError("must be a group name", file=file, key=f"{key}.reference_group")
        prefix = net.get("address_prefix")
        if prefix is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(prefix)):
            raise ConfigError(f"{prefix!r} cannot start a variable name", file=file, key=f"{key}.address_prefix",
                              hint="use letters, digits and '_' (the hostvars key is <address_prefix>_address)")
        networks.append(ProviderNetwork(
            index=index, bridge=str(net["container_bridge"]), interface=net.get("container_interface"),
            ip_from_q=queue, net_type=str(net.get("container_type") or "veth"),
            group_binds=tuple(binds), is_management=is_management,
            mtu=int(mtu) if mtu is not None else None, kind=str(net.get("type") or "raw"),
            prefix=str(prefix) if prefix is not None else None, gateway=gateway, reference_group=reference))
    if not any(net.is_management for net in networks):
        raise ConfigError("no network is marked as the management network", file=file,
                          key="global_overrides.provider_networks",
                          hint="set is_management_address: true on the br-mgmt network")
    return tuple(networks)


def _check_reference_groups(networks: tuple[ProviderNetwork, ...], skeleton: Skeleton, file: str) -> None:
    """A reference_group must be a group env.d makes (else no host would ever be in it)."""
    known = {name for section in (skeleton.components, skeleton.containers, skeleton.physical) for name in section}
    known |= {parent for section in (skeleton.components, skeleton.containers, skeleton.physical)
              for entry in section.values() for parent in entry.get("belongs_to") or []}
    for network in networks:
        if network.reference_group and network.reference_group not in known:
            raise ConfigError(f"reference_group names {network.reference_group!r}, a group env.d does not define",
                              file=file,
                              key=f"global_overrides.provider_networks[{network.index}].network.reference_group",
                              hint="name a group of env.d (a *_hosts group, say)")


def is_address(value: str) -> bool:
    try:
        netaddr.IPAddress(value)
    except (ValueError, netaddr.AddrFormatError):
        return False
    return True


def _parse_vip(value: Any, file: str, key: str) -> str:
    """A VIP: an IP address, or a host name (OSA's examples use names) looked up when needed."""
    text = str(value).rstrip(".")
    # A name's last label is never all digits: 172.29.236 is a mistyped address, not a name.
    if value not in (None, "") and not is_address(text) and DNS_NAME.match(text) \
            and not text.rsplit(".", 1)[-1].isdigit():
        return text
    return _parse_address(value, file, key)


def resolve_address(value: str, file: str, key: str) -> str:
    """An address as is; a host name's IPv4 address (from /etc/hosts or DNS). Names under
    .invalid are refused without a lookup (RFC 6761)."""
    if is_address(value):
        return value
    try:
        if value.lower().endswith(".invalid"):
            raise OSError("a reserved name")
        found = socket.getaddrinfo(value, None, socket.AF_INET, socket.SOCK_STREAM)
    except OSError as exc:
        raise ConfigError(f"{value!r} does not resolve ({exc.strerror or exc})", file=file, key=key,
                          hint="add it to /etc/hosts or DNS, or write the address") from None
    return str(found[0][4][0])


def _refuse_unsupported(options: Mapping[str, Any], file: str, key: str) -> None:
    for option, why in NOT_SUPPORTED.items():
        if option in options and options[option] not in (None, False, [], ""):
            raise ConfigError(f"{option} is not supported by osa-aio yet ({why})", file=file,
                              key=f"{key}.{option}", hint="remove it")


def _parse_address(value: Any, file: str, key: str) -> str:
    if value in (None, ""):
        raise ConfigError("missing", file=file, key=key, hint="set it to an IP address")
    try:
        return str(netaddr.IPAddress(str(value)))
    except (ValueError, netaddr.AddrFormatError):
        raise ConfigError(f"{value!r} is not an IP address", file=file, key=key) from None


def _parse_host_groups(uc: dict, skeleton: Skeleton, where) -> tuple[HostEntry, ...]:
    known_groups = skeleton.host_groups()
    known_types = set(skeleton.containers)
    entries: list[HostEntry] = []
    for group, hosts in uc.items():
        if not str(group).endswith("_hosts"):
            continue
        file = where(group)
        if group not in known_groups:
            raise ConfigError("host group not defined by env.d", file=file, key=str(group),
                              hint="fix the name or define it in physical_skel of an env.d file")
        if hosts is None:
            continue
        if not isinstance(hosts, dict):
            raise ConfigError("must be a mapping of host names to {ip: ...}", file=file, key=group)
        for name, options in hosts.items():
            key = f"{group}.{name}"
            if not HOSTNAME.match(str(name)):
                raise ConfigError(f"{name!r} is not a valid host name", file=file, key=key,
                                  hint="use letters, digits, '-' and '_' (container names start with it)")
            if not isinstance(options, dict):
                raise ConfigError("must be a mapping with at least ip", file=file, key=key)
            _refuse_unsupported(options, file, key)
            for option in options:
                if option not in HOST_ENTRY_KEYS:
                    raise ConfigError(f"unknown key {option!r}", file=file, key=key,
                                      hint=f"host entries take {', '.join(sorted(HOST_ENTRY_KEYS))}")
            ip = _parse_address(options.get("ip"), file, f"{key}.ip")
            management_ip = (_parse_address(options["management_ip"], file, f"{key}.management_ip")
                             if options.get("management_ip") else None)
            affinity = options.get("affinity") or {}
            if not isinstance(affinity, dict):
                raise ConfigError("must be a mapping of container types to counts", file=file,
                                  key=f"{key}.affinity")
            for ctype, count in affinity.items():
                if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                    raise ConfigError(f"must be a non-negative integer, not {count!r}", file=file,
                                      key=f"{key}.affinity.{ctype}")
                if ctype not in known_types:
                    raise ConfigError(f"unknown container type {ctype!r}", file=file,
                                      key=f"{key}.affinity",
                                      hint="use a container_skel name from env.d, e.g. galera_container")
            entries.append(HostEntry(group=str(group), name=str(name), ip=ip, management_ip=management_ip,
                                     affinity=dict(affinity),
                                     container_vars=dict(options.get("container_vars") or {}),
                                     host_vars=dict(options.get("host_vars") or {})))
    return tuple(entries)


def _check_host_addresses(entries: tuple[HostEntry, ...], where) -> None:
    """One host, one address; one address, one host."""
    by_name: dict[str, HostEntry] = {}
    by_address: dict[str, HostEntry] = {}
    spelled: dict[str, HostEntry] = {}
    for entry in entries:
        key = f"{entry.group}.{entry.name}.ip"
        other = spelled.setdefault(entry.name.lower().replace("_", "-"), entry)
        if other.name != entry.name:
            raise ConfigError(f"host {entry.name} and host {other.name} would give their containers the same names",
                              file=where(entry.group), key=f"{entry.group}.{entry.name}",
                              hint="rename one ('_' and '-' are the same in a container name)")
        first = by_name.setdefault(entry.name, entry)
        if (first.ip, first.address) != (entry.ip, entry.address):
            raise ConfigError(f"host {entry.name} has {entry.ip} here but {first.ip} under {first.group}",
                              file=where(entry.group), key=key, hint="give a host the same ip everywhere")
        for address in {entry.ip, entry.address}:
            owner = by_address.setdefault(address, entry)
            if owner.name != entry.name:
                raise ConfigError(f"{address} is also the address of host {owner.name}",
                                  file=where(entry.group), key=key,
                                  hint="give each host its own address")
