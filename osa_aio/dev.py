"""`osa-aio dev SERVICE --source PATH`: run a developer's checkout inside the service's container.

The checkout is bind-mounted at /opt/dev/<service>, installed editable into the service's venv
(dependencies from the private repo), the database synced and the service restarted on it; the
service's other containers are drained in HAProxy so requests through the VIP reach the dev code.
`--off` puts the released code back."""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Callable

from osa_aio import devstate
from osa_aio.deploy import deploy
from osa_aio.devstate import DevCheckout
from osa_aio.engine import Engine
from osa_aio.errors import ConfigError, OsaAioError, UnknownTarget
from osa_aio.haproxy import ServerUp, admin_command, mark_healthy, server_states, set_server_state
from osa_aio.inventory.query import resolve
from osa_aio.roles import ROLES
from osa_aio.roles.base import DevSpec, Role
from osa_aio.roles.context import Context, saved_context
from osa_aio.roles.openstack import build_marker
from osa_aio.steps import HttpAnswers, InstallerPresent, ServiceSteady, installer_argv
from osa_aio.transport import LxcAttachRunner, Runner

Say = Callable[[str], None]


def dev_role(service: str) -> Role:
    role = ROLES.get(service)
    if role is None:
        raise UnknownTarget(f"unknown service {service!r}", key="SERVICE", hint=f"services are: {', '.join(ROLES)}")
    if role.dev is None:
        supported = ", ".join(name for name, r in ROLES.items() if r.dev is not None)
        raise UnknownTarget(f"{service} has no dev mode", key="SERVICE", hint=f"dev mode exists for: {supported}")
    return role


def checkout_problem(source: Path, package: str, module: str | None = None) -> str | None:
    """Why ``source`` is not a checkout of distribution ``package`` with its ``module`` package
    directory (the same name unless given), None when it is one."""
    module = module or package
    if not source.exists():
        return "does not exist"
    if not source.is_dir():
        return "is not a directory"
    if re.search(r"\s", str(source)):
        return "has white space in its path (LXC mount entries cannot hold it)"
    names = set()
    setup_cfg = source / "setup.cfg"
    if setup_cfg.exists():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(setup_cfg)
            names.add(parser.get("metadata", "name", fallback="").strip().lower())
        except configparser.Error:
            pass
    pyproject = source / "pyproject.toml"
    if pyproject.exists():
        match = re.search(r'^name\s*=\s*"([^"]+)"', pyproject.read_text(), re.M)
        if match:
            names.add(match.group(1).strip().lower())
    if package not in names or not (source / module / "__init__.py").exists():
        return f"is not a checkout of {package} (no setup.cfg/pyproject.toml naming it with a {module}/ package)"
    return None


def _container(ctx: Context, role: Role, container: str | None) -> str:
    members = ctx.members(role.group)
    if not members:
        raise UnknownTarget(f"the inventory has no {role.name} containers", hint="run `osa-aio run` first")
    here = [m for m in members if not ctx.host_of(m).remote]
    if container is None:
        if not here:
            raise UnknownTarget(f"no {role.name} container is on this machine", key="--container",
                                hint="a dev checkout reaches containers on this machine only")
        return here[0]
    names = resolve(ctx.inventory, container)
    if len(names) != 1 or names[0] not in members:
        raise UnknownTarget(f"{container!r} is not one {role.name} container", key="--container",
                            hint=f"{role.name} containers: {', '.join(members)}")
    if names[0] not in here:
        raise UnknownTarget(f"{names[0]} is on host {ctx.host_of(names[0]).name}", key="--container",
                            hint=f"a dev checkout reaches containers on this machine only: {', '.join(here) or 'none'}")
    return names[0]


def _install(ctx: Context, venv: str, editable: str, allow_index: bool) -> list[str]:
    """The checkout installed editable into a venv of the service, its dependencies from the
    private repo (and, with --allow-index, PyPI too)."""
    return installer_argv(f"{venv}/bin/python", ctx.repo_links, ctx.repo_constraints,
                          *([] if allow_index else ["--no-index"]), "--editable", editable)


def _put_in(ctx: Context, role: Role, name: str, venv: str, checkout: DevCheckout, allow_index: bool) -> None:
    runner = ctx.runner(name)
    if not ctx.engine.run(role.name, name, [InstallerPresent(runner, ctx.repo_links)]):
        raise OsaAioError("the installer (uv) could not be fetched from the repo", file=name,
                          hint="see the lines above; `osa-aio run repo` publishes it")
    runner.run(_install(ctx, venv, checkout.mount_point, allow_index), timeout=1800,
               env={"PBR_VERSION": role.dev.version})


