"""nova and neutron (ML2/OVN on OVS's userspace datapath) on the shared deployment: the compute
node registered as a netdev chassis, the cloud ready to use, and one server (the test guest built
from Debian packages) booted, reached from the host over TCP and ICMP through a floating IP,
kept by a rebuild of the compute container, and cleaned up on delete. One server at a time: TCG
takes a core. Skipped when the deployment is not on the compute profile."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import subprocess
import time
import urllib.request

import pytest

from osa_aio import guest_image
from osa_aio.roles import cloud, compute, neutron, nova, ovn_northd
from osa_aio.transport import LxcAttachRunner
from tests.checkouts import sdist_checkout
from tests.integration.conftest import VIP, deployed_counts, openstack, verify_rows

SERVER = "osa-aio-test-vm"
BIG = 1 << 20


def computes(aio) -> list[str]:
    hostvars = aio.inventory()["_meta"]["hostvars"]
    return sorted(n for n in aio.containers() if hostvars[n]["container_type"] == compute.CONTAINER_TYPE)


@pytest.fixture(scope="module", autouse=True)
def compute_profile(aio):
    if compute.CONTAINER_TYPE not in deployed_counts(aio):
        pytest.skip("the deployment is not on the compute profile (`osa-aio bootstrap --profile compute`)")


def os_json(utility, *args) -> dict | list:
    return json.loads(openstack(utility, *args, "-f", "json").stdout)


def default_group(utility) -> str:
    """The admin project's default security group (each project has its own `default`)."""
    groups = os_json(utility, "security", "group", "list", "--project", "admin")
    return next(g["ID"] for g in groups if g["Name"] == "default")


def key_file(aio) -> str:
    return str(aio.config_dir / cloud.KEY_FILE)


def ssh(aio, address: str, command: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(["ssh", "-i", key_file(aio), "-o", "StrictHostKeyChecking=no", "-o",
                           "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
                           f"root@{address}", command], capture_output=True, text=True, timeout=timeout)


def _checksum(data: bytes) -> int:
    data = data.ljust(len(data) + len(data) % 2, b"\0")
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def ping(address: str, timeout: float = 2.0) -> bool:
    """One ICMP echo from the host (a raw socket: the host has no ping command)."""
    ident, payload = os.getpid() & 0xFFFF, b"osa-aio"
    packet = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + payload
    packet = struct.pack("!BBHHH", 8, 0, _checksum(packet), ident, 1) + payload
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, (address, 0))
        try:
            while time.monotonic() < deadline:
                data, peer = sock.recvfrom(2048)
                kind, _, _, got, _ = struct.unpack("!BBHHH", data[20:28])
                if peer[0] == address and kind == 0 and got == ident:
                    return True
        except socket.timeout:
            return False
    return False


def http(url: str, data: bytes | None = None, timeout: float = 10) -> bytes:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def wait(probe, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds:.0f}s")
        time.sleep(2)


@pytest.fixture(scope="module")
def server(aio):
    """The test guest booted on `private` with the osa-aio keypair and a floating IP from `public`;
    deleted (with its floating IP) at the end of the module."""
    utility = LxcAttachRunner(next(n for n in aio.containers() if "-utility-" in n))
    openstack(utility, "server", "delete", "--wait", SERVER, check=False)  # a leftover of an interrupted run
    started = time.monotonic()
    created = os_json(utility, "server", "create", "--image", guest_image.GUEST, "--flavor", cloud.FLAVOR["name"],
                      "--network", cloud.PRIVATE, "--key-name", cloud.KEYPAIR, "--wait", SERVER)
    active = time.monotonic() - started
    fip = os_json(utility, "floating", "ip", "create", cloud.PUBLIC)["floating_ip_address"]
    openstack(utility, "server", "add", "floating", "ip", SERVER, fip)
    print(f"\nserver {SERVER}: ACTIVE after {active:.1f}s, floating IP {fip}")
    yield {"id": created["id"], "fip": fip, "utility": utility}
    openstack(utility, "server", "delete", "--wait", SERVER, check=False)
    openstack(utility, "floating", "ip", "delete", fip, check=False)


def test_the_compute_node_is_a_netdev_chassis_with_tso(aio):
    names = computes(aio)
    assert len(names) == deployed_counts(aio)[compute.CONTAINER_TYPE]
    northd = next(n for n in aio.containers() if aio.inventory()["_meta"]["hostvars"][n]["container_type"]
                  == ovn_northd.CONTAINER_TYPE)
    chassis = json.loads(LxcAttachRunner(northd).run(["ovn-sbctl", "--format=json", "--columns=name,hostname,"
                                                      "other_config", "list", "Chassis"]).stdout)["data"]
    by_name = {row[0]: (row[1], dict(row[2][1])) for row in chassis}
    for name in names:
        runner = LxcAttachRunner(name)
        assert by_name[name][0] == name and by_name[name][1]["datapath-type"] == "netdev"
        for bridge in ("br-int", compute.BRIDGE):
            assert runner.run(["ovs-vsctl", "get", "Bridge", bridge, "datapath_type"]).stdout.strip() == "netdev"
        assert runner.run(["ovs-vsctl", "get", "Open_vSwitch", ".", "other_config:userspace-tso-enable"]
                          ).stdout.strip().strip('"') == "true"
        assert runner.run(["cat", "/etc/openvswitch/system-id.conf"]).stdout.strip() == name


