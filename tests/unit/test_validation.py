"""Every validation error: one line naming the file and key, exit code 2, saved inventory untouched."""

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from osa_aio.cli import cli
from osa_aio.config import project_path
from osa_aio.inventory.store import BACKUP_DIR, inventory_path
from tests.conftest import default_total, edit_yaml, user_config

# The shipped user config: an appended used_ips entry gets the next index.
SHIPPED = yaml.safe_load((project_path("user_config") / "openstack_user_config.yml").read_text())
SHIPPED_USED_IPS = len(SHIPPED["used_ips"])


def set_key(*path, value):
    def change(data):
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value
    return change


def delete_key(*path):
    def change(data):
        for key in path[:-1]:
            data = data[key]
        del data[path[-1]]
    return change


def management_network(change):
    return lambda d: change(d["global_overrides"]["provider_networks"][0]["network"])


def network_option(**values):
    """An edit setting keys of the management provider network."""
    return lambda config_dir: edit_yaml(user_config(config_dir),
                                        management_network(lambda network: network.update(**values)))


def text_edit(name, text):
    def apply(config_dir: Path):
        path = config_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return apply


def uc_edit(change):
    return lambda config_dir: edit_yaml(user_config(config_dir), change)


UC = "openstack_user_config.yml"

CASES = {
    "yaml syntax": (text_edit(UC, "cidr_networks:\n  management: [172.29.236.0/22\nused_ips: []\n"),
                    [f"{UC}:3", "YAML syntax error"]),
    "yaml syntax in conf.d": (text_edit("conf.d/extra.yml", "identity_hosts:\n  aio1: {ip: 1.2.3.4\n"),
                              ["conf.d/extra.yml:3", "YAML syntax error"]),
    "missing cidr_networks": (uc_edit(delete_key("cidr_networks")), [UC, "cidr_networks: missing"]),
    "missing global_overrides": (uc_edit(delete_key("global_overrides")), [UC, "global_overrides: missing"]),
    "missing provider_networks": (uc_edit(delete_key("global_overrides", "provider_networks")),
                                  [UC, "global_overrides.provider_networks: missing"]),
    "no management network": (uc_edit(management_network(lambda n: n.pop("is_management_address"))),
                               [UC, "global_overrides.provider_networks", "management network"]),
    "management cidr missing": (uc_edit(delete_key("cidr_networks", "management")),
                                [UC, "provider_networks[0].network.ip_from_q", "unknown network 'management'"]),
    "unknown ip_from_q": (uc_edit(lambda d: d["global_overrides"]["provider_networks"][1]["network"]
                                  .update(ip_from_q="tunel")),
                          [UC, "provider_networks[1].network.ip_from_q", "'tunel'", ", ".join(sorted(SHIPPED["cidr_networks"]))]),
    "cidr does not parse": (uc_edit(set_key("cidr_networks", "tunnel", value="172.29.240.0/33")),
                            [UC, "cidr_networks.tunnel", "is not a CIDR"]),
    "cidr not a cidr": (uc_edit(set_key("cidr_networks", "storage", value="storage-net")),
                        [UC, "cidr_networks.storage", "is not a CIDR"]),
    "overlapping cidrs": (uc_edit(set_key("cidr_networks", "storage", value="172.29.240.0/21")),
                          [UC, "cidr_networks.storage", "overlaps cidr_networks.tunnel"]),
    "used_ips does not parse": (uc_edit(lambda d: d["used_ips"].append("172.29.236.300")),
                                [UC, f"used_ips[{SHIPPED_USED_IPS}]", "does not parse"]),
    "used_ips three parts": (uc_edit(lambda d: d["used_ips"].append("172.29.236.1,172.29.236.2,172.29.236.3")),
                             [UC, f"used_ips[{SHIPPED_USED_IPS}]", "does not parse"]),
    "used_ips reversed": (uc_edit(lambda d: d["used_ips"].append("172.29.236.90,172.29.236.80")),
                          [UC, f"used_ips[{SHIPPED_USED_IPS}]", "reversed", "'172.29.236.80,172.29.236.90'"]),
    "pool too small": (uc_edit(set_key("identity_hosts", "aio1", "affinity", "keystone_container", value=1100)),
                       [UC, "cidr_networks.management", f"1098 new containers need an address, {970 - default_total()} are free"]),
    "one ip on two hosts": (uc_edit(lambda d: d["identity_hosts"].update(aio2={"ip": "172.29.236.100"})),
                            [UC, "identity_hosts.aio2.ip", "also the address of host aio1"]),
    "one host two ips": (uc_edit(lambda d: d["identity_hosts"]["aio1"].update(ip="172.29.236.99")),
                         [UC, "identity_hosts.aio1.ip", "has 172.29.236.99 here but 172.29.236.100"]),
    "unknown host group": (uc_edit(lambda d: d.update(identiy_hosts={"aio1": {"ip": "172.29.236.100"}})),
                           [UC, "identiy_hosts", "not defined by env.d"]),
    "unknown top-level key": (uc_edit(lambda d: d.update(cidr_network={})), [UC, "cidr_network", "unknown"]),
    "host without ip": (uc_edit(set_key("repo_infra_hosts", "aio1", value={"management_ip": "172.29.236.100"})),
                        [UC, "repo_infra_hosts.aio1.ip", "missing"]),
    "envd unknown top-level key": (text_edit("env.d/extra.yml", "container_skell: {}\n"),
                                   ["env.d/extra.yml", "container_skell", "unknown top-level key"]),
    "envd unknown group": (text_edit("env.d/extra.yml",
                                     "container_skel:\n  x_container:\n    belongs_to: [nope_containers]\n"
                                     "    contains: [keystone]\n"),
                           ["env.d/extra.yml", "container_skel.x_container.belongs_to", "'nope_containers'"]),
    "affinity negative": (uc_edit(set_key("identity_hosts", "aio1", "affinity", "keystone_container", value=-1)),
                          [UC, "identity_hosts.aio1.affinity.keystone_container", "non-negative integer"]),
    "affinity text": (uc_edit(set_key("identity_hosts", "aio1", "affinity", "keystone_container", value="two")),
                      [UC, "identity_hosts.aio1.affinity.keystone_container", "not 'two'"]),
    "affinity float": (uc_edit(set_key("identity_hosts", "aio1", "affinity", "keystone_container", value=1.5)),
                       [UC, "identity_hosts.aio1.affinity.keystone_container", "non-negative integer"]),
    "affinity bool": (uc_edit(set_key("identity_hosts", "aio1", "affinity", "keystone_container", value=True)),
                      [UC, "identity_hosts.aio1.affinity.keystone_container", "non-negative integer"]),
    "affinity unknown type": (uc_edit(set_key("identity_hosts", "aio1", "affinity", value={"keystone_containers": 2})),
                              [UC, "identity_hosts.aio1.affinity", "unknown container type 'keystone_containers'"]),
    "bad vip": (uc_edit(set_key("global_overrides", "internal_lb_vip_address", value="172.29.236")),
                [UC, "global_overrides.internal_lb_vip_address", "not an IP address"]),
    "secrets not a mapping": (text_edit("user_secrets.yml", "- a\n- b\n"), ["user_secrets.yml", "mapping"]),
    # OSA's keys osa-aio does not support yet: refused by name, never dropped silently.
    "no_containers everywhere": (uc_edit(set_key("global_overrides", "no_containers", value=True)),
                                 [UC, "global_overrides.no_containers", "not supported by osa-aio yet"]),
    "no_containers on a host": (uc_edit(set_key("identity_hosts", "aio1", "no_containers", value=True)),
                                [UC, "identity_hosts.aio1.no_containers", "not supported by osa-aio yet"]),
    "static_routes": (uc_edit(management_network(lambda n: n.update(
        static_routes=[{"cidr": "10.176.0.0/12", "gateway": "172.29.236.1"}]))),
        [UC, "provider_networks[0].network.static_routes", "not supported by osa-aio yet"]),
    "openvswitch bridge": (network_option(container_bridge_type="openvswitch"),
                           [UC, "provider_networks[0].network.container_bridge_type", "not supported yet"]),
    "unknown network key": (network_option(ip_from_queue="management"),
                            [UC, "provider_networks[0].network", "unknown key 'ip_from_queue'"]),
    "gateway outside its network": (network_option(gateway="172.29.240.1"),
                                    [UC, "provider_networks[0].network.gateway", "outside cidr_networks.management"]),
    "gateway not an address": (network_option(gateway="router"),
                               [UC, "provider_networks[0].network.gateway", "not an IP address"]),
    "reference_group unknown": (network_option(reference_group="az9_hosts"),
                                [UC, "provider_networks[0].network.reference_group", "'az9_hosts'"]),
    "address_prefix not a name": (network_option(address_prefix="my net"),
                                  [UC, "provider_networks[0].network.address_prefix", "variable name"]),
    "vip name with a bad label": (uc_edit(set_key("global_overrides", "internal_lb_vip_address", value="-vip.example")),
                                  [UC, "global_overrides.internal_lb_vip_address", "not an IP address"]),
    "two spellings of one host": (uc_edit(lambda d: d["identity_hosts"].update(aio_1={"ip": "172.29.236.99"},
                                                                                **{"aio-1": {"ip": "172.29.236.98"}})),
                                  [UC, "identity_hosts.aio-1", "same names"]),
}


