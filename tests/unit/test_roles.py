"""The roles' steps are built from the inventory alone: templates render with StrictUndefined and
carry the addresses and secrets they should (no container is touched to build them)."""

import re

import pytest
from rich.console import Console

from osa_aio.engine import Engine
from osa_aio.inventory.generate import build_inventory
from osa_aio.roles import ROLES, STAGES, python_packages
from osa_aio.roles import galera, keystone, memcached, rabbitmq
from osa_aio.roles.context import Context
from osa_aio.roles.keystone import sql_string
from osa_aio.roles.utility import openrc
from osa_aio.secrets import Secret
from osa_aio.steps import FileContent
from osa_aio.templates import render
from tests.fakes import FakeRunner


@pytest.fixture
def ctx(load):
    config = load()
    secrets = {key: Secret(f"secret-{key}") for key in config.secrets}
    config = type(config)(**{**config.__dict__, "secrets": secrets})
    inv, _ = build_inventory(config, None)
    return Context(config, inv, Engine(console=Console(file=open("/dev/null", "w"))))


def files(steps):
    return {step.path: step.content for step in steps if isinstance(step, FileContent)}


def test_every_role_is_staged_once_and_python_packages_are_pinned():
    staged = [role.NAME for stage in STAGES for role in stage]
    assert sorted(staged) == sorted(ROLES) and len(staged) == len(set(staged))
    assert "keystone==30.0.0" in python_packages() and "python-openstackclient" in python_packages()


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
    steps = keystone.node_steps(ctx, name)
    conf = files(steps)["/etc/keystone/keystone.conf"]
    assert ("connection = mysql+pymysql://keystone:secret-keystone_container_mysql_password@172.29.236.101:3306"
            "/keystone?charset=utf8") in conf
    memcached_addr = ctx.address(ctx.members(memcached.GROUP)[0])
    assert f"memcache_servers = {memcached_addr}:11211" in conf
    rabbits = re.search(r"transport_url = rabbit://(\S+)/keystone", conf).group(1).split(",")
    assert [r.split("@")[1] for r in rabbits] == [f"{ctx.address(n)}:5672" for n in ctx.members(rabbitmq.GROUP)]
    ini = files(steps)["/etc/keystone/keystone-uwsgi.ini"]
    assert f"http-socket = {ctx.address(name)}:5000" in ini and "module = keystone.wsgi.api:application" in ini


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


def test_sql_strings_are_quoted():
    assert sql_string("plain") == "'plain'"
    assert sql_string("it's") == "'it''s'"
    assert sql_string("back\\slash") == "'back\\\\slash'"


def test_every_secret_a_role_uses_is_in_the_shipped_secrets_file():
    import yaml

    from osa_aio.config import project_path

    shipped = set(yaml.safe_load((project_path("user_config") / "user_secrets.yml").read_text()))
    used = {key for role in ROLES.values() for key in getattr(role, "SECRETS", ())}
    assert used and used <= shipped


def schema(tables: str, versions: str = "0"):
    def answer(argv, stdin):
        return (0, tables) if "information_schema" in argv[-1] else (0, versions)
    return FakeRunner({("mariadb",): answer})


def test_a_schema_whose_first_migration_never_finished_is_made_again():
    assert keystone.SchemaNotHalfMade(schema(""), "keystone").check() is None
    assert keystone.SchemaNotHalfMade(schema("alembic_version\nproject\n", "2"), "keystone").check() is None
    assert keystone.SchemaNotHalfMade(schema("migrate_version\nproject\n"), "keystone").check() is None
    half = schema("alembic_version\nproject\nuser\n", "0")
    assert keystone.SchemaNotHalfMade(half, "keystone").check() == \
        "3 tables but no finished migration: a db_sync was interrupted"
    assert keystone.SchemaNotHalfMade(schema("project\n"), "keystone").check() is not None
    keystone.SchemaNotHalfMade(half, "keystone").apply()
    assert half.calls[-1][-1] == "DROP DATABASE keystone; CREATE DATABASE keystone"
