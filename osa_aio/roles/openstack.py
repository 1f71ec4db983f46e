"""The building block of every OpenStack API service: a service declares what it is (an
``ApiService``) and ``api_role`` derives the rest, written once here:

- its system user, /etc, /var/lib and /var/log dirs, a venv from the private repo built aside and
  swapped in, one uWSGI ini and systemd unit per WSGI app, one unit per daemon;
- its databases and user on a synced galera node, its rabbitmq vhost and user, a half-made schema
  made again, the db sync once;
- its keystone catalog: the service user in project `service`, the service and its endpoints;
- one HAProxy frontend per app, `verify` rows, dev mode, config overrides, knobs, profiles.

What stays a service's own is its config template (``templates/<service>/<config>.j2``, which
includes the shared sections) and, where it has them, hooks for its own steps (keystone's keys
and bootstrap, glance's image store)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

from osa_aio import devstate
from osa_aio.containers import host_path
from osa_aio.errors import OsaAioError
from osa_aio.haproxy import BackendUp, HaService
from osa_aio.roles import galera, memcached, rabbitmq
from osa_aio.roles.base import Check, DevAlso, DevSpec, Role, knob_values
from osa_aio.roles.catalog import REGION, CatalogEntry, CatalogRegistered, Keystone, catalog_problem
from osa_aio.roles.context import Context
from osa_aio.steps import (DAEMON_RELOAD, Directory, FileContent, FileCopied, HttpAnswers, Packages,
                           ServiceRunning, ServiceSteady, SystemdReloaded, SystemUser, VenvSiblings, mark_pending, sh)
from osa_aio.templates import render
from osa_aio.transport import Runner

# What every API container has: Debian's uWSGI (compiled, so not from the repo) and venv support.
UWSGI_PACKAGES = ("python3-venv", "uwsgi-core", "uwsgi-plugin-python3")
# In every service's venv: the database driver and the cache client its oslo libraries use.
COMMON_PYTHON = ("PyMySQL", "python-memcached")
VENVS = "/openstack/venvs"
COMMON_DEFAULTS = MappingProxyType({"debug": False, "processes": 1})
# In the query string of HAProxy's health checks: `osa-aio logs` and `dev --foreground` leave
# those requests (one every 2 s per server) out.
HEALTH_CHECK_MARK = "from=haproxy"


@dataclass(frozen=True)
class WsgiApp:
    """One WSGI application under uWSGI: its unit and HAProxy backend are named after it."""

    name: str                 # "glance-api"
    module: str               # "glance.wsgi.api:application"
    port: int
    health: str = "/healthcheck"   # answers 200 without a token: HAProxy, the deploy and verify ask it
    external: bool = True     # also on the external VIP
    balance: str = "leastconn"
    uwsgi_options: tuple[str, ...] = ()  # extra [uwsgi] lines (glance: chunked input ...)


@dataclass(frozen=True)
class ConfigFile:
    """A config file beyond the main one (neutron's ml2_conf.ini): rendered from
    ``templates/<service>/<file>.j2``, open to overrides, passed to every daemon with --config-file
    after the main one when ``daemon_arg``."""

    file: str                 # "ml2_conf.ini"
    path: str                 # "/etc/neutron/plugins/ml2/ml2_conf.ini"
    daemon_arg: bool = True


@dataclass(frozen=True, eq=False)
class ApiService:
    """What an OpenStack service is; everything else is derived (see the module docstring)."""

    name: str                 # "glance": user, venv, /etc/<name>, knobs <name>_*, secrets <name>_*
    description: str          # "OpenStack Image (glance)"
    group: str                # OSA's inventory group: "glance_all"
    container_type: str       # "glance_container"
    package: str              # the PyPI distribution: "glance", "openstack-placement"
    version: str
    module: str               # its Python package: "placement"
    apps: tuple[WsgiApp, ...]
    config: str               # its main config file in /etc/<name>: "glance-api.conf"
    config_path: str | None = None            # where the main config goes (None: /etc/<name>/<config>)
    config_overrides: bool = True             # it takes INI overrides (horizon's Python settings do not)
    more_configs: tuple[ConfigFile, ...] = ()  # config files beyond the main one
    daemons: tuple[str, ...] = ()             # venv scripts run as units: "heat-engine"
    catalog: tuple[CatalogEntry, ...] = ()
    service_user: bool = True                 # a keystone user <name> (password <name>_service_password)
    service_roles: tuple[str, ...] = ("admin",)
    databases: tuple[str, ...] | None = None  # None: one named after the service
    db_secret: str | None = None              # None: <name>_container_mysql_password
    messaging: bool = True                    # a rabbitmq vhost and user
    rabbit_secret: str | None = None          # None: <name>_oslomsg_rpc_password
    db_sync: tuple[tuple[str, ...], ...] = ()  # run once per version, as the service user; argv[0] a venv script
    # Run on every container, as the service user, whenever its venv or main config changed, and
    # after a dev install and restart (horizon's static files); argv[0] a venv script.
    build: tuple[tuple[str, ...], ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)  # of every unit and script it runs
    defaults: Mapping[str, Any] = field(default_factory=dict)       # knobs over COMMON_DEFAULTS (debug, processes)
    packages: tuple[str, ...] = ()            # apt packages beyond uWSGI
    python_packages: tuple[str, ...] = ()     # pip packages beyond the service and COMMON_PYTHON
    client_packages: tuple[str, ...] = ()     # for the utility container (osc-placement ...)
    extra_secrets: tuple[str, ...] = ()
    start_order: int = 50
    profiles: Mapping[str, int] = field(default_factory=dict)
    uid: int | None = None                    # a fixed uid/gid (files shared between containers)
    dirs: tuple[tuple[str, int], ...] = ()    # more dirs owned by the service user: (path, mode)
    files: tuple[tuple[str, str], ...] = ()   # more files it reads: (path, content)
    venv_files: tuple[tuple[str, str], ...] = ()  # (file the venv installs, relative to it; where it goes)
    mounts: tuple[tuple[str, str], ...] = ()  # host dir shared by its containers -> path inside
    checks: tuple[Check, ...] = ()            # its own verify rows, before the derived ones
    frontends: tuple[HaService, ...] = ()     # HAProxy frontends beyond one per app (nova's console proxy)
    dev_also: tuple[DevAlso, ...] = ()        # other containers a dev checkout goes to (nova-compute)
    # Its own steps on each container, after the venv and before the config files (noVNC's web files).
    node_extra: Callable[[Context, "ApiService", str], list] | None = None
    template_values: Callable[[Context, str], dict] | None = None  # more values for its config template
    once: Callable[[Context, "ApiService"], list] | None = None    # its own steps after the db sync

    # ---- derived names ----------------------------------------------------------------------

    @property
    def venv(self) -> str:
        return f"{VENVS}/{self.name}"

    @property
    def etc(self) -> str:
        return f"/etc/{self.name}"

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(app.name for app in self.apps) + self.daemons

    @property
    def database_names(self) -> tuple[str, ...]:
        return (self.name,) if self.databases is None else self.databases

    @property
    def db_password_key(self) -> str:
        return self.db_secret or f"{self.name}_container_mysql_password"

    @property
    def rabbit_password_key(self) -> str:
        return self.rabbit_secret or f"{self.name}_oslomsg_rpc_password"

    @property
    def service_password_key(self) -> str:
        return f"{self.name}_service_password"

    @property
    def secrets(self) -> tuple[str, ...]:
        keys = [*self.extra_secrets]
        if self.database_names:
            keys.append(self.db_password_key)
        if self.messaging:
            keys.append(self.rabbit_password_key)
        if self.service_user:
            keys += [self.service_password_key, "keystone_auth_admin_password"]
        elif self.catalog:
            keys.append("keystone_auth_admin_password")
        return tuple(dict.fromkeys(keys))

    @property
    def main_config(self) -> str:
        return self.config_path or f"{self.etc}/{self.config}"

    @property
    def config_files(self) -> dict[str, tuple[str, bool]]:
        """The files that take overrides (osa_aio.overrides): file -> (path, has sections)."""
        files = {self.config: (self.main_config, True)} if self.config_overrides else {}
        files.update({more.file: (more.path, True) for more in self.more_configs})
        files.update({f"{app.name}-uwsgi.ini": (f"{self.etc}/{app.name}-uwsgi.ini", True) for app in self.apps})
        return files

    @property
    def daemon_configs(self) -> tuple[str, ...]:
        """What a daemon reads, in order: the main config, then the others passed to daemons."""
        return (self.main_config, *[more.path for more in self.more_configs if more.daemon_arg])

    @property
    def image_packages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(UWSGI_PACKAGES + self.packages))

    @property
    def venv_packages(self) -> tuple[str, ...]:
        return (f"{self.package}=={self.version}", *COMMON_PYTHON, *self.python_packages)

    @property
    def knobs(self) -> Mapping[str, Any]:
        return MappingProxyType({**COMMON_DEFAULTS, **self.defaults})

    def as_user(self, *argv: str) -> list[str]:
        return ["runuser", "-u", self.name, "--", *argv]

    def script(self, argv: tuple[str, ...]) -> list[str]:
        """A venv script's argv, as the service user, in the service's environment."""
        env = ["env", *[f"{key}={value}" for key, value in self.environment.items()]] if self.environment else []
        return self.as_user(*env, f"{self.venv}/bin/{argv[0]}", *argv[1:])


# ---- what a container gets ----------------------------------------------------------------------

def template_values(ctx: Context, spec: ApiService, name: str) -> dict[str, Any]:
    """The values every service's config template has (the shared sections use them too)."""
    values = knob_values(spec.name, spec.knobs, ctx.config.user_variables)
    rabbits = [ctx.address(m) for m in ctx.members(rabbitmq.GROUP)]
    transport = None
    if spec.messaging:
        password = ctx.secret(spec.rabbit_password_key)
        transport = ("rabbit://" + ",".join(f"{spec.name}:{password}@{address}:5672" for address in rabbits)
                     + f"/{spec.name}")
    databases = {db: (f"mysql+pymysql://{spec.name}:{ctx.secret(spec.db_password_key)}@{ctx.internal_vip}:3306/"
                      f"{db}?charset=utf8") for db in spec.database_names}
    result = {
        "service": spec.name, "venv": spec.venv, "address": ctx.address(name), "name": name,
        "internal_vip": ctx.internal_vip, "external_vip": ctx.external_vip, "region": REGION,
        "keystone_url": f"http://{ctx.internal_vip}:5000", "settings": values, "debug": values["debug"],
        "transport_url": transport, "databases": databases,
        "database_url": next(iter(databases.values()), None),
        "memcache_servers": ",".join(f"{ctx.address(m)}:11211" for m in ctx.members(memcached.GROUP)),
        "service_password": ctx.secret(spec.service_password_key) if spec.service_user else None,
        "catalog_type": spec.catalog[0].type if spec.catalog else spec.name,
        "config_path": spec.main_config, "config_paths": spec.daemon_configs, "environment": spec.environment,
    }
    if spec.template_values:
        result.update(spec.template_values(ctx, name))
    return result


def venv_siblings(ctx: Context, spec: ApiService, name: str) -> VenvSiblings | None:
    """Its venv is installed once on this machine and copied to the service's other containers here
    (never from the one running a dev checkout). A container on another host builds its own: the
    copy goes through this machine's folders."""
    host = ctx.host_of(name)
    if host.remote:
        return None
    checkout = devstate.load().get(spec.name)
    targets = [m for m in ctx.targets(spec.group) if ctx.host_of(m) is host]
    return VenvSiblings(me=name, builder=targets[0] if targets else name,
                        sources=tuple(m for m in ctx.members(spec.group) if ctx.host_of(m) is host
                                      and (not checkout or m != checkout.container)),
                        host_path=host_path)


def node_steps(ctx: Context, spec: ApiService, name: str) -> list:
    """One container's packages, user, dirs, venv, config files and units."""
    runner = ctx.runner(name)
    values = template_values(ctx, spec, name)
    restart = (*spec.units,)
    files = spec.config_files

    def config(file: str, text: str) -> FileContent:
        if file not in files:  # no overrides for it
            return FileContent(runner, spec.main_config, text, mode=0o640, group=spec.name, notify=restart)
        return FileContent(runner, files[file][0], ctx.config_file(spec.name, files, file, name, text),
                           mode=0o640, group=spec.name, notify=restart)

    steps = [
        Packages(runner, spec.image_packages),
        SystemUser(runner, spec.name, f"/var/lib/{spec.name}", uid=spec.uid),
        Directory(runner, spec.etc, 0o750, "root", spec.name),
        Directory(runner, f"/var/lib/{spec.name}", 0o750, spec.name),
        Directory(runner, f"/var/log/{spec.name}", 0o750, spec.name),
        *[Directory(runner, path, mode, spec.name) for path, mode in spec.dirs],
        *[FileContent(runner, path, content, notify=restart) for path, content in spec.files],
        *ctx.venv_steps(name, spec.venv, spec.venv_packages, notify=restart, siblings=venv_siblings(ctx, spec, name)),
        # Copied from the released venv: a dev checkout installed editable brings no data files.
        *[FileCopied(runner, f"{spec.venv}/{source}", target, notify=restart) for source, target in spec.venv_files],
        *(spec.node_extra(ctx, spec, name) if spec.node_extra else []),
        config(spec.config, render(f"{spec.name}/{spec.config}", **values)),
        *[config(more.file, render(f"{spec.name}/{more.file}", **values)) for more in spec.more_configs],
    ]
    for app in spec.apps:
        steps += [
            config(f"{app.name}-uwsgi.ini", render("openstack/uwsgi.ini", app=app, **values)),
            FileContent(runner, f"/etc/systemd/system/{app.name}.service",
                        render("openstack/wsgi.service", app=app, description=spec.description, **values),
                        notify=(DAEMON_RELOAD, app.name)),
        ]
    for daemon in spec.daemons:
        steps.append(FileContent(runner, f"/etc/systemd/system/{daemon}.service",
                                 render("openstack/daemon.service", daemon=daemon,
                                        description=spec.description, **values),
                                 notify=(DAEMON_RELOAD, daemon)))
    if spec.build:
        steps.append(Built(runner, spec))
    steps.append(SystemdReloaded(runner))
    return steps


def build_marker(service: str) -> str:
    """Where the digest of a service's last build (Built) is kept in its container."""
    return f"/var/lib/{service}/osa-aio-build.digest"


@dataclass
class Built:
    """The service's build commands ran for the venv and main config this container has now (a
    marker holds their digest): horizon's static files collected and compressed."""

    runner: Runner
    spec: ApiService

    @property
    def name(self) -> str:
        return "built: " + " && ".join(" ".join(argv[:2]) for argv in self.spec.build)

    @property
    def marker(self) -> str:
        return build_marker(self.spec.name)

    def digest(self) -> str:
        """Of the commands, the venv the link points at and the main config's content."""
        found = self.runner.run(sh('readlink -f "$1" && sha256sum < "$2"', self.spec.venv, self.spec.main_config),
                                check=False, log_output=False).stdout
        return hashlib.sha256(repr((self.spec.build, found)).encode()).hexdigest()

    def check(self) -> str | None:
        found = self.runner.run(["cat", self.marker], check=False).stdout.strip()
        return None if found == self.digest() else "venv or config changed since the last build"

    def apply(self) -> None:
        mark_pending(self.runner, self.spec.units)  # the apps read what the build made at start
        for argv in self.spec.build:
            self.runner.run(self.spec.script(argv), timeout=900)
        self.runner.run(sh('echo "$1" > "$2"', self.digest(), self.marker))


@dataclass
class SchemaSynced:
    """The service's db sync ran for this version: the marker of the last sync (in the container's
    /openstack, kept across rebuilds) names this version and every database has tables (a database
    made afresh is synced again). Reading it takes milliseconds; a `db_sync --check` starts the
    whole service in Python (keystone's: 2.6 s)."""

    runner: Runner
    spec: ApiService
    galera_runner: Runner
    # Every container of the service: a schema synced under running units (a database made afresh,
    # an upgrade) calls for their restart (placement makes its standard resource classes at start).
    restart: tuple[Runner, ...] = ()

    @property
    def name(self) -> str:
        return f"database schema ({' && '.join(' '.join(argv[:2]) for argv in self.spec.db_sync)})"

    @property
    def marker(self) -> str:
        return f"/openstack/{self.spec.name}-db-sync.digest"

    def digest(self) -> str:
        return hashlib.sha256(repr((self.spec.package, self.spec.version, self.spec.db_sync)).encode()).hexdigest()

    def check(self) -> str | None:
        found = self.runner.run(["cat", self.marker], check=False).stdout.strip()
        if found != self.digest():
            return "never synced for this version"
        for database in self.spec.database_names:
            tables = self.galera_runner.run(["mariadb", "-N", "-B", "-e", "SELECT COUNT(*) FROM information_schema."
                                             f"tables WHERE table_schema='{galera.sql_identifier(database)}'"]).stdout
            if tables.strip() in ("", "0"):
                return f"database {database} is empty"
        return None

    def apply(self) -> None:
        for runner in self.restart:
            mark_pending(runner, self.spec.units)
        for argv in self.spec.db_sync:
            self.runner.run(self.spec.script(argv), timeout=900)
        self.runner.run(sh('echo "$1" > "$2"', self.digest(), self.marker))


def install(ctx: Context, spec: ApiService) -> bool:
    """Each container's packages, venv, config files, units and build: they need only the repo, so
    they run ahead, while the database and keystone come up (osa_aio.deploy)."""
    targets = ctx.targets(spec.group)
    if (spec.database_names and not ctx.members(galera.GROUP)) or (spec.messaging and not ctx.members(rabbitmq.GROUP)):
        raise OsaAioError(f"{spec.name} needs galera and rabbitmq containers in the inventory",
                          hint="add shared_infra_hosts with galera_container and rabbit_mq_container")
    return ctx.engine.run_parallel(spec.name, [(name, node_steps(ctx, spec, name)) for name in targets])


def deploy(ctx: Context, spec: ApiService) -> None:
    """After install: the database and queue, the schema and what is made once, the units running,
    the VIP and the catalog."""
    targets = ctx.targets(spec.group)
    if not targets:
        return
    prerequisites = [galera.database_ready(ctx, db, spec.name, ctx.secret(spec.db_password_key))
                     for db in spec.database_names]
    if spec.messaging:
        prerequisites += rabbitmq.ensure_user(ctx, spec.name, spec.name, ctx.secret(spec.rabbit_password_key))
    if prerequisites and not ctx.engine.run(spec.name, "database and queue", prerequisites):
        return
    once = []
    if spec.db_sync:
        database_node = ctx.runner(galera.synced_member(ctx))
        once += [galera.SchemaNotHalfMade(database_node, db) for db in spec.database_names]
        once.append(SchemaSynced(ctx.runner(targets[0]), spec, database_node,
                                 tuple(ctx.runner(name) for name in targets)))
    if spec.once:
        once += spec.once(ctx, spec)
    # A service that logs in as its own user at start (nova's conductor makes its placement client
    # then, and dies on a 401) needs the user before its units: its catalog goes first. Keystone's
    # own entry needs keystone up: last.
    early = bool(spec.catalog) and spec.service_user
    if early:
        once.insert(0, catalog_step(ctx, spec))
    if once and not ctx.engine.run(spec.name, "once", once):
        return
    jobs = []
    checkout = devstate.load().get(spec.name)
    for name in targets:
        runner = ctx.runner(name)
        # While a dev checkout runs, its queue workers (heat-engine) run there alone (osa_aio.dev).
        units = [u for u in spec.units if not (checkout and name != checkout.container and u in spec.daemons)]
        jobs.append((name, [*[ServiceRunning(runner, unit) for unit in units],
                            *[ServiceSteady(runner, unit) for unit in units if unit in spec.daemons],
                            *[HttpAnswers(f"http://{ctx.address(name)}:{app.port}{app.health}", wait=120)
                              for app in spec.apps]]))
    if not ctx.engine.run_parallel(spec.name, jobs):
        return
    vip = [*[BackendUp(app.name) for app in spec.apps],
           *[HttpAnswers(f"http://{ctx.internal_vip}:{app.port}{app.health}", wait=60) for app in spec.apps]]
    if spec.catalog and not early:
        vip.append(catalog_step(ctx, spec))
    ctx.engine.run(spec.name, "vip", vip)


def catalog_step(ctx: Context, spec: ApiService) -> CatalogRegistered:
    return CatalogRegistered(Keystone(ctx.internal_vip, ctx.secret("keystone_auth_admin_password")), spec.catalog,
                             ctx.internal_vip, ctx.external_vip,
                             user=spec.name if spec.service_user else None,
                             password=ctx.secret(spec.service_password_key) if spec.service_user else None,
                             roles=spec.service_roles)


# ---- what the rest of osa-aio reads: the role ------------------------------------------------------

def uwsgi_foreground(spec: ApiService) -> Callable[[Context, str], list[str]]:
    """The first app under uWSGI in a terminal (`osa-aio dev --foreground`): the same ini, its log
    on the terminal instead of the log file, HAProxy's health checks left out of it."""
    app = spec.apps[0]

    def argv(ctx: Context, name: str) -> list[str]:
        return ["env", *[f"{key}={value}" for key, value in spec.environment.items()],
                "uwsgi-core", "--ini", f"{spec.etc}/{app.name}-uwsgi.ini", "--logto", "/dev/stdout",
                "--log-drain", re.escape(HEALTH_CHECK_MARK), "--uid", spec.name, "--gid", spec.name]
    return argv


def health_check_uri(app: WsgiApp) -> str:
    """HAProxy's check of an app: its health path, marked so that logs can leave it out."""
    return f"{app.health}{'&' if '?' in app.health else '?'}{HEALTH_CHECK_MARK}"


def _vip_check(app: WsgiApp) -> Check:
    def probe(ctx: Context) -> str:
        url = f"http://{ctx.internal_vip}:{app.port}{app.health}"
        problem = HttpAnswers(url).check()  # the deploy's own probe
        if problem:
            raise OsaAioError(f"{url}: {problem}")
        return f"{app.health} answers 200 on VIP:{app.port}"
    return Check(f"{app.name} through the VIP", probe)


def _daemon_check(spec: ApiService, daemon: str) -> Check:
    def probe(ctx: Context) -> str:
        checkout = devstate.load().get(spec.name)
        names = [n for n in ctx.members(spec.group) if not checkout or n == checkout.container]
        for name in names:
            problem = ServiceSteady(ctx.runner(name), daemon, seconds=0).check()
            if problem:
                raise OsaAioError(f"{daemon} {problem}", file=name,
                                  hint=f"`osa-aio logs {spec.name} --container {name}`")
        return f"active on {len(names)} container{'s' if len(names) != 1 else ''}"
    return Check(f"{daemon} running", probe)


def _catalog_check(entry: CatalogEntry) -> Check:
    def probe(ctx: Context) -> str:
        keystone = Keystone(ctx.internal_vip, ctx.secret("keystone_auth_admin_password"))
        problem = catalog_problem(keystone, entry, ctx.internal_vip, ctx.external_vip)
        if problem:
            raise OsaAioError(problem)
        return f"{entry.type}: public, internal and admin endpoints on the VIPs"
    return Check(f"{entry.name} in the catalog", probe)


def api_role(spec: ApiService) -> Role:
    """The role of an OpenStack API service, every field derived from its spec."""
    return Role(
        name=spec.name,
        deploy=lambda ctx: deploy(ctx, spec),
        install=lambda ctx: install(ctx, spec),
        group=spec.group,
        container_type=spec.container_type,
        packages=spec.image_packages,
        python_packages=spec.venv_packages,
        client_packages=spec.client_packages,
        secrets=spec.secrets,
        haproxy=tuple(HaService(
            name=app.name, port=app.port, group=spec.group, mode="http", external=app.external, balance=app.balance,
            check=("option httpchk", f"http-check send meth GET uri {health_check_uri(app)}",
                   "http-check expect status 200"))
            for app in spec.apps) + spec.frontends,
        config_files=MappingProxyType(spec.config_files),
        defaults=spec.knobs,
        dev=DevSpec(distribution=spec.package, module=spec.module, version=spec.version, venv=spec.venv,
                    user=spec.name, units=spec.units,
                    health=tuple((app.name, f"http://{{address}}:{app.port}{app.health}") for app in spec.apps),
                    sync=tuple(tuple(spec.script(argv)) for argv in spec.db_sync),
                    build=tuple(tuple(spec.script(argv)) for argv in spec.build),
                    exclusive=spec.daemons,
                    foreground=uwsgi_foreground(spec), also=spec.dev_also),
        start_order=spec.start_order,
        profiles=spec.profiles,
        checks=(*spec.checks, *[_vip_check(app) for app in spec.apps], *[_daemon_check(spec, d) for d in spec.daemons],
                *[_catalog_check(e) for e in spec.catalog]),
        catalog=spec.catalog,
        mounts=spec.mounts,
        venv=spec.venv,
        log_units=spec.units,
        log_files=(f"/var/log/{spec.name}/*.log",),
    )
