"""`osa-aio rebuild`: destroy and recreate containers one at a time with the same names, addresses
and MACs, re-running only their role. HAProxy drains each before it goes down and enables it once
it is healthy; data under /openstack/<name> is kept unless asked; the last healthy member of a
cluster is never taken down."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from osa_aio.containers import container_spec, destroy_container
from osa_aio.deploy import deploy
from osa_aio.engine import Engine
from osa_aio.errors import OsaAioError
from osa_aio.haproxy import ServerUp, admin_command, server_states, set_server_state
from osa_aio.inventory.query import resolve
from osa_aio.roles import galera, rabbitmq, role_for_type
from osa_aio.roles.context import Context, saved_context

DRAIN_WAIT = 10  # seconds for a drained server's sessions to finish


class RebuildRefused(OsaAioError):
    """Rebuilding would take down the last healthy member of a cluster."""


@dataclass(frozen=True)
class Rebuilt:
    name: str
    seconds: float


def plan(config_dir: Path, target: str) -> tuple[Context, list[str]]:
    ctx = saved_context(config_dir)
    return ctx, resolve(ctx.inventory, target)


def healthy_peers(ctx: Context, name: str) -> list[str]:
    """The other members of this container's cluster that are healthy now."""
    ctype = container_spec(ctx.inventory, name).container_type
    role = role_for_type(ctype)
    peers = [n for n in ctx.members(role.group) if n != name] if role else []
    if role is galera.ROLE:
        return [n for n in peers if galera.node_state(n, ctx.runner(n)).synced]
    if role is rabbitmq.ROLE:
        running = rabbitmq.running_nodes(ctx.runner(peers[0])) if peers else []
        return [n for n in peers if f"rabbit@{n}" in running]
    if role.haproxy:
        up = {s.server for s in server_states(admin_command("show stat")) if s.status.startswith("UP")}
        return [n for n in peers if n in up]
    return peers


def refuse_if_last(ctx: Context, name: str) -> None:
    role = role_for_type(container_spec(ctx.inventory, name).container_type)
    if role is None or len(ctx.members(role.group)) < 2:
        return  # not a cluster: rebuilding it is an outage the user asked for
    if not healthy_peers(ctx, name):
        raise RebuildRefused(f"{name} is the last healthy member of the {role.name} cluster", file=name,
                             hint="bring another member back first (`osa-aio run`), then rebuild")


def rebuild(config_dir: Path, target: str, engine: Engine, wipe_data: bool, say: Callable[[str], None]) -> list[Rebuilt]:
    """Rebuild the containers ``target`` names, one at a time."""
    ctx, names = plan(config_dir, target)
    done = []
    for name in names:
        started = time.monotonic()
        refuse_if_last(ctx, name)
        role = role_for_type(container_spec(ctx.inventory, name).container_type)
        in_haproxy = _in_haproxy(name)
        # A service's only container has no peer to drain to: HAProxy's health check takes it out
        # and back (in maintenance, the deploy's own check through the VIP could never pass).
        balanced = in_haproxy and not (role and ctx.members(role.group) == [name])
        if balanced:
            set_server_state(name, "drain")
            say(f"{name}: drained in HAProxy")
            _wait_sessions_done(name)
            set_server_state(name, "maint")
        elif in_haproxy:
            set_server_state(name, "enable")  # ends a maintenance an earlier failed rebuild left
        if role is galera.ROLE and ctx.running(name):
            ctx.runner(name).run(["systemctl", "stop", "mariadb"], check=False, timeout=300)
        destroy_container(name, keep_data=not wipe_data, runner=ctx.host_of(name).runner)
        say(f"{name}: destroyed ({'data wiped' if wipe_data else 'data kept'}), recreating")
        deploy(config_dir, engine, limit=name, services=[role.name] if role else None)
        if engine.failed:
            raise OsaAioError(f"the rebuild of {name} failed", file=name, hint="see the lines above; it stays "
                                                                              "in maintenance in HAProxy")
        if balanced:
            set_server_state(name, "enable")
            for backend in sorted({s.backend for s in server_states(admin_command("show stat")) if s.server == name}):
                engine.run("rebuild", name, [ServerUp(backend, name)])
            say(f"{name}: enabled in HAProxy")
        done.append(Rebuilt(name, time.monotonic() - started))
    return done


def _in_haproxy(name: str) -> bool:
    try:
        return any(s.server == name for s in server_states(admin_command("show stat")))
    except OsaAioError:
        return False


def _wait_sessions_done(name: str) -> None:
    """Give a drained server's open sessions up to DRAIN_WAIT seconds to finish."""
    deadline = time.monotonic() + DRAIN_WAIT
    while time.monotonic() < deadline:
        if not any(s.sessions for s in server_states(admin_command("show stat")) if s.server == name):
            return
        time.sleep(0.5)
