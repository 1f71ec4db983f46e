"""Keystone 30 (2026.2) on the keystone containers: a venv from the private repo, keystone.conf
from a template, uWSGI on port 5000 behind HAProxy (VIP:5000, /healthcheck). The database, its
schema, bootstrap and the fernet and credential keys are made once; the keys are the same on
every keystone container, and a new container gets them from one that has them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from osa_aio.errors import OsaAioError
from osa_aio.haproxy import BackendUp, HaService
from osa_aio.roles import galera, memcached, rabbitmq
from osa_aio.roles.context import Context
from osa_aio.steps import (DAEMON_RELOAD, Command, Directory, FileContent, HttpAnswers, Packages, PythonVenv, ServiceRunning,
                           SystemdReloaded, SystemUser)
from osa_aio.templates import render
from osa_aio.transport import Runner

NAME = "keystone"
GROUP = "keystone_all"
CONTAINER_TYPE = "keystone_container"
PACKAGES = ("python3-venv", "uwsgi-core", "uwsgi-plugin-python3")
DISABLED_SERVICES = ()
PYTHON_PACKAGES = ("keystone==30.0.0", "PyMySQL", "python-memcached")
SECRETS = ("keystone_auth_admin_password", "keystone_container_mysql_password", "keystone_oslomsg_notify_password")
VENV = "/openstack/venvs/keystone"
MANAGE = f"{VENV}/bin/keystone-manage"
KEY_DIRS = ("fernet-keys", "credential-keys")
REGION = "RegionOne"
DEFAULTS = {"token_expiration": 3600, "debug": False, "processes": 2}
# The files operators can override (path, INI with sections): keystone_keystone_conf_overrides ...
CONFIG_FILES = {"keystone.conf": ("/etc/keystone/keystone.conf", True),
                "keystone-uwsgi.ini": ("/etc/keystone/keystone-uwsgi.ini", True)}


def as_keystone(*argv) -> list:
    return ["runuser", "-u", "keystone", "--", *argv]


# `osa-aio dev keystone`: what the checkout is, how to sync and restart, where it answers.
DEV = {
    "package": "keystone",
    "version": "30.0.0",  # pbr's version for a checkout without git tags
    "unit": "keystone",
    "sync": [as_keystone(MANAGE, "db_sync")],
    "health": "http://{address}:5000/healthcheck",
}

HAPROXY = (HaService(
    name="keystone", port=5000, group=GROUP, mode="http", external=True,
    check=("option httpchk", "http-check send meth GET uri /healthcheck", "http-check expect status 200")),)


def sql_string(value: str) -> str:
    """A quoted SQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass
class DatabaseReady:
    """A database and a user with this password and all rights on it, on the galera cluster."""

    runner: Runner
    database: str
    user: str
    password: str

    @property
    def name(self) -> str:
        return f"database {self.database} and user {self.user}"

    def check(self) -> str | None:
        sql = (f"SELECT (SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name='{self.database}') "
               f"+ (SELECT COUNT(*) FROM mysql.user WHERE user='{self.user}' AND host='%' "
               f"AND authentication_string=PASSWORD(@pw));")
        out = self.runner.run(["mariadb", "-N", "-B"], stdin=f"SET @pw={sql_string(self.password)};\n{sql}\n").stdout.strip()
        return None if out == "2" else "missing or password differs"

    def apply(self) -> None:
        sql = (f"CREATE DATABASE IF NOT EXISTS {self.database};\n"
               f"CREATE USER IF NOT EXISTS '{self.user}'@'%' IDENTIFIED BY {sql_string(self.password)};\n"
               f"ALTER USER '{self.user}'@'%' IDENTIFIED BY {sql_string(self.password)};\n"
               f"GRANT ALL PRIVILEGES ON {self.database}.* TO '{self.user}'@'%';\n")
        self.runner.run(["mariadb"], stdin=sql)


