"""openstack-ansible interop: an inventory in OSA's layout is adopted, the hostvars OSA's playbooks
require are written, the group tree is OSA's, and OSA's config keys are honoured or refused.

The OSA configs come from ../shared/reference/osa (skipped when it is absent); the shipped config
runs everywhere."""

from __future__ import annotations

import copy
import hashlib
import socket

import netaddr
import pytest

from osa_aio.config import load_config
from osa_aio.containers import container_spec
from osa_aio.errors import ConfigError
from osa_aio.inventory.generate import all_group, build_inventory
from osa_aio.inventory.query import containers, group_members
from tests.conftest import HOST_ADDRESS, edit_yaml, user_config
from tests.osa_reference import REFERENCE, osa_examples, render_osa_aio, render_osa_example

# osa_toolkit/generate.py's REQUIRED_HOSTVARS: every host and container has them.
REQUIRED_HOSTVARS = ("properties", "ansible_host", "physical_host_group", "management_address", "container_name",
                     "container_networks", "physical_host", "physical_host_addr", "component")
needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"{REFERENCE} is not here")


@pytest.fixture(autouse=True)
def no_lookups(monkeypatch):
    """Building an inventory never resolves a name (OSA's example VIPs are host names)."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"a name lookup while building an inventory: {args}")
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def osa_layout(config, inventory: dict) -> dict:
    """``inventory`` as OSA's generator writes it, with other names and addresses than osa-aio
    would pick: no container_type, MACs or components; containers in their <type>_container
    group's hosts; every address taken from the top of its network, skipping used_ips."""
    hostvars = inventory["_meta"]["hostvars"]
    rows = containers(inventory)
    names = {row.name: f"{row.host}-{row.container_type.replace('_', '-')}-"
                       f"{hashlib.md5(row.name.encode()).hexdigest()[:8]}" for row in rows}
    reserved = netaddr.IPSet(config.used_ips) | netaddr.IPSet(config.literal_vips()) | netaddr.IPSet(
        [net["address"] for hv in hostvars.values() if not hv.get("container_type")
         for net in hv["container_networks"].values() if net.get("address")])
    tops = {}
    result: dict = {"all": {"vars": dict(inventory["all"]["vars"])}, "_meta": {"hostvars": {}}}
    for name, hv in hostvars.items():
        if not hv.get("container_type"):
            result["_meta"]["hostvars"][name] = {k: v for k, v in hv.items() if k not in ("component",)}
            continue
        networks = {}
        for key, net in hv["container_networks"].items():
            item = {k: v for k, v in net.items() if k != "mac"}
            if item.get("address"):
                cidr = netaddr.IPNetwork(f"{item['address']}/{item['netmask']}").cidr
                top = tops.get(key, cidr.last - 1)
                while netaddr.IPAddress(top) in reserved:
                    top -= 1
                item["address"] = str(netaddr.IPAddress(top))
                tops[key] = top - 1
            networks[key] = item
        new = names[name]
        result["_meta"]["hostvars"][new] = {
            "ansible_host": networks["management_address"]["address"],
            "management_address": networks["management_address"]["address"],
            "container_name": new, "container_networks": networks, "container_tech": "lxc",
            "physical_host": hv["physical_host"], "physical_host_addr": hv["physical_host_addr"],
            "physical_host_group": hv["physical_host_group"], "component": hv["component"],
            "properties": hv["properties"]}
        for group in (hv["container_type"], f"{hv['physical_host']}_host_containers", *hv["components"]):
            result.setdefault(group, {"hosts": []})["hosts"].append(new)
    return result


def addresses(inventory: dict) -> dict[tuple[str, str], str]:
    return {(name, key): net["address"] for name, hv in inventory["_meta"]["hostvars"].items()
            if hv.get("container_type") for key, net in hv["container_networks"].items() if net.get("address")}


def configs(tmp_path, config_dir):
    """(label, config) for the shipped config (every role) and, when the reference is here, OSA's
    AIO and example configs."""
    found = [("shipped", load_config(config_dir, host_address=HOST_ADDRESS, profile="compute"))]
    if REFERENCE.is_dir():
        found.append(("osa-aio", load_config(render_osa_aio(tmp_path / "osa-aio"), host_address=HOST_ADDRESS)))
        for path in osa_examples():
            found.append((path.name, load_config(render_osa_example(path, tmp_path / path.name))))
    return found


def test_the_reference_examples_are_here_to_test():
    if REFERENCE.is_dir():
        assert osa_examples(), f"no openstack_user_config.yml*.example in {REFERENCE}"


