from osa_aio.containers import container_spec, hosts_file, lxc_config_items, ordered
from osa_aio.inventory.generate import build_inventory


def test_spec_and_lxc_config_follow_the_inventory(load):
    inv, _ = build_inventory(load(), None)
    name = inv["keystone_container"]["hosts"][0]
    net = inv["_meta"]["hostvars"][name]["container_networks"]["management_address"]
    spec = container_spec(inv, name)
    items = dict(lxc_config_items(spec))
    assert items["lxc.uts.name"] == name
    assert items["lxc.net.0.link"] == "br-mgmt" and items["lxc.net.0.name"] == "eth1"
    assert items["lxc.net.0.hwaddr"] == net["mac"]
    assert items["lxc.net.0.ipv4.address"] == f"{net['address']}/22"
    assert items["lxc.net.0.ipv4.gateway"] == "172.29.236.100"
    assert items["lxc.start.auto"] == "1" and items["lxc.start.order"] == "50"
    pairs = lxc_config_items(spec)
    assert ("lxc.group", "onboot") in pairs and ("lxc.group", "openstack") in pairs
    assert ("lxc.mount.entry", f"/openstack/{name} openstack none bind,create=dir 0 0") in pairs
    assert ("lxc.mount.entry", f"/openstack/log/{name} var/log none bind,create=dir 0 0") in pairs


def test_spec_digest_changes_only_with_the_spec(load):
    inv, _ = build_inventory(load(), None)
    name = inv["galera_container"]["hosts"][0]
    assert container_spec(inv, name).digest() == container_spec(inv, name).digest()
    inv["_meta"]["hostvars"][name]["container_networks"]["management_address"]["address"] = "172.29.236.222"
    assert container_spec(inv, name).digest() != container_spec(build_inventory(load(), None)[0], name).digest()


def test_galera_starts_first_and_hosts_file_lists_everyone(load):
    inv, _ = build_inventory(load(), None)
    order = ordered(inv)
    assert order[:3] == sorted(inv["galera_container"]["hosts"])
    assert order[-1] == inv["utility_container"]["hosts"][0]
    text = hosts_file(inv)
    for name, hv in inv["_meta"]["hostvars"].items():
        assert f"{hv['management_address']}\t{name}" in text
    assert text.startswith("127.0.0.1\tlocalhost")
