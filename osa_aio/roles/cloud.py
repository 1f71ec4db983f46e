"""A cloud ready to use, as devstack and OSA's AIO leave one: a flavor `tiny`, the flat provider
network `public` (its gateway is the host's br-vlan address, which NATs it like the container
networks), a tenant network `private` behind router `router1`, ICMP and SSH allowed in the admin
project's default security group, and the keypair `osa-aio` from a key osa-aio makes once under
the config dir. Each step reads the API first and makes or mends only what is missing or
different. Run at the end of the compute role's deploy (a cloud without a compute node has no use
for them)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import netaddr

from osa_aio.config import Config
from osa_aio.errors import ConfigError
from osa_aio.hosts import KEY_FILE  # under the config dir; made once, never replaced
from osa_aio.inventory.generate import host_network_address
from osa_aio.roles.catalog import Keystone
from osa_aio.roles.neutron import PHYSNET

FLAVOR = {"name": "tiny", "ram": 256, "vcpus": 1, "disk": 1}
PUBLIC = "public"
PRIVATE = "private"
PRIVATE_CIDR = "10.0.0.0/26"       # devstack's
ROUTER = "router1"
KEYPAIR = "osa-aio"
POOL_SIZE = 100                    # floating IPs and router gateways, right after the host's address
RULES = (("icmp", None), ("tcp", 22))


class Cloud:
    """The compute and network APIs on the internal VIP with the admin's token."""

    def __init__(self, vip: str, admin_password: str) -> None:
        self.keystone = Keystone(vip, admin_password)
        self.nova = f"http://{vip}:8774/v2.1"
        self.neutron = f"http://{vip}:9696/v2.0"

    def call(self, method: str, url: str, body: dict | None = None) -> dict:
        return self.keystone.call(method, url, body, ok=(200, 201, 202, 204))

    def one(self, collection: str, **query: str) -> dict | None:
        """The neutron resource of this name (and query), or None."""
        params = "&".join(f"{key}={value}" for key, value in query.items())
        found = self.call("GET", f"{self.neutron}/{collection}?{params}")[collection.replace("-", "_")]
        return found[0] if found else None

    def admin_project(self) -> str:
        project = self.keystone.one("projects", name="admin")
        if project is None:
            raise ConfigError("keystone has no admin project")
        return project["id"]


def public_subnet(config: Config) -> dict[str, Any]:
    """The `public` subnet from the flat provider network in the config: its CIDR, the host's
    address on its bridge as the gateway, and POOL_SIZE addresses after it."""
    flat = next((n for n in config.provider_networks if n.kind == "flat" and n.ip_from_q), None)
    if flat is None:
        raise ConfigError("no flat provider network with ip_from_q: the compute profile needs one for `public`",
                          file=str(config.path("openstack_user_config.yml")), key="global_overrides.provider_networks",
                          hint="add the br-vlan network of the shipped user_config (type: flat, ip_from_q: public)")
    cidr = config.cidr_networks[flat.ip_from_q]
    host = next(iter(config.hosts().values()))
    gateway = host_network_address(config, host, flat)
    if gateway is None:
        raise ConfigError(f"the host has no address in {cidr}", file=str(config.path("openstack_user_config.yml")),
                          key=f"cidr_networks.{flat.ip_from_q}")
    first, last = netaddr.IPAddress(gateway) + 1, netaddr.IPAddress(gateway) + POOL_SIZE
    if last not in cidr or netaddr.IPSet(netaddr.IPRange(first, last)) & config.used_ips:
        raise ConfigError(f"{first}-{last} (floating IPs) must lie in {cidr} outside used_ips",
                          file=str(config.path("openstack_user_config.yml")), key=f"cidr_networks.{flat.ip_from_q}")
    return {"cidr": str(cidr), "gateway_ip": gateway, "enable_dhcp": False, "ip_version": 4,
            "allocation_pools": [{"start": str(first), "end": str(last)}]}


