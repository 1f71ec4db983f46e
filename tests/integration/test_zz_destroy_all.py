"""Last: `destroy --all --yes` leaves the host as it was before bootstrap (runs after the others)."""

import json
import subprocess
from pathlib import Path

import lxc

from osa_aio.haproxy import SERVER_STATE_FILE
from osa_aio.host import read_host_state


def test_destroy_all_puts_the_host_back(aio):
    state = read_host_state()
    assert state is not None
    out = aio.osa("destroy", "--all", "--yes")
    assert "removed bridge br-mgmt" in out.stdout
    links = {link["ifname"] for link in json.loads(subprocess.run(["ip", "-j", "link"], capture_output=True,
                                                                  text=True, check=True).stdout)}
    assert not links & {"br-mgmt", "br-vxlan", "br-storage"}
    assert not [n for n in lxc.list_containers() if n.startswith("aio1-")]
    for table in ("nat", "filter"):
        rules = subprocess.run(["iptables", "-w", "-t", table, "-S"], capture_output=True, text=True, check=True).stdout
        assert "OSA-AIO" not in rules
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == state["ip_forward"]
    for path in ("/openstack", "/etc/sysctl.d/60-osa-aio.conf", "/var/lib/osa-aio", SERVER_STATE_FILE):
        assert not Path(path).exists(), path
    assert (aio.config_dir / "openstack_inventory.json").exists()  # the config dir is kept
    # Again: nothing left to do, and still exit 0.
    assert aio.osa("destroy", "--all", "--yes").returncode == 0
