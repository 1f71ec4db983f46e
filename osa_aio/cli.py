"""Command line: parse, call, print, map errors to exit codes. No logic of its own."""

from __future__ import annotations

import functools
import json
import os
import time
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import click
from rich.console import Console

from osa_aio import __version__
from osa_aio.bootstrap import bootstrap as run_bootstrap
from osa_aio.config import Config, USER_SECRETS, load_config, project_path, resolve_config_dir
from osa_aio.containers import container_states, destroy_container
from osa_aio.deploy import deploy
from osa_aio.destroy import destroy_all, destroy_targets
from osa_aio.dev import dev_role, reset_all
from osa_aio.dev import foreground as dev_foreground
from osa_aio.dev import restart as dev_restart
from osa_aio.dev import start as dev_start
from osa_aio.dev import stop as dev_stop
from osa_aio.engine import Engine
from osa_aio.errors import OsaAioError, StepsFailed, UnknownTarget
from osa_aio.haproxy import admin_command, server_states, set_server_state
from osa_aio.host import host_fleet, local_host, primary_address
from osa_aio.hosts import KEY_FILE
from osa_aio.inventory.export import ansible_inventory
from osa_aio.inventory.generate import remove_container
from osa_aio.inventory.query import containers, resolve
from osa_aio.inventory.store import inventory_path, list_backups, load_inventory, save_inventory
from osa_aio.output import format_table
from osa_aio.lock import exclusive
from osa_aio.preflight import PreflightFailed, check_root, profile_budgets
from osa_aio.logs import setup_file_logging
from osa_aio.secrets import fill_secrets, load_secrets
from osa_aio.service_logs import containers_of, logs_role, since_epoch
from osa_aio.service_logs import format_line as format_log_line
from osa_aio.service_logs import stream as log_stream
from osa_aio.rebuild import plan as rebuild_plan
from osa_aio.rebuild import rebuild as run_rebuild
from osa_aio.inventory.update import update
from osa_aio.roles import used_secrets
from osa_aio.roles.cloud import KeyMade
from osa_aio.roles.context import saved_context
from osa_aio.snapshots import list_snapshots
from osa_aio.snapshots import rollback as rollback_snapshot
from osa_aio.snapshots import take as take_snapshot
from osa_aio.roles.utility import openrc as utility_openrc
from osa_aio.transport import LocalRunner
from osa_aio.topology import gather as gather_topology
from osa_aio.topology import dot as topology_dot
from osa_aio.topology import tree as topology_tree
from osa_aio.verify import run_checks

CONTEXT = {"help_option_names": ["-h", "--help"]}



class OsaAioGroup(click.Group):
    """Expected errors print one line and exit 2; anything else is a bug and says so."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OsaAioError as exc:
            for line in getattr(exc, "lines", None) or [str(exc)]:
                click.echo(f"error: {line}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception:  # noqa: BLE001 - the last line of defence prints the traceback
            traceback.print_exc()
            click.echo("error: this is a bug in osa-aio; please report it with the traceback above",
                       err=True)
            ctx.exit(1)


def changes_host(func: Callable) -> Callable:
    """A command that changes the host: one such command at a time (see osa_aio/lock.py)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        problems = check_root()
        if problems:
            raise PreflightFailed(problems)
        with exclusive(click.get_current_context().info_name):
            return func(*args, **kwargs)

    return wrapper


def config_dir_option(func: Callable) -> Callable:
    """--config-dir on a subcommand too, so it works before or after the command name."""
    return click.option("--config-dir", "config_dir", type=click.Path(file_okay=False), default=None,
                        help="Config dir (default $OSA_AIO_CONFIG_DIR or /etc/osa-aio).")(func)


def _set_verbose(ctx: click.Context, _param, value: bool) -> None:
    if value:
        root = ctx.find_root()
        root.obj = {**(root.obj or {}), "verbose": True}


