import json

from osa_aio.inventory.generate import build_inventory
from osa_aio.preflight import Budget, budget, check_networks, check_resources
from tests.fakes import FakeRunner


def test_budget_sums_env_d_properties_with_defaults(load):
    config = load()
    inv, _ = build_inventory(config, None)
    need = budget(config, inv)
    assert need.memory_mb > 0 and need.disk_mb > 0
    galera = config.skeleton.containers["galera_container"]["properties"]
    assert need.memory_mb >= 3 * galera["memory_mb"]


def test_resources_name_what_is_short(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 2048000 kB\nMemAvailable: 1024000 kB\n")
    problems = check_resources(Budget(memory_mb=5000, disk_mb=10**9), meminfo, tmp_path)
    assert len(problems) == 2
    assert problems[0].startswith("not enough memory: the containers need 5000 MB, 1000 MB is available")
    assert problems[1].startswith(f"not enough disk at {tmp_path}")
    assert check_resources(Budget(100, 1), meminfo, tmp_path) == []


def addrs(*entries):
    return json.dumps([{"ifname": dev, "addr_info": [{"local": a, "prefixlen": p}]} for dev, a, p in entries])


def test_network_in_use_by_another_interface_is_named(load):
    config = load()
    runner = FakeRunner({("ip", "-j", "addr"): (0, addrs(("eth0", "192.0.2.2", 24), ("eth5", "172.29.237.9", 24))),
                         ("ip", "-j", "-4", "route"): (0, "[]")})
    problems = check_networks(config, config.hosts()["aio1"], runner)
    assert len(problems) == 1
    assert "cidr_networks.management: 172.29.236.0/22 is already used by eth5 (172.29.237.9/24)" in problems[0]


def test_own_bridges_and_routes_are_fine_and_vip_elsewhere_is_not(load):
    config = load()
    ours = addrs(("eth0", "192.0.2.2", 24), ("br-mgmt", "172.29.236.100", 22), ("br-mgmt", "172.29.236.101", 32))
    routes = json.dumps([{"dst": "172.29.236.0/22", "dev": "br-mgmt"}, {"dst": "default", "dev": "eth0"}])
    runner = FakeRunner({("ip", "-j", "addr"): (0, ours), ("ip", "-j", "-4", "route"): (0, routes)})
    assert check_networks(config, config.hosts()["aio1"], runner) == []
    stolen = addrs(("eth0", "192.0.2.2", 24), ("eth7", "172.29.236.101", 32))
    runner = FakeRunner({("ip", "-j", "addr"): (0, stolen), ("ip", "-j", "-4", "route"): (0, "[]")})
    problems = check_networks(config, config.hosts()["aio1"], runner)
    assert any("internal_lb_vip_address: 172.29.236.101 is already on eth7" in p for p in problems)
