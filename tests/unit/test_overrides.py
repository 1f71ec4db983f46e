import pytest
from rich.console import Console

from osa_aio import overrides
from osa_aio.deploy import _check_overrides
from osa_aio.engine import Engine
from osa_aio.errors import ConfigError
from osa_aio.ini import parse
from osa_aio.inventory.generate import build_inventory
from osa_aio.roles import ROLES, galera, keystone, rabbitmq
from osa_aio.roles.context import Context
from osa_aio.roles.openstack import node_steps
from osa_aio.secrets import Secret
from osa_aio.steps import FileContent
from tests.conftest import edit_yaml

FILES = overrides.catalogue(ROLES.values())


def context(load):
    config = load()
    config = type(config)(**{**config.__dict__, "secrets": {k: Secret(f"s-{k}") for k in config.secrets}})
    return Context(config, build_inventory(config, None)[0], Engine(console=Console(file=open("/dev/null", "w"))))


def keystone_conf(ctx, name):
    steps = node_steps(ctx, keystone.SPEC, name)
    return parse(next(s.content for s in steps if isinstance(s, FileContent) and s.path.endswith("keystone.conf")))


def test_variable_names_follow_osa():
    assert overrides.variable("keystone", "keystone.conf") == "keystone_keystone_conf_overrides"
    assert overrides.variable("galera", "my.cnf") == "galera_my_cnf_overrides"
    assert {"keystone", "glance", "placement", "galera", "rabbitmq"} <= set(FILES)
    assert set(FILES["glance"]) == {"glance-api.conf", "glance-api-uwsgi.ini"}
    assert overrides.variable("glance", "glance-api-uwsgi.ini") == "glance_glance_api_uwsgi_ini_overrides"


def test_user_variables_then_service_folder_then_container_folder(load, config_dir):
    edit_yaml(config_dir / "user_variables.yml", lambda d: d.update(
        keystone_keystone_conf_overrides={"DEFAULT": {"debug": True}, "token": {"expiration": 7200}}))
    ctx = context(load)
    first, second = ctx.members(keystone.GROUP)
    folder = config_dir / "config" / "keystone"
    (folder / first.replace("-container-", "_container-").replace("aio1-", "aio1_")).mkdir(parents=True)
    (folder / "keystone.conf").write_text("[token]\nexpiration = 1800\n[oslo_policy]\nenforce_scope = false\n")
    (folder / first.replace("-container-", "_container-").replace("aio1-", "aio1_") / "keystone.conf").write_text(
        "# only the first\n[token]\nexpiration = 900\n")
    _check_overrides(ctx.config, ctx.inventory)
    one, two = keystone_conf(ctx, first), keystone_conf(ctx, second)
    assert one["DEFAULT"]["debug"] == "true" and two["DEFAULT"]["debug"] == "true"
    assert one["token"]["expiration"] == "900" and two["token"]["expiration"] == "1800"
    assert one["oslo_policy"] == {"enforce_scope": "false"} and one["token"]["provider"] == "fernet"


def test_null_removes_a_key_and_sectionless_files_take_keys(load, config_dir):
    edit_yaml(config_dir / "user_variables.yml", lambda d: d.update(
        keystone_keystone_conf_overrides={"token": {"provider": None}},
        rabbitmq_rabbitmq_conf_overrides={"vm_memory_high_watermark.relative": 0.5}))
    ctx = context(load)
    assert "provider" not in keystone_conf(ctx, ctx.members(keystone.GROUP)[0])["token"]
    name = ctx.members(rabbitmq.GROUP)[0]
    text = ctx.config_file(rabbitmq.NAME, rabbitmq.CONFIG_FILES, "rabbitmq.conf", name, "a = 1\n")
    assert text == "a = 1\nvm_memory_high_watermark.relative = 0.5\n"


@pytest.mark.parametrize("setup, message", [
    (lambda d: edit_yaml(d / "user_variables.yml", lambda v: v.update({"no-such-service_x_conf_overrides": {"a": {"b": 1}}})),
     "user_variables.yml: no-such-service_x_conf_overrides: no service file takes these overrides"),
    (lambda d: edit_yaml(d / "user_variables.yml", lambda v: v.update(keystone_keystone_conf_overrides=["x"])),
     "keystone_keystone_conf_overrides: must be a mapping of sections to keys"),
    (lambda d: edit_yaml(d / "user_variables.yml", lambda v: v.update(keystone_keystone_conf_overrides={"t": 1})),
     "keystone_keystone_conf_overrides.t: must be a mapping of keys to values"),
    (lambda d: (d / "config" / "no-such-service").mkdir(parents=True), "config/no-such-service: 'no-such-service' is not a service with config files"),
    (lambda d: ((d / "config" / "keystone").mkdir(parents=True), (d / "config" / "keystone" / "k.conf").write_text("")),
     "config/keystone/k.conf: keystone has no config file 'k.conf'"),
    (lambda d: (d / "config" / "keystone" / "aio1-galera-container-x").mkdir(parents=True),
     "'aio1-galera-container-x' is not a keystone container"),
    (lambda d: ((d / "config" / "galera").mkdir(parents=True), (d / "config" / "galera" / "my.cnf").write_text("a = 1\n")),
     "config/galera/my.cnf: 'a' is outside any [section]"),
    (lambda d: ((d / "config" / "keystone").mkdir(parents=True),
                (d / "config" / "keystone" / "keystone.conf").write_text("[token]\nthis is not ini\n")),
     "config/keystone/keystone.conf: not INI: Source contains parsing errors"),
])
def test_overrides_naming_unknown_things_are_errors_that_name_them(load, config_dir, setup, message):
    setup(config_dir)
    ctx = context(load)
    with pytest.raises(ConfigError) as caught:
        _check_overrides(ctx.config, ctx.inventory)
    assert message in str(caught.value)


def test_galera_override(load, config_dir):
    edit_yaml(config_dir / "user_variables.yml", lambda d: d.update(galera_my_cnf_overrides={"mysqld": {"max_connections": 900}}))
    ctx = context(load)
    members = ctx.members(galera.GROUP)
    conf = next(s.content for s in galera.node_steps(ctx, members[0], members) if getattr(s, "path", "").endswith("60-galera.cnf"))
    assert parse(conf)["mysqld"]["max_connections"] == "900"
