"""HAProxy's config: a pure function of the inventory and the services the roles declare."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

from osa_aio.containers import ordered
from osa_aio.errors import HostError
from osa_aio.steps import wait_for
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
    options: tuple[str, ...] = ()    # extra backend lines (timeout server ...)
    frontend_options: tuple[str, ...] = ()  # extra frontend lines (timeout client ...)
    server_options: str = "inter 2s fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down"
    # Requests one server takes at once (its uWSGI workers); the rest wait in HAProxy's queue, so a
    # busy server's health checks are not stuck behind requests in its listen queue.
    maxconn: int | None = None
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


def frontends(inventory: dict, services, internal_vip: str, external_vip: str) -> list[tuple]:
    """(service, bind addresses, servers) of each frontend, by name; a service with no containers
    (a profile leaves it out) has none."""
    result = []
    for service in sorted(services, key=lambda s: s.name):
        binds = [internal_vip] + ([external_vip] if service.external and external_vip != internal_vip else [])
        servers = backends(inventory, service)
        if servers:
            result.append((service, binds, servers))
    return result


def render_haproxy_cfg(inventory: dict, services: list[HaService], internal_vip: str, external_vip: str) -> str:
    """haproxy.cfg for these services; the same inputs always give the same text."""
    entries = [{"service": service, "binds": binds, "servers": servers}
               for service, binds, servers in frontends(inventory, services, internal_vip, external_vip)]
    return render("haproxy/haproxy.cfg", entries=entries, stats_port=STATS_PORT, admin_socket=ADMIN_SOCKET,
                  state_file=SERVER_STATE_FILE)


def admin_command(command: str, socket_path: str = ADMIN_SOCKET, timeout: float = 5.0) -> str:
    """Send one command to HAProxy's admin socket and return its answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(socket_path)
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError as exc:
        raise HostError(f"HAProxy's admin socket does not answer ({exc.strerror or exc})", file=socket_path,
                        hint="is HAProxy running? `osa-aio run haproxy` starts it") from None
    return b"".join(chunks).decode()


@dataclass(frozen=True)
class ServerState:
    backend: str
    server: str
    status: str  # UP, DOWN, MAINT, DRAIN, no check ...
    backup: bool
    sessions: int = 0

    @property
    def admin_down(self) -> bool:
        """Drained or in maintenance on purpose (osa-aio haproxy drain, rebuild, dev)."""
        return self.status.startswith(("MAINT", "DRAIN"))


def server_states(stat_csv: str) -> list[ServerState]:
    """Parse `show stat` CSV into the servers of every backend (frontends and totals left out)."""
    lines = stat_csv.strip().splitlines()
    if not lines:
        return []
    header = lines[0].lstrip("# ").split(",")
    states = []
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("svname") in ("FRONTEND", "BACKEND") or not row.get("pxname", "").endswith("_back"):
            continue
        states.append(ServerState(row["pxname"].removesuffix("_back"), row["svname"], row.get("status", ""),
                                  row.get("bck") == "1", int(row.get("scur") or 0)))
    return states


@dataclass
class BackendUp:
    """HAProxy sees every server of a backend UP (it checks every few seconds, so this waits)."""

    backend: str
    wait: float = 60

    @property
    def name(self) -> str:
        return f"haproxy sees {self.backend} up"

    def _down(self) -> list[str]:
        """Servers not UP, except those drained or in maintenance on purpose."""
        states = [s for s in server_states(admin_command("show stat")) if s.backend == self.backend]
        if not states:
            return ["no servers"]
        return [f"{s.server} {s.status}" for s in states if not s.status.startswith("UP") and not s.admin_down]

    def check(self) -> str | None:
        down = self._down()
        return f"not yet: {', '.join(down)}" if down else None

    def apply(self) -> None:
        wait_for(self.check, self.wait, f"haproxy backend {self.backend}",
                 "`osa-aio verify` and the service's log tell why")


SERVER_STATE_FILE = "/var/lib/haproxy/osa-aio-server-state"
STATES = {"drain": "drain", "enable": "ready", "maint": "maint"}


def set_server_state(server: str, state: str) -> list[str]:
    """Drain, enable or put in maintenance one server in every backend that has it; returns those
    backends. The state survives reloads (the server-state file is saved before each one)."""
    backends = sorted({s.backend for s in server_states(admin_command("show stat")) if s.server == server})
    if not backends:
        raise HostError(f"HAProxy has no server named {server}", file=ADMIN_SOCKET,
                        hint="`osa-aio haproxy status` lists them")
    for backend in backends:
        answer = admin_command(f"set server {backend}_back/{server} state {STATES[state]}").strip()
        if answer:
            raise HostError(f"HAProxy refused: {answer}", file=f"{backend}_back/{server}")
    return backends


def mark_healthy(server: str, backends: list[str], healthy: bool = True) -> None:
    """Tell HAProxy a server is healthy (osa-aio has just seen it answer), so it takes requests at
    once instead of after its next checks; or not healthy (it was restarted behind HAProxy's
    back), so it takes none until its checks pass again. The checks go on as before."""
    for backend in backends:
        answer = admin_command(f"set server {backend}_back/{server} health {'up' if healthy else 'down'}").strip()
        if answer:
            raise HostError(f"HAProxy refused: {answer}", file=f"{backend}_back/{server}")


def save_server_state() -> None:
    """Write HAProxy's server states where the next process loads them (drains survive a reload)."""
    path = Path(SERVER_STATE_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(admin_command("show servers state"))


@dataclass
class ServerUp:
    """HAProxy sees one server UP (after a restart or leaving maintenance)."""

    backend: str
    server: str
    wait: float = 60

    @property
    def name(self) -> str:
        return f"haproxy sees {self.server} up"

    def check(self) -> str | None:
        states = [s.status for s in server_states(admin_command("show stat"))
                  if s.backend == self.backend and s.server == self.server]
        # "UP 1/2": up but one check failed on its way down; only a plain UP is up.
        return None if states and states[0] == "UP" else f"is {states[0] if states else 'unknown'}"

    def apply(self) -> None:
        wait_for(self.check, self.wait, f"haproxy {self.backend}/{self.server}", "see `osa-aio haproxy status`")