def _released_back(ctx: Context, dev: DevSpec, runner: Runner, venv: str) -> bool:
    """The released wheel of the distribution reinstalled over the checkout's editable install."""
    argv = installer_argv(f"{venv}/bin/python", ctx.repo_links, ctx.repo_constraints, "--no-index",
                          "--compile-bytecode", "--reinstall-package", dev.distribution,
                          f"{dev.distribution}=={dev.version}")
    return runner.run(argv, check=False, timeout=900).rc == 0


def _restart_also(role: Role, checkout: DevCheckout, engine: Engine) -> None:
    """The units of the other containers running the checkout (nova-compute), each staying up."""
    for also in role.dev.also:
        for name in checkout.also:
            runner = LxcAttachRunner(name)
            units = [u for u in also.units if runner.run(["systemctl", "cat", u], check=False).rc == 0]
            if not units:
                continue
            runner.run(["systemctl", "restart", *units], timeout=300)
            if not engine.run(role.name, name, [ServiceSteady(runner, unit) for unit in units]):
                raise OsaAioError(f"{', '.join(units)} on {name} does not stay up on the checkout", file=name,
                                  hint=f"`osa-aio logs {also.role} --container {name}`")


def _restart_service(ctx: Context, role: Role, name: str, engine: Engine) -> None:
    """Run the service's build commands, restart every unit of the service on ``name`` out of
    HAProxy's rotation, and put it back once each app answers and HAProxy sees it UP (so no
    request meets it half-started)."""
    dev = role.dev
    runner = ctx.runner(name)
    for command in dev.build:  # from the checkout (horizon's static files), while it still serves
        runner.run(list(command), timeout=900)
    set_server_state(name, "maint")
    runner.run(["systemctl", "restart", *dev.units], timeout=300)
    answers = [*[HttpAnswers(url.format(address=ctx.address(name)), wait=120) for _, url in dev.health],
               *[ServiceSteady(runner, unit) for unit in dev.exclusive]]  # a daemon that dies on the code says so
    if not engine.run(role.name, name, answers):
        raise OsaAioError(f"{role.name} on {name} does not answer or does not stay up", file=name,
                          hint=f"see /openstack/log/{name}/ or try `osa-aio dev {role.name} --foreground`")
    backends = set_server_state(name, "enable")
    mark_healthy(name, backends)  # it answers: no need to wait for HAProxy's next checks
    engine.run(role.name, "vip", [ServerUp(backend, name) for backend in dev.backends])


def start(config_dir: Path, service: str, source: Path, container: str | None, allow_index: bool,
          engine: Engine, say: Say) -> str:
    """Swap the service in one container to the checkout; returns the container's name."""
    role = dev_role(service)
    dev = role.dev
    source = source.expanduser().resolve() if source.exists() else source
    problem = checkout_problem(source, dev.distribution, dev.module)
    if problem:
        raise ConfigError(f"{source} {problem}", key="--source", hint=f"give a checkout of {dev.distribution}")
    ctx = saved_context(config_dir, engine)
    name = _container(ctx, role, container)
    checkouts = devstate.load()
    current = checkouts.get(service)
    if current and current.container != name:
        raise OsaAioError(f"{current.container} already runs a dev checkout of {service}",
                          hint=f"`osa-aio dev {service} --off` first")
    also = tuple(m for spec in dev.also for m in ctx.members(spec.group))
    # The checkout is a folder on this machine: containers of other hosts keep the released code.
    away = [m for m in also if ctx.host_of(m).remote]
    if away:
        say(f"note: {', '.join(away)} on other hosts keep the released {dev.distribution} (a dev checkout "
            "reaches containers on this machine only)")
        also = tuple(m for m in also if m not in away)
    checkouts[service] = DevCheckout(service, name, str(source), also)
    devstate.save(checkouts)
    checkout = checkouts[service]
    say(f"{', '.join(checkout.containers)}: mounting {source} at {checkout.mount_point}")
    # The mount (a restart of the container); the service comes back at boot, its role is not needed.
    for target in checkout.containers:
        deploy(config_dir, engine, limit=target, services=[_owner(role, target, ctx)],
               containers_only=True)
        if engine.failed:
            raise OsaAioError("the container could not take the checkout", file=target, hint="see the lines above")
    say(f"{name}: installing the checkout into {dev.venv}")
    _put_in(ctx, role, name, dev.venv, checkout, allow_index)
    runner = ctx.runner(name)
    for command in dev.sync:
        runner.run(list(command), timeout=900)
    _restart_service(ctx, role, name, engine)
    for spec in dev.also:
        for target in (m for m in ctx.members(spec.group) if m in checkout.also):  # this machine's
            say(f"{target}: installing the checkout into {spec.venv}, restarting {', '.join(spec.units)}")
            _put_in(ctx, role, target, spec.venv, checkout, allow_index)
    _restart_also(role, checkout, engine)
    others = [m for m in ctx.members(role.group) if m != name]
    for other in others:
        set_server_state(other, "drain")
        if dev.exclusive:
            ctx.runner(other).run(["systemctl", "stop", *dev.exclusive], timeout=120)
    if others:
        say(f"drained {', '.join(others)} in HAProxy: requests through the VIP reach the dev code on {name}")
    if others and dev.exclusive:
        say(f"stopped {', '.join(dev.exclusive)} on {', '.join(others)}: its queue's work reaches the dev code")
    return name


