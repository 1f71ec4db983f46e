"""`osa-aio run`: inventory, images, containers, then the roles stage by stage."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from itertools import zip_longest
from pathlib import Path

from osa_aio import devstate, overrides
from osa_aio.config import load_config
from osa_aio.containers import container_spec, container_steps, ordered
from osa_aio.engine import Engine
from osa_aio.errors import HostError, UnknownTarget
from osa_aio.host import BridgePresent, host_fleet, primary_address
from osa_aio.hosts import Fleet
from osa_aio.lxchost import LOCAL
from osa_aio.image import (TypeImageBuilt, current_base, find_type_image, images_in_use, remove_unused_bases,
                           remove_unused_type_images)
from osa_aio.inventory.update import update
from osa_aio.inventory.query import containers as inventory_containers
from osa_aio.inventory.naming import normalize
from osa_aio.inventory.query import resolve
from osa_aio.inventory.store import save_inventory
from osa_aio.preflight import PreflightFailed, check_lxc, check_root
from osa_aio.repo_build import WheelsBuilt
from osa_aio.roles import INSTALL_WORKERS, INSTALLS_FROM, ROLES, STAGES, haproxy_services, role_for_type, wheel_sets
from osa_aio.roles.base import Role
from osa_aio.roles.context import Context
from osa_aio.transport import LocalRunner, Runner


def select_roles(services: list[str] | None) -> list:
    if not services:
        return list(ROLES.values())
    unknown = [s for s in services if s not in ROLES]
    if unknown:
        raise UnknownTarget(f"unknown service {unknown[0]!r}", hint=f"services are: {', '.join(ROLES)}")
    return [ROLES[s] for s in services]


def deploy(config_dir: Path, engine: Engine, limit: str | None = None, services: list[str] | None = None,
           containers_only: bool = False) -> list[str]:
    """Bring containers and services to the config; return the containers acted on.
    ``containers_only``: the containers alone, not the roles (`osa-aio dev` mounting a checkout).

    A container running a developer's checkout (`osa-aio dev`) is left so, and said
    (`osa-aio run --reset-dev` undoes the checkouts first: osa_aio.dev.reset_all).
    """
    runner = LocalRunner()
    roles = select_roles(services)
    checkouts = devstate.load()
    for checkout in checkouts.values():
        engine.console.print(f"note: {checkout.container} runs a dev checkout of {checkout.service} from "
                             f"{checkout.source}; left as it is (`osa-aio run --reset-dev` or "
                             f"`osa-aio dev {checkout.service} --off` undoes it)", markup=False, soft_wrap=True)
    with engine.phase("inventory"):
        config = load_config(config_dir, host_address=primary_address(runner))
        config.check_vips()
        found = update(config, config_dir, save=False)
        inventory = found.inventory
        for warning in found.warnings:
            engine.console.print(f"warning: {warning}", markup=False, soft_wrap=True)
        wanted_types = {role.container_type for role in roles if role.container_type}
        selected = [row.name for row in inventory_containers(inventory)
                    if services is None or row.container_type in wanted_types]
        if limit:
            chosen = set(resolve(inventory, limit))
            selected = [name for name in selected if name in chosen]
        names = ordered(inventory, selected)
        # A role whose type has no container in this inventory (a smaller profile) has nothing to do.
        present = _container_types(inventory)
        roles = [role for role in roles if role.container_type is None or role.container_type in present]
        sets = wheel_sets(present)
        _check_secrets(config, roles)
        _check_overrides(config, inventory)
        fleet = host_fleet(config, runner)
        _check_hosts(fleet, inventory, names)
        if not engine.check_mode:
            save_inventory(config_dir, inventory)

    with engine.phase("images"):
        # Each host holds the images of its own containers' types.
        image_steps: dict[tuple[str, str], TypeImageBuilt] = {}
        jobs = []
        for host in fleet.hosts.values():
            types = sorted({container_spec(inventory, n).container_type for n in names
                            if fleet.of(inventory, n) is host})
            steps = type_images(types, host.runner)
            image_steps.update({(host.name, ctype): step for ctype, step in steps.items()})
            where = f" on {host.name}" if host.remote else ""
            jobs += [(f"image {', '.join(step.container_types)}{where}", [step])
                     for step in {id(s): s for s in steps.values()}.values()]
        # Every service's wheels, before any container changes: a requirements conflict stops here.
        # Taken in turns with the images: a wheel set mostly waits on PyPI, an image on apt and dpkg.
        if any(role.name == "repo" for role in roles):
            wheels = [(f"wheels {service}", [WheelsBuilt(service, packages)])
                      for service, packages in sets.items()]
            jobs = [job for pair in zip_longest(jobs, wheels) for job in pair if job is not None]
        engine.run_parallel("images", jobs, workers=6)
    if engine.failed:
        return names

    with engine.phase("containers"):
        for name in names:
            ctype = container_spec(inventory, name).container_type
            host = fleet.of(inventory, name)
            step = image_steps.get((host.name, ctype))
            image = find_type_image(step.digest(), host.runner) if step else None
            engine.run(ctype, name, container_steps(inventory, name, image, devstate.mounts_for(name, checkouts), host))
    if engine.failed or containers_only:
        return names
    if engine.check_mode and engine.totals()["changed"]:
        engine.console.print("check mode: containers would change first; the services are not checked",
                             markup=False)
        return names

    ctx = Context(config, inventory, engine, limit=set(names) if limit else None,
                  wheel_sets=sets, haproxy_services=haproxy_services(config.user_variables), host=runner, fleet=fleet)
    _run_stages(ctx, roles)
    if not engine.failed and not engine.check_mode:
        for host in fleet.hosts.values():
            _collect_garbage(host.runner)
    return names


def _run_stages(ctx: Context, roles: list[Role]) -> None:
    """The stages one after the other, the roles of a stage side by side. Once the repo is served
    (INSTALLS_FROM), every later role's install runs ahead in the background, in stage order, so
    venvs build while galera, rabbitmq and keystone come up; a role's deploy waits for its install."""
    installs: dict[Role, Future] = {}
    with ThreadPoolExecutor(max_workers=INSTALL_WORKERS) as ahead:
        try:
            for index, stage in enumerate(STAGES):
                if index == INSTALLS_FROM:
                    installs = {role: ahead.submit(_install_role, role, ctx) for later in STAGES[index:]
                                for role in later if role in roles and role.install}
                chosen = [role for role in stage if role in roles]
                if not chosen:
                    continue
                with ctx.engine.phase(" + ".join(role.name for role in chosen)):
                    with ThreadPoolExecutor(max_workers=len(chosen)) as pool:
                        for future in [pool.submit(_deploy_role, role, ctx, installs.get(role), len(chosen) > 1)
                                       for role in chosen]:
                            future.result()
                if ctx.engine.failed:
                    return
        finally:
            for future in installs.values():  # a failed stage: what has not begun never will
                future.cancel()


