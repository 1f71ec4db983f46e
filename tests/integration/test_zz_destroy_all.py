"""Last: `destroy --all --yes` leaves the host as it was before bootstrap (runs after the others)."""

import json
import subprocess
from pathlib import Path

import lxc

from osa_aio.haproxy import SERVER_STATE_FILE
from osa_aio.config import load_config
from osa_aio.host import INOTIFY_INSTANCES, read_host_state


def test_destroy_all_puts_the_host_back(aio):
    state = read_host_state()
    assert state is not None
    out = aio.osa("destroy", "--all", "--yes")
    assert "removed bridge br-mgmt" in out.stdout
    links = {link["ifname"] for link in json.loads(subprocess.run(["ip", "-j", "link"], capture_output=True,
                                                                  text=True, check=True).stdout)}
    made = {network.bridge for network in load_config(aio.config_dir, host_address="127.0.0.1").provider_networks}
    assert {"br-mgmt", "br-vxlan", "br-storage", "br-vlan"} <= made
    assert not links & made
    assert not [n for n in lxc.list_containers() if n.startswith("aio1-")]
    for table in ("nat", "filter"):
        rules = subprocess.run(["iptables", "-w", "-t", table, "-S"], capture_output=True, text=True, check=True).stdout
        assert "OSA-AIO" not in rules
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == state["ip_forward"]
    instances = Path("/proc/sys/" + INOTIFY_INSTANCES.replace(".", "/")).read_text().strip()
    assert instances == str(state["inotify_instances"])
    for path in ("/openstack", "/etc/sysctl.d/60-osa-aio.conf", "/var/lib/osa-aio", SERVER_STATE_FILE):
        assert not Path(path).exists(), path
    assert (aio.config_dir / "openstack_inventory.json").exists()  # the config dir is kept
    # Again: nothing left to do, and still exit 0.
    assert aio.osa("destroy", "--all", "--yes").returncode == 0
