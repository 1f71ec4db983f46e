"""The private package repository: wheels built on the host, served by nginx on port 8181,
behind HAProxy on the internal VIP. Containers install Python packages from it only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from osa_aio.containers import DATA_ROOT
from osa_aio.haproxy import HaService
from osa_aio.repo_build import WheelsBuilt
from osa_aio.roles.context import REPO_PORT, Context
from osa_aio.steps import Command, FileContent, HttpAnswers, Packages, ServiceRunning
from osa_aio.templates import render
from osa_aio.transport import LocalRunner

NAME = "repo"
GROUP = "repo_all"
CONTAINER_TYPE = "repo_container"
PACKAGES = ("nginx",)
DISABLED_SERVICES = ("nginx",)
PYTHON_PACKAGES: tuple[str, ...] = ()

HAPROXY = (HaService(
    name="repo", port=REPO_PORT, group=GROUP, mode="http", balance="source",
    check=("option httpchk", "http-check send meth GET uri /upper-constraints.txt", "http-check expect status 200")),)


@dataclass
class RepoSynced:
    """The repo container's served folder (its /openstack bind mount, seen from the host) holds
    exactly the cached wheels and constraints."""

    source: Path
    target: Path
    name = "wheels published"

    def _listing(self, folder: Path) -> list[tuple[str, int]]:
        return sorted((p.name, p.stat().st_size) for p in folder.iterdir()) if folder.is_dir() else []

    def check(self) -> str | None:
        return None if self._listing(self.source) == self._listing(self.target) else "differs from the cache"

    def apply(self) -> None:
        self.target.mkdir(parents=True, exist_ok=True)
        LocalRunner().run(["rsync", "-a", "--delete", f"{self.source}/", f"{self.target}/"])


def deploy(ctx: Context) -> None:
    wheels = WheelsBuilt(ctx.python_packages)
    if not ctx.engine.run(NAME, "localhost", [wheels]):
        return
    jobs = []
    for name in ctx.targets(GROUP):
        runner = ctx.runner(name)
        site = FileContent(runner, "/etc/nginx/sites-enabled/osa-aio-repo.conf",
                           render("repo/osa-aio-repo.conf", address=ctx.address(name), port=REPO_PORT),
                           notify=("nginx",))
        jobs.append((name, [
            Packages(runner, PACKAGES),
            RepoSynced(wheels.target, DATA_ROOT / name / "repo"),
            Command(runner, "nginx default site removed", ["rm", "-f", "/etc/nginx/sites-enabled/default"],
                    unless=["test", "!", "-e", "/etc/nginx/sites-enabled/default"]),
            site,
            ServiceRunning(runner, "nginx"),
            HttpAnswers(f"http://{ctx.address(name)}:{REPO_PORT}/upper-constraints.txt"),
        ]))
    ctx.engine.run_parallel(NAME, jobs)