def _install_role(role: Role, ctx: Context) -> bool:
    with ctx.engine.phase(f"install {role.name} (ahead)"):
        return role.install(ctx)


def _deploy_role(role: Role, ctx: Context, install: Future | None, side_by_side: bool) -> None:
    """One role's install (its own, or the one ahead: waited for) and deploy; beside others in its
    stage, its own time is a phase too ("- glance")."""
    if install is None and role.install is not None:
        with ctx.engine.phase(f"install {role.name}"):
            installed = role.install(ctx)
    else:
        installed = install is None or install.result()
    if not installed:
        return
    if not side_by_side:
        role.deploy(ctx)
        return
    with ctx.engine.phase(f"- {role.name}"):
        role.deploy(ctx)


def _container_types(inventory: dict) -> set[str]:
    return {row.container_type for row in inventory_containers(inventory)}


def _check_secrets(config, roles: list[Role]) -> None:
    """Every secret the chosen roles use is set, before anything changes."""
    for role in roles:
        for key in role.secrets:
            config.secret(key)


def _check_overrides(config, inventory: dict) -> None:
    """Every config override names a known service, file and container, before anything changes."""
    services = {}
    for row in inventory_containers(inventory):
        role = role_for_type(row.container_type)
        if role is not None:
            services[normalize(row.name)] = role.name
    overrides.check(config, overrides.catalogue(ROLES.values()), services)


def type_images(container_types, runner: Runner = LOCAL) -> dict[str, TypeImageBuilt]:
    """container type -> the image step of its package set (on the runner's host); types with the
    same set share one."""
    by_content: dict[tuple, list[str]] = {}
    for ctype in container_types:
        role = role_for_type(ctype)
        if role is not None and role.packages:
            by_content.setdefault((role.packages, role.disabled_services), []).append(ctype)
    result = {}
    for (packages, disabled), ctypes in by_content.items():
        step = TypeImageBuilt(tuple(ctypes), packages, disabled, runner=runner)
        result.update({ctype: step for ctype in ctypes})
    return result


def _check_hosts(fleet: Fleet, inventory: dict, names: list[str]) -> None:
    """This machine can run LXC; every host the run acts on has its base image and bridges."""
    problems = check_root() + check_lxc()
    if problems:
        raise PreflightFailed(problems)
    for host in fleet.hosts.values():
        mine = [n for n in names if fleet.of(inventory, n) is host]
        if not mine:
            continue
        if current_base(host.runner) is None:
            raise HostError("there is no base image", file=host.name, hint="run `osa-aio bootstrap` first")
        bridges = {n.bridge for name in mine for n in container_spec(inventory, name).networks}
        missing = sorted(b for b in bridges if BridgePresent(host.runner, b).check() in ("absent", "down"))
        if missing:
            raise HostError(f"bridge {missing[0]} is not up", file=host.name, hint="run `osa-aio bootstrap` first")


def _collect_garbage(runner: Runner) -> None:
    """Images on a host that no container is cloned from and that are not current are dead weight
    (type images are full copies, so they do not hold their base image)."""
    in_use = images_in_use(runner)
    steps = type_images((role.container_type for role in ROLES.values() if role.container_type), runner)
    current = {find_type_image(step.digest(), runner) for step in steps.values()}
    remove_unused_type_images(current - {None}, in_use, runner)
    remove_unused_bases(in_use, runner)
