import copy
from collections import Counter

import netaddr
import pytest

from osa_aio.config import load_config
from osa_aio.errors import InventoryError, UnknownTarget
from osa_aio.inventory.generate import build_inventory, remove_container
from osa_aio.inventory.query import containers, resolve
from osa_aio.inventory.store import dumps
from osa_aio.profiles import DEFAULT
from osa_aio.roles import ROLES
from tests.conftest import HOST_ADDRESS, default_counts, default_total, edit_yaml, user_config


def counts(inv):
    return Counter(row.container_type for row in containers(inv))


def test_default_config_gives_the_aio_layout(load, config_dir):
    inv, warnings = build_inventory(load(), None)
    # The shipped config holds what the default profile declares: every role's containers.
    assert counts(inv) == default_counts()
    assert set(counts(inv)) == {role.container_type for role in ROLES.values() if role.profiles.get(DEFAULT)}
    # It has hosts for every role's type (with no containers of those the default leaves out): the
    # largest profile fills every one.
    everything, _ = build_inventory(load_config(config_dir, host_address=HOST_ADDRESS, profile="compute"), None)
    assert set(counts(everything)) == {role.container_type for role in ROLES.values() if role.container_type}
    assert inv["haproxy"]["hosts"] == ["aio1"]
    assert inv["haproxy_all"]["children"] == ["haproxy"]
    assert inv["_meta"]["hostvars"]["aio1"]["properties"]["is_metal"] is True
    assert inv["lxc_hosts"]["hosts"] == ["aio1"]
    assert warnings == []


def test_management_addresses_unique_in_network_outside_used_ips(load):
    config = load()
    inv, _ = build_inventory(config, None)
    addresses = [row.management_address for row in containers(inv)]
    assert len(set(addresses)) == len(addresses) == default_total()
    network = netaddr.IPNetwork("172.29.236.0/22")
    for address in addresses:
        assert netaddr.IPAddress(address) in network
        assert address not in config.used_ips
        assert address not in (config.internal_vip, "172.29.236.100")


def test_each_container_has_fixed_mac_on_its_management_interface(load):
    inv, _ = build_inventory(load(), None)
    hostvars = inv["_meta"]["hostvars"]
    macs = []
    for row in containers(inv):
        net = hostvars[row.name]["container_networks"]["management_address"]
        assert net["bridge"] == "br-mgmt" and net["interface"] == "eth1"
        assert net["netmask"] == "255.255.252.0"
        macs.append(net["mac"])
    assert len(set(macs)) == len(macs)


def test_host_gets_an_address_on_the_bridges_it_carries(load, config_dir):
    # With compute, the host carries every network (its compute container is bound to them all).
    inv, _ = build_inventory(load_config(config_dir, host_address=HOST_ADDRESS, profile="compute"), None)
    nets = inv["_meta"]["hostvars"]["aio1"]["container_networks"]
    assert {k: (v["bridge"], v["address"]) for k, v in nets.items()} == {
        "management_address": ("br-mgmt", "172.29.236.100"),
        "tunnel_address": ("br-vxlan", "172.29.240.100"),
        "storage_address": ("br-storage", "172.29.244.100"),
        "public_address": ("br-vlan", "172.29.248.100"),
    }
    # Without it, no container and not the host is bound to the tunnel or public network: the
    # host gets no address there (OSA gives a host only the networks bound to it).
    minimal = build_inventory(load_config(config_dir, host_address=HOST_ADDRESS, profile="minimal"), None)[0]
    assert not {"tunnel_address", "public_address"} & set(minimal["_meta"]["hostvars"]["aio1"]["container_networks"])


def test_a_flat_network_gives_containers_an_interface_but_no_address(config_dir):
    inv, _ = build_inventory(load_config(config_dir, host_address=HOST_ADDRESS, profile="compute"), None)
    hostvars = inv["_meta"]["hostvars"]
    computes = [n for n, hv in hostvars.items() if hv.get("container_type") == "nova_compute_container"]
    assert computes
    for name in computes:
        public = hostvars[name]["container_networks"]["public_address"]
        assert public["bridge"] == "br-vlan" and public["interface"] == "eth12" and public["address"] is None
        assert hostvars[name]["container_networks"]["tunnel_address"]["address"].startswith("172.29.240.")
    others = [hv for hv in hostvars.values() if hv.get("container_type") not in (None, "nova_compute_container")]
    assert not any("public_address" in hv.get("container_networks", {}) for hv in others)


def test_rerun_is_identical(load):
    first, _ = build_inventory(load(), None)
    second, _ = build_inventory(load(), copy.deepcopy(first))
    assert dumps(first) == dumps(second)