def verbose_option(func: Callable) -> Callable:
    """-v: on a terminal, a line per change too (the live view shows progress; the log has them all)."""
    return click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=_set_verbose,
                        help="Print a line for every change (on a terminal the live view shows progress only).")(func)


def config_dir_of(ctx: click.Context, local: str | None) -> Path:
    return resolve_config_dir(local or (ctx.obj or {}).get("config_dir"))


def read_config(ctx: click.Context, local: str | None) -> Config:
    return load_config(config_dir_of(ctx, local), host_address=primary_address())


@click.group(cls=OsaAioGroup, context_settings=CONTEXT)
@click.option("--config-dir", "config_dir", type=click.Path(file_okay=False), default=None,
              help="Config dir (default $OSA_AIO_CONFIG_DIR or /etc/osa-aio).")
@click.version_option(__version__, prog_name="osa-aio")
@verbose_option
@click.pass_context
def cli(ctx: click.Context, config_dir: str | None) -> None:
    """osa-aio: an all-in-one OpenStack in LXC containers, openstack-ansible style.

    Typical use: `osa-aio bootstrap && osa-aio run`.
    """
    ctx.obj = {**(ctx.obj or {}), "config_dir": config_dir}


@cli.command()
@config_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the inventory JSON (with --list: the rows).")
@click.option("--list", "as_list", is_flag=True, help="Print a table of containers.")
@click.option("--check", is_flag=True, help="Validate config and env.d; change nothing.")
@click.option("--remove", "remove", metavar="NAME", help="Remove one container from the inventory.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--export", "export", type=click.Choice(["ansible"]),
              help="Print it for another tool: ansible = dynamic-inventory JSON (also as an inventory script).")
@click.pass_context
def inventory(ctx: click.Context, config_dir: str | None, as_json: bool, as_list: bool, check: bool,
              remove: str | None, strict: bool, export: str | None) -> None:
    """Build or update the inventory from the config dir and show it.

    Names, addresses and MACs already saved never change; raising an affinity adds containers.
    `--export ansible` prints what `ansible-inventory -i` takes (a script running it is an
    Ansible inventory: Ansible's `--list` is accepted).
    """
    directory = config_dir_of(ctx, config_dir)
    if remove:
        _remove(directory, remove)
        return
    config = read_config(ctx, config_dir)
    found = update(config, directory, save=False)
    for warning in found.warnings:
        click.echo(f"warning: {warning}", err=True)
    if strict and found.warnings:
        raise OsaAioError(f"{len(found.warnings)} warning(s) with --strict", hint="see the warnings above")
    if check:
        click.echo("Configuration ok")
        return
    inv = found.inventory
    written = save_inventory(directory, inv)
    if export:
        host = local_host(config, LocalRunner())
        click.echo(json.dumps(ansible_inventory(inv, {host.name}), indent=2, sort_keys=True))
        return
    if as_json and not as_list:
        click.echo(json.dumps(inv, indent=2, sort_keys=True))
        return
    rows = containers(inv)
    if as_json:
        click.echo(json.dumps([asdict(row) for row in rows], indent=2))
        return
    click.echo(format_table(["NAME", "TYPE", "HOST", "MANAGEMENT IP"],
                            [(r.name, r.container_type, r.host, r.management_address) for r in rows]))
    if not as_list:
        state = "saved" if written else "unchanged"
        click.echo(f"\n{len(rows)} containers; inventory {state}: {inventory_path(directory)}")


def _remove(directory: Path, name: str) -> None:
    saved = load_inventory(directory)
    if saved is None:
        raise OsaAioError("there is no saved inventory", file=str(inventory_path(directory)),
                          hint="run `osa-aio inventory` first")
    save_inventory(directory, remove_container(saved, name))
    backup = list_backups(directory)[-1]
    click.echo(f"Removed {name} from the inventory (backup: {backup}).")
    click.echo("Note: a run while the affinity still asks for it adds a container back; "
               "lower the affinity to keep it gone.")