@dataclass
class FlavorPresent:
    cloud: Cloud
    name = f"flavor {FLAVOR['name']}"

    def _found(self) -> dict | None:
        flavors = self.cloud.call("GET", f"{self.cloud.nova}/flavors/detail?is_public=None")["flavors"]
        return next((f for f in flavors if f["name"] == FLAVOR["name"]), None)

    def check(self) -> str | None:
        found = self._found()
        if found is None:
            return "absent"
        wrong = [key for key in ("ram", "vcpus", "disk") if found[key] != FLAVOR[key]]
        return f"{', '.join(wrong)} differ" if wrong else None

    def apply(self) -> None:
        found = self._found()
        if found is not None:  # a flavor cannot be changed: made again
            self.cloud.call("DELETE", f"{self.cloud.nova}/flavors/{found['id']}")
        self.cloud.call("POST", f"{self.cloud.nova}/flavors", {"flavor": {**FLAVOR, "id": f"osa-aio-{FLAVOR['name']}"}})


@dataclass
class NetworkPresent:
    cloud: Cloud
    network: str
    attributes: dict          # of the network (provider attributes cannot change: left alone once made)
    subnet: dict              # of its subnet `<network>-subnet`

    @property
    def name(self) -> str:
        return f"network {self.network} and its subnet"

    def _subnet(self, network: dict) -> dict | None:
        return self.cloud.one("subnets", network_id=network["id"], name=f"{self.network}-subnet")

    def check(self) -> str | None:
        network = self.cloud.one("networks", name=self.network)
        if network is None:
            return "absent"
        subnet = self._subnet(network)
        if subnet is None:
            return "no subnet"
        wrong = [key for key, value in self.subnet.items() if key != "ip_version" and subnet.get(key) != value]
        return f"subnet's {', '.join(wrong)} differ" if wrong else None

    def apply(self) -> None:
        network = self.cloud.one("networks", name=self.network)
        if network is None:
            network = self.cloud.call("POST", f"{self.cloud.neutron}/networks",
                                      {"network": {"name": self.network, **self.attributes}})["network"]
        subnet = self._subnet(network)
        if subnet is None:
            self.cloud.call("POST", f"{self.cloud.neutron}/subnets", {"subnet": {
                "name": f"{self.network}-subnet", "network_id": network["id"], **self.subnet}})
        else:
            changes = {k: v for k, v in self.subnet.items() if k not in ("ip_version", "cidr") and subnet.get(k) != v}
            self.cloud.call("PUT", f"{self.cloud.neutron}/subnets/{subnet['id']}", {"subnet": changes})


@dataclass
class RouterPresent:
    """router1: its gateway on `public` with SNAT, an interface on `private`."""

    cloud: Cloud
    name = f"router {ROUTER} between {PUBLIC} and {PRIVATE}"

    def _facts(self) -> tuple[dict | None, dict, dict, bool]:
        router = self.cloud.one("routers", name=ROUTER)
        public = self.cloud.one("networks", name=PUBLIC)
        private = self.cloud.one("subnets", name=f"{PRIVATE}-subnet")
        if public is None or private is None:
            raise ConfigError(f"network {PUBLIC} or subnet {PRIVATE}-subnet is missing")
        linked = bool(router) and self.cloud.one("ports", device_id=router["id"],
                                                 network_id=private["network_id"]) is not None
        return router, public, private, linked

    def check(self) -> str | None:
        router, public, _, linked = self._facts()
        if router is None:
            return "absent"
        gateway = router.get("external_gateway_info") or {}
        if gateway.get("network_id") != public["id"] or not gateway.get("enable_snat"):
            return "its gateway differs"
        return None if linked else f"no interface on {PRIVATE}"

    def apply(self) -> None:
        router, public, private, linked = self._facts()
        gateway = {"external_gateway_info": {"network_id": public["id"], "enable_snat": True}}
        if router is None:
            router = self.cloud.call("POST", f"{self.cloud.neutron}/routers",
                                     {"router": {"name": ROUTER, **gateway}})["router"]
        else:
            self.cloud.call("PUT", f"{self.cloud.neutron}/routers/{router['id']}", {"router": gateway})
        if not linked:
            self.cloud.call("PUT", f"{self.cloud.neutron}/routers/{router['id']}/add_router_interface",
                            {"subnet_id": private["id"]})


