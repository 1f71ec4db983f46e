"""The roles' steps are built from the inventory alone: templates render with StrictUndefined and
carry the addresses and secrets they should (no container is touched to build them). One test
walks every role and checks the contract the rest of osa-aio relies on."""

import importlib
import re

import pytest
import yaml
from rich.console import Console

from osa_aio.config import load_config, project_path
from osa_aio.engine import Engine
from osa_aio.inventory.generate import build_inventory
from osa_aio.roles import ROLES, STAGES, haproxy_services, wheel_sets
from osa_aio.roles import galera, glance, heat, keystone, memcached, rabbitmq
from osa_aio.roles.base import Role
from osa_aio.roles.context import Context
from osa_aio.roles.galera import sql_identifier, sql_string
from osa_aio.roles.openstack import node_steps
from osa_aio.roles.utility import openrc
from osa_aio.errors import ConfigError, OsaAioError
from osa_aio.profiles import PROFILES
from osa_aio.secrets import Secret
from osa_aio.steps import FileContent
from osa_aio.templates import TEMPLATE_DIR, render
from tests.conftest import HOST_ADDRESS
from tests.fakes import FakeRunner

# Every role built on the block (its module declares the spec), derived, not listed.
API_SPECS = tuple(module.SPEC for module in (importlib.import_module(f"osa_aio.roles.{name}") for name in ROLES)
                  if hasattr(module, "SPEC"))


@pytest.fixture
def ctx(config_dir):
    # The largest profile: every role has containers.
    config = load_config(config_dir, host_address=HOST_ADDRESS, profile="compute")
    secrets = {key: Secret(f"secret-{key}") for key in config.secrets}
    secrets[heat.AUTH_ENCRYPTION_KEY] = Secret("k" * 40)
    config = type(config)(**{**config.__dict__, "secrets": secrets})
    inv, _ = build_inventory(config, None)
    return Context(config, inv, Engine(console=Console(file=open("/dev/null", "w"))), wheel_sets=wheel_sets())


def files(steps):
    return {step.path: step.content for step in steps if isinstance(step, FileContent)}


def test_every_role_is_staged_once_and_keeps_the_contract():
    staged = [role.name for stage in STAGES for role in stage]
    assert sorted(staged) == sorted(ROLES) and len(staged) == len(set(staged))
    ports = [service.port for service in haproxy_services()]
    assert len(ports) == len(set(ports)), "two frontends on one port"
    backends = [service.name for service in haproxy_services()]
    assert len(backends) == len(set(backends))
    types = [role.container_type for role in ROLES.values() if role.container_type]
    assert len(types) == len(set(types)), "two roles for one container type"
    for role in ROLES.values():
        assert isinstance(role, Role) and callable(role.deploy), role
        for check in role.checks:
            assert check.name and callable(check.probe)
        if role.container_type:
            assert role.group and set(role.profiles) <= set(PROFILES)
        for service in role.haproxy:
            assert service.group == role.group
        for file, (path, _sectioned) in role.config_files.items():
            assert path.startswith("/etc/"), (role.name, file)
        if role.dev is not None:
            dev = role.dev
            assert dev.units and dev.health and dev.venv == role.venv and dev.foreground is not None
            assert set(dev.backends) <= {s.name for s in role.haproxy}
            assert all("{address}" in url for _, url in dev.health)
            assert role.python_packages[0] == f"{dev.distribution}=={dev.version}"
            for also in dev.also:  # the other containers a checkout goes to belong to a role that puts code back
                assert ROLES[also.role].group == also.group and also.units and also.venv.startswith("/openstack/venvs/")


