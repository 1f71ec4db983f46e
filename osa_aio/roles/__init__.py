"""Roles: one module per service, each declaring one ``ROLE`` (osa_aio.roles.base.Role). The
order (and which roles run side by side) is here and nowhere else; everything else that lists
services (images, wheels, HAProxy, verify, dev, profiles, start order) reads ROLES."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from osa_aio.roles import (compute, galera, glance, haproxy, heat, horizon, keystone, memcached, neutron, nova,
                           ovn_northd, placement, rabbitmq, repo, utility)
from osa_aio.roles.base import Role
from osa_aio.steps import INSTALLER_PACKAGE

# Stages run one after the other; the roles inside a stage run in parallel.
STAGES: list[list[Role]] = [
    [repo.ROLE],
    [haproxy.ROLE],
    [galera.ROLE, rabbitmq.ROLE, memcached.ROLE, ovn_northd.ROLE],
    [keystone.ROLE],
    [glance.ROLE, placement.ROLE, heat.ROLE, horizon.ROLE, nova.ROLE, neutron.ROLE],
    [compute.ROLE],
    [utility.ROLE],
]
ROLES: dict[str, Role] = {role.name: role for stage in STAGES for role in stage}
# From this stage on the repo serves the wheels through the VIP: the installs of it and of every
# later stage (Role.install) begin then, INSTALL_WORKERS at a time, and run beside the stages.
INSTALLS_FROM = next(index for index, stage in enumerate(STAGES) if galera.ROLE in stage)
INSTALL_WORKERS = 2

# Built into the repo too, so a dev checkout builds (build isolation) with no public index; and
# the containers' venv installer.
TOOLS = ("pbr", "setuptools", "wheel", INSTALLER_PACKAGE)


def role_for_type(container_type: str) -> Role | None:
    return next((role for role in ROLES.values() if role.container_type == container_type), None)


def haproxy_services(user_variables: Mapping[str, Any] | None = None) -> tuple:
    """Every frontend the roles declare; a role with a `processes` knob (its uWSGI workers) gets
    that many requests at once per server (HaService.maxconn)."""
    services = []
    for role in ROLES.values():
        workers = role.settings(user_variables or {}).get("processes")
        services += [dataclasses.replace(service, maxconn=workers) if workers else service for service in role.haproxy]
    return tuple(services)


def wheel_sets(container_types: set[str] | None = None) -> dict[str, tuple[str, ...]]:
    """service -> the packages of its venv, each set resolved on its own (osa_aio.repo_build);
    the utility container's client venv also gets every role's client packages. The build tools
    and the installer are a set of their own. ``container_types``: only the roles with containers
    of these types (the inventory's: a profile without nova builds no wheels for it)."""
    clients = tuple(pkg for role in ROLES.values() for pkg in role.client_packages)
    sets = {}
    for role in ROLES.values():
        if container_types is not None and role.container_type not in container_types:
            continue
        packages = role.python_packages + (clients if role is utility.ROLE else ())
        if packages:
            sets[role.name] = tuple(dict.fromkeys(packages))
    sets["tools"] = TOOLS
    return sets


def used_secrets() -> tuple[str, ...]:
    """Every user_secrets.yml key a role uses."""
    return tuple(dict.fromkeys(key for role in ROLES.values() for key in role.secrets))