def test_an_osa_inventory_is_adopted_with_every_name_and_address_kept(tmp_path, config_dir):
    for label, config in configs(tmp_path, config_dir):
        ours, _ = build_inventory(config, None)
        osa = osa_layout(config, ours)
        adopted, warnings = build_inventory(config, osa)
        osa_containers = {n for n, hv in osa["_meta"]["hostvars"].items() if "container_networks" in hv
                          and n not in config.hosts()}
        assert {row.name for row in containers(adopted)} == osa_containers, label
        assert addresses(adopted) == addresses({"_meta": {"hostvars": {
            n: {**hv, "container_type": "x"} for n, hv in osa["_meta"]["hostvars"].items() if n in osa_containers}}})
        assert not [w for w in warnings if "saved inventory" in w], (label, warnings)
        # Their types come from the <type>_container groups; without them, from the names.
        types = {row.name: row.container_type for row in containers(adopted)}
        nameless = {k: v for k, v in copy.deepcopy(osa).items() if not k.endswith("_container")}
        again, _ = build_inventory(config, nameless)
        assert {row.name: row.container_type for row in containers(again)} == types, label
        assert build_inventory(config, adopted)[0] == adopted, label  # adopted once, then stable


def test_a_saved_entry_that_cannot_be_placed_is_dropped_with_a_warning(load):
    config = load()
    inventory, _ = build_inventory(config, None)
    inventory["_meta"]["hostvars"]["mystery-box"] = {"ansible_host": "172.29.236.77", "container_networks": {}}
    inventory["_meta"]["hostvars"]["oldhost"] = {"ansible_host": "172.29.236.78", "is_metal": True,
                                                 "properties": {"is_metal": True}}
    other = "aio1-adjutant-container-0badcafe"  # a service osa-aio's env.d does not define
    inventory["_meta"]["hostvars"][other] = {"ansible_host": "172.29.236.79", "physical_host": "aio1",
                                             "container_networks": {}}
    inventory["adjutant_container"] = {"hosts": [other]}
    again, warnings = build_inventory(config, inventory)
    assert "mystery-box" not in again["_meta"]["hostvars"] and "oldhost" not in again["_meta"]["hostvars"]
    assert other not in again["_meta"]["hostvars"] and "adjutant_container" not in config.skeleton.containers
    assert any(f"container {other}" in w and "not in env.d; dropped" in w for w in warnings), warnings
    assert any("entry mystery-box" in w and "dropped" in w for w in warnings), warnings
    assert any("host oldhost" in w and "dropped" in w for w in warnings), warnings


def test_hostvars_and_groups_are_osas(tmp_path, config_dir):
    for label, config in configs(tmp_path, config_dir):
        inventory, _ = build_inventory(config, None)
        hostvars = inventory["_meta"]["hostvars"]
        skeleton = config.skeleton
        for name, hv in hostvars.items():
            assert all(key in hv for key in REQUIRED_HOSTVARS), (label, name)
            assert hv["physical_host_addr"] == hostvars[hv["physical_host"]]["ansible_host"], (label, name)
            if hv.get("container_type"):
                assert hv["component"] == (skeleton.containers[hv["container_type"]].get("contains") or [None])[0]
        hosts = set(config.hosts())
        for group in inventory:
            if group.endswith("_container"):
                assert not hosts & set(inventory[group]["hosts"]), (label, group)  # no metal host
            assert "-host_containers" not in group, (label, group)
        rows = containers(inventory)
        for host in {row.host for row in rows}:
            assert set(inventory[f"{host}_host_containers"]["hosts"]) == {r.name for r in rows if r.host == host}
        # <x>_all: the containers of the types in <x>_containers, and the hosts its <x>_hosts lists.
        checked = 0
        for group, entry in skeleton.physical.items():
            if not group.endswith("_containers"):
                continue
            types = {t for t, e in skeleton.containers.items() if group in (e.get("belongs_to") or [])}
            members = {r.name for r in rows if r.container_type in types
                       and r.host in group_members(inventory, group.replace("_containers", "_hosts"))}
            listed = group_members(inventory, group.replace("_containers", "_hosts")) & hosts
            if members or listed:
                assert group_members(inventory, all_group(group)) >= members | listed, (label, group)
                checked += 1
        assert checked, label
        assert inventory["lxc_hosts"]["hosts"] == sorted({row.host for row in rows})


