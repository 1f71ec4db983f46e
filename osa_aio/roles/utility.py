"""The utility container: the openstack client in a venv from the repo, and admin credentials
in /root/openrc and /root/.config/openstack/clouds.yaml."""

from __future__ import annotations

from osa_aio.roles.base import Role
from osa_aio.roles.catalog import REGION
from osa_aio.roles.context import Context
from osa_aio.steps import Command, Directory, FileContent, Packages
from osa_aio.templates import render

NAME = "utility"
GROUP = "utility_all"
CONTAINER_TYPE = "utility_container"
PACKAGES = ("python3-venv",)
DISABLED_SERVICES = ()
PYTHON_PACKAGES = ("python-openstackclient",)  # and every role's client_packages (roles.wheel_sets)
VENV = "/openstack/venvs/utility"
SECRETS = ("keystone_auth_admin_password",)


def openrc(ctx: Context) -> str:
    """The admin openrc (it holds the admin password): keystone through the internal VIP."""
    return render("utility/openrc", vip=ctx.internal_vip, password=ctx.secret("keystone_auth_admin_password"),
                  region=REGION)


def install(ctx: Context) -> bool:
    """All of it needs only the repo: it runs ahead, beside the stages before it (osa_aio.deploy)."""
    jobs = []
    for name in ctx.targets(GROUP):
        runner = ctx.runner(name)
        jobs.append((name, [
            Packages(runner, PACKAGES),
            *ctx.venv_steps(name, VENV, ctx.wheel_sets[NAME], compile=False),  # root runs the client
            Command(runner, "openstack on the PATH", ["ln", "-sf", f"{VENV}/bin/openstack", "/usr/local/bin/openstack"],
                    unless=["test", "-L", "/usr/local/bin/openstack"]),
            FileContent(runner, "/root/openrc", openrc(ctx), mode=0o600),
            Directory(runner, "/root/.config/openstack", 0o700),
            FileContent(runner, "/root/.config/openstack/clouds.yaml", render(
                "utility/clouds.yaml", vip=ctx.internal_vip, password=ctx.secret("keystone_auth_admin_password"),
                region=REGION), mode=0o600),
        ]))
    return ctx.engine.run_parallel(NAME, jobs)


def deploy(ctx: Context) -> None:
    """Nothing is left once installed: the client reads keystone only when a person runs it."""


ROLE = Role(NAME, deploy, install=install, group=GROUP, container_type=CONTAINER_TYPE, packages=PACKAGES,
            python_packages=PYTHON_PACKAGES, secrets=SECRETS, start_order=90, venv=VENV,
            profiles={"infra": 1, "identity": 1, "minimal": 1, "aio": 1, "compute": 1})
