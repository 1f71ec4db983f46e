"""`osa-aio verify`: every service answers, asked through the VIP where it is load-balanced. The
rows are the roles' checks (osa_aio.roles.base.Check), in stage order; a service a profile leaves
out has no containers and no rows."""

from __future__ import annotations

import json
from dataclasses import dataclass

from osa_aio import lxchost
from osa_aio.containers import ordered
from osa_aio.errors import HostError
from osa_aio.roles import ROLES
from osa_aio.roles.base import Check, Role
from osa_aio.roles.context import Context


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def checks(ctx: Context) -> list[tuple[Role, Check]]:
    """The rows this deployment has: every check of every role with containers (or on the host)."""
    return [(role, check) for role in ROLES.values() if role.container_type is None or ctx.members(role.group)
            for check in role.checks]


def host_rows(ctx: Context) -> list[tuple[str, object]]:
    """With more than one host, a row per host: reached, its containers running, its bridges joined."""
    hosts = list(ctx.fleet.hosts.values())
    return [(f"host {host.name}", host) for host in hosts] if len(hosts) > 1 else []


def _host_probe(ctx: Context, host) -> str:
    mine = [name for name in ordered(ctx.inventory) if ctx.host_of(name) is host]
    states = lxchost.states(host.runner)
    stopped = [name for name in mine if states.get(name, ("ABSENT",))[0] != "RUNNING"]
    if stopped:
        raise HostError(f"{len(stopped)} of {len(mine)} containers not running: {', '.join(stopped[:3])}")
    links = json.loads(host.runner.run(["ip", "-j", "-d", "link", "show", "type", "vxlan"]).stdout or "[]")
    joined = sorted(link.get("master", "") for link in links if link["ifname"].startswith("vx-") and
                    "UP" in link.get("flags", []))
    bridges = sorted({network.bridge for network in ctx.config.provider_networks})
    if joined != bridges:
        raise HostError(f"bridges joined: {', '.join(joined) or 'none'} of {', '.join(bridges)}",
                        hint="run `osa-aio bootstrap`")
    return f"{len(mine)} containers running; {', '.join(bridges)} joined"


def run_checks(ctx: Context) -> list[CheckResult]:
    results = []
    for name, host in host_rows(ctx):
        try:
            results.append(CheckResult(name, True, _host_probe(ctx, host)))
        except Exception as exc:  # noqa: BLE001 - every failure is reported as a row, not a crash
            results.append(CheckResult(name, False, " ".join(str(exc).split())[:200]))
    for _role, check in checks(ctx):
        try:
            results.append(CheckResult(check.name, True, check.probe(ctx)))
        except Exception as exc:  # noqa: BLE001 - every failure is reported as a row, not a crash
            results.append(CheckResult(check.name, False, " ".join(str(exc).split())[:200]))
    return results