@dataclass
class SchemaNotHalfMade:
    """No half-made schema: a run killed during the first db_sync leaves tables but no finished
    migration (alembic records a revision only once one is done), and db_sync cannot go on from
    there. Such a database holds no data yet, so it is dropped and made again for db_sync."""

    runner: Runner
    database: str

    @property
    def name(self) -> str:
        return f"database {self.database} not half-made"

    def _query(self, sql: str) -> str:
        return self.runner.run(["mariadb", "-N", "-B", "-e", sql]).stdout.strip()

    def check(self) -> str | None:
        tables = set(self._query("SELECT table_name FROM information_schema.tables "
                                 f"WHERE table_schema='{self.database}'").split())
        if not tables or "migrate_version" in tables:  # empty, or an old sqlalchemy-migrate schema
            return None
        if "alembic_version" in tables and self._query(f"SELECT COUNT(*) FROM {self.database}.alembic_version") != "0":
            return None
        return f"{len(tables)} tables but no finished migration: a db_sync was interrupted"

    def apply(self) -> None:
        # The grants on the database stay (they are kept in mysql.db, not in the database).
        self._query(f"DROP DATABASE {self.database}; CREATE DATABASE {self.database}")


def key_digest(runner: Runner) -> str | None:
    """A digest of the fernet and credential keys (names and contents), None when there are none."""
    script = ("cd /etc/keystone && for d in " + " ".join(KEY_DIRS) + "; do [ -d $d ] && "
              "find $d -type f | sort | xargs -r sha256sum; done; true")
    listing = runner.run(["sh", "-c", script], log_output=False).stdout
    if not any(f"{d}/" in listing for d in KEY_DIRS):
        return None
    return hashlib.sha256(listing.encode()).hexdigest()


@dataclass
class KeysShared:
    """Every keystone container holds the same fernet and credential keys; they are made once
    (on the first container when none has any) and copied from one that has them."""

    runners: dict[str, Runner]
    name = "fernet and credential keys shared"

    def check(self) -> str | None:
        digests = {name: key_digest(runner) for name, runner in self.runners.items()}
        if all(d is None for d in digests.values()):
            return "no keys yet"
        return None if len(set(digests.values())) == 1 else "differ between containers"

    def apply(self) -> None:
        digests = {name: key_digest(runner) for name, runner in self.runners.items()}
        source = next((n for n, d in digests.items() if d is not None), None)
        if source is None:
            source = next(iter(self.runners))
            runner = self.runners[source]
            for command in ("fernet_setup", "credential_setup"):
                runner.run([MANAGE, command, "--keystone-user", "keystone", "--keystone-group", "keystone"])
            digests[source] = key_digest(runner)
        # The keys travel as a tarball on stdin/stdout, never in argv or the log.
        archive = self.runners[source].run(["sh", "-c", "tar -C /etc/keystone -cz " + " ".join(KEY_DIRS) + " | base64"],
                                           log_output=False).stdout
        for name, runner in self.runners.items():
            if digests[name] != digests[source]:
                runner.run(["sh", "-c", "rm -rf " + " ".join(f"/etc/keystone/{d}" for d in KEY_DIRS)
                            + " && base64 -d | tar -C /etc/keystone -xz"], stdin=archive)
        if len({key_digest(r) for r in self.runners.values()}) != 1:
            raise OsaAioError("keys still differ after copying", file=source)


def dev_foreground(ctx: Context, name: str) -> list[str]:
    """keystone under uWSGI in the terminal: the service's settings, its log on stderr."""
    return ["uwsgi-core", "--plugins", "python3", "--virtualenv", VENV, "--module", "keystone.wsgi.api:application",
            "--http-socket", f"{ctx.address(name)}:5000", "--processes", "1", "--master", "--need-app",
            "--die-on-term", "--uid", "keystone", "--gid", "keystone", "--buffer-size", "65535"]


def settings(ctx: Context) -> dict:
    return {key: ctx.config.user_variables.get(f"keystone_{key}", value) for key, value in DEFAULTS.items()}


