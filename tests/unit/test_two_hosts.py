"""A second host in the config (conf.d, as an operator adds one): where its containers go, what
runs on it and what stays on this machine, how its bridges join this machine's, what its preflight
says. Fakes stand in for the hosts' commands; the integration test (test_zx_two_hosts) does it for real."""

import json

import pytest
from rich.console import Console

from osa_aio.config import load_config
from osa_aio.engine import Engine
from osa_aio.host import VxlanJoined, bridge_joins, join_problems, network_plan, vxlan_device, vxlan_id
from osa_aio.hosts import Fleet, Host
from osa_aio.inventory.generate import build_inventory
from osa_aio.preflight import check_remote
from osa_aio.roles import compute, neutron, nova
from osa_aio.roles.context import Context
from osa_aio.roles.openstack import venv_siblings
from osa_aio.transport import LxcCommandRunner
from tests.conftest import HOST_ADDRESS
from tests.fakes import FakeRunner

AIO2 = "compute_hosts:\n  aio2:\n    ip: 172.29.236.20\n    host_vars:\n      ansible_host: 172.31.250.2\n"


@pytest.fixture
def config(config_dir):
    (config_dir / "conf.d").mkdir(exist_ok=True)
    (config_dir / "conf.d" / "aio2.yml").write_text(AIO2)
    return load_config(config_dir, host_address=HOST_ADDRESS, profile="compute")


def context(config, remote_runner=None) -> Context:
    inventory, _ = build_inventory(config, None)
    fleet = Fleet({"aio1": Host("aio1", FakeRunner(name="aio1")),
                   "aio2": Host("aio2", remote_runner or FakeRunner(name="aio2"), remote=True,
                                address="172.31.250.2")})
    return Context(config, inventory, Engine(console=Console(file=open("/dev/null", "w"))), fleet=fleet)


def test_a_compute_host_gets_its_compute_container_and_tenant_networks_become_vlans(config):
    ctx = context(config)
    computes = ctx.members(compute.GROUP)
    assert sorted(ctx.host_of(name).name for name in computes) == ["aio1", "aio2"]
    there = next(name for name in computes if ctx.host_of(name).remote)
    assert isinstance(ctx.runner(there), LxcCommandRunner) and ctx.runner(there).name == there
    # Only the compute container is on aio2: the rest stays on this machine.
    assert [name for name in ctx.members("all_containers") if ctx.host_of(name).remote] == [there]
    assert neutron.tenant_network_types(ctx) == "vlan,geneve"
    # Its venvs are built there (a copy from a sibling goes through this machine's folders).
    assert venv_siblings(ctx, nova.SPEC, there) is None
    assert venv_siblings(ctx, nova.SPEC, next(n for n in computes if n != there)) is not None


def test_one_compute_host_keeps_geneve(config_dir):
    config = load_config(config_dir, host_address=HOST_ADDRESS, profile="compute")
    inventory, _ = build_inventory(config, None)
    ctx = Context(config, inventory, Engine(console=Console(file=open("/dev/null", "w"))))
    assert neutron.tenant_network_types(ctx) == "geneve"


def test_the_vips_stay_on_this_machine_and_the_bridges_are_joined_both_ways(config):
    hosts = config.hosts()
    vips = {config.internal_vip, config.external_vip}
    here = {address for plan in network_plan(config, hosts["aio1"]) for address, _ in plan.addresses}
    there = {address for plan in network_plan(config, hosts["aio2"], vips=False) for address, _ in plan.addresses}
    assert config.internal_vip in here and not vips & there and "172.29.236.20" in there

    def routes(source, mtu):
        return {("ip", "-j", "route", "get"): (0, json.dumps([{"dev": "eth0", "prefsrc": source}])),
                ("ip", "-j", "link", "show"): (0, json.dumps([{"mtu": mtu}]))}

    fleet = Fleet({"aio1": Host("aio1", FakeRunner(routes("172.31.250.1", 1550))),
                   "aio2": Host("aio2", FakeRunner(routes("172.31.250.2", 1550)), remote=True,
                                address="172.31.250.2")})
    joins = bridge_joins(config, fleet)
    bridges = {network.bridge for network in config.provider_networks}
    for name, local, peer in (("aio1", "172.31.250.1", "172.31.250.2"), ("aio2", "172.31.250.2", "172.31.250.1")):
        assert {join.bridge for join in joins[name]} == bridges
        assert all((join.local, join.peers, join.mtu) == (local, (peer,), 1500) for join in joins[name])
    assert len({vxlan_id(bridge) for bridge in bridges}) == len(bridges)
    assert all(len(vxlan_device(bridge)) <= 15 for bridge in (*bridges, "br-a-very-long-name"))
    # Each side asks its own routes for the way to the other.
    assert ["ip", "-j", "route", "get", "172.31.250.2"] in fleet.hosts["aio1"].runner.calls
    assert ["ip", "-j", "route", "get", "172.31.250.1"] in fleet.hosts["aio2"].runner.calls
    assert join_problems(config, joins) == []
    # One host: nothing to join.
    assert bridge_joins(config, Fleet({"aio1": Host("aio1", FakeRunner())})) == {}


def test_a_link_too_narrow_for_vxlan_is_said_unless_the_containers_use_less(config_dir, config):
    ports = {name: [VxlanJoined(FakeRunner(), network.bridge, "a", ("b",), 1450)
                    for network in config.provider_networks] for name in ("aio1", "aio2")}
    problems = join_problems(config, ports)
    assert [p.split(":")[0] for p in problems] == ["host aio1", "host aio2"]
    assert "carries 1500 bytes" in problems[0] and "needs 1550" in problems[0] and "container_mtu: 1450" in problems[0]
    text = (config_dir / "openstack_user_config.yml").read_text()
    (config_dir / "openstack_user_config.yml").write_text(
        text.replace("container_type: veth\n", "container_type: veth\n        container_mtu: 1450\n"))
    narrower = load_config(config_dir, host_address=HOST_ADDRESS, profile="compute")
    assert join_problems(narrower, ports) == []


