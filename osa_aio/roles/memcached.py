"""Memcached: the API services' cache, listening on the management network only."""

from __future__ import annotations

import socket

from osa_aio.errors import OsaAioError
from osa_aio.roles.base import Check, Role
from osa_aio.roles.context import Context
from osa_aio.steps import FileContent, Packages, ServiceRunning
from osa_aio.templates import render

NAME = "memcached"
GROUP = "memcached_all"
CONTAINER_TYPE = "memcached_container"
PACKAGES = ("memcached",)
DISABLED_SERVICES = ()
DEFAULTS = {"memory_mb": 128, "max_connections": 1024}


def deploy(ctx: Context) -> None:
    values = ctx.settings(ROLE)
    jobs = []
    for name in ctx.targets(GROUP):
        runner = ctx.runner(name)
        conf = FileContent(runner, "/etc/memcached.conf",
                           render("memcached/memcached.conf", address=ctx.address(name), **values),
                           notify=("memcached",))
        jobs.append((name, [Packages(runner, PACKAGES), conf,
                            ServiceRunning(runner, "memcached")]))
    ctx.engine.run_parallel(NAME, jobs)


def check_answers(ctx: Context) -> str:
    versions = []
    for name in ctx.members(GROUP):
        with socket.create_connection((ctx.address(name), 11211), timeout=5) as sock:
            sock.sendall(b"version\r\n")
            answer = sock.recv(128).decode().strip()
        if not answer.startswith("VERSION"):
            raise OsaAioError(f"{name} answered {answer!r}")
        versions.append(answer.split()[1])
    return f"{len(versions)} answering (version {', '.join(sorted(set(versions)))})"


ROLE = Role(NAME, deploy, group=GROUP, container_type=CONTAINER_TYPE, packages=PACKAGES, defaults=DEFAULTS,
            start_order=30, profiles={"infra": 1, "identity": 1, "minimal": 1, "aio": 1, "compute": 1},
            checks=(Check("memcached", check_answers),),
            log_units=("memcached",), log_files=("/var/log/memcached.log",))
