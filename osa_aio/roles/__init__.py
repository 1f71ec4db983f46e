"""Roles: one module per service, each a plain list of idempotent steps with one entry point,
``deploy(ctx)``. The order (and which roles run side by side) is here and nowhere else."""

from __future__ import annotations

from types import ModuleType

from osa_aio.roles import galera, haproxy, keystone, memcached, rabbitmq, repo, utility

# Stages run one after the other; the roles inside a stage run in parallel.
STAGES: list[list[ModuleType]] = [
    [repo],
    [haproxy],
    [galera, rabbitmq, memcached],
    [keystone],
    [utility],
]
ROLES: dict[str, ModuleType] = {role.NAME: role for stage in STAGES for role in stage}


def role_for_type(container_type: str) -> ModuleType | None:
    return next((role for role in ROLES.values() if getattr(role, "CONTAINER_TYPE", None) == container_type), None)


def haproxy_services() -> tuple:
    """Every frontend the roles declare (their HAPROXY)."""
    return tuple(service for role in ROLES.values() for service in getattr(role, "HAPROXY", ()))


# Built into the repo too, so a dev checkout builds (pip's build isolation) with no public index.
BUILD_TOOLS = ("pbr", "setuptools", "wheel")


def python_packages() -> tuple[str, ...]:
    """Everything the repo must hold: the roles' Python packages and the build tools."""
    wanted = {pkg for role in ROLES.values() for pkg in getattr(role, "PYTHON_PACKAGES", ())}
    return tuple(sorted(wanted | set(BUILD_TOOLS)))