@pytest.mark.parametrize("spec", API_SPECS, ids=lambda s: s.name)
def test_every_api_service_has_its_templates_and_renders(ctx, spec):
    assert (TEMPLATE_DIR / spec.name / f"{spec.config}.j2").is_file()
    name = ctx.members(spec.group)[0]
    rendered = files(node_steps(ctx, spec, name))
    conf = rendered[spec.main_config]
    # Each database URL it has is one of the service's (nova's cell0 is mapped, not configured).
    password = f"secret-{spec.db_password_key}"
    urls = set(re.findall(r"mysql\+pymysql://\S+", conf))
    assert bool(urls) == bool(spec.database_names)
    assert urls <= {f"mysql+pymysql://{spec.name}:{password}@172.29.236.101:3306/{db}?charset=utf8"
                    for db in spec.database_names}
    if spec.service_user:
        assert f"password = secret-{spec.name}_service_password" in conf and "[keystone_authtoken]" in conf
    assert ("transport_url = rabbit://" in conf) == spec.messaging
    for app in spec.apps:
        ini = rendered[f"/etc/{spec.name}/{app.name}-uwsgi.ini"]
        assert f"http-socket = {ctx.address(name)}:{app.port}" in ini and f"module = {app.module}" in ini
        unit = rendered[f"/etc/systemd/system/{app.name}.service"]
        assert f"--ini /etc/{spec.name}/{app.name}-uwsgi.ini" in unit and f"User={spec.name}" in unit
    for daemon in spec.daemons:  # each reads the main config, then the others meant for daemons
        unit = rendered[f"/etc/systemd/system/{daemon}.service"].splitlines()
        assert f"ExecStart={spec.venv}/bin/{daemon} " + " ".join(f"--config-file {path}" for path in
                                                                 spec.daemon_configs) in unit


def test_secrets_shipped_are_exactly_the_secrets_used():
    shipped = set(yaml.safe_load((project_path("user_config") / "user_secrets.yml").read_text()))
    used = {key for role in ROLES.values() for key in role.secrets}
    assert used == shipped


def test_every_template_is_used_by_a_role():
    used = {f"{spec.name}/{file}.j2" for spec in API_SPECS for file in (spec.config, *[c.file for c in spec.more_configs])}
    for path in TEMPLATE_DIR.glob("*/*.j2"):
        name = f"{path.parent.name}/{path.name}"
        if path.parent.name in {spec.name for spec in API_SPECS}:
            assert name in used, f"{name} is used by no role"


def test_galera_config_lists_every_member(ctx):
    members = ctx.members(galera.GROUP)
    steps = galera.node_steps(ctx, members[1], members)
    text = files(steps)["/etc/mysql/mariadb.conf.d/60-galera.cnf"]
    addresses = ",".join(ctx.address(m) for m in members)
    assert f'wsrep_cluster_address = "gcomm://{addresses}"' in text
    assert f"bind-address = {ctx.address(members[1])}" in text and "datadir = /openstack/mysql" in text
    socket = files(steps)["/etc/systemd/system/osa-aio-clustercheck.socket"]
    assert f"ListenStream={ctx.address(members[1])}:9200" in socket


def test_keystone_config_uses_the_vip_memcached_and_every_rabbit_node(ctx):
    name = ctx.members(keystone.GROUP)[0]
    steps = node_steps(ctx, keystone.SPEC, name)
    conf = files(steps)["/etc/keystone/keystone.conf"]
    assert ("connection = mysql+pymysql://keystone:secret-keystone_container_mysql_password@172.29.236.101:3306"
            "/keystone?charset=utf8") in conf
    memcached_addr = ctx.address(ctx.members(memcached.GROUP)[0])
    assert f"memcache_servers = {memcached_addr}:11211" in conf
    rabbits = re.search(r"transport_url = rabbit://(\S+)/keystone", conf).group(1).split(",")
    assert [r.split("@")[1] for r in rabbits] == [f"{ctx.address(n)}:5672" for n in ctx.members(rabbitmq.GROUP)]
    assert all(r.startswith("keystone:secret-keystone_oslomsg_notify_password@") for r in rabbits)
    ini = files(steps)["/etc/keystone/keystone-uwsgi.ini"]
    assert f"http-socket = {ctx.address(name)}:5000" in ini and "module = keystone.wsgi.api:application" in ini
    assert "processes = 2" in ini


def test_glance_shares_its_image_store_with_a_fixed_uid(ctx):
    names = ctx.members(glance.SPEC.group)
    assert len(names) == 2
    conf = files(node_steps(ctx, glance.SPEC, names[1]))["/etc/glance/glance-api.conf"]
    assert f"worker_self_reference_url = http://{ctx.address(names[1])}:9292" in conf
    assert "filesystem_store_datadir = /var/lib/glance/images/" in conf
    assert glance.ROLE.mounts == (("/openstack/shared/glance-images", "var/lib/glance/images"),)
    users = [s for s in node_steps(ctx, glance.SPEC, names[0]) if type(s).__name__ == "SystemUser"]
    assert users[0].uid == glance.UID


