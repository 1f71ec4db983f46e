import pytest

from osa_aio.errors import ConfigError
from osa_aio.knobs import check_knobs
from osa_aio.roles import ROLES
from tests.conftest import edit_yaml


def test_a_misspelt_knob_is_named_with_its_likely_spelling(load, config_dir):
    path = config_dir / "user_variables.yml"
    edit_yaml(path, lambda d: d.update(keystone_token_expiraton=7200, keystone_debug=True, osa_aio_profile="aio",
                                       galera_my_cnf_overrides={}, some_osa_variable=1))
    warnings = check_knobs(load(), ROLES.values())
    assert warnings == [f"{path}: keystone_token_expiraton: not a setting of keystone, ignored; "
                        "did you mean keystone_token_expiration?"]


def test_knobs_are_type_checked_against_their_defaults(load, config_dir):
    path = config_dir / "user_variables.yml"
    for key, value, wanted in (("keystone_debug", "yes", "true or false"), ("keystone_processes", True, "a whole number"),
                               ("galera_buffer_pool_size", 256, "a string"), ("glance_processes", "2", "a whole number")):
        edit_yaml(path, lambda d: (d.clear(), d.update({key: value})))
        with pytest.raises(ConfigError) as caught:
            check_knobs(load(), ROLES.values())
        assert str(caught.value).startswith(f"{path}: {key}: must be {wanted}, not {value!r}")
    edit_yaml(path, lambda d: (d.clear(), d.update(keystone_processes=4, memcached_memory_mb=64)))
    assert check_knobs(load(), ROLES.values()) == []


def test_the_shipped_user_variables_are_comments_that_a_line_can_be_appended_to(load, config_dir):
    path = config_dir / "user_variables.yml"
    assert load().user_variables == {}
    with path.open("a") as f:
        f.write("keystone_debug: true\n")
    assert load().user_variables == {"keystone_debug": True}
    # Every knob of every role is there as a commented example with its default.
    text = path.read_text()
    for role in ROLES.values():
        for key, value in role.defaults.items():
            assert f"# {role.name}_{key}: " in text, f"{role.name}_{key}"


def test_inventory_check_warns_and_strict_refuses_a_misspelt_knob(config_dir):
    from click.testing import CliRunner

    from osa_aio.cli import cli

    with (config_dir / "user_variables.yml").open("a") as f:
        f.write("keystone_token_expiraton: 7200\n")
    result = CliRunner().invoke(cli, ["inventory", "--check", "--config-dir", str(config_dir)])
    assert result.exit_code == 0 and "did you mean keystone_token_expiration?" in result.stderr
    strict = CliRunner().invoke(cli, ["inventory", "--check", "--strict", "--config-dir", str(config_dir)])
    assert strict.exit_code == 2 and "1 warning(s) with --strict" in strict.stderr
