"""Two hosts (issue 14), near the end: a second host made on this machine (scripts/rig.py: a
Debian host in a privileged container with systemd, sshd and LXC, reached only over SSH) joins the
shared deployment as a compute host, as an operator adds one (a conf.d file). Bad hosts are refused
first, naming the host and the check, with nothing changed on either host. Then bootstrap and run
put a compute node there, a VM on each host reaches the other over a tenant network, and
`destroy --all` leaves both hosts as they were (test_zy and test_zz deploy again on their own)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from osa_aio.config import project_path
from osa_aio.roles import cloud, compute
from osa_aio.transport import LxcAttachRunner
from tests.integration.conftest import REUSE, deployed_counts, host_state, openstack
from tests.integration.test_compute import key_file, os_json, ssh, wait

_spec = importlib.util.spec_from_file_location("osa_aio_rig", project_path("scripts") / "rig.py")
rig = sys.modules["osa_aio_rig"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rig)

AIO2 = rig.Rig("aio2", "172.31.250.2")
MANAGEMENT = "172.29.236.20"  # in the shipped used_ips: no container gets it
NET, SUBNET = "osa-aio-two-hosts", "osa-aio-two-hosts-subnet"
SERVERS = ("osa-aio-vm-aio1", "osa-aio-vm-aio2")


def conf_d(aio) -> Path:
    return aio.config_dir / "conf.d" / "aio2.yml"


def write_host(aio, **host_vars) -> None:
    conf_d(aio).parent.mkdir(exist_ok=True)
    lines = "".join(f"      {key}: {value}\n" for key, value in {"ansible_host": AIO2.address, **host_vars}.items())
    conf_d(aio).write_text(f"compute_hosts:\n  {AIO2.name}:\n    ip: {MANAGEMENT}\n    host_vars:\n{lines}")


def on_rig(aio, command: str, check: bool = True) -> str:
    """A command on the second host, by the test's own SSH (its own known_hosts: the tests change osa-aio's)."""
    known = aio.config_dir.parent / "rig_known_hosts"
    known.write_text(AIO2.host_key())
    done = subprocess.run(["ssh", "-i", key_file(aio), "-o", f"UserKnownHostsFile={known}", "-o", "BatchMode=yes",
                           "-o", "StrictHostKeyChecking=yes", f"root@{AIO2.address}", command],
                          capture_output=True, text=True, timeout=120)
    assert not check or done.returncode == 0, done.stderr
    return done.stdout


def rig_state(aio) -> str:
    """What osa-aio may change on the second host."""
    return on_rig(aio, "lxc-ls -1; ip -br link | cut -d' ' -f1; iptables-save | grep '^-' || true; "
                       "ls /var/lib/lxc /openstack /var/lib/osa-aio /etc/sysctl.d 2>&1; "
                       "cat /proc/sys/net/ipv4/ip_forward")


@pytest.fixture(scope="module")
def second_host(aio):
    if REUSE:
        pytest.skip("ends with destroy --all: not on a developer's deployment")
    if compute.CONTAINER_TYPE not in deployed_counts(aio):
        pytest.skip("the deployment is not on the compute profile")
    public_key = aio.osa("ssh-key").stdout
    seconds = rig.up(AIO2, public_key, aio.config_dir / "ssh" / "known_hosts")
    print(f"\nrig {AIO2.name}: " + ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items()))
    before = rig_state(aio)
    try:
        yield {"before": before}
    finally:
        conf_d(aio).unlink(missing_ok=True)
        rig.down(AIO2)
        links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
        assert rig.BRIDGE not in links and rig.CHAIN not in subprocess.run(
            ["iptables-save"], capture_output=True, text=True).stdout


def bootstrap_refused(aio, expected: str, **host_vars) -> None:
    """With the second host written so, bootstrap exits 2 with a line naming it and the check;
    neither host changed."""
    here, there = host_state(aio), rig_state(aio)
    write_host(aio, **host_vars)
    try:
        refused = aio.osa("bootstrap", check=False)
    finally:
        conf_d(aio).unlink()
    assert refused.returncode == 2, refused.stdout + refused.stderr
    lines = [line for line in refused.stderr.splitlines() if line.startswith(f"error: host {AIO2.name}: ")]
    assert lines and expected in lines[0], refused.stderr
    assert host_state(aio) == here and rig_state(aio) == there


def test_bad_second_hosts_are_refused_naming_the_host_with_nothing_changed(aio, second_host, tmp_path):
    bootstrap_refused(aio, "SSH connection", ansible_host="172.31.250.3")  # nothing answers there

    known = aio.config_dir / "ssh" / "known_hosts"
    saved = known.read_text()
    known.write_text("")
    try:
        bootstrap_refused(aio, f"SSH host key of {AIO2.address} is not known")
    finally:
        known.write_text(saved)

    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    bootstrap_refused(aio, "SSH authentication failed", ansible_ssh_private_key_file=str(stranger))

    on_rig(aio, "mv /usr/bin/lxc-start /usr/bin/lxc-start.away")
    try:
        bootstrap_refused(aio, "the command lxc-start is missing")
    finally:
        on_rig(aio, "mv /usr/bin/lxc-start.away /usr/bin/lxc-start")

    env_d = aio.config_dir / "env.d"
    env_d.mkdir(exist_ok=True)
    (env_d / "huge-compute.yml").write_text(
        f"container_skel:\n  {compute.CONTAINER_TYPE}:\n    properties:\n      memory_mb: 99999999\n")
    try:
        bootstrap_refused(aio, "not enough memory")
    finally:
        (env_d / "huge-compute.yml").unlink()


def test_a_second_compute_host_deploys_and_guests_on_both_hosts_reach_each_other(aio, second_host):
    write_host(aio)
    started = time.monotonic()
    aio.osa("bootstrap")
    booted = time.monotonic()
    aio.osa("run")
    deployed = time.monotonic()
    print(f"\nsecond host: bootstrap {booted - started:.1f}s, run {deployed - booted:.1f}s")
    rows = json.loads(aio.osa("list", "--json").stdout)
    there = [row for row in rows if row["host"] == AIO2.name]
    assert [row["container_type"] for row in there] == [compute.CONTAINER_TYPE]
    assert there[0]["state"] == "RUNNING"
    verify = aio.osa("verify").stdout
    assert f"host {AIO2.name}" in verify and "2 up" in verify  # its row, and two hypervisors
    hosts = {host["name"]: host for host in json.loads(aio.osa("topology", "--json").stdout)["hosts"]}
    assert hosts[AIO2.name]["remote"] and all(hosts[AIO2.name]["bridges"].values())
    # Reached like any container: attach (OpenSSH's client there) and logs (lxc-attach over SSH).
    assert aio.osa("attach", there[0]["name"], "--", "hostname").stdout.strip() == there[0]["name"]
    shown = aio.osa("logs", "compute", "--container", there[0]["name"], "-n", "5").stdout.splitlines()
    assert shown and all(there[0]["name"] in line for line in shown)
    computes = sorted(row["name"] for row in rows if row["container_type"] == compute.CONTAINER_TYPE)
    utility = LxcAttachRunner(next(n for n in aio.containers() if "-utility-" in n))
    fip = None
    try:
        # A tenant network as a developer makes one: across hosts it is a VLAN (Geneve cannot carry TCP).
        network = os_json(utility, "network", "create", NET)
        assert network["provider:network_type"] == "vlan"
        openstack(utility, "subnet", "create", "--network", NET, "--subnet-range", "10.99.0.0/24", SUBNET)
        openstack(utility, "router", "add", "subnet", cloud.ROUTER, SUBNET)
        addresses = {}
        for server, host in zip(SERVERS, computes):
            made = time.monotonic()
            created = os_json(utility, "server", "create", "--image", "osa-aio-guest", "--flavor",
                              cloud.FLAVOR["name"], "--network", NET, "--key-name", cloud.KEYPAIR,
                              "--availability-zone", f"nova:{host}", "--wait", server)
            assert created["OS-EXT-SRV-ATTR:host"] == host
            addresses[server] = created["addresses"][NET][0] if isinstance(created["addresses"], dict) else \
                created["addresses"].split("=")[1]
            print(f"server on {host}: ACTIVE after {time.monotonic() - made:.1f}s")
        fip = os_json(utility, "floating", "ip", "create", cloud.PUBLIC)["floating_ip_address"]
        openstack(utility, "server", "add", "floating", "ip", SERVERS[0], fip)
        wait(lambda: ssh(aio, fip, "true", timeout=20).returncode == 0, 120, f"SSH on {fip}")
        other = addresses[SERVERS[1]]
        probe = ssh(aio, fip, f"ping -c 3 {other} && wget -q -O /tmp/big http://{other}/big.bin && "
                              f"sha256sum /tmp/big && wget -q -O- http://{other}/big.bin.sha256", timeout=60)
        assert probe.returncode == 0, probe.stdout + probe.stderr
        digests = [words[0] for words in map(str.split, probe.stdout.splitlines()) if words and len(words[0]) == 64]
        assert len(digests) == 2 and digests[0] == digests[1], probe.stdout
    finally:
        for server in SERVERS:
            openstack(utility, "server", "delete", "--wait", server, check=False)
        if fip:
            openstack(utility, "floating", "ip", "delete", fip, check=False)
        openstack(utility, "router", "remove", "subnet", cloud.ROUTER, SUBNET, check=False)
        openstack(utility, "network", "delete", NET, check=False)


def test_destroy_all_leaves_both_hosts_as_they_were(aio, second_host):
    out = aio.osa("destroy", "--all", "--yes").stdout
    assert f"removed bridge br-mgmt on {AIO2.name}" in out and "removed bridge br-mgmt\n" in out
    gone = [line for line in out.splitlines() if line.startswith("destroyed container") and AIO2.name in line]
    assert gone and all(line.endswith(f" on {AIO2.name}") for line in gone)
    # The second host: only osa-aio's images are left (kept without --purge), like this one.
    after = rig_state(aio)
    images = [line for line in after.splitlines() if line.startswith("osa-aio-")]
    assert [line for line in after.splitlines() if line not in images] == \
        [line for line in second_host["before"].splitlines() if line not in images], after
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    assert "vx-br-" not in links and "br-mgmt" not in links
    # The shared deployment is one host again (the next tests deploy on it).
    conf_d(aio).unlink()
    for name in aio.inventory()["_meta"]["hostvars"]:
        if name.startswith(f"{AIO2.name}-"):
            aio.osa("inventory", "--remove", name)