def test_the_shipped_aio_keeps_its_groups_for_haproxy_and_compute(load, config_dir):
    inventory, _ = build_inventory(load_config(config_dir, host_address=HOST_ADDRESS, profile="compute"), None)
    assert inventory["haproxy_container"]["hosts"] == [] and inventory["haproxy"]["hosts"] == ["aio1"]
    assert group_members(inventory, "haproxy_all") == {"aio1"}
    assert inventory["identity_containers"]["children"] == ["keystone_container"]
    keystones = set(inventory["keystone_container"]["hosts"])
    assert group_members(inventory, "identity_all") == keystones | {"aio1"}
    assert group_members(inventory, "identity_containers") == keystones


@needs_reference
def test_osas_example_vips_are_host_names_kept_as_written(tmp_path):
    for path in osa_examples():
        config = load_config(render_osa_example(path, tmp_path / path.name))
        inventory, _ = build_inventory(config, None)
        assert not config.literal_vips() or path.name != "openstack_user_config.yml.example"
        for which in ("internal", "external"):
            assert inventory["all"]["vars"][f"{which}_lb_vip_address"] == config.vips[which]


def test_a_vip_host_name_is_looked_up_where_an_address_is_needed(load, config_dir, monkeypatch):
    edit_yaml(user_config(config_dir), lambda d: d["global_overrides"].update(
        internal_lb_vip_address="vip.osa-aio.test", external_lb_vip_address="public.osa-aio.invalid"))
    config = load()
    inventory, _ = build_inventory(config, None)  # no lookup: the autouse fixture refuses them
    assert inventory["all"]["vars"]["internal_lb_vip_address"] == "vip.osa-aio.test"
    asked = []

    def fake(name, *args, **kwargs):
        asked.append(name)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("172.29.236.101", 0))]
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    assert config.internal_vip == "172.29.236.101" and config.internal_vip == "172.29.236.101"
    assert asked == ["vip.osa-aio.test"]  # once
    # Names under .invalid are never looked up (RFC 6761): a one-line error naming the key.
    with pytest.raises(ConfigError) as error:
        config.check_vips()
    assert "global_overrides.external_lb_vip_address" in str(error.value) and "does not resolve" in str(error.value)
    assert asked == ["vip.osa-aio.test"]


def test_anchor_keys_address_prefix_gateway_and_reference_group(load, config_dir):
    def change(data):
        data["_infrastructure_hosts"] = {"aio1": {"ip": "172.29.236.100"}}
        nets = data["global_overrides"]["provider_networks"]
        storage = next(n["network"] for n in nets if n["network"]["container_bridge"] == "br-storage")
        storage.update(address_prefix="store", gateway="172.29.244.1", reference_group="compute_hosts")
    edit_yaml(user_config(config_dir), change)
    edit_yaml(user_config(config_dir), lambda d: d["used_ips"].remove("172.29.244.1,172.29.244.50"))
    config = load_config(config_dir, host_address=HOST_ADDRESS, profile="compute")
    inventory, _ = build_inventory(config, None)
    assert "_infrastructure_hosts" not in inventory  # an anchor's holder is no host group
    hostvars = inventory["_meta"]["hostvars"]
    on_storage = {name for name, hv in hostvars.items() if "store_address" in hv["container_networks"]}
    assert not any("storage_address" in hv["container_networks"] for hv in hostvars.values())
    # reference_group: glance is bound to the storage network, but its host must be a compute host:
    # aio1 is, so both glance and compute containers get it.
    assert {hostvars[n].get("container_type") for n in on_storage} >= {"glance_container", "nova_compute_container"}
    addresses_given = [hostvars[n]["container_networks"]["store_address"].get("address") for n in on_storage]
    assert "172.29.244.1" not in addresses_given  # the gateway is reserved
    name = next(n for n in on_storage if hostvars[n].get("container_type") == "glance_container")
    assert hostvars[name]["gateway"] == "172.29.244.1"
    spec = container_spec(inventory, name)
    assert [(net.interface, net.gateway) for net in spec.networks if net.gateway] == [("eth2", "172.29.244.1")]
    # A reference group the host is not in takes the network away from its containers and itself.
    edit_yaml(user_config(config_dir), lambda d: next(
        n["network"] for n in d["global_overrides"]["provider_networks"]
        if n["network"]["container_bridge"] == "br-storage").update(reference_group="haproxy_hosts"))
    narrowed, _ = build_inventory(load_config(config_dir, host_address=HOST_ADDRESS, profile="compute"), None)
    assert not any("store_address" in hv["container_networks"] for hv in narrowed["_meta"]["hostvars"].values())
