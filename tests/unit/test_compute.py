"""nova, neutron, OVN and the compute node as pure decisions: their containers' LXC config, the
chassis settings and when ovs-vswitchd must restart, the cell URLs, the public subnet, the guest
recipe, the profile bootstrap grows to, and what each role's wheels and secrets need."""

import json

import pytest

from osa_aio import bootstrap, guest_image, profiles
from osa_aio.config import load_config
from osa_aio.containers import container_spec, lxc_config_items
from osa_aio.errors import ConfigError
from osa_aio.inventory.generate import build_inventory
from osa_aio.roles import ROLES, compute, nova, ovn_northd, wheel_sets
from osa_aio.roles.cloud import POOL_SIZE, public_subnet
from tests.conftest import HOST_ADDRESS, edit_yaml, user_config
from tests.fakes import FakeRunner


@pytest.fixture
def everything(config_dir):
    config = load_config(config_dir, host_address=HOST_ADDRESS, profile=profiles.LARGEST)
    return config, build_inventory(config, None)[0]


def members(inventory, container_type):
    return sorted(n for n, hv in inventory["_meta"]["hostvars"].items() if hv.get("container_type") == container_type)


def test_the_compute_container_gets_tun_no_apparmor_no_kvm_and_a_gso_capped_uplink(everything):
    _, inventory = everything
    name = members(inventory, compute.CONTAINER_TYPE)[0]
    spec = container_spec(inventory, name)
    items = lxc_config_items(spec)
    assert ("lxc.mount.entry", "/dev/net/tun dev/net/tun none bind,create=file 0 0") in items
    assert ("lxc.apparmor.profile", "unconfined") in items
    assert not any("kvm" in value or "10:232" in value for _, value in items)  # no KVM on these hosts
    index = next(key.split(".")[2] for key, value in items if key.endswith(".name") and value == compute.PROVIDER_INTERFACE)
    assert (f"lxc.net.{index}.link", "br-vlan") in items and not any(k == f"lxc.net.{index}.ipv4.address"
                                                                       for k, _ in items)
    assert (f"lxc.net.{index}.script.up", str(spec.net_up_script(compute.PROVIDER_INTERFACE))) in items
    assert "gso_max_size 1500" in dict(spec.net_up)[compute.PROVIDER_INTERFACE]
    # Other types keep the config they had: no hook, no extra keys, the same digest as before.
    keystone = container_spec(inventory, members(inventory, "keystone_container")[0])
    assert not keystone.net_up and not keystone.lxc_config


def test_tso_goes_in_before_the_first_vswitchd_start_and_a_change_restarts_a_running_one():
    def ovs(tso, vswitchd):
        row = {"data": [[["map", [["system-id", "c1"]]], ["map", [["userspace-tso-enable", tso]] if tso else []]]]}
        return FakeRunner({("ovs-vsctl", "--format=json"): (0, json.dumps(row)),
                           ("ovs-vsctl", "--no-wait", "set"): (0, ""),
                           ("systemctl", "is-active", "ovs-vswitchd"): (3 if vswitchd != "active" else 0, vswitchd),
                           ("sh", "-c"): (0, "")})
    first = ovs("", "inactive")
    step = compute.ChassisConfigured(first, {"system-id": "c1"})
    assert step.check() == "userspace-tso-enable is unset"
    step.apply()
    assert not any("pending" in " ".join(call) for call in first.calls)  # its first start reads it
    running = ovs("false", "active")
    compute.ChassisConfigured(running, {"system-id": "c1"}).apply()
    assert any("ovs-vswitchd" in call and "touch" in " ".join(call) for call in running.calls)
    assert compute.ChassisConfigured(ovs("true", "active"), {"system-id": "c1"}).check() is None
    assert compute.ChassisConfigured(ovs("true", "active"), {"system-id": "c2"}).check() == "system-id differ"


def test_ovsdb_listens_with_the_port_first():
    step = ovn_northd._listening(FakeRunner(), "ovn-nbctl", "172.29.236.63", ovn_northd.NB_PORT)
    assert "ptcp:6641:172.29.236.63" in step.argv and "ptcp:6641:172.29.236.63" in " ".join(step.unless)
    assert compute.OVSDB_LISTEN == "ptcp:6640:127.0.0.1" and compute.OVSDB == "tcp:127.0.0.1:6640"