@pytest.fixture
def deployed(config_dir):
    """A config dir with a saved inventory, to prove errors leave it untouched."""
    result = CliRunner().invoke(cli, ["inventory", "--config-dir", str(config_dir)])
    assert result.exit_code == 0, result.output
    return config_dir


def snapshot(config_dir):
    backups = config_dir / BACKUP_DIR
    return inventory_path(config_dir).read_bytes(), sorted(backups.iterdir()) if backups.exists() else []


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_is_one_line_exit_2_and_inventory_untouched(deployed, case):
    apply, expected = CASES[case]
    before = snapshot(deployed)
    apply(deployed)
    for args in (["inventory"], ["inventory", "--json"], ["inventory", "--check"]):
        result = CliRunner().invoke(cli, [*args, "--config-dir", str(deployed)])
        assert result.exit_code == 2, (case, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        for text in expected:
            assert text in lines[0], (text, lines[0])
        assert result.stdout == ""
    assert snapshot(deployed) == before


def test_used_ips_outside_every_network_warns_and_strict_refuses(deployed):
    before = snapshot(deployed)
    edit_yaml(user_config(deployed), lambda d: d["used_ips"].append("10.9.9.9"))
    result = CliRunner().invoke(cli, ["inventory", "--check", "--config-dir", str(deployed)])
    assert result.exit_code == 0
    assert "warning:" in result.stderr and f"used_ips[{SHIPPED_USED_IPS}]" in result.stderr and "outside every" in result.stderr
    strict = CliRunner().invoke(cli, ["inventory", "--strict", "--config-dir", str(deployed)])
    assert strict.exit_code == 2 and "error:" in strict.stderr
    assert snapshot(deployed) == before


def test_missing_config_dir(tmp_path):
    result = CliRunner().invoke(cli, ["inventory", "--config-dir", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: {tmp_path / 'nope'}: the config dir does not exist; run "
                                     "`osa-aio bootstrap` to install the defaults, or pass --config-dir / set "
                                     "OSA_AIO_CONFIG_DIR")