def test_the_cloud_is_ready_to_use(aio, utility):
    networks = {n["Name"]: n for n in os_json(utility, "network", "list", "--long")}
    assert networks[cloud.PUBLIC]["Router Type"] in (True, "External") and cloud.PRIVATE in networks
    router = os_json(utility, "router", "show", cloud.ROUTER)
    assert router["external_gateway_info"]["network_id"] == networks[cloud.PUBLIC]["ID"]
    rules = os_json(utility, "security", "group", "rule", "list", default_group(utility), "--ingress", "--ethertype",
                    "IPv4")
    assert {(r["IP Protocol"], r["Port Range"]) for r in rules} >= {("icmp", ""), ("tcp", "22:22")}
    flavor = os_json(utility, "flavor", "show", cloud.FLAVOR["name"])
    assert (flavor["ram"], flavor["vcpus"], flavor["disk"]) == (256, 1, 1)
    keypair = os_json(utility, "keypair", "show", cloud.KEYPAIR)
    public = (aio.config_dir / cloud.KEY_FILE).with_suffix(".pub").read_text().split()
    local = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", key_file(aio) + ".pub"], capture_output=True,
                           text=True, check=True).stdout.split()[1].removeprefix("MD5:")
    assert keypair["fingerprint"] == local and public[0] == "ssh-ed25519"
    images = {i["Name"]: i for i in os_json(utility, "image", "list", "--long", "--property",
                                              f"{guest_image.RECIPE_PROPERTY}={guest_image.recipe_digest()}")}
    assert set(images) == {guest_image.GUEST, guest_image.KERNEL, guest_image.RAMDISK}
    assert {i["Status"] for i in images.values()} == {"active"}


def test_a_server_boots_takes_its_dhcp_lease_and_reads_its_metadata(server):
    utility = server["utility"]
    port = os_json(utility, "port", "list", "--server", server["id"])[0]
    fixed = port["Fixed IP Addresses"][0]["ip_address"]
    log = wait(lambda: (lambda text: text if "GUEST-MARKER: ready" in text else None)(
        openstack(utility, "console", "log", "show", SERVER).stdout), 120, "the guest's ready marker")
    assert f"GUEST: dhcp lease {fixed} " in log
    assert f"GUEST: metadata hostname={SERVER}" in log and "key=ssh-ed25519" in log


def test_the_server_answers_ssh_and_ping_on_its_floating_ip(aio, server):
    found = wait(lambda: (lambda r: r if r.returncode == 0 else None)(ssh(aio, server["fip"], "hostname")), 90,
                 "SSH on the floating IP")
    assert found.stdout.strip().split(".")[0] == SERVER
    assert wait(lambda: ping(server["fip"]), 30, "ping of the floating IP")


def test_a_port_without_a_rule_is_refused_and_a_rule_opens_it_for_1_mb_each_way(server):
    utility, url = server["utility"], f"http://{server['fip']}"
    with pytest.raises(OSError):  # no rule for port 80: dropped, the connection times out
        http(f"{url}/", timeout=5)
    rule = os_json(utility, "security", "group", "rule", "create", default_group(utility), "--ingress", "--protocol", "tcp",
                   "--dst-port", "80", "--remote-ip", "0.0.0.0/0")["id"]
    try:
        down = wait(lambda: _try(lambda: http(f"{url}/big.bin", timeout=20)), 30, "port 80 after the rule")
        assert len(down) == BIG
        assert hashlib.sha256(down).hexdigest() == http(f"{url}/big.bin.sha256").decode().strip()
        body = os.urandom(BIG)
        answer = http(f"{url}/cgi-bin/up", data=body, timeout=30).decode()
        assert f"received={BIG} sha256={hashlib.sha256(body).hexdigest()}" in answer
    finally:
        openstack(utility, "security", "group", "rule", "delete", rule)
    assert wait(lambda: _refused(f"{url}/"), 30, "port 80 closed again after the rule went")


def test_the_server_reaches_the_internal_vip_through_the_routers_snat(aio, server):
    result = ssh(aio, server["fip"], f"timeout 10 wget -q -O - http://{VIP}:5000/v3")
    assert result.returncode == 0 and '"version"' in result.stdout, result.stderr


def test_a_rebuild_of_the_compute_container_keeps_the_server(aio, server):
    name = computes(aio)[0]
    boot_id = "cat /proc/sys/kernel/random/boot_id"
    before = ssh(aio, server["fip"], boot_id).stdout.strip()
    assert before
    aio.osa("rebuild", name, "--yes")
    status = wait(lambda: (lambda s: s if s == "ACTIVE" else None)(
        os_json(server["utility"], "server", "show", SERVER)["status"]), 120, "the server ACTIVE again")
    assert status == "ACTIVE"
    found = wait(lambda: (lambda r: r if r.returncode == 0 else None)(ssh(aio, server["fip"], boot_id)), 180,
                 "SSH on the same floating IP after the rebuild")
    assert found.stdout.strip() not in ("", before)  # the same server, booted again by nova-compute


