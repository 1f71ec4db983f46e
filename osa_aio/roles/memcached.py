"""Memcached: the API services' cache, listening on the management network only."""

from __future__ import annotations

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
    values = {key: ctx.config.user_variables.get(f"memcached_{key}", value) for key, value in DEFAULTS.items()}
    jobs = []
    for name in ctx.targets(GROUP):
        runner = ctx.runner(name)
        conf = FileContent(runner, "/etc/memcached.conf",
                           render("memcached/memcached.conf", address=ctx.address(name), **values),
                           notify=("memcached",))
        jobs.append((name, [Packages(runner, PACKAGES), conf,
                            ServiceRunning(runner, "memcached")]))
    ctx.engine.run_parallel(NAME, jobs)