def restart(config_dir: Path, service: str, engine: Engine, say: Say) -> str:
    role = dev_role(service)
    checkout = _current(service)
    ctx = saved_context(config_dir, engine)
    _restart_service(ctx, role, checkout.container, engine)
    _restart_also(role, checkout, engine)
    say(f"{', '.join(checkout.containers)}: {service} restarted on {checkout.source}")
    return checkout.container


def foreground(config_dir: Path, service: str, say: Say) -> int:
    """Stop the service's first app and run it in this terminal with its log (HAProxy's health
    checks left out); Ctrl-C stops it and the unit starts again."""
    role = dev_role(service)
    dev = role.dev
    if dev.foreground is None:
        raise UnknownTarget(f"{service} has no foreground mode", key="--foreground")
    checkout = _current(service)
    ctx = saved_context(config_dir)
    runner = LxcAttachRunner(checkout.container)
    unit = dev.units[0]
    runner.run(["systemctl", "stop", unit])
    say(f"{checkout.container}: {unit} in the foreground (Ctrl-C to stop)")
    try:
        return runner.interactive(dev.foreground(ctx, checkout.container))
    except KeyboardInterrupt:
        return 130
    finally:
        runner.run(["systemctl", "start", unit], check=False)


def stop(config_dir: Path, service: str, engine: Engine, say: Say) -> str:
    """Back to the released code: the released distribution put back in each venv (the rest of the
    venv is the released one: the checkout's dependencies came from the same repo and constraints),
    checkout unmounted, every backend enabled."""
    role = dev_role(service)
    checkout = _current(service)
    ctx = saved_context(config_dir, engine)
    forget_checkouts({service: checkout}, engine, ctx)
    deploy(config_dir, engine, limit=checkout.container, services=[service])
    for name in checkout.also:  # each other container through the role that owns it
        deploy(config_dir, engine, limit=name, services=[_owner(role, name, ctx)])
    if engine.failed:
        raise OsaAioError("the released code could not be put back", file=checkout.container,
                          hint="see the lines above; `osa-aio rebuild` starts the container afresh")
    say(f"{', '.join(checkout.containers)}: back on the released {role.dev.distribution}; every backend enabled")
    return checkout.container


def forget_checkouts(checkouts: dict[str, DevCheckout], engine: Engine, ctx: Context | None = None) -> None:
    """Undo dev checkouts' traces in their containers and HAProxy. With ``ctx`` (the repo), the
    released distribution is reinstalled in each venv; without (or if that fails) the venv loses
    its digest and the next run makes it afresh."""
    state = devstate.load()
    for service, checkout in checkouts.items():
        role = dev_role(service)
        venvs = [(checkout.container, role.dev.venv),
                 *[(name, also.venv) for also in role.dev.also for name in checkout.also]]
        for name, venv in venvs:
            runner = LxcAttachRunner(name)
            if not runner.container.running:
                continue
            if role.dev.build:  # what the build made came from the checkout: the next run builds again
                runner.run(["rm", "-f", build_marker(role.name)])
            if ctx is None or not _released_back(ctx, role.dev, runner, venv):
                runner.run(["rm", "-f", f"{venv}/osa-aio-venv.digest"])
        for member in _members(role.dev):
            try:
                set_server_state(member, "enable")
            except OsaAioError:
                pass  # not in HAProxy (any more)
            other = LxcAttachRunner(member)
            if role.dev.exclusive and member != checkout.container and other.container.running:
                other.run(["systemctl", "start", *role.dev.exclusive], check=False, timeout=120)
        state.pop(service, None)
    devstate.save(state)


def reset_all(engine: Engine) -> None:
    """`osa-aio run --reset-dev`: every dev checkout undone; the run that follows reinstalls."""
    checkouts = devstate.load()
    if checkouts:
        forget_checkouts(checkouts, engine)


def _owner(role: Role, name: str, ctx: Context) -> str:
    """The role whose container ``name`` is: the service's own, or one of its DevSpec.also."""
    return next((also.role for also in role.dev.also if name in ctx.members(also.group)), role.name)


def _members(dev: DevSpec) -> list[str]:
    """The servers of the service's HAProxy backends (to enable them all again)."""
    try:
        return sorted({s.server for s in server_states(admin_command("show stat")) if s.backend in dev.backends})
    except OsaAioError:
        return []


def _current(service: str) -> DevCheckout:
    checkout = devstate.load().get(service)
    if checkout is None:
        raise OsaAioError(f"no container runs a dev checkout of {service}",
                          hint=f"start one with `osa-aio dev {service} --source PATH`")
    return checkout