def test_saved_names_addresses_and_macs_survive_a_config_change(load, config_dir):
    first, _ = build_inventory(load(), None)
    # Reserve a range that the first run had allocated from: saved containers keep theirs.
    edit_yaml(user_config(config_dir), lambda d: d["used_ips"].append("172.29.236.60,172.29.236.70"))
    saved = {k: v for k, v in first["_meta"]["hostvars"].items() if k != "aio1"}
    with pytest.raises(InventoryError, match="reserved or taken"):
        build_inventory(load(), first)
    edit_yaml(user_config(config_dir), lambda d: d["used_ips"].pop())
    edit_yaml(user_config(config_dir), lambda d: d["used_ips"].append("172.29.236.200,172.29.236.210"))
    second, _ = build_inventory(load(), first)
    for name, hv in saved.items():
        assert second["_meta"]["hostvars"][name]["container_networks"] == hv["container_networks"]


def test_raising_affinity_adds_containers_and_keeps_the_others(load, config_dir):
    first, _ = build_inventory(load(), None)
    edit_yaml(user_config(config_dir),
              lambda d: d["identity_hosts"]["aio1"]["affinity"].update(keystone_container=3))
    second, _ = build_inventory(load(), first)
    assert counts(second)["keystone_container"] == 3
    old = {row.name: row.management_address for row in containers(first)}
    new = {row.name: row.management_address for row in containers(second)}
    assert {name: new[name] for name in old} == old
    added = set(new) - set(old)
    assert len(added) == 1 and new[added.pop()] not in old.values()


def test_lowering_affinity_removes_nothing_but_warns(load, config_dir):
    first, _ = build_inventory(load(), None)
    edit_yaml(user_config(config_dir),
              lambda d: d["shared_infra_hosts"]["aio1"]["affinity"].update(galera_container=1))
    second, warnings = build_inventory(load(), first)
    assert counts(second)["galera_container"] == 3
    assert len(warnings) == 2 and all("not asked for" in w for w in warnings)


def test_remove_container_accepts_osa_older_name(load):
    inv, _ = build_inventory(load(), None)
    name = inv["keystone_container"]["hosts"][0]
    old_form = name.replace("-keystone-container-", "_keystone_container-").replace("aio1-", "aio1_")
    smaller = remove_container(inv, old_form.replace("aio1-", "aio1_"))
    assert name not in smaller["_meta"]["hostvars"]
    assert name not in smaller["keystone"]["hosts"] and name not in smaller["aio1_host_containers"]["hosts"]
    assert name in inv["_meta"]["hostvars"]  # the input is not modified
    with pytest.raises(UnknownTarget):
        remove_container(inv, "aio1-keystone-container-00000000")


def test_pool_too_small_names_network_needed_and_free(load, config_dir):
    edit_yaml(user_config(config_dir), lambda d: d["used_ips"].append("172.29.236.51,172.29.239.250"))
    with pytest.raises(InventoryError) as err:
        build_inventory(load(), None)
    message = str(err.value)
    assert "cidr_networks.management" in message
    assert f"{default_total()} new containers need an address, 4 are free" in message


def test_address_outside_a_changed_cidr_is_refused(load, config_dir):
    first, _ = build_inventory(load(), None)
    edit_yaml(user_config(config_dir), lambda d: d["cidr_networks"].update(management="172.29.100.0/22"))
    edit_yaml(user_config(config_dir), lambda d: [h.update(ip="172.29.100.100") for k, g in d.items()
                                                  if k.endswith("_hosts") for h in g.values()])
    edit_yaml(user_config(config_dir), lambda d: d["global_overrides"].update(internal_lb_vip_address="172.29.100.101"))
    with pytest.raises(InventoryError, match="outside cidr_networks.management"):
        build_inventory(load(), first)


def test_container_vars_with_limit_apply_only_to_matching_components(load, config_dir):
    edit_yaml(user_config(config_dir), lambda d: d["shared_infra_hosts"]["aio1"].update(
        container_vars={"galera_vars": {"limit_container_types": "galera", "x": 1}, "all_vars": "y"}))
    inv, _ = build_inventory(load(), None)
    hostvars = inv["_meta"]["hostvars"]
    galera = hostvars[inv["galera"]["hosts"][0]]
    rabbit = hostvars[inv["rabbitmq"]["hosts"][0]]
    assert galera["galera_vars"] == {"x": 1} and galera["all_vars"] == "y"
    assert "galera_vars" not in rabbit and rabbit["all_vars"] == "y"


def test_resolve_names_types_and_groups(load):
    inv, _ = build_inventory(load(), None)
    keystones = inv["keystone_container"]["hosts"]
    assert resolve(inv, "keystone_container") == keystones
    assert resolve(inv, "keystone") == keystones
    assert resolve(inv, "keystone_all") == keystones
    assert resolve(inv, keystones[1].replace("-", "_", 2)) == [keystones[1]]
    with pytest.raises(UnknownTarget, match="did you mean keystone-container"):
        resolve(inv, "keystone_containr")
    with pytest.raises(UnknownTarget, match="has no containers"):
        resolve(inv, "haproxy")
