"""`osa-aio verify`: every service answers, asked through the VIP where it is load-balanced. The
rows are the roles' checks (osa_aio.roles.base.Check), in stage order; a service a profile leaves
out has no containers and no rows."""

from __future__ import annotations

from dataclasses import dataclass

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


def run_checks(ctx: Context) -> list[CheckResult]:
    results = []
    for _role, check in checks(ctx):
        try:
            results.append(CheckResult(check.name, True, check.probe(ctx)))
        except Exception as exc:  # noqa: BLE001 - every failure is reported as a row, not a crash
            results.append(CheckResult(check.name, False, " ".join(str(exc).split())[:200]))
    return results
