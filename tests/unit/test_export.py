import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from osa_aio.inventory.export import LXC_CONNECTION, ansible_inventory
from osa_aio.inventory.generate import build_inventory
from osa_aio.inventory.query import group_members
from tests.conftest import default_total


@pytest.fixture
def inventory(load):
    return build_inventory(load(), None)[0]


def test_ansible_export_keeps_groups_and_says_how_to_reach_each_host(inventory):
    exported = ansible_inventory(inventory, local_hosts={"aio1"})
    groups = {k: v for k, v in exported.items() if k != "_meta"}
    assert set(groups) == {k for k, v in inventory.items() if k != "_meta" and isinstance(v, dict)}
    assert all(set(group) <= {"hosts", "children", "vars"} for group in groups.values())
    assert group_members(exported, "galera_all") == group_members(inventory, "galera_all")
    hostvars = exported["_meta"]["hostvars"]
    galera = sorted(group_members(inventory, "galera_all"))[0]
    assert hostvars[galera]["ansible_connection"] == LXC_CONNECTION
    assert hostvars[galera]["ansible_lxc_host"] == galera
    assert hostvars[galera]["ansible_host"] == inventory["_meta"]["hostvars"][galera]["management_address"]
    assert hostvars["aio1"]["ansible_connection"] == "local"
    assert ansible_inventory(inventory, local_hosts=set())["_meta"]["hostvars"]["aio1"]["ansible_connection"] == "ssh"
    assert "ansible_connection" not in inventory["_meta"]["hostvars"][galera]  # the inventory is not changed


def test_ansible_inventory_reads_the_export(config_dir, tmp_path):
    """The export as an inventory script (Ansible runs it with --list): ansible-inventory reads
    every group and host, with the connection variables."""
    script = tmp_path / "osa-aio-inventory"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -m osa_aio --config-dir {config_dir} "
                      f"inventory --export ansible \"$@\"\n")
    script.chmod(0o755)
    ansible = Path(sys.executable).parent / "ansible-inventory"
    result = subprocess.run([str(ansible), "--list", "-i", str(script)], capture_output=True, text=True,
                            env={**os.environ, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
                                 "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp")}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "malformed" not in result.stderr, result.stderr
    seen = json.loads(result.stdout)
    ours = json.loads((config_dir / "openstack_inventory.json").read_text())
    for group in ("galera_all", "keystone_all", "rabbitmq_all", "memcached_all", "utility_all", "repo_all"):
        assert group_members(seen, group) == group_members(ours, group), group
    containers = [n for n, hv in ours["_meta"]["hostvars"].items() if hv.get("container_type")]
    assert len(containers) == default_total()
    for name in containers:
        hostvars = seen["_meta"]["hostvars"][name]
        assert hostvars["ansible_connection"] == LXC_CONNECTION and hostvars["ansible_lxc_host"] == name