@cli.command()
@config_dir_option
@click.option("--check", is_flag=True, help="List empty secrets; change nothing.")
@click.pass_context
@changes_host
def secrets(ctx: click.Context, config_dir: str | None, check: bool) -> None:
    """Fill every empty value of user_secrets.yml with a random one, and add the secrets the
    services use that it lacks (values never printed)."""
    path = config_dir_of(ctx, config_dir) / USER_SECRETS
    if not path.exists():
        raise OsaAioError("missing", file=str(path), hint="copy user_config/user_secrets.yml from osa-aio")
    if check:
        empty = sorted(key for key, value in load_secrets(path).items() if value is None)
        click.echo(f"{len(empty)} empty: {', '.join(empty)}" if empty else "No empty secrets")
        return
    filled = fill_secrets(path, used_secrets())
    click.echo(f"Filled {len(filled)} secrets in {path}" + (f": {', '.join(filled)}" if filled else ""))


def _engine(check_mode: bool = False) -> Engine:
    """An engine whose log goes to /var/log/osa-aio/ (when writable)."""
    setup_file_logging()
    root = click.get_current_context().find_root()
    return Engine(check_mode=check_mode, verbose=bool((root.obj or {}).get("verbose")))


def _finish(engine: Engine, done: str) -> None:
    """Print the closing tables; a failed step makes the command exit 1."""
    click.echo(engine.summary())
    if engine.failed:
        raise StepsFailed("some steps failed", hint="see the lines above and /var/log/osa-aio/osa-aio.log")
    click.echo(done if engine.totals()["changed"] else "Nothing changed: the host was already as wanted.")


@cli.command()
@config_dir_option
@verbose_option
@click.option("--rebuild-image", is_flag=True, help="Build the base image again even if its recipe is unchanged.")
@click.option("--profile", metavar="NAME", help="Service profile: infra, identity (default) or minimal "
                                                "(`osa-aio profiles`); kept in user_variables.yml.")
@click.pass_context
@changes_host
def bootstrap(ctx: click.Context, config_dir: str | None, rebuild_image: bool, profile: str | None) -> None:
    """Prepare the host: preflight, config dir, secrets, bridges, NAT, base image.

    Idempotent: a second run changes nothing and says so.
    """
    engine = _engine()
    run_bootstrap(config_dir_of(ctx, config_dir), engine, rebuild_image=rebuild_image, profile=profile)
    _finish(engine, "Bootstrap done. Next: osa-aio run")


@cli.command(name="run")
@config_dir_option
@verbose_option
@click.argument("services", nargs=-1, metavar="[SERVICE]...")
@click.option("--limit", metavar="NAME|GROUP", help="Only these containers (a name, a type or a group).")
@click.option("--check", "check_mode", is_flag=True, help="Show what would change; change nothing.")
@click.option("--reset-dev", is_flag=True, help="Put containers running a dev checkout back on the released code.")
@click.pass_context
@changes_host
def run_command(ctx: click.Context, config_dir: str | None, services: tuple[str, ...], limit: str | None,
                check_mode: bool, reset_dev: bool) -> None:
    """Deploy: containers, then every service in dependency order (or only the SERVICEs named,
    see `osa-aio profiles` for the services)."""
    engine = _engine(check_mode)
    if reset_dev and not check_mode:
        reset_all(engine)
    deploy(config_dir_of(ctx, config_dir), engine, limit=limit, services=list(services) or None)
    _finish(engine, "Check mode: the steps above would change; nothing was changed (run without --check to apply)." if check_mode else "Deployed. Next: osa-aio verify")


