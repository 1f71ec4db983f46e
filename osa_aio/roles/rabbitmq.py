"""RabbitMQ: the rabbit containers as one cluster (shared Erlang cookie, join_cluster), the
guest user removed. Service roles add their own vhost and user (see ensure_user)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from osa_aio.errors import OsaAioError
from osa_aio.roles.base import Check, Role
from osa_aio.roles.context import Context
from osa_aio.secrets import Secret
from osa_aio.steps import (DAEMON_RELOAD, Command, Directory, FileContent, Packages, ServiceRunning, SystemdReloaded,
                           sh)
from osa_aio.templates import render
from osa_aio.transport import Runner

NAME = "rabbitmq"
GROUP = "rabbitmq_all"
CONTAINER_TYPE = "rabbit_mq_container"
PACKAGES = ("rabbitmq-server",)
DISABLED_SERVICES = ("rabbitmq-server",)  # first started by osa-aio, with the shared cookie
COOKIE = "/var/lib/rabbitmq/.erlang.cookie"
SECRETS = ("rabbitmq_cookie_token",)
CLUSTER_NAME = "openstack"
RESTART = ("rabbitmq-server",)  # what a changed config file calls for
# The files operators can override (path, INI with sections): rabbitmq_rabbitmq_conf_overrides
# takes {key: value} (rabbitmq.conf has no sections).
CONFIG_FILES = {"rabbitmq.conf": ("/etc/rabbitmq/rabbitmq.conf", False)}


def running_nodes(runner: Runner) -> list[str]:
    """The nodes this node sees running in its cluster ([] when it is down)."""
    result = runner.run(["rabbitmqctl", "cluster_status", "--formatter", "json"], check=False, timeout=120)
    if result.rc != 0:
        return []
    try:
        return sorted(json.loads(result.stdout).get("running_nodes", []))
    except ValueError:
        return []


@dataclass
class ClusterJoined:
    """Every node runs in one cluster with the seed (the node that already sees the most)."""

    runners: dict[str, Runner]
    name = "cluster joined"

    def _views(self) -> dict[str, list[str]]:
        # Each node asked at once: rabbitmqctl takes about half a second to start.
        with ThreadPoolExecutor(max_workers=len(self.runners) or 1) as pool:
            views = pool.map(running_nodes, self.runners.values())
        return dict(zip(self.runners, views))

    def check(self) -> str | None:
        views = self._views()
        wanted = sorted(f"rabbit@{name}" for name in self.runners)
        together = [n for n, view in views.items() if view == wanted]
        return None if len(together) == len(wanted) else f"{len(together)}/{len(wanted)} nodes clustered"

    def apply(self) -> None:
        views = self._views()
        seed = max(self.runners, key=lambda n: (len(views[n]), -list(self.runners).index(n)))
        for name, runner in self.runners.items():
            if name == seed or f"rabbit@{name}" in running_nodes(self.runners[seed]):
                continue
            for argv in (["stop_app"], ["reset"], ["join_cluster", f"rabbit@{seed}"], ["start_app"]):
                runner.run(["rabbitmqctl", *argv], timeout=300)


WEDGED_AFTER = 60  # seconds a node may spend starting before it counts as stuck


@dataclass
class NodeNotWedged:
    """A node that is not running while its peers run a cluster without it holds nothing the
    cluster needs: its database is made empty so it starts at once (the cluster step then joins
    it). Seen after a run killed while nodes joined: the node waited 5 minutes for its own tables,
    then failed. A node still starting is watched until it is up or WEDGED_AFTER s old; any node
    while no peer runs (the whole cluster is starting) is left alone."""

    node: str
    runners: dict[str, Runner]

    @property
    def name(self) -> str:
        return "rabbitmq node not stuck outside its cluster"

    def _state(self) -> tuple[str, float]:
        """The unit's state and for how many seconds it has been in it."""
        runner = self.runners[self.node]
        shown = runner.run(["systemctl", "show", "-p", "ActiveState", "-p", "StateChangeTimestampMonotonic",
                            "rabbitmq-server"], check=False).stdout
        unit = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
        uptime = float(runner.run(["cat", "/proc/uptime"]).stdout.split()[0])
        return unit.get("ActiveState", "unknown"), uptime - int(unit.get("StateChangeTimestampMonotonic") or 0) / 1e6

    def check(self) -> str | None:
        runner = self.runners[self.node]
        state, seconds = self._state()
        if state == "active":
            return None
        if runner.run(["test", "-d", "/var/lib/rabbitmq/mnesia"], check=False).rc != 0:
            return None  # never started (a new container): nothing to empty, no peer to ask
        # A node still starting is watched until it is up or has started for WEDGED_AFTER s: one
        # seen seconds after a start (the run before was killed just then) may be the stuck one.
        while state == "activating" and seconds < WEDGED_AFTER:
            time.sleep(min(5.0, WEDGED_AFTER - seconds))
            state, seconds = self._state()
        if state == "active":
            return None
        peers = [name for name in self.runners if name != self.node]
        with ThreadPoolExecutor(max_workers=len(peers) or 1) as pool:
            views = [view for view in pool.map(lambda n: running_nodes(self.runners[n]), peers) if view]
        if not views or any(f"rabbit@{self.node}" in view for view in views):
            return None
        return f"{state}, and its peers run without it"

    def apply(self) -> None:
        self.runners[self.node].run(sh("systemctl stop rabbitmq-server; rm -rf /var/lib/rabbitmq/mnesia"), timeout=300)


def running_member(ctx: Context) -> str:
    """A rabbit node that runs in the cluster now (not always the first one)."""
    members = ctx.members(GROUP)
    for name in members:
        if f"rabbit@{name}" in running_nodes(ctx.runner(name)):
            return name
    raise OsaAioError("no rabbitmq node is running", file=", ".join(members) or GROUP,
                      hint="`osa-aio run rabbitmq` brings the cluster back")