def test_deleting_the_server_removes_its_port_tap_and_flows(aio, server):
    utility = server["utility"]
    port = os_json(utility, "port", "list", "--server", server["id"])[0]
    tap = f"tap{port['ID'][:11]}"
    runner = LxcAttachRunner(computes(aio)[0])
    assert runner.run(["ip", "link", "show", tap], check=False).rc == 0
    openstack(utility, "server", "delete", "--wait", SERVER)
    assert os_json(utility, "port", "list", "--device-id", server["id"]) == []
    wait(lambda: runner.run(["ip", "link", "show", tap], check=False).rc != 0, 30, f"{tap} gone")
    assert tap not in runner.run(["ovs-vsctl", "list-ports", "br-int"]).stdout.split()
    mac = port["MAC Address"]
    assert mac not in runner.run(["ovs-ofctl", "dump-flows", "br-int"]).stdout


def _try(call):
    try:
        return call()
    except OSError:
        return None


def _refused(url: str) -> bool:
    try:
        http(url, timeout=5)
    except OSError:
        return True
    return False


def versions_updated() -> set[str]:
    """The `updated` stamps of nova's versions document through the VIP."""
    with urllib.request.urlopen(f"http://{VIP}:8774/", timeout=10) as response:
        return {v["updated"] for v in json.loads(response.read())["versions"]}


def nova_module(runner) -> str:
    """Where the compute node's nova venv imports nova from."""
    return runner.run([f"{compute.NOVA_VENV}/bin/python3", "-c", "import nova; print(nova.__file__)"]).stdout.strip()


def test_dev_nova_runs_the_api_and_the_compute_node_on_the_checkout_then_off(aio, tmp_path_factory):
    checkout = sdist_checkout("nova", nova.SPEC.version, tmp_path_factory.mktemp("nova-src"))
    versions = checkout / "nova" / "api" / "openstack" / "compute" / "versions.py"
    marker = "2026-12-03T00:00:00Z"
    versions.write_text(versions.read_text().replace('"updated": "2013-07-23T11:33:21Z"', f'"updated": "{marker}"'))
    runner = LxcAttachRunner(computes(aio)[0])
    started = time.monotonic()
    aio.osa("dev", "nova", "--source", str(checkout))
    swap = time.monotonic() - started
    assert marker in versions_updated()
    assert nova_module(runner).startswith("/opt/dev/nova/")  # nova-compute's code is the checkout's too
    assert runner.run(["systemctl", "is-active", "nova-compute"]).stdout.strip() == "active"
    started = time.monotonic()
    aio.osa("dev", "nova", "--off")
    off = time.monotonic() - started
    assert marker not in versions_updated()
    assert "/opt/dev/" not in nova_module(runner)
    assert f"All {verify_rows(aio.inventory())} checks passed." in aio.osa("verify").stdout
    print(f"\ndev nova: swap {swap:.1f}s, --off {off:.1f}s")


def neutron_root() -> dict:
    """neutron's versions document through the VIP."""
    with urllib.request.urlopen(f"http://{VIP}:9696/", timeout=10) as response:
        return json.loads(response.read())


def neutron_module(runner) -> str:
    """Where the compute node's neutron venv imports neutron from."""
    return runner.run([f"{compute.NEUTRON_VENV}/bin/python3", "-c", "import neutron; print(neutron.__file__)"],
                      log_output=False).stdout.strip().splitlines()[-1]


def test_dev_neutron_runs_the_server_and_the_ovn_agent_on_the_checkout_then_off(aio, utility, tmp_path_factory):
    checkout = sdist_checkout("neutron", neutron.SPEC.version, tmp_path_factory.mktemp("neutron-src"))
    root = checkout / "neutron" / "pecan_wsgi" / "controllers" / "root.py"
    root.write_text(root.read_text().replace("return {'versions': versions}",
                                             "return {'versions': versions, 'osa_aio_dev': 1}"))
    runner = LxcAttachRunner(computes(aio)[0])
    started = time.monotonic()
    aio.osa("dev", "neutron", "--source", str(checkout))
    swap = time.monotonic() - started
    assert neutron_root().get("osa_aio_dev") == 1
    assert neutron_module(runner).startswith("/opt/dev/neutron/")  # the OVN agent's code is the checkout's too
    assert runner.run(["systemctl", "is-active", "neutron-ovn-agent"]).stdout.strip() == "active"
    started = time.monotonic()
    aio.osa("dev", "neutron", "--off")
    off = time.monotonic() - started
    assert "osa_aio_dev" not in neutron_root()
    assert "/opt/dev/" not in neutron_module(runner)
    agents = json.loads(openstack(utility, "network", "agent", "list", "-f", "json").stdout)
    assert agents and all(agent["Alive"] in (True, "True", ":-)") for agent in agents), agents
    assert f"All {verify_rows(aio.inventory())} checks passed." in aio.osa("verify").stdout
    print(f"\ndev neutron: swap {swap:.1f}s, --off {off:.1f}s")
