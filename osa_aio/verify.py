"""`osa-aio verify`: every service answers, asked through the VIP where it is load-balanced."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable

import pymysql

from osa_aio.haproxy import admin_command, server_states
from osa_aio.roles import galera, memcached, rabbitmq
from osa_aio.roles.context import REPO_PORT, Context


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def run_checks(ctx: Context) -> list[CheckResult]:
    checks: list[tuple[str, Callable[[Context], str], str]] = [
        ("keystone token through the VIP", check_token, "keystone_all"),
        ("keystone endpoints", check_endpoints, "keystone_all"),
        ("galera through the VIP", check_galera, galera.GROUP),
        ("rabbitmq cluster", check_rabbitmq, rabbitmq.GROUP),
        ("memcached", check_memcached, memcached.GROUP),
        ("repo through the VIP", check_repo, "repo_all"),
        ("haproxy backends", check_haproxy, ""),
    ]
    results = []
    # A service the profile leaves out (osa_aio.profiles) has no containers and nothing to check.
    for name, check, _group in [c for c in checks if not c[2] or ctx.members(c[2])]:
        try:
            results.append(CheckResult(name, True, check(ctx)))
        except Exception as exc:  # noqa: BLE001 - every failure is reported as a row, not a crash
            results.append(CheckResult(name, False, " ".join(str(exc).split())[:200]))
    return results


class CheckFailed(Exception):
    pass


def _token(ctx: Context) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": ctx.secret("keystone_auth_admin_password")}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    request = urllib.request.Request(f"http://{ctx.internal_vip}:5000/v3/auth/tokens", method="POST",
                                     data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            token = response.headers.get("X-Subject-Token")
    except urllib.error.HTTPError as exc:
        raise CheckFailed(f"HTTP {exc.code} from keystone") from None
    if not token:
        raise CheckFailed("no token in keystone's answer")
    return token


def check_token(ctx: Context) -> str:
    _token(ctx)
    return "admin token issued"


def check_endpoints(ctx: Context) -> str:
    request = urllib.request.Request(f"http://{ctx.internal_vip}:5000/v3/endpoints",
                                     headers={"X-Auth-Token": _token(ctx)})
    with urllib.request.urlopen(request, timeout=10) as response:
        endpoints = json.loads(response.read())["endpoints"]
    interfaces = sorted(e["interface"] for e in endpoints)
    if interfaces != ["admin", "internal", "public"]:
        raise CheckFailed(f"endpoints are {interfaces}")
    return "3 identity endpoints"


def check_galera(ctx: Context) -> str:
    members = ctx.members(galera.GROUP)
    if not ctx.members("keystone_all"):  # no keystone account: MariaDB's greeting through the VIP
        with socket.create_connection((ctx.internal_vip, 3306), timeout=10) as sock:
            if b"MariaDB" not in sock.recv(256):
                raise CheckFailed("no MariaDB greeting through the VIP")
        synced = sum(1 for name in members if _clustercheck(ctx.address(name)))
        if synced != len(members):
            raise CheckFailed(f"{synced}/{len(members)} synced")
        return f"{synced}/{len(members)} synced"
    connection = pymysql.connect(host=ctx.internal_vip, port=3306, user="keystone",
                                 password=ctx.secret("keystone_container_mysql_password"), database="keystone",
                                 connect_timeout=10)
    with connection, connection.cursor() as cursor:
        cursor.execute("SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'wsrep_local_state_comment')")
        status = dict(cursor.fetchall())
    synced = sum(1 for name in members if _clustercheck(ctx.address(name)))
    if int(status.get("wsrep_cluster_size", 0)) != len(members) or synced != len(members):
        raise CheckFailed(f"cluster size {status.get('wsrep_cluster_size')}, {synced}/{len(members)} synced")
    return f"cluster size {len(members)}, {synced}/{len(members)} synced"


def _clustercheck(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}:{galera.CHECK_PORT}/", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def check_rabbitmq(ctx: Context) -> str:
    members = ctx.members(rabbitmq.GROUP)
    running = rabbitmq.running_nodes(ctx.runner(members[0]))
    if len(running) != len(members):
        raise CheckFailed(f"{len(running)}/{len(members)} nodes running")
    return f"{len(running)}/{len(members)} nodes running"


def check_memcached(ctx: Context) -> str:
    versions = []
    for name in ctx.members(memcached.GROUP):
        with socket.create_connection((ctx.address(name), 11211), timeout=5) as sock:
            sock.sendall(b"version\r\n")
            answer = sock.recv(128).decode().strip()
        if not answer.startswith("VERSION"):
            raise CheckFailed(f"{name} answered {answer!r}")
        versions.append(answer.split()[1])
    return f"{len(versions)} answering (version {', '.join(sorted(set(versions)))})"


def check_repo(ctx: Context) -> str:
    with urllib.request.urlopen(f"http://{ctx.internal_vip}:{REPO_PORT}/upper-constraints.txt", timeout=10) as resp:
        lines = resp.read().decode().count("\n")
    return f"serves upper-constraints ({lines} pins)"


def check_haproxy(ctx: Context) -> str:
    states = server_states(admin_command("show stat"))
    down = [f"{s.backend}/{s.server} {s.status}" for s in states if not s.status.startswith("UP") and not s.admin_down]
    if down:
        raise CheckFailed("; ".join(down))
    drained = [f"{s.backend}/{s.server}" for s in states if s.admin_down]
    up = len(states) - len(drained)
    return f"{up} servers UP" + (f", drained on purpose: {', '.join(drained)}" if drained else "")