@dataclass
class DefaultRulesPresent:
    """The admin project's default security group lets ICMP and SSH in (IPv4)."""

    cloud: Cloud
    name = "default security group: ICMP and SSH in"

    def _missing(self) -> tuple[str, list[tuple[str, int | None]]]:
        project = self.cloud.admin_project()
        # Listing the groups makes the project's default group if it has none yet.
        group = self.cloud.one("security-groups", name="default", project_id=project)
        if group is None:
            raise ConfigError(f"neutron made no default security group for project {project}")
        rules = self.cloud.call("GET", f"{self.cloud.neutron}/security-group-rules?security_group_id={group['id']}"
                                "&direction=ingress&ethertype=IPv4")["security_group_rules"]
        have = {(r.get("protocol"), r.get("port_range_min")) for r in rules if not r.get("remote_group_id")}
        return group["id"], [rule for rule in RULES if rule not in have]

    def check(self) -> str | None:
        _, missing = self._missing()
        return f"missing {', '.join(p + (f' {port}' if port else '') for p, port in missing)}" if missing else None

    def apply(self) -> None:
        group, missing = self._missing()
        for protocol, port in missing:
            rule = {"security_group_id": group, "direction": "ingress", "ethertype": "IPv4", "protocol": protocol,
                    "remote_ip_prefix": "0.0.0.0/0"}
            if port:
                rule.update(port_range_min=port, port_range_max=port)
            self.cloud.call("POST", f"{self.cloud.neutron}/security-group-rules", {"security_group_rule": rule})


@dataclass
class KeyMade:
    """An ed25519 key pair under the config dir for SSH into the guests, made once."""

    path: Path
    name = "SSH key for the guests"

    def check(self) -> str | None:
        return None if self.path.exists() and self.path.with_suffix(".pub").exists() else "absent"

    def apply(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.path.exists():  # a private key without its public half: the half is derived
            public = subprocess.run(["ssh-keygen", "-y", "-f", str(self.path)], check=True, capture_output=True,
                                    text=True).stdout
            self.path.with_suffix(".pub").write_text(public)
            return
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", KEYPAIR, "-f", str(self.path)],
                       check=True, capture_output=True)


@dataclass
class KeypairPresent:
    """Nova's keypair `osa-aio` (the admin's) holds the config dir's public key."""

    cloud: Cloud
    path: Path
    name = f"keypair {KEYPAIR}"

    def _public(self) -> str:
        return " ".join(self.path.with_suffix(".pub").read_text().split()[:2])

    def _found(self) -> dict | None:
        status, data = self.cloud.keystone.request("GET", f"{self.cloud.nova}/os-keypairs/{KEYPAIR}")
        return data.get("keypair") if status == 200 else None

    def check(self) -> str | None:
        found = self._found()
        if found is None:
            return "absent"
        return None if " ".join(found["public_key"].split()[:2]) == self._public() else "holds another key"

    def apply(self) -> None:
        if self._found() is not None:
            self.cloud.call("DELETE", f"{self.cloud.nova}/os-keypairs/{KEYPAIR}")
        self.cloud.call("POST", f"{self.cloud.nova}/os-keypairs",
                        {"keypair": {"name": KEYPAIR, "public_key": self._public()}})


def steps(config: Config, cloud: Cloud) -> list:
    key = config.config_dir / KEY_FILE
    return [
        FlavorPresent(cloud),
        NetworkPresent(cloud, PUBLIC, {"router:external": True, "provider:network_type": "flat",
                                       "provider:physical_network": PHYSNET}, public_subnet(config)),
        NetworkPresent(cloud, PRIVATE, {}, {"cidr": PRIVATE_CIDR, "gateway_ip": str(netaddr.IPNetwork(PRIVATE_CIDR)[1]),
                                            "enable_dhcp": True, "ip_version": 4}),
        RouterPresent(cloud),
        DefaultRulesPresent(cloud),
        KeyMade(key),
        KeypairPresent(cloud, key),
    ]