def test_cell_mappings_hold_templates_not_passwords():
    assert nova.cell_transport(3) == ("{scheme}://{username1}:{password1}@{hostname1}:{port1},"
                                      "{username2}:{password2}@{hostname2}:{port2},"
                                      "{username3}:{password3}@{hostname3}:{port3}/{path}")
    assert "password}" in nova.CELL_DATABASE and "nova_cell0" in nova.CELL0_DATABASE
    mapped = ("map_cell0", "--database_connection", nova.CELL0_DATABASE)
    assert any(argv[2:] == mapped for argv in nova.SPEC.db_sync)


def test_sudoers_let_the_services_reach_their_venvs_rootwrap_first():
    text = compute.sudoers("nova", "/openstack/venvs/nova", ("nova-rootwrap", "privsep-helper"))
    assert 'Defaults:nova secure_path="/openstack/venvs/nova/bin:' in text
    assert "nova ALL = (root) NOPASSWD: /openstack/venvs/nova/bin/nova-rootwrap\n" in text
    assert "exec_dirs = /openstack/venvs/neutron/bin," in compute.rootwrap("neutron", "/openstack/venvs/neutron")


def test_the_public_subnet_comes_from_the_flat_network_with_the_host_as_gateway(everything, config_dir):
    config, _ = everything
    subnet = public_subnet(config)
    assert subnet["cidr"] == "172.29.248.0/22" and subnet["gateway_ip"] == "172.29.248.100"
    assert subnet["allocation_pools"] == [{"start": "172.29.248.101", "end": f"172.29.248.{100 + POOL_SIZE}"}]
    assert subnet["enable_dhcp"] is False
    edit_yaml(user_config(config_dir), lambda d: d["used_ips"].append("172.29.248.150"))
    with pytest.raises(ConfigError, match="outside used_ips"):
        public_subnet(load_config(config_dir, host_address=HOST_ADDRESS, profile=profiles.LARGEST))


def test_the_guest_recipe_digest_is_stable_and_follows_its_files(tmp_path, monkeypatch):
    first = guest_image.recipe_digest()
    assert first == guest_image.recipe_digest() and len(first) == 16
    for name in guest_image.FILES:
        (tmp_path / name).write_bytes((guest_image.SOURCE / name).read_bytes())
    monkeypatch.setattr(guest_image, "SOURCE", tmp_path)
    assert guest_image.recipe_digest() == first
    (tmp_path / "init").write_text((tmp_path / "init").read_text() + "\n# changed\n")
    assert guest_image.recipe_digest() != first
    # The guest takes the metadata route from DHCP option 121, and loads virtio's transport.
    script = (guest_image.SOURCE / "udhcpc.script").read_text()
    assert "staticroutes" in script
    assert "virtio_pci" in (guest_image.SOURCE / "build.sh").read_text()


def test_a_fresh_bootstrap_grows_to_the_largest_profile_only_where_it_fits(tmp_path, monkeypatch):
    from osa_aio.config import project_path
    from osa_aio.engine import Engine

    fresh = tmp_path / "config"
    monkeypatch.setattr(bootstrap, "check_resources", lambda need, **kw: [])
    assert bootstrap._grown_default(fresh, project_path("user_config"), HOST_ADDRESS, Engine()) == profiles.LARGEST
    monkeypatch.setattr(bootstrap, "check_resources", lambda need, **kw: ["not enough memory for profile 'compute'"])
    engine = Engine()
    assert bootstrap._grown_default(fresh, project_path("user_config"), HOST_ADDRESS, engine) == profiles.DEFAULT


def test_a_chosen_profile_or_a_deployment_is_never_grown(config_dir, monkeypatch):
    from osa_aio.engine import Engine

    monkeypatch.setattr(bootstrap, "check_resources", lambda need, **kw: [])
    edit_yaml(config_dir / "user_variables.yml", lambda d: d.update(osa_aio_profile="minimal"))
    assert bootstrap._grown_default(config_dir, config_dir, HOST_ADDRESS, Engine()) is None


def test_wheels_are_built_only_for_the_types_deployed():
    everything = wheel_sets()
    aio_types = {role.container_type for role in ROLES.values() if role.profiles.get(profiles.DEFAULT)}
    some = wheel_sets(aio_types)
    assert "nova" in everything and "neutron" in everything
    assert "nova" not in some and "neutron" not in some and "keystone" in some and "tools" in some
    assert "pyroute2" in ROLES["neutron"].python_packages and "pyroute2" in ROLES["nova"].python_packages
