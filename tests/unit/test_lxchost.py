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


def effective(text: str, key: str) -> list[str]:
    """What liblxc makes of a key: every value of a list key, the last one of a single-valued key."""
    return [line.split("=", 1)[1].strip() for line in text.splitlines()
            if "=" in line and not line.startswith("#") and line.split("=", 1)[0].strip() == key]


def test_the_spec_is_set_as_liblxc_would_and_again_gives_the_same_file():
    items = [("lxc.uts.name", "c1"), ("lxc.net.0.type", "veth"), ("lxc.net.0.link", "br-mgmt"),
             ("lxc.mount.entry", "/openstack/c1 openstack none bind,create=dir 0 0"),
             ("lxc.mount.entry", "/openstack/log/c1 var/log none bind,create=dir 0 0"),
             ("lxc.apparmor.profile", "unconfined"), ("lxc.cgroup2.devices.allow", "c 10:229 rwm"),
             ("lxc.group", "onboot"), ("lxc.group", "openstack")]
    text = config_with(CLONE, items, OWNED_KEYS)
    assert effective(text, "lxc.net.0.type") == ["veth"]  # the image's `empty` network is gone
    assert effective(text, "lxc.apparmor.profile")[-1] == "unconfined" and effective(text, "lxc.uts.name")[-1] == "c1"
    # A list key keeps the image's values and gains the spec's (set_config_item appends).
    assert effective(text, "lxc.cgroup2.devices.allow") == ["c 10:200 rwm", "c 10:229 rwm"]
    assert effective(text, "lxc.mount.entry") == [value for key, value in items if key == "lxc.mount.entry"]
    assert "lxc.include = /usr/share/lxc/config/common.conf" in text.splitlines()
    # Idempotent: configuring the configured file again gives the same file.
    assert config_with(text, items, OWNED_KEYS) == text


def test_a_changed_spec_leaves_no_stale_network_mount_or_key():
    first = config_with(CLONE, [("lxc.net.0.type", "veth"), ("lxc.net.1.type", "veth"), ("lxc.start.order", "10"),
                                ("lxc.mount.entry", "/src x none bind 0 0")], OWNED_KEYS)
    second = config_with(first, [("lxc.net.0.type", "veth")], OWNED_KEYS)
    assert "lxc.net.1.type" not in second and "lxc.mount.entry" not in second and "lxc.start.order" not in second


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
    for path in (LXC_PATH / "", "/openstack", "/openstack/log/", "/var/lib/osa-aio/snapshots", "/", "/var",
                 "/openstack/../etc"):
        with pytest.raises(HostError, match="refusing"):
            remove_tree(path, runner)
