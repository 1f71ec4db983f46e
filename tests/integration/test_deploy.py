"""bootstrap + run on real LXC: every container of the default profile up with the inventory's addresses, reaching each
other and Debian's mirror; a second bootstrap and run change nothing."""

import json
import re
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import lxc

from osa_aio.transport import LxcAttachRunner
from tests.integration.conftest import deployed_counts, deployed_total, shipped_secrets


def test_every_container_runs_with_the_inventory_addresses(aio):
    expected = aio.containers()
    assert Counter(aio.inventory()["_meta"]["hostvars"][n]["container_type"] for n in expected) == deployed_counts(aio)
    rows = {row["name"]: row for row in json.loads(aio.osa("list", "--json").stdout)}
    assert set(rows) == set(expected)
    hostvars = aio.inventory()["_meta"]["hostvars"]
    for name, address in expected.items():
        assert rows[name]["state"] == "RUNNING", name
        # The management address, and one on each other network its type is bound to (glance: storage).
        wanted = {net["address"] for net in hostvars[name]["container_networks"].values() if net.get("address")}
        assert address in wanted and set(rows[name]["addresses"]) == wanted, name
        assert rows[name]["autostart"] is True


def test_every_container_has_its_mac_and_a_port_on_br_mgmt(aio):
    hostvars = aio.inventory()["_meta"]["hostvars"]
    ports = json.loads(subprocess.run(["ip", "-j", "link", "show", "master", "br-mgmt"],
                                      capture_output=True, text=True, check=True).stdout)
    assert len(ports) == deployed_total(aio)
    for name in aio.containers():
        container = lxc.Container(name)
        net = hostvars[name]["container_networks"]["management_address"]
        assert container.get_config_item("lxc.net.0.hwaddr") == net["mac"]
        assert container.get_config_item("lxc.net.0.link") == "br-mgmt"
        config = open(f"/var/lib/lxc/{name}/config").read()
        # A copy-on-write clone of its type's image (packages installed once per type).
        assert "\nlxc.rootfs.path = overlay:/var/lib/lxc/osa-aio-img-" in config
        assert container.get_config_item("lxc.group") == ["onboot", "openstack"]
        link = LxcAttachRunner(name).run(["cat", "/sys/class/net/eth1/address"]).stdout.strip()
        assert link == net["mac"]


def test_from_each_container_the_others_answer(aio):
    addresses = aio.containers()
    for name in addresses:
        others = " ".join(a for n, a in addresses.items() if n != name)
        script = f"for ip in {others}; do ping -c1 -W2 -q $ip >/dev/null || echo unreachable $ip; done"
        result = LxcAttachRunner(name).run(["sh", "-c", script])
        assert result.stdout == "", f"{name}: {result.stdout}"


def test_hostnames_hosts_file_and_bind_mounts(aio):
    addresses = aio.containers()
    name = sorted(addresses)[0]
    runner = LxcAttachRunner(name)
    assert runner.run(["hostname"]).stdout.strip() == name
    other = sorted(addresses)[-1]
    assert runner.run(["getent", "hosts", other]).stdout.split()[0] == addresses[other]
    runner.run(["sh", "-c", "echo kept > /openstack/marker"])
    assert open(f"/openstack/{name}/marker").read() == "kept\n"
    mounts = runner.run(["findmnt", "-n", "-o", "TARGET", "/var/log"]).stdout.strip()
    assert mounts == "/var/log"
    assert runner.run(["systemctl", "is-system-running", "--wait"], check=False).stdout.strip() in ("running", "degraded")


def test_apt_get_update_works_in_every_container(aio):
    """Every container reaches Debian's mirror through the host's NAT (all at once: it is the network
    that is tested, not apt)."""
    def update(name: str) -> str:
        result = LxcAttachRunner(name).run(["apt-get", "update"], check=False, timeout=300)
        return "ok" if result.rc == 0 and "Reading package lists" in result.stdout else result.stdout[-300:]

    names = sorted(aio.containers())
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcome = dict(zip(names, pool.map(update, names)))
    assert len(outcome) == deployed_total(aio) and set(outcome.values()) == {"ok"}, outcome


def test_galera_starts_first(aio):
    orders = {name: int(lxc.Container(name).get_config_item("lxc.start.order")) for name in aio.containers()}
    galera = max(o for n, o in orders.items() if "-galera-" in n)
    assert all(o > galera for n, o in orders.items() if "-galera-" not in n)


