"""MariaDB Galera: every galera container one node of one cluster, data in its /openstack bind
mount, a clustercheck on port 9200 for HAProxy (VIP:3306 to the first node, the others backups).

The cluster step reads each node's state first: a healthy cluster is left alone; a cluster with
no primary (first deploy, or every node stopped) is bootstrapped from the node whose grastate says
safe_to_bootstrap, else the most advanced one; then the others start and join one at a time."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass

from osa_aio.errors import OsaAioError
from osa_aio.haproxy import BackendUp, HaService
from osa_aio.roles.base import Check, Role
from osa_aio.roles.context import Context
from osa_aio.steps import (DAEMON_RELOAD, PENDING_DIR, Command, Directory, FileContent, Packages, ServiceRunning,
                           SystemdReloaded, clear_pending, wait_for)
from osa_aio.templates import render
from osa_aio.transport import Runner

NAME = "galera"
GROUP = "galera_all"
CONTAINER_TYPE = "galera_container"
PACKAGES = ("mariadb-server", "galera-4", "mariadb-backup", "rsync", "socat")
DISABLED_SERVICES = ("mariadb",)  # started by the cluster step, never blindly at boot
CHECK_PORT = 9200
DATADIR = "/openstack/mysql"
SYNC_TIMEOUT = 300
REJOIN_UNIT = "osa-aio-galera-rejoin.service"
# The files operators can override (path, INI with sections): galera_my_cnf_overrides.
CONFIG_FILES = {"my.cnf": ("/etc/mysql/mariadb.conf.d/60-galera.cnf", True)}
DEFAULTS = {"cluster_name": "openstack_galera", "buffer_pool_size": "256M", "max_connections": 500,
            "gcache_size": "256M"}

HAPROXY = (HaService(
    name="galera", port=3306, group=GROUP, mode="tcp", check_port=CHECK_PORT, active_backup=True,
    balance="source",
    # Pooled database connections sit idle for long: neither side times them out early.
    frontend_options=("timeout client 5000s",), options=("timeout server 5000s",),
    check=("option httpchk", "http-check send meth HEAD uri /", "http-check expect status 200"),
    # A refused or failed connection marks the node down at once (observe ... on-error), so the
    # retries go to a backup instead of waiting for three failed checks.
    server_options="inter 3s fall 3 rise 2 on-marked-down shutdown-sessions observe layer4 error-limit 1 "
                   "on-error mark-down"),)


@dataclass(frozen=True)
class NodeState:
    name: str
    active: bool
    local_state: int | None  # 4 = Synced
    cluster_size: int
    primary: bool

    @property
    def synced(self) -> bool:
        return self.active and self.primary and self.local_state == 4


def node_state(name: str, runner: Runner) -> NodeState:
    active = runner.run(["systemctl", "is-active", "mariadb"], check=False).stdout.strip() == "active"
    if not active:
        return NodeState(name, False, None, 0, False)
    query = ("SHOW STATUS WHERE Variable_name IN "
             "('wsrep_local_state', 'wsrep_cluster_size', 'wsrep_cluster_status')")
    result = runner.run(["mariadb", "-N", "-B", "-e", query], check=False)
    values = dict(line.split("\t", 1) for line in result.stdout.splitlines() if "\t" in line)
    return NodeState(name, True, int(values.get("wsrep_local_state", 0) or 0),
                     int(values.get("wsrep_cluster_size", 0) or 0), values.get("wsrep_cluster_status") == "Primary")


def parse_grastate(text: str) -> dict:
    """grastate.dat -> {"uuid", "seqno", "safe_to_bootstrap"} (missing values are None)."""
    values = dict(re.findall(r"^(\w+):\s*(\S+)", text, re.M))
    seqno = values.get("seqno")
    safe = values.get("safe_to_bootstrap")
    return {"uuid": values.get("uuid"), "seqno": int(seqno) if seqno not in (None, "") else None,
            "safe_to_bootstrap": int(safe) if safe is not None else None}


def choose_bootstrap_node(grastates: dict[str, dict | None], recovered: dict[str, int] | None = None) -> str:
    """The node to start a new primary from: safe_to_bootstrap first, then the highest seqno
    (from grastate, else from galera_recovery), else (a new cluster) the first node."""
    names = list(grastates)
    safe = [n for n in names if (grastates[n] or {}).get("safe_to_bootstrap") == 1]
    if safe:
        return safe[0]
    positions = {n: (grastates[n] or {}).get("seqno") for n in names}
    positions = {n: (s if s is not None and s >= 0 else (recovered or {}).get(n, -1)) for n, s in positions.items()}
    best = max(positions.values(), default=-1)
    if best >= 0:
        return next(n for n in names if positions[n] == best)
    return names[0]


BOOTSTRAP_FLAG = "_WSREP_NEW_CLUSTER"  # galera_new_cluster's systemd environment variable
RESTART = "mariadb"  # the pending-restart name a changed galera config records


def node_flags(runner: Runner) -> set[str]:
    """"pending" when a config change awaits a restart; "flag" when galera_new_cluster's bootstrap
    flag was left in systemd's environment (a run killed during a bootstrap): the next restart of
    that node would start a second cluster."""
    script = (f'[ -e "$1" ] && echo pending; systemctl show-environment | grep -q "^{BOOTSTRAP_FLAG}=." '
              '&& echo flag; true')
    return set(runner.run(["sh", "-c", script, "galera-flags", f"{PENDING_DIR}/{RESTART}"]).stdout.split())


@dataclass
class ClusterRunning:
    """Every node Synced in one primary component of the full size; nodes whose config changed
    are restarted one at a time."""

    runners: dict[str, Runner]
    name = "cluster synced"

    def states(self) -> list[NodeState]:
        return [node_state(name, runner) for name, runner in self.runners.items()]

    def check(self) -> str | None:
        states = self.states()
        synced = [s for s in states if s.synced and s.cluster_size == len(states)]
        if len(synced) < len(states):
            return f"{len(synced)}/{len(states)} nodes synced"
        flags = {name: node_flags(runner) for name, runner in self.runners.items()}
        restart = sorted(name for name, found in flags.items() if "pending" in found)
        if restart:
            return f"config changed on {', '.join(restart)}: rolling restart"
        left = sorted(name for name, found in flags.items() if "flag" in found)
        return f"bootstrap flag left set on {', '.join(left)}" if left else None

    def apply(self) -> None:
        for runner in self.runners.values():
            runner.run(["systemctl", "unset-environment", BOOTSTRAP_FLAG])
        states = {s.name: s for s in self.states()}
        pending = {name for name, runner in self.runners.items() if "pending" in node_flags(runner)}
        done: set[str] = set()
        if not any(s.synced for s in states.values()):
            first = self._bootstrap_node()
            self._run(first, ["galera_new_cluster"])
            self._settled(first, done)
        # Nodes that are down join the primary component, one at a time. A node already joining
        # (started at boot by osa-aio-galera-rejoin: its unit is activating during IST/SST) is
        # left to finish: restarting it mid-transfer would abort the transfer under the donor.
        for name in self.runners:
            if name not in done and not states[name].synced:
                if self._joining(name):
                    self._settled(name, done)
                    continue
                self._run(name, ["systemctl", "restart", "mariadb"])
                self._settled(name, done)
        # Then a rolling restart of the nodes whose config changed: the others keep the cluster
        # up; a cluster of one restarts as a new cluster.
        for name in self.runners:
            if name in pending and name not in done:
                alone = len(self.runners) == 1
                self._run(name, ["galera_new_cluster"] if alone else ["systemctl", "restart", "mariadb"])
                self._settled(name, done)

    def _settled(self, name: str, done: set[str]) -> None:
        """Wait until ``name`` is synced; its config is now the running one."""
        self._wait_synced(name)
        clear_pending(self.runners[name], RESTART)
        done.add(name)

    def _bootstrap_node(self) -> str:
        grastates = {}
        for name, runner in self.runners.items():
            found = runner.run(["cat", f"{DATADIR}/grastate.dat"], check=False)
            grastates[name] = parse_grastate(found.stdout) if found.rc == 0 else None
        recovered = None
        if not any((g or {}).get("safe_to_bootstrap") == 1 or ((g or {}).get("seqno") or -1) >= 0
                   for g in grastates.values()) and any(grastates.values()):
            recovered = {name: self._recover(name) for name in self.runners if grastates[name]}
        chosen = choose_bootstrap_node(grastates, recovered)
        if grastates[chosen] is not None and grastates[chosen].get("safe_to_bootstrap") != 1:
            self._run(chosen, ["sed", "-i", "s/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/", f"{DATADIR}/grastate.dat"])
        return chosen

    def _recover(self, name: str) -> int:
        """The last committed seqno of a node that crashed (grastate says -1)."""
        out = self._run(name, ["galera_recovery"], check=False).stdout
        match = re.search(r"--wsrep_start_position=[0-9a-f-]+:(-?\d+)", out)
        return int(match.group(1)) if match else -1

    def _run(self, name: str, argv: list[str], check: bool = True):
        return self.runners[name].run(argv, check=check, timeout=SYNC_TIMEOUT)

    def _joining(self, name: str) -> bool:
        return self._run(name, ["systemctl", "is-active", "mariadb"], check=False).stdout.strip() == "activating"

    def _wait_synced(self, name: str) -> None:
        wait_for(lambda: None if node_state(name, self.runners[name]).synced else "not synced", SYNC_TIMEOUT, name,
                 f"see /openstack/log/{name}/ and `journalctl -u mariadb` in it")


# ---- databases for the services (used by the roles that need one) ------------------------------

SQL_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MONITORING_USER = "monitoring"  # `osa-aio verify` asks the cluster's status through the VIP as it


def sql_string(value: str) -> str:
    """A quoted SQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A database or user name, checked: only such names are ever put into SQL."""
    if not SQL_IDENTIFIER.match(name):
        raise OsaAioError(f"{name!r} is not a usable database or user name",
                          hint="use letters, digits and '_' (this is a bug in a role's declaration)")
    return name


def synced_member(ctx: Context) -> str:
    """A galera node that is Synced in the primary component now (not always the first node:
    a service's database is made wherever the cluster is healthy)."""
    members = ctx.members(GROUP)
    for name in members:
        if node_state(name, ctx.runner(name)).synced:
            return name
    raise OsaAioError("no galera node is synced", file=", ".join(members) or GROUP,
                      hint="`osa-aio run galera` brings the cluster back; `osa-aio verify` shows its state")


@dataclass
class DatabaseReady:
    """A database and a user with this password and all rights on it, on the galera cluster
    (``database`` None: a user with no rights but to log in, for monitoring)."""

    runner: Runner
    database: str | None
    user: str
    password: str

    @property
    def name(self) -> str:
        return f"database {self.database} and user {self.user}" if self.database else f"database user {self.user}"

    def check(self) -> str | None:
        user = sql_identifier(self.user)
        schema = (f"(SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name='{sql_identifier(self.database)}')"
                  if self.database else "1")
        sql = (f"SELECT {schema} + (SELECT COUNT(*) FROM mysql.user WHERE user='{user}' AND host='%' "
               f"AND authentication_string=PASSWORD(@pw));")
        out = self.runner.run(["mariadb", "-N", "-B"], stdin=f"SET @pw={sql_string(self.password)};\n{sql}\n").stdout.strip()
        return None if out == "2" else "missing or password differs"

    def apply(self) -> None:
        user = sql_identifier(self.user)
        sql = (f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY {sql_string(self.password)};\n"
               f"ALTER USER '{user}'@'%' IDENTIFIED BY {sql_string(self.password)};\n")
        if self.database:
            database = sql_identifier(self.database)
            sql = (f"CREATE DATABASE IF NOT EXISTS {database};\n{sql}"
                   f"GRANT ALL PRIVILEGES ON {database}.* TO '{user}'@'%';\n")
        self.runner.run(["mariadb"], stdin=sql)


def database_ready(ctx: Context, database: str, user: str, password: str) -> DatabaseReady:
    return DatabaseReady(ctx.runner(synced_member(ctx)), database, user, password)


@dataclass
class SchemaNotHalfMade:
    """No half-made schema: a run killed during the first db sync leaves tables but no finished
    migration (alembic records a revision only once one is done), and the sync cannot go on from
    there. Such a database holds no data yet, so it is dropped and made again for the sync."""

    runner: Runner
    database: str

    @property
    def name(self) -> str:
        return f"database {self.database} not half-made"

    def _query(self, sql: str) -> str:
        return self.runner.run(["mariadb", "-N", "-B", "-e", sql]).stdout.strip()

    def check(self) -> str | None:
        database = sql_identifier(self.database)
        tables = set(self._query("SELECT table_name FROM information_schema.tables "
                                 f"WHERE table_schema='{database}'").split())
        if not tables or "migrate_version" in tables:  # empty, or an old sqlalchemy-migrate schema
            return None
        if "alembic_version" in tables and self._query(f"SELECT COUNT(*) FROM {database}.alembic_version") != "0":
            return None
        return f"{len(tables)} tables but no finished migration: a db sync was interrupted"

    def apply(self) -> None:
        # The grants on the database stay (they are kept in mysql.db, not in the database).
        database = sql_identifier(self.database)
        self._query(f"DROP DATABASE {database}; CREATE DATABASE {database}")


def node_steps(ctx: Context, name: str, members: list[str]) -> list:
    """One node's packages, datadir, config, health check and rejoin at boot."""
    runner = ctx.runner(name)
    address = ctx.address(name)
    conf = FileContent(runner, CONFIG_FILES["my.cnf"][0], ctx.config_file(
        NAME, CONFIG_FILES, "my.cnf", name, render("galera/60-galera.cnf", address=address, name=name,
                                                    members=[ctx.address(m) for m in members], **ctx.settings(ROLE))),
        notify=(RESTART,))
    units = (DAEMON_RELOAD, "osa-aio-clustercheck.socket")
    peers = [ctx.address(m) for m in members if m != name]
    # mariadb-install-db works in a side directory that becomes the datadir only once complete,
    # so a run killed half way leaves no half-made datadir that looks done (any leftover is kept).
    init = (f'd={DATADIR}; rm -rf "$d.new" && mariadb-install-db --user=mysql --datadir="$d.new" --skip-test-db '
            f'--auth-root-authentication-method=socket >/dev/null && '
            f'{{ [ ! -e "$d" ] || rmdir "$d" 2>/dev/null || mv "$d" "$d.incomplete-$(date +%s)"; }} && mv "$d.new" "$d"')
    return [
        Packages(runner, PACKAGES),
        Command(runner, "datadir initialised", ["sh", "-c", init], unless=["test", "-d", f"{DATADIR}/mysql"]),
        Directory(runner, DATADIR, 0o750, "mysql"),
        conf,
        FileContent(runner, "/usr/local/bin/osa-aio-clustercheck", render("galera/osa-aio-clustercheck"), mode=0o755),
        FileContent(runner, "/etc/systemd/system/osa-aio-clustercheck.socket",
                    render("galera/osa-aio-clustercheck.socket", address=address, port=CHECK_PORT), notify=units),
        FileContent(runner, "/etc/systemd/system/osa-aio-clustercheck@.service",
                    render("galera/osa-aio-clustercheck@.service"), notify=units),
        FileContent(runner, "/usr/local/bin/osa-aio-galera-rejoin",
                    render("galera/osa-aio-galera-rejoin", peers=peers, port=CHECK_PORT), mode=0o755),
        FileContent(runner, f"/etc/systemd/system/{REJOIN_UNIT}", render(f"galera/{REJOIN_UNIT}"),
                    notify=(DAEMON_RELOAD,)),
        SystemdReloaded(runner),
        ServiceRunning(runner, "osa-aio-clustercheck.socket"),
        Command(runner, "joins its cluster at boot", ["systemctl", "enable", REJOIN_UNIT],
                unless=["systemctl", "is-enabled", "--quiet", REJOIN_UNIT]),
    ]


def deploy(ctx: Context) -> None:
    members = ctx.members(GROUP)
    targets = ctx.targets(GROUP)
    if not targets:
        return
    jobs = [(name, node_steps(ctx, name, members)) for name in targets]
    if not ctx.engine.run_parallel(NAME, jobs):
        return
    cluster = ClusterRunning({name: ctx.runner(name) for name in members})
    if ctx.engine.run(NAME, "cluster", [cluster, BackendUp(NAME)]):
        ctx.engine.run(NAME, "monitoring user", [database_ready(ctx, None, MONITORING_USER,
                                                                ctx.secret("galera_monitoring_password"))])


def check_cluster(ctx: Context) -> str:
    """Through the VIP as the monitoring user: the cluster's size; each node's clustercheck."""
    import pymysql  # noqa: PLC0415 - only `verify` needs the client

    members = ctx.members(GROUP)
    connection = pymysql.connect(host=ctx.internal_vip, port=3306, user=MONITORING_USER,
                                 password=ctx.secret("galera_monitoring_password"), connect_timeout=10)
    with connection, connection.cursor() as cursor:
        cursor.execute("SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'wsrep_local_state_comment')")
        status = dict(cursor.fetchall())
    synced = sum(1 for name in members if clustercheck(ctx.address(name)))
    if int(status.get("wsrep_cluster_size", 0)) != len(members) or synced != len(members):
        raise OsaAioError(f"cluster size {status.get('wsrep_cluster_size')}, {synced}/{len(members)} synced")
    return f"cluster size {len(members)}, {synced}/{len(members)} synced"


def clustercheck(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}:{CHECK_PORT}/", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


ROLE = Role(NAME, deploy, group=GROUP, container_type=CONTAINER_TYPE, packages=PACKAGES,
            disabled_services=DISABLED_SERVICES, secrets=("galera_monitoring_password",), haproxy=HAPROXY,
            config_files=CONFIG_FILES, defaults=DEFAULTS, start_order=10,
            profiles={"infra": 3, "identity": 3, "minimal": 1, "aio": 3, "compute": 3},
            checks=(Check("galera through the VIP", check_cluster),),
            log_units=("mariadb", "osa-aio-galera-rejoin", "osa-aio-clustercheck@*"))
