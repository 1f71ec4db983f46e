"""Which host is this machine and how the others are reached over SSH (issue 14), from the config."""

import pytest
import yaml

from osa_aio.config import load_config
from osa_aio.errors import ConfigError
from osa_aio.hosts import DEFAULT_KEY, KNOWN_HOSTS, SSH_DIR, host_runner, split_hosts, ssh_access


def with_second_host(config_dir, host_vars=None, name="aio2", ip="172.29.236.102"):
    """The shipped config plus a second compute host (the issue's rig)."""
    path = config_dir / "openstack_user_config.yml"
    data = yaml.safe_load(path.read_text())
    data["compute_hosts"][name] = {"ip": ip, **({"host_vars": host_vars} if host_vars else {})}
    path.write_text(yaml.safe_dump(data))
    return load_config(config_dir)


def test_the_local_host_is_the_one_with_an_address_here_else_the_shared_infra_one(config_dir):
    assert split_hosts(load_config(config_dir), set()).remote == ()  # the shipped config: one host
    config = with_second_host(config_dir)
    before_bootstrap = split_hosts(config, {"192.0.2.10"})  # aio1's br-mgmt address is not made yet
    assert (before_bootstrap.local.name, [h.name for h in before_bootstrap.remote]) == ("aio1", ["aio2"])
    on_aio2 = split_hosts(config, {"172.29.236.102", "127.0.0.1"})
    assert (on_aio2.local.name, [h.name for h in on_aio2.remote]) == ("aio2", ["aio1"])
    first = with_second_host(config_dir, name="aio0", ip="172.29.236.103")  # listed before aio1: the shared-infra host wins
    assert list(first.hosts())[0] == "aio0" and split_hosts(first, set()).local.name == "aio1"


def test_ssh_access_from_ansible_host_vars_or_osa_aio_defaults(config_dir, tmp_path):
    key = tmp_path / "rig_key"
    key.write_text("not parsed here\n")
    config = with_second_host(config_dir, {"ansible_host": "10.0.3.2", "ansible_user": "deploy",
                                           "ansible_port": 2222, "ansible_ssh_private_key_file": str(key)})
    aio2 = config.hosts()["aio2"]
    access = ssh_access(config, aio2)
    assert (access.address, access.user, access.port, access.key_file) == ("10.0.3.2", "deploy", 2222, key)
    assert access.known_hosts == config_dir / SSH_DIR / KNOWN_HOSTS
    (config_dir / SSH_DIR).mkdir()
    (config_dir / SSH_DIR / DEFAULT_KEY).write_text("osa-aio's own key\n")
    plain = with_second_host(config_dir)
    default = ssh_access(plain, plain.hosts()["aio2"])
    assert (default.address, default.user, default.port, default.key_file) == (
        "172.29.236.102", "root", 22, config_dir / SSH_DIR / DEFAULT_KEY)


@pytest.mark.parametrize("host_vars, key, message", [
    ({"ansible_port": "ssh"}, "ansible_port", "must be a port number"),
    ({"ansible_port": 70000}, "ansible_port", "must be a port number"),
    ({"ansible_user": ""}, "ansible_user", "must be a non-empty string"),
    ({"ansible_ssh_private_key_file": "/nonexistent/key"}, "ansible_ssh_private_key_file",
     "the SSH key /nonexistent/key for host aio2 does not exist"),
])
def test_a_wrong_ssh_setting_is_one_line_naming_file_and_key(config_dir, host_vars, key, message):
    config = with_second_host(config_dir, host_vars)
    with pytest.raises(ConfigError) as err:
        ssh_access(config, config.hosts()["aio2"])
    text = str(err.value)
    assert text.startswith(f"{config_dir}/openstack_user_config.yml: compute_hosts.aio2.host_vars.{key}: ")
    assert message in text and "\n" not in text


def test_a_remote_hosts_runner_logs_in_as_configured_and_checks_its_key(config_dir, tmp_path):
    key = tmp_path / "rig_key"
    key.write_text("not parsed here\n")
    config = with_second_host(config_dir, {"ansible_port": 2222, "ansible_ssh_private_key_file": str(key)})
    runner = host_runner(ssh_access(config, config.hosts()["aio2"]))
    assert (runner.name, runner.key_filename) == ("root@172.29.236.102:2222", str(key))
    assert runner.known_hosts == config_dir / SSH_DIR / KNOWN_HOSTS
