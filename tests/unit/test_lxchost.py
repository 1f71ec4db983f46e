"""lxchost's pure parts: a container's LXC config with osa-aio's keys set, and lxc-ls's table."""

from osa_aio.containers import OWNED_KEYS
import pytest

from osa_aio.errors import HostError
from osa_aio.lxchost import LXC_PATH, config_with, parse_lxc_ls, remove_tree
from tests.fakes import FakeRunner

CLONE = """# Written by osa-aio
lxc.include = /usr/share/lxc/config/common.conf
lxc.cgroup2.devices.allow = c 10:200 rwm
lxc.rootfs.path = overlayfs:/var/lib/lxc/base/rootfs:/var/lib/lxc/c1/overlay/delta
lxc.uts.name = c1
lxc.apparmor.profile = generated
lxc.net.0.type = empty
"""


def test_owned_keys_give_way_and_the_image_keys_stay():
    items = [("lxc.uts.name", "c1"), ("lxc.net.0.type", "veth"), ("lxc.net.0.link", "br-mgmt"),
             ("lxc.mount.entry", "/openstack/c1 openstack none bind,create=dir 0 0"),
             ("lxc.mount.entry", "/openstack/log/c1 var/log none bind,create=dir 0 0"),
             ("lxc.apparmor.profile", "unconfined"), ("lxc.group", "onboot"), ("lxc.group", "openstack")]
    text = config_with(CLONE, items, OWNED_KEYS)
    lines = text.splitlines()
    assert "lxc.net.0.type = empty" not in lines and "lxc.apparmor.profile = generated" not in lines
    assert lines.count("lxc.uts.name = c1") == 1
    for kept in ("# Written by osa-aio", "lxc.include = /usr/share/lxc/config/common.conf",
                 "lxc.cgroup2.devices.allow = c 10:200 rwm"):
        assert kept in lines
    assert [line for line in lines if line.startswith("lxc.mount.entry")] == [f"{k} = {v}" for k, v in items[3:5]]
    # Idempotent: configuring the configured file again gives the same file.
    assert config_with(text, items, OWNED_KEYS) == text


def test_a_changed_spec_leaves_no_stale_network_or_mount():
    first = config_with(CLONE, [("lxc.net.0.type", "veth"), ("lxc.net.1.type", "veth"),
                                ("lxc.mount.entry", "/src x none bind 0 0")], OWNED_KEYS)
    second = config_with(first, [("lxc.net.0.type", "veth")], OWNED_KEYS)
    assert "lxc.net.1.type" not in second and "lxc.mount.entry" not in second


def test_lxc_ls_rows():
    text = ("NAME                      STATE   AUTOSTART IPV4\n"
            "aio1-galera-container-1  RUNNING 1         172.29.236.10, 172.29.244.10\n"
            "aio1-repo-container-2    STOPPED 1         -\n"
            "osa-aio-base-1234-1      STOPPED 0         -\n")
    assert parse_lxc_ls(text) == {
        "aio1-galera-container-1": ("RUNNING", True, ("172.29.236.10", "172.29.244.10")),
        "aio1-repo-container-2": ("STOPPED", True, ()),
        "osa-aio-base-1234-1": ("STOPPED", False, ()),
    }
    assert parse_lxc_ls("") == {}


def test_remove_tree_takes_a_container_folder_never_a_top_one():
    runner = FakeRunner({("rm",): (0, "")})
    for path in (LXC_PATH / "aio1-galera-container-1", "/openstack/aio1-x", "/openstack/log/aio1-x",
                 "/var/lib/osa-aio/snapshots/aio1-x", LXC_PATH / ".osa-aio-base-1.building"):
        remove_tree(path, runner)
    assert len(runner.calls) == 5
    for path in (LXC_PATH / "", "/openstack", "/openstack/log/", "/var/lib/osa-aio/snapshots", "/", "/var"):
        with pytest.raises(HostError, match="refusing"):
            remove_tree(path, runner)