def test_bootstrap_installed_config_and_secrets_without_printing_them(aio):
    secrets = aio.config_dir / "user_secrets.yml"
    assert oct(secrets.stat().st_mode & 0o777) == "0o600"
    values = [line.split(":", 1)[1].strip() for line in secrets.read_text().splitlines()
              if line and not line.startswith(("#", "---"))]
    assert len(values) == len(shipped_secrets()) and all(len(v) >= 32 for v in values)
    for value in values:
        assert value not in aio.bootstrap.stdout + aio.bootstrap.stderr


def test_second_bootstrap_and_run_change_nothing(aio):
    variables = aio.config_dir / "user_variables.yml"
    variables.write_text(variables.read_text() + "# an operator's edit\n")
    before = (aio.config_dir / "openstack_inventory.json").read_text()
    boot = aio.osa("bootstrap")
    assert re.search(r"^ok=\d+ changed=0 failed=0$", boot.stdout, re.M), boot.stdout
    assert "Nothing changed" in boot.stdout
    run = aio.osa("run")
    assert re.search(r"^ok=\d+ changed=0 failed=0$", run.stdout, re.M), run.stdout
    assert "Nothing changed" in run.stdout
    assert (aio.config_dir / "openstack_inventory.json").read_text() == before
    assert variables.read_text().endswith("# an operator's edit\n")  # never overwritten


def test_check_mode_changes_nothing_and_says_so(aio):
    config = aio.config_dir / "user_variables.yml"
    before = config.read_text()
    config.write_text(before + "\nmemcached_memory_mb: 96\n")  # the profile bootstrap chose kept
    try:
        result = aio.osa("run", "--check")
        assert re.search(r"would change +\S+ +file /etc/memcached.conf: content differs", result.stderr)
        assert "(check mode: nothing was changed)" in result.stdout
        memcached = next(n for n in aio.containers() if "-memcached-" in n)
        assert "-m 128" in LxcAttachRunner(memcached).run(["cat", "/etc/memcached.conf"]).stdout
    finally:
        config.write_text(before)
    assert re.search(r"^ok=\d+ changed=0 failed=0  \(check mode", aio.osa("run", "--check").stdout, re.M)


def osa_layout(inventory: dict) -> dict:
    """The inventory as OSA's generator writes it: no container_type, MACs or components (the
    containers are known by their <type>_container group)."""
    result = {name: group for name, group in inventory.items() if name == "all" or name.endswith("_container")}
    hostvars = {}
    for name, hv in inventory["_meta"]["hostvars"].items():
        hv = {key: value for key, value in hv.items() if key not in ("container_type", "components")}
        hv["container_networks"] = {key: {k: v for k, v in net.items() if k != "mac"}
                                    for key, net in hv["container_networks"].items()}
        hostvars[name] = hv
    result["_meta"] = {"hostvars": hostvars}
    return result


def test_an_osa_inventory_of_this_deployment_is_adopted_in_place(aio):
    """Handed this deployment's inventory in OSA's layout, osa-aio finds every container where it
    is (a check-mode run changes nothing) and writes back the same inventory."""
    path = aio.config_dir / "openstack_inventory.json"
    original = path.read_text()
    path.write_text(json.dumps(osa_layout(json.loads(original)), indent=4))
    try:
        check = aio.osa("run", "--check")
        assert re.search(r"^ok=\d+ changed=0 failed=0  \(check mode", check.stdout, re.M), check.stdout[-2000:]
        adopted = aio.osa("inventory")
        assert "warning" not in adopted.stderr, adopted.stderr
        assert path.read_text() == original
    finally:
        path.write_text(original)


def test_first_run_reported_its_work(aio):
    assert re.search(r"^ok=\d+ changed=[1-9]\d* failed=0$", aio.bootstrap.stdout, re.M)
    assert re.search(r"^ok=\d+ changed=[1-9]\d* failed=0$", aio.run.stdout, re.M), aio.run.stdout
    # One row per role and container type, and the phases with their times.
    for group in ("repo", "haproxy", "galera", "rabbitmq", "memcached", "keystone", "utility",
                  "galera_container", "keystone_container"):
        assert re.search(rf"^{group} +\d+ +\d+ +0 +[\d.]+$", aio.run.stdout, re.M), group
    assert "PHASE" in aio.run.stdout and "galera + rabbitmq + memcached" in aio.run.stdout