def node_steps(ctx: Context, name: str) -> list:
    runner = ctx.runner(name)
    values = settings(ctx)
    venv = PythonVenv(runner, VENV, PYTHON_PACKAGES, f"{ctx.repo_url}/", f"{ctx.repo_url}/upper-constraints.txt",
                      notify=("keystone",))
    conf = FileContent(runner, CONFIG_FILES["keystone.conf"][0], ctx.config_file(
        NAME, CONFIG_FILES, "keystone.conf", name, render(
            "keystone/keystone.conf", internal_vip=ctx.internal_vip, debug=values["debug"],
            token_expiration=values["token_expiration"],
            db_password=ctx.secret("keystone_container_mysql_password"),
            memcached=[f"{ctx.address(m)}:11211" for m in ctx.members(memcached.GROUP)],
            rabbit=[ctx.address(m) for m in ctx.members(rabbitmq.GROUP)],
            rabbit_password=ctx.secret("keystone_oslomsg_notify_password"))),
        mode=0o640, group="keystone", notify=("keystone",))
    ini = FileContent(runner, CONFIG_FILES["keystone-uwsgi.ini"][0], ctx.config_file(
        NAME, CONFIG_FILES, "keystone-uwsgi.ini", name, render(
            "keystone/keystone-uwsgi.ini", venv=VENV, address=ctx.address(name), processes=values["processes"])),
        notify=("keystone",))
    unit = FileContent(runner, "/etc/systemd/system/keystone.service", render("keystone/keystone.service"),
                       notify=(DAEMON_RELOAD, "keystone"))
    return [
        Packages(runner, PACKAGES),
        SystemUser(runner, "keystone", "/var/lib/keystone"),
        Directory(runner, "/etc/keystone", 0o750, "root", "keystone"),
        *[Directory(runner, f"/etc/keystone/{d}", 0o700, "keystone") for d in KEY_DIRS],
        Directory(runner, "/var/log/keystone", 0o750, "keystone"),
        venv, conf, ini, unit,
        SystemdReloaded(runner),
    ]


def deploy(ctx: Context) -> None:
    members = ctx.members(GROUP)
    targets = ctx.targets(GROUP)
    if not targets:
        return
    galera_nodes = ctx.members(galera.GROUP)
    if not galera_nodes or not ctx.members(rabbitmq.GROUP):
        raise OsaAioError("keystone needs galera and rabbitmq containers in the inventory",
                          hint="add shared_infra_hosts with galera_container and rabbit_mq_container")
    admin = ctx.secret("keystone_auth_admin_password")
    prerequisites = [DatabaseReady(ctx.runner(galera_nodes[0]), "keystone", "keystone",
                                   ctx.secret("keystone_container_mysql_password")),
                     *rabbitmq.ensure_user(ctx, "keystone", "keystone", ctx.secret("keystone_oslomsg_notify_password"))]
    if not ctx.engine.run(NAME, "database and queue", prerequisites):
        return
    jobs = [(name, node_steps(ctx, name)) for name in targets]
    if not ctx.engine.run_parallel(NAME, jobs):
        return
    first = ctx.runner(members[0])
    url = f"http://{ctx.internal_vip}:5000/v3"
    bootstrap_env = {"OS_BOOTSTRAP_PASSWORD": admin}
    bootstrap_digest = hashlib.sha256(f"{admin}|{url}|{REGION}".encode()).hexdigest()
    once = [
        SchemaNotHalfMade(ctx.runner(galera_nodes[0]), "keystone"),
        Command(first, "database schema (db_sync)", as_keystone(MANAGE, "db_sync"),
                unless=as_keystone(MANAGE, "db_sync", "--check"), timeout=900),
        KeysShared({name: ctx.runner(name) for name in members}),
        Command(first, "bootstrap (admin, service, endpoints)",
                ["sh", "-c", f"{' '.join(as_keystone(MANAGE))} bootstrap --bootstrap-username admin "
                             f"--bootstrap-project-name admin --bootstrap-role-name admin "
                             f"--bootstrap-service-name keystone --bootstrap-region-id {REGION} "
                             f"--bootstrap-admin-url {url} --bootstrap-internal-url {url} --bootstrap-public-url {url}"
                             f" && echo {bootstrap_digest} > /openstack/keystone-bootstrap.digest"],
                unless=["grep", "-qx", bootstrap_digest, "/openstack/keystone-bootstrap.digest"], env=bootstrap_env),
    ]
    if not ctx.engine.run(NAME, "once", once):
        return
    jobs = []
    for name in targets:
        runner = ctx.runner(name)
        jobs.append((name, [
            ServiceRunning(runner, "keystone"),
            HttpAnswers(f"http://{ctx.address(name)}:5000/healthcheck", wait=120),
        ]))
    if ctx.engine.run_parallel(NAME, jobs):
        ctx.engine.run(NAME, "vip", [BackendUp(NAME), HttpAnswers(f"{url}", wait=60)])