def test_memcached_and_rabbit_listen_on_their_management_address(ctx):
    name = ctx.members(rabbitmq.GROUP)[0]
    assert f"NODE_IP_ADDRESS={ctx.address(name)}" in render("rabbitmq/rabbitmq-env.conf", address=ctx.address(name))
    cache = ctx.members(memcached.GROUP)[0]
    text = render("memcached/memcached.conf", address=ctx.address(cache), memory_mb=64, max_connections=10)
    assert f"-l {ctx.address(cache)}\n" in text and "-U 0" in text


def test_openrc_points_at_the_internal_vip(ctx):
    text = openrc(ctx)
    assert "export OS_AUTH_URL=http://172.29.236.101:5000/v3" in text
    assert "export OS_PASSWORD=secret-keystone_auth_admin_password" in text


def test_the_utility_venv_gets_every_client_plugin():
    clients = {pkg for role in ROLES.values() for pkg in role.client_packages}
    assert {"osc-placement", "python-glanceclient"} <= clients
    assert set(wheel_sets()["utility"]) == {"python-openstackclient"} | clients


def test_sql_strings_are_quoted_and_identifiers_checked():
    assert sql_string("plain") == "'plain'"
    assert sql_string("it's") == "'it''s'"
    assert sql_string("back\\slash") == "'back\\\\slash'"
    assert sql_identifier("nova_api") == "nova_api"
    for bad in ("x; DROP DATABASE y", "a-b", "", "1abc", "a" * 65):
        with pytest.raises(OsaAioError):
            sql_identifier(bad)


def schema(tables: str, versions: str = "0"):
    def answer(argv, stdin):
        return (0, tables) if "information_schema" in argv[-1] else (0, versions)
    return FakeRunner({("mariadb",): answer})


def test_a_schema_whose_first_migration_never_finished_is_made_again():
    assert galera.SchemaNotHalfMade(schema(""), "keystone").check() is None
    assert galera.SchemaNotHalfMade(schema("alembic_version\nproject\n", "2"), "keystone").check() is None
    assert galera.SchemaNotHalfMade(schema("migrate_version\nproject\n"), "keystone").check() is None
    half = schema("alembic_version\nproject\nuser\n", "0")
    assert galera.SchemaNotHalfMade(half, "keystone").check() == \
        "3 tables but no finished migration: a db sync was interrupted"
    assert galera.SchemaNotHalfMade(schema("project\n"), "keystone").check() is not None
    galera.SchemaNotHalfMade(half, "keystone").apply()
    assert half.calls[-1][-1] == "DROP DATABASE keystone; CREATE DATABASE keystone"


def test_database_user_and_grants_are_made_with_checked_names():
    runner = FakeRunner({("mariadb", "-N", "-B"): (0, "1\n"), ("mariadb",): (0, "")})
    step = galera.DatabaseReady(runner, "glance", "glance", "pa'ss")
    assert step.check() == "missing or password differs"
    assert "SET @pw='pa''ss';" in runner.stdins[-1]
    step.apply()
    sql = runner.stdins[-1]
    assert "CREATE DATABASE IF NOT EXISTS glance;" in sql and "GRANT ALL PRIVILEGES ON glance.* TO 'glance'@'%';" in sql
    with pytest.raises(OsaAioError):
        galera.DatabaseReady(runner, "glance;", "glance", "x").check()


def test_every_file_the_package_reads_is_installed_with_it():
    """A non-editable install (scripts/aio.sh) carries only what package_data names."""
    import ast
    from fnmatch import fnmatch
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    tree = ast.parse((root / "setup.py").read_text())
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "setup")
    patterns = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "package_data"))["osa_aio"]
    package = root / "osa_aio"
    files = [p.relative_to(package).as_posix() for folder in ("templates", "data") for p in (package / folder).rglob("*")
             if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts]
    assert files
    assert [f for f in files if not any(fnmatch(f, pattern) for pattern in patterns)] == []


def test_heat_gets_the_32_characters_heat_engine_wants_or_a_clear_error(ctx):
    name = ctx.members(heat.SPEC.group)[0]
    conf = files(node_steps(ctx, heat.SPEC, name))[heat.SPEC.main_config]
    assert f"auth_encryption_key = {'k' * 32}\n" in conf
    ctx.config.secrets[heat.AUTH_ENCRYPTION_KEY] = Secret("short")
    with pytest.raises(ConfigError, match=r"user_secrets.yml: heat_auth_encryption_key: is 5 characters; heat needs"):
        node_steps(ctx, heat.SPEC, name)
