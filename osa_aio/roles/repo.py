"""The private package repository: wheels built on the host, served by nginx on port 8181,
behind HAProxy on the internal VIP. Containers install Python packages from it only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import urllib.request

from osa_aio.containers import DATA_ROOT
from osa_aio.haproxy import HaService
from osa_aio.repo_build import MARKER as WHEELS_MARKER
from osa_aio.repo_build import WheelsBuilt
from osa_aio.roles.base import Check, Role
from osa_aio.roles.context import REPO_PORT, Context
from osa_aio.steps import Command, FileContent, HttpAnswers, Packages, ServiceRunning
from osa_aio.templates import render
from osa_aio.transport import LocalRunner

NAME = "repo"
GROUP = "repo_all"
CONTAINER_TYPE = "repo_container"
PACKAGES = ("nginx",)
DISABLED_SERVICES = ("nginx",)

HAPROXY = (HaService(
    name="repo", port=REPO_PORT, group=GROUP, mode="http", balance="source",
    check=("option httpchk", "http-check send meth GET uri /upper-constraints.txt", "http-check expect status 200")),)


@dataclass
class RepoSynced:
    """The repo container's served folder (its /openstack bind mount, seen from the host) holds
    exactly the wheels of every service's set (one folder: the same pins give the same files)."""

    sources: tuple[Path, ...]
    target: Path
    name = "wheels published"

    def _listing(self, folders) -> list[tuple[str, int]]:
        # Each set's build marker is its own: not published.
        return sorted({(p.name, p.stat().st_size) for folder in folders if folder.is_dir()
                       for p in folder.iterdir() if p.name != WHEELS_MARKER})

    def check(self) -> str | None:
        return None if self._listing(self.sources) == self._listing([self.target]) else "differs from the cache"

    def apply(self) -> None:
        self.target.mkdir(parents=True, exist_ok=True)
        LocalRunner().run(["rsync", "-a", "--delete", f"--exclude={WHEELS_MARKER}",
                           *[f"{source}/" for source in self.sources], f"{self.target}/"])


def deploy(ctx: Context) -> None:
    sets = [WheelsBuilt(service, packages) for service, packages in ctx.wheel_sets.items()]
    if not ctx.engine.run(NAME, "localhost", sets):
        return
    jobs = []
    for name in ctx.targets(GROUP):
        runner = ctx.runner(name)
        site = FileContent(runner, "/etc/nginx/sites-enabled/osa-aio-repo.conf",
                           render("repo/osa-aio-repo.conf", address=ctx.address(name), port=REPO_PORT),
                           notify=("nginx",))
        jobs.append((name, [
            Packages(runner, PACKAGES),
            RepoSynced(tuple(wheels.target for wheels in sets), DATA_ROOT / name / "repo"),
            Command(runner, "nginx default site removed", ["rm", "-f", "/etc/nginx/sites-enabled/default"],
                    unless=["test", "!", "-e", "/etc/nginx/sites-enabled/default"]),
            site,
            ServiceRunning(runner, "nginx"),
            HttpAnswers(f"http://{ctx.address(name)}:{REPO_PORT}/upper-constraints.txt"),
        ]))
    ctx.engine.run_parallel(NAME, jobs)


def check_served(ctx: Context) -> str:
    with urllib.request.urlopen(f"http://{ctx.internal_vip}:{REPO_PORT}/upper-constraints.txt", timeout=10) as resp:
        lines = resp.read().decode().count("\n")
    return f"serves upper-constraints ({lines} pins)"


ROLE = Role(NAME, deploy, group=GROUP, container_type=CONTAINER_TYPE, packages=PACKAGES,
            disabled_services=DISABLED_SERVICES, haproxy=HAPROXY, start_order=40,
            profiles={"infra": 1, "identity": 1, "minimal": 1, "aio": 1, "compute": 1},
            checks=(Check("repo through the VIP", check_served),),
            log_units=("nginx",), log_files=("/var/log/nginx/*.log",))
