import pytest

from osa_aio.bootstrap import ProfileChosen, _check_profile_fits_inventory
from osa_aio.config import load_config
from osa_aio.errors import ConfigError
from osa_aio.haproxy import render_haproxy_cfg
from osa_aio.inventory.generate import build_inventory
from osa_aio.inventory.query import containers
from osa_aio.preflight import Budget, check_resources
from osa_aio.roles import ROLES, haproxy_services
from osa_aio.yamlio import load_yaml
from tests.conftest import HOST_ADDRESS, edit_yaml


def counts(config):
    inventory = build_inventory(config, None)[0]
    found = {}
    for row in containers(inventory):
        found[row.container_type] = found.get(row.container_type, 0) + 1
    return inventory, found


def test_profiles_set_how_many_containers_of_each_type(config_dir):
    _, default = counts(load_config(config_dir, host_address=HOST_ADDRESS))
    assert default["galera_container"] == 3 and default["keystone_container"] == 2
    minimal = load_config(config_dir, host_address=HOST_ADDRESS, profile="minimal")
    assert minimal.profile == "minimal"
    assert set(counts(minimal)[1].values()) == {1}
    assert len(counts(minimal)[1]) == len([role for role in ROLES.values() if role.profiles.get("minimal")])
    infra_inventory, infra = counts(load_config(config_dir, host_address=HOST_ADDRESS, profile="infra"))
    assert "keystone_container" not in infra and infra["galera_container"] == 3
    text = render_haproxy_cfg(infra_inventory, list(haproxy_services()), "172.29.236.101", "192.0.2.2")
    assert "keystone_front" not in text and "galera_front" in text


def test_the_profile_in_user_variables_applies_and_an_unknown_one_is_named(config_dir):
    edit_yaml(config_dir / "user_variables.yml", lambda d: d.update(osa_aio_profile="minimal"))
    assert load_config(config_dir, host_address=HOST_ADDRESS).profile == "minimal"
    edit_yaml(config_dir / "user_variables.yml", lambda d: d.update(osa_aio_profile="huge"))
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir, host_address=HOST_ADDRESS)
    assert str(caught.value).startswith(f"{config_dir / 'user_variables.yml'}: osa_aio_profile: unknown profile "
                                        "'huge'; profiles: infra, identity, minimal")
    with pytest.raises(ConfigError, match="^--profile: unknown profile 'tiny'"):
        load_config(config_dir, host_address=HOST_ADDRESS, profile="tiny")


def test_bootstrap_keeps_the_profile_in_user_variables(config_dir):
    path = config_dir / "user_variables.yml"
    path.write_text("# my settings\n{}\n")
    step = ProfileChosen(config_dir, "minimal")
    assert step.check() == "is not set"
    step.apply()
    assert path.read_text() == "# my settings\nosa_aio_profile: minimal\n" and step.check() is None
    ProfileChosen(config_dir, "infra").apply()
    assert load_yaml(path) == {"osa_aio_profile": "infra"}


def test_a_profile_smaller_than_the_saved_inventory_is_refused(config_dir):
    saved, _ = counts(load_config(config_dir, host_address=HOST_ADDRESS))
    minimal = load_config(config_dir, host_address=HOST_ADDRESS, profile="minimal")
    with pytest.raises(ConfigError, match="profile 'minimal' asks for 1 galera_container on aio1, the saved inventory holds 3"):
        _check_profile_fits_inventory(minimal, build_inventory(minimal, saved)[0])


def test_preflight_names_the_profile_the_host_cannot_hold(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 4000000 kB\nMemAvailable: 3000000 kB\n")
    problems = check_resources(Budget(6528, 1), meminfo=meminfo, disk_path=tmp_path, profile="identity")
    assert problems == ["not enough memory for profile 'identity': the containers need 6528 MB, 2929 MB is "
                        "available; free memory or choose a smaller profile (`osa-aio profiles`)"]
    assert check_resources(Budget(2900, 1), meminfo=meminfo, disk_path=tmp_path, profile="minimal") == []