@cli.command(name="list")
@config_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
@click.pass_context
def list_command(ctx: click.Context, config_dir: str | None, as_json: bool) -> None:
    """osa-aio's containers on every host with their state, addresses and autostart, like `lxc-ls -f`."""
    directory = config_dir_of(ctx, config_dir)
    hosts = host_fleet(load_config(directory, host_address=primary_address())) if directory.is_dir() else None
    rows = [asdict(row) for row in container_states(_saved_inventory_or_none(directory), hosts)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(format_table(["NAME", "TYPE", "HOST", "STATE", "IPV4", "AUTOSTART", "DEV"],
                            [(r["name"], r["container_type"], r["host"] or "-", r["state"],
                              ",".join(r["addresses"]) or "-", "yes" if r["autostart"] else "no", r["dev"] or "-")
                             for r in rows]))


@cli.command(context_settings={**CONTEXT, "ignore_unknown_options": True})
@config_dir_option
@click.argument("target", metavar="NAME|TYPE")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def attach(ctx: click.Context, config_dir: str | None, target: str, command: tuple[str, ...]) -> None:
    """A shell in a container (the first of a type), or `-- CMD ...` with its exit code passed through."""
    inventory = _saved_inventory_or_none(config_dir_of(ctx, config_dir))
    if inventory is None:
        raise OsaAioError("there is no inventory yet", hint="run `osa-aio bootstrap && osa-aio run` first")
    name = resolve(inventory, target)[0]
    rc = host_fleet(read_config(ctx, config_dir)).container(inventory, name).interactive(
        list(command) or ["/bin/bash", "-l"], env={"TERM": os.environ.get("TERM", "xterm")})
    ctx.exit(rc)


@cli.command()
@config_dir_option
@click.argument("targets", nargs=-1, metavar="[NAME|TYPE]...")
@click.option("--all", "everything", is_flag=True, help="Everything osa-aio made on this host.")
@click.option("--yes", is_flag=True, help="Confirm --all.")
@click.option("--purge", is_flag=True, help="With --all: also the config dir, base images, caches and logs.")
@click.option("--keep-data", is_flag=True, help="Keep /openstack/<name> and its logs.")
@click.pass_context
@changes_host
def destroy(ctx: click.Context, config_dir: str | None, targets: tuple[str, ...], everything: bool, yes: bool,
            purge: bool, keep_data: bool) -> None:
    """Destroy containers (by name or type), or with --all --yes everything osa-aio put on the host.

    The inventory keeps their names and addresses: `osa-aio run` makes them again, the same.
    """
    directory = config_dir_of(ctx, config_dir)
    setup_file_logging()
    if everything:
        if targets:
            raise OsaAioError("give either names or --all, not both")
        if not yes:
            raise OsaAioError("--all destroys every osa-aio container, bridge and NAT rule", hint="add --yes to confirm")
        destroy_all(directory, purge, click.echo)
        kept = "" if purge else " (config dir and base image kept; --purge removes them)"
        click.echo(f"The host is as it was before bootstrap{kept}.")
        return
    if purge:
        raise OsaAioError("--purge goes with --all")
    if not targets:
        raise OsaAioError("name the containers to destroy, or use --all --yes")
    inventory = _saved_inventory_or_none(directory) or {"_meta": {"hostvars": {}}}
    names = sorted({name for target in targets for name in destroy_targets(inventory, target)})
    hostvars = inventory["_meta"]["hostvars"]
    hosts = host_fleet(read_config(ctx, config_dir)) if any(name in hostvars for name in names) else None
    for name in names:
        # On the host it lives on (a leftover the inventory lost: this machine).
        host = hosts.hosts.get(hostvars[name].get("physical_host")) if hosts and name in hostvars else None
        existed = destroy_container(name, keep_data=keep_data, runner=host.runner if host else LocalRunner())
        where = f" on {host.name}" if host and host.remote else ""
        click.echo(f"destroyed {name}{where}" if existed else f"{name} did not exist")


@cli.command()
@config_dir_option
@click.pass_context
def verify(ctx: click.Context, config_dir: str | None) -> None:
    """Check that every service answers (through the VIP where it is load-balanced)."""
    results = run_checks(saved_context(config_dir_of(ctx, config_dir)))
    click.echo(format_table(["CHECK", "RESULT", "DETAIL"],
                            [(r.name, "ok" if r.ok else "FAILED", r.detail) for r in results]))
    failed = [r for r in results if not r.ok]
    if failed:
        raise StepsFailed(f"{len(failed)} of {len(results)} checks failed", hint="see the table above")
    click.echo(f"All {len(results)} checks passed.")


@cli.command(name="ssh-key")
@config_dir_option
@click.pass_context
def ssh_key(ctx: click.Context, config_dir: str | None) -> None:
    """Print the public key osa-aio logs in to other hosts with (made once, under the config dir):
    put it in root's ~/.ssh/authorized_keys on each host you add."""
    directory = config_dir_of(ctx, config_dir)
    if not directory.is_dir():
        raise OsaAioError("there is no config dir yet", file=str(directory), hint="run `osa-aio bootstrap` first")
    step = KeyMade(directory / KEY_FILE)
    if step.check() is not None:
        step.apply()
    click.echo((directory / KEY_FILE).with_suffix(".pub").read_text(), nl=False)


@cli.command()
@config_dir_option
@click.pass_context
def openrc(ctx: click.Context, config_dir: str | None) -> None:
    """Print the admin openrc, to use the openstack client on the host: eval "$(osa-aio openrc)"."""
    click.echo(utility_openrc(saved_context(config_dir_of(ctx, config_dir))), nl=False)


@cli.group(name="haproxy", cls=OsaAioGroup)
def haproxy_group() -> None:
    """HAProxy's backends, through its admin socket: status, drain, enable."""


@haproxy_group.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
def haproxy_status(as_json: bool) -> None:
    """Every backend's servers and their state (UP, DOWN, DRAIN, MAINT)."""
    rows = [asdict(s) for s in server_states(admin_command("show stat"))]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(format_table(["BACKEND", "SERVER", "STATUS", "ROLE"],
                            [(r["backend"], r["server"], r["status"], "backup" if r["backup"] else "active")
                             for r in rows]))


def _set_state(ctx: click.Context, config_dir: str | None, target: str, state: str) -> None:
    inventory = _saved_inventory_or_none(config_dir_of(ctx, config_dir)) or {"_meta": {"hostvars": {}}}
    for name in resolve(inventory, target):
        backends = set_server_state(name, state)
        click.echo(f"{name}: {state} in {', '.join(backends)}")


@haproxy_group.command(name="drain")
@config_dir_option
@click.argument("target", metavar="NAME|TYPE")
@click.pass_context
def haproxy_drain(ctx: click.Context, config_dir: str | None, target: str) -> None:
    """Send no new requests to these containers (their current sessions finish)."""
    _set_state(ctx, config_dir, target, "drain")


@haproxy_group.command(name="enable")
@config_dir_option
@click.argument("target", metavar="NAME|TYPE")
@click.pass_context
def haproxy_enable(ctx: click.Context, config_dir: str | None, target: str) -> None:
    """Send requests to these containers again."""
    _set_state(ctx, config_dir, target, "enable")


@cli.command()
@config_dir_option
@verbose_option
@click.argument("target", metavar="NAME|TYPE")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--wipe-data", is_flag=True, help="Also empty /openstack/<name> (galera's data, venvs ...).")
@click.pass_context
@changes_host
def rebuild(ctx: click.Context, config_dir: str | None, target: str, yes: bool, wipe_data: bool) -> None:
    """Destroy and recreate containers one at a time, same names, addresses and MACs, re-running
    only their role; HAProxy drains each first and enables it once healthy."""
    directory = config_dir_of(ctx, config_dir)
    _, names = rebuild_plan(directory, target)
    data = "wiping their data" if wipe_data else "keeping /openstack/<name>"
    if not yes and not click.confirm(f"Rebuild {', '.join(names)} ({data})?"):
        raise OsaAioError("not confirmed", hint="add --yes to skip the question")
    engine = _engine()
    started = time.monotonic()
    done = run_rebuild(directory, target, engine, wipe_data, engine.say)
    click.echo(engine.summary())
    for item in done:
        click.echo(f"rebuilt {item.name} in {item.seconds:.1f}s")
    click.echo(f"Rebuild done in {time.monotonic() - started:.1f}s.")


@cli.command()
@config_dir_option
@click.argument("target", metavar="NAME")
@click.option("--name", "tag", help="The snapshot's name (default: snap-<UTC time>).")
@click.option("--list", "as_list", is_flag=True, help="List the container's snapshots.")
@click.pass_context
@changes_host
def snapshot(ctx: click.Context, config_dir: str | None, target: str, tag: str | None, as_list: bool) -> None:
    """Snapshot a container's rootfs and its /openstack data (it stops for a moment)."""
    name = _one_container(ctx, config_dir, target)
    if as_list:
        click.echo(format_table(["TAG", "CREATED", "LXC SNAPSHOT"],
                                [(s.tag, s.created, s.lxc_name) for s in list_snapshots(name)]))
        return
    started = time.monotonic()
    taken = take_snapshot(name, tag)
    click.echo(f"snapshot {taken.tag} of {name} taken in {time.monotonic() - started:.1f}s")


@cli.command()
@config_dir_option
@click.argument("target", metavar="NAME")
@click.argument("tag", required=False)
@click.pass_context
@changes_host
def rollback(ctx: click.Context, config_dir: str | None, target: str, tag: str | None) -> None:
    """Put a container's rootfs and data back to a snapshot (the newest unless TAG is given)."""
    name = _one_container(ctx, config_dir, target)
    started = time.monotonic()
    restored = rollback_snapshot(name, tag)
    click.echo(f"{name} rolled back to {restored.tag} in {time.monotonic() - started:.1f}s")


def _one_container(ctx: click.Context, config_dir: str | None, target: str) -> str:
    """One container on this machine (snapshots are this machine's LXC snapshots)."""
    inventory = _saved_inventory_or_none(config_dir_of(ctx, config_dir)) or {"_meta": {"hostvars": {}}}
    names = resolve(inventory, target)
    if len(names) != 1:
        raise OsaAioError(f"{target!r} means {len(names)} containers", hint="name one container")
    host = inventory["_meta"]["hostvars"][names[0]].get("physical_host")
    if host and host != local_host(read_config(ctx, config_dir), LocalRunner()).name:
        raise UnknownTarget(f"{names[0]} is on host {host}", hint="snapshots and rollbacks are of containers on "
                            "this machine")
    return names[0]


@cli.command()
@config_dir_option
@verbose_option
@click.argument("service")
@click.option("--source", type=click.Path(path_type=Path), help="The checkout to run (a host path).")
@click.option("--container", help="Which of the service's containers (default: the first).")
@click.option("--allow-index", is_flag=True, help="Let the installer (uv) use the public index too, for what the repo lacks.")
@click.option("--restart", "do_restart", is_flag=True, help="Restart the service on the checkout (after an edit).")
@click.option("--foreground", is_flag=True, help="Run the service in this terminal with its log; Ctrl-C stops.")
@click.option("--off", is_flag=True, help="Back to the released code; every backend enabled.")
@click.pass_context
@changes_host
def dev(ctx: click.Context, config_dir: str | None, service: str, source: Path | None, container: str | None,
        allow_index: bool, do_restart: bool, foreground: bool, off: bool) -> None:
    """Run your checkout of SERVICE inside its container: `osa-aio dev keystone --source ~/src/keystone`.

    Uncommitted edits are what runs; `--restart` after an edit. The service's other containers are
    drained in HAProxy, so requests through the VIP reach the dev code.
    """
    directory = config_dir_of(ctx, config_dir)
    modes = [m for m in (source is not None, do_restart, foreground, off) if m]
    if len(modes) != 1:
        raise OsaAioError("give one of --source PATH, --restart, --foreground or --off")
    dev_role(service)
    started = time.monotonic()
    if foreground:
        ctx.exit(dev_foreground(directory, service, click.echo))
    engine = _engine()
    if off:
        name = dev_stop(directory, service, engine, engine.say)
        what = "released code back"
    elif do_restart:
        name = dev_restart(directory, service, engine, engine.say)
        what = "restarted"
    else:
        name = dev_start(directory, service, source, container, allow_index, engine, engine.say)
        what = "dev checkout running"
    engine.stop_progress()
    click.echo(f"{name}: {what} in {time.monotonic() - started:.1f}s")


@cli.command()
@config_dir_option
@click.argument("service")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until Ctrl-C.")
@click.option("--container", metavar="NAME", help="Only this container of the service.")
@click.option("--since", metavar="WHEN", help='Lines since then: "10 min ago", "2026-12-02 18:00", "today".')
@click.option("-n", "--lines", default=50, show_default=True, help="Without --since: the last LINES lines.")
@click.option("--health-checks", is_flag=True, help="Keep HAProxy's health-check requests (left out by default).")
@click.pass_context
def logs(ctx: click.Context, config_dir: str | None, service: str, follow: bool, container: str | None,
         since: str | None, lines: int, health_checks: bool) -> None:
    """SERVICE's logs from all its containers, interleaved by time: `osa-aio logs heat -f`.

    Each line: its time, its container, its unit (the journal) or log file, the message.
    """
    role = logs_role(service)
    context = saved_context(config_dir_of(ctx, config_dir))
    names = containers_of(context.inventory, role, container)
    start = since_epoch(since)
    runners = []
    for name in names:
        if not context.running(name):
            click.echo(f"{name}: not running, left out", err=True)
            continue
        runners.append(context.runner(name))
    width = max(len(name) for name in names)
    try:
        for line in log_stream(runners, role, lines, start, follow, health_checks):
            click.echo(format_log_line(line, width))
    except KeyboardInterrupt:
        ctx.exit(0)


@cli.command()
@config_dir_option
@click.pass_context
def profiles(ctx: click.Context, config_dir: str | None) -> None:
    """The service profiles (`bootstrap --profile NAME`): containers, memory and disk budget of each."""
    directory = config_dir_of(ctx, config_dir)
    source = directory if directory.is_dir() else project_path("user_config")
    rows = [("*" if row.current else "", row.name, ", ".join(f"{t.removesuffix('_container')} {n}"
                                                           for t, n in sorted(row.counts.items())),
             str(row.budget.memory_mb), str(row.budget.disk_mb), row.description)
            for row in profile_budgets(source, primary_address())]
    click.echo(format_table(["", "PROFILE", "CONTAINERS", "MEMORY MB", "DISK MB", "WHAT"], rows))


@cli.command()
@config_dir_option
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@click.option("--format", "fmt", type=click.Choice(["tree", "json", "dot"]), default="tree",
              help="tree (the terminal), json, or dot (Graphviz: `| dot -Tsvg > aio.svg`).")
@click.pass_context
def topology(ctx: click.Context, config_dir: str | None, as_json: bool, fmt: str) -> None:
    """What is where: bridges and addresses, containers on each bridge, HAProxy's frontends and
    the health of each backend, and the dev checkouts."""
    directory = config_dir_of(ctx, config_dir)
    inventory = _saved_inventory_or_none(directory)
    if inventory is None:
        raise OsaAioError("there is no inventory yet", file=str(inventory_path(directory)),
                          hint="run `osa-aio bootstrap && osa-aio run` first")
    data = gather_topology(read_config(ctx, config_dir), inventory)
    if as_json or fmt == "json":
        click.echo(json.dumps(data, indent=2))
    elif fmt == "dot":
        click.echo(topology_dot(data), nl=False)
    else:
        Console(soft_wrap=True).print(topology_tree(data))


def _saved_inventory_or_none(directory: Path) -> dict | None:
    return load_inventory(directory) if directory.is_dir() else None

def main() -> None:
    cli(prog_name="osa-aio")


if __name__ == "__main__":
    main()