@dataclass
class UserReady:
    """A vhost, and a user with this password and full rights on it (a service's queue). Read
    with two rabbitmqctl calls side by side (each one starts an Erlang VM: about half a second)."""

    runner: Runner
    vhost: str
    user: str
    password: Secret

    @property
    def name(self) -> str:
        return f"rabbitmq vhost {self.vhost} and user {self.user}"

    def _missing(self) -> list[str]:
        # Both asked at once: each call is an Erlang VM starting, and a no-op run waits for them.
        with ThreadPoolExecutor(max_workers=2) as pool:
            listing = pool.submit(self.runner.run, ["rabbitmqctl", "list_permissions", "--silent", "-p", self.vhost],
                                  check=False)
            login = pool.submit(self.runner.run, ["rabbitmqctl", "authenticate_user", self.user, self.password],
                                check=False)
            found, authenticated = listing.result(), login.result().rc == 0
        if found.rc != 0:
            return ["vhost", "user", "password", "permissions"]
        rights = {line.split("\t")[0]: line.split("\t")[1:] for line in found.stdout.splitlines() if "\t" in line}
        missing = [] if rights.get(self.user) == [".*", ".*", ".*"] else ["permissions"]
        if not authenticated:
            missing.insert(0, "user or password")
        return missing

    def check(self) -> str | None:
        missing = self._missing()
        return f"missing {', '.join(missing)}" if missing else None

    def apply(self) -> None:
        # Made without listing first (each rabbitmqctl call is an Erlang VM: seconds on a busy host):
        # adding a vhost or user that exists fails harmlessly; set_permissions fails if neither could be made.
        self.runner.run(["rabbitmqctl", "add_vhost", self.vhost], check=False)
        if self.runner.run(["rabbitmqctl", "add_user", self.user, self.password], check=False).rc != 0:
            self.runner.run(["rabbitmqctl", "change_password", self.user, self.password])
        self.runner.run(["rabbitmqctl", "set_permissions", "-p", self.vhost, self.user, ".*", ".*", ".*"])


def ensure_user(ctx: Context, vhost: str, user: str, password: str) -> list:
    """The step (on a running rabbit node) for a service's vhost and user with full rights on it."""
    return [UserReady(ctx.runner(running_member(ctx)), vhost, user, Secret(password))]


def deploy(ctx: Context) -> None:
    members = ctx.members(GROUP)
    targets = ctx.targets(GROUP)
    if not targets:
        return
    cookie = ctx.secret("rabbitmq_cookie_token")
    jobs = []
    for name in targets:
        runner = ctx.runner(name)
        files = [
            FileContent(runner, COOKIE, cookie, mode=0o400, owner="rabbitmq", notify=RESTART),
            FileContent(runner, "/etc/rabbitmq/rabbitmq-env.conf",
                        render("rabbitmq/rabbitmq-env.conf", address=ctx.address(name)), notify=RESTART),
            FileContent(runner, CONFIG_FILES["rabbitmq.conf"][0], ctx.config_file(
                NAME, CONFIG_FILES, "rabbitmq.conf", name,
                render("rabbitmq/rabbitmq.conf", address=ctx.address(name), cluster_name=CLUSTER_NAME)),
                notify=RESTART),
        ]
        epmd = FileContent(runner, "/etc/systemd/system/epmd.socket.d/osa-aio.conf",
                           render("rabbitmq/epmd.socket.conf", address=ctx.address(name)),
                           notify=(DAEMON_RELOAD, *RESTART))
        jobs.append((name, [
            Packages(runner, PACKAGES), *files,
            Directory(runner, "/etc/systemd/system/epmd.socket.d"), epmd, SystemdReloaded(runner),
            # epmd's socket takes new addresses only when nothing holds it: rabbit and epmd stop first.
            Command(runner, "epmd on its addresses", ["sh", "-c", "systemctl stop rabbitmq-server epmd.service "
                                                                  "epmd.socket && systemctl start epmd.socket"],
                    unless=sh("ss -ltnH 'sport = :4369' | grep -qF -- \"$1:4369\" "
                              "&& ! ss -ltnH 'sport = :4369' | grep -qF '*:4369'", ctx.address(name))),
            NodeNotWedged(name, {n: ctx.runner(n) for n in ctx.members(GROUP)}),
            ServiceRunning(runner, "rabbitmq-server"),
        ]))
    if not ctx.engine.run_parallel(NAME, jobs):
        return
    first = ctx.runner(members[0])
    ctx.engine.run(NAME, "cluster", [
        ClusterJoined({name: ctx.runner(name) for name in members}),
        Command(first, "guest user removed", ["rabbitmqctl", "delete_user", "guest"],
                unless=["sh", "-c", "! rabbitmqctl list_users --silent | cut -f1 | grep -qx guest"]),
    ])


def check_cluster(ctx: Context) -> str:
    members = ctx.members(GROUP)
    running = running_nodes(ctx.runner(members[0]))
    if len(running) != len(members):
        raise OsaAioError(f"{len(running)}/{len(members)} nodes running")
    return f"{len(running)}/{len(members)} nodes running"


ROLE = Role(NAME, deploy, group=GROUP, container_type=CONTAINER_TYPE, packages=PACKAGES,
            disabled_services=DISABLED_SERVICES, secrets=SECRETS, config_files=CONFIG_FILES, start_order=20,
            profiles={"infra": 3, "identity": 3, "minimal": 1, "aio": 3, "compute": 3},
            checks=(Check("rabbitmq cluster", check_cluster),),
            log_units=("rabbitmq-server",), log_files=("/var/log/rabbitmq/*.log",))
