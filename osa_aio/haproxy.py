"""HAProxy's config: a pure function of the inventory and the services the roles declare."""

from __future__ import annotations

from dataclasses import dataclass, field

from osa_aio.containers import ordered
from osa_aio.inventory.query import group_members
from osa_aio.templates import render

STATS_PORT = 1936
ADMIN_SOCKET = "/run/haproxy/admin.sock"


@dataclass(frozen=True)
class HaService:
    """One load-balanced service: a frontend on the VIPs, a backend of a group's containers."""

    name: str
    port: int
    group: str
    mode: str = "http"
    check: tuple[str, ...] = ()      # the backend's health-check lines
    check_port: int | None = None    # check another port than the service's (galera: 9200)
    active_backup: bool = False      # first server active, the others backups (galera)
    balance: str = "leastconn"
    external: bool = False           # also listen on the external VIP
    options: tuple[str, ...] = ()    # extra backend lines (timeouts ...)
    server_options: str = "inter 2s fall 2 rise 2"
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Server:
    name: str
    address: str
    backup: bool


def backends(inventory: dict, service: HaService) -> list[Server]:
    hostvars = inventory["_meta"]["hostvars"]
    names = ordered(inventory, sorted(group_members(inventory, service.group)))
    return [Server(name, hostvars[name]["management_address"], service.active_backup and index > 0)
            for index, name in enumerate(names)]


def render_haproxy_cfg(inventory: dict, services: list[HaService], internal_vip: str, external_vip: str) -> str:
    """haproxy.cfg for these services; the same inputs always give the same text."""
    entries = []
    for service in sorted(services, key=lambda s: s.name):
        binds = [internal_vip] + ([external_vip] if service.external and external_vip != internal_vip else [])
        entries.append({"service": service, "binds": binds, "servers": backends(inventory, service)})
    return render("haproxy/haproxy.cfg", entries=entries, stats_port=STATS_PORT, admin_socket=ADMIN_SOCKET)