def test_a_vxlan_port_with_a_stale_peer_is_put_right():
    link = {"ifname": "vx-br-mgmt", "master": "br-mgmt", "flags": ["UP"], "mtu": 1500,
            "linkinfo": {"info_kind": "vxlan", "info_data": {"id": vxlan_id("br-mgmt"), "local": "10.0.0.1",
                                                             "port": 4789}}}
    fdb = [{"mac": "00:00:00:00:00:00", "dst": "10.0.0.9"}]
    runner = FakeRunner({("ip", "-j", "-d", "link"): (0, json.dumps([link])),
                         ("bridge", "-j", "fdb"): (0, json.dumps(fdb))}, default=(0, ""))
    join = VxlanJoined(runner, "br-mgmt", "10.0.0.1", ("10.0.0.2",), 1500)
    assert join.check() == "peers 10.0.0.9"
    join.apply()
    assert ["bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vx-br-mgmt", "dst", "10.0.0.2"] in runner.calls
    assert ["bridge", "fdb", "del", "00:00:00:00:00:00", "dev", "vx-br-mgmt", "dst", "10.0.0.9"] in runner.calls
    assert not [call for call in runner.calls if call[:3] == ["ip", "link", "add"]]  # the same tunnel: kept


FACTS = ("uid=0\nmissing_namespaces=\ncgroups=1\nmissing_commands={missing}\nlxc_config=1\n"
         "memory_available_mb={memory}\ndisk_free_mb=50000\n")


@pytest.mark.parametrize("missing,memory,expected", [
    ("", 99999, []),
    (" lxc-start mmdebstrap", 99999, ["host aio2: the command lxc-start is missing",
                                      "host aio2: the command mmdebstrap is missing"]),
    ("", 10, ["host aio2: not enough memory for profile 'compute': the containers need"]),
])
def test_a_remote_preflight_names_the_host_and_the_check(config, missing, memory, expected):
    runner = FakeRunner({("sh", "-c"): (0, FACTS.format(missing=missing, memory=memory)),
                         ("cat",): (1, ""), ("ip", "-j", "addr"): (0, "[]"), ("ip", "-j", "-4", "route"): (0, "[]")})
    inventory, _ = build_inventory(config, None)
    problems = check_remote(config, inventory, config.hosts()["aio2"], runner)
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected):
        assert problem.startswith(start), problem


def test_an_unreachable_host_is_one_line_naming_it(config):
    class Unreachable:
        name = "root@172.31.250.3:22"

        def run(self, *args, **kwargs):
            from osa_aio.errors import HostError
            raise HostError("SSH connection refused", file=self.name, hint="check that sshd runs there")

    inventory, _ = build_inventory(config, None)
    assert check_remote(config, inventory, config.hosts()["aio2"], Unreachable()) == [
        "host aio2: root@172.31.250.3:22: SSH connection refused; check that sshd runs there"]


def test_a_host_name_is_a_target_for_its_containers(config):
    from osa_aio.inventory.query import resolve

    inventory, _ = build_inventory(config, None)
    there = resolve(inventory, "aio2")
    assert len(there) == 1 and there[0].startswith("aio2-nova-compute-container")
    assert len(resolve(inventory, "aio1")) == len(inventory["_meta"]["hostvars"]) - len(there) - len(
        [name for name, hv in inventory["_meta"]["hostvars"].items() if not hv.get("container_type")])


def test_a_remote_containers_steps_run_through_its_host_never_this_machine(config, monkeypatch):
    """Every step that makes, configures and starts aio2's container, and destroying it, goes
    through aio2's runner: this machine's runner and python-lxc are never used."""
    from osa_aio.containers import container_steps, destroy_container
    from osa_aio.image import BaseImageBuilt, TypeImageBuilt, host_recipe
    from osa_aio.transport import LocalRunner
    from osa_aio.transport import lxc as lxc_transport

    def here(*args, **kwargs):
        raise AssertionError(f"this machine was used: {args}")

    monkeypatch.setattr(LocalRunner, "run", here)
    monkeypatch.setattr(lxc_transport, "lxc_module", here)
    inventory, _ = build_inventory(config, None)
    name = next(n for n, hv in inventory["_meta"]["hostvars"].items()
                if hv.get("physical_host") == "aio2" and hv.get("container_type"))
    base = '{"name": "osa-aio-base-x-1", "digest": "d"}'
    aio2 = FakeRunner({("cat", "/var/cache/osa-aio/base-image.json"): (0, base),
                       ("cat", f"/var/lib/lxc/{name}/config"): (0, "lxc.net.0.type = empty\n"),
                       ("cat", "/etc/resolv.conf"): (0, "nameserver 192.0.2.53\n"),
                       ("lxc-info",): (0, "STOPPED"), ("lxc-attach",): (0, "absent")}, name="aio2", default=(0, ""))
    host = Host("aio2", aio2, remote=True, address="172.31.250.2")
    for step in container_steps(inventory, name, host=host):
        step.check()
        step.apply()
    assert destroy_container(name, runner=aio2)
    BaseImageBuilt(host_recipe(), runner=aio2).check()
    TypeImageBuilt(("x",), ("qemu-utils",), runner=aio2).check()
    commands = {call[0] for call in aio2.calls}
    assert {"lxc-copy", "lxc-start", "lxc-attach", "lxc-destroy", "mkdir", "rsync"} <= commands
    assert [call for call in aio2.calls if call[0] == "lxc-attach" and call[2] == name]
