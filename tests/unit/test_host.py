import json

import pytest

from osa_aio.errors import HostError
from osa_aio.host import (AddressPresent, BridgePresent, bridge_mac, IptablesRule, SysctlValue, local_host, nat_rules,
                          network_plan, primary_address)
from osa_aio.config import load_config
from osa_aio.inventory.generate import build_inventory
from tests.conftest import HOST_ADDRESS
from tests.fakes import FakeRunner


def test_network_plan_puts_host_address_on_every_bridge_and_the_vip_on_br_mgmt(config_dir):
    config = load_config(config_dir, host_address=HOST_ADDRESS, profile="compute")
    plans = {p.bridge: p.addresses for p in network_plan(config, config.hosts()["aio1"])}
    assert plans == {
        "br-mgmt": (("172.29.236.100", 22), ("172.29.236.101", 32)),
        "br-vxlan": (("172.29.240.100", 22),),
        "br-storage": (("172.29.244.100", 22),),
        "br-vlan": (("172.29.248.100", 22),),
    }
    # Without compute nothing on the host is bound to the tunnel or public network: their bridges
    # are still made, with no address of the host's (the inventory says the same).
    minimal = load_config(config_dir, host_address=HOST_ADDRESS, profile="minimal")
    plans = {p.bridge: p.addresses for p in network_plan(minimal, minimal.hosts()["aio1"])}
    assert set(plans) == {"br-mgmt", "br-vxlan", "br-storage", "br-vlan"}
    assert plans["br-vxlan"] == plans["br-vlan"] == ()
    inventory = build_inventory(minimal, None)[0]
    assert {net["address"] for net in inventory["_meta"]["hostvars"]["aio1"]["container_networks"].values()} == \
        {address for plan in plans.values() for address, prefix in plan if prefix != 32}


def test_nat_is_limited_to_the_container_networks(load):
    rules = nat_rules(load())
    masquerade = [rule for table, _, rule in rules if table == "nat"]
    assert masquerade[0] == ("-s", "172.29.236.0/22", "!", "-d", "172.29.236.0/22", "-j", "MASQUERADE")
    config = load()
    assert len(masquerade) == len(config.cidr_networks)
    assert all(rule[1] in {str(cidr) for cidr in config.cidr_networks.values()} for _, _, rule in rules)


def link(kind="bridge", flags=("UP",), address=None):
    return json.dumps([{"ifname": "br-mgmt", "flags": list(flags), "linkinfo": {"info_kind": kind},
                        "address": address or bridge_mac("br-mgmt")}])


def test_bridge_step_decisions():
    assert BridgePresent(FakeRunner({("ip", "-j"): (1, "")}), "br-mgmt").check() == "absent"
    down = FakeRunner({("ip", "-j"): (0, link(flags=("BROADCAST",)))})
    assert BridgePresent(down, "br-mgmt").check() == "down"
    assert BridgePresent(FakeRunner({("ip", "-j"): (0, link())}), "br-mgmt").check() is None
    # A bridge whose MAC follows its ports would change it when a container starts.
    assert BridgePresent(FakeRunner({("ip", "-j"): (0, link(address="fe:12:34:56:78:9a"))}),
                         "br-mgmt").check() == "its MAC is not fixed"
    with pytest.raises(HostError, match="exists but is not a bridge"):
        BridgePresent(FakeRunner({("ip", "-j"): (0, link(kind="veth"))}), "br-mgmt").check()
    runner = FakeRunner({("ip", "link", "show"): (1, ""), ("ip", "link", "add"): (0, ""),
                         ("ip", "link", "set"): (0, "")})
    BridgePresent(runner, "br-mgmt").apply()
    assert runner.calls == [["ip", "link", "show", "dev", "br-mgmt"],
                            ["ip", "link", "add", "br-mgmt", "type", "bridge"],
                            ["ip", "link", "set", "dev", "br-mgmt", "address", bridge_mac("br-mgmt")],
                            ["ip", "link", "set", "dev", "br-mgmt", "up"]]
    assert bridge_mac("br-mgmt") != bridge_mac("br-vxlan")
    assert bridge_mac("br-mgmt").startswith("02:")
    # Two hosts' bridges are joined into one network: they must not share a MAC.
    assert bridge_mac("br-mgmt") != bridge_mac("br-mgmt", "aio2")


ADDRS = json.dumps([{"ifname": "br-mgmt", "addr_info": [{"local": "172.29.236.100", "prefixlen": 22}]},
                    {"ifname": "eth0", "addr_info": [{"local": "192.0.2.2", "prefixlen": 24}]}])


def test_address_step_reads_before_adding():
    runner = FakeRunner({("ip", "-j", "addr"): (0, ADDRS), ("ip", "addr", "add"): (0, "")})
    assert AddressPresent(runner, "br-mgmt", "172.29.236.100", 22).check() is None
    step = AddressPresent(runner, "br-mgmt", "172.29.236.101", 32)
    assert step.check() == "absent"
    step.apply()
    assert runner.calls == [["ip", "-j", "addr", "show"], ["ip", "-j", "addr", "show"],  # the checks only read
                            ["ip", "addr", "add", "172.29.236.101/32", "dev", "br-mgmt"]]


def test_sysctl_and_iptables_steps():
    assert SysctlValue(FakeRunner({("cat",): (0, "0\n")}), "net.ipv4.ip_forward", "1").check() == "is 0"
    assert SysctlValue(FakeRunner({("cat",): (0, "1\n")}), "net.ipv4.ip_forward", "1").check() is None
    runner = FakeRunner({("iptables", "-w", "-t", "filter", "-C"): (1, ""),
                         ("iptables", "-w", "-t", "filter", "-I"): (0, "")})
    rule = IptablesRule(runner, "filter", "FORWARD", ("-j", "OSA-AIO-FORWARD"), insert=True)
    assert rule.check() == "absent"
    rule.apply()
    assert runner.calls == [["iptables", "-w", "-t", "filter", "-C", "FORWARD", "-j", "OSA-AIO-FORWARD"],
                            ["iptables", "-w", "-t", "filter", "-I", "FORWARD", "1", "-j", "OSA-AIO-FORWARD"]]


def test_primary_address_and_local_host(load):
    routes = json.dumps([{"dst": "default", "gateway": "192.0.2.1", "dev": "eth0"}])
    runner = FakeRunner({("ip", "-j", "-4", "route"): (0, routes), ("ip", "-j", "-4", "addr"): (0, ADDRS),
                         ("ip", "-j", "addr"): (0, ADDRS)})
    assert primary_address(runner) == "172.29.236.100"  # the first address of the route's device list
    assert primary_address(FakeRunner({("ip",): (0, "[]")})) is None
    assert local_host(load(), runner).name == "aio1"
