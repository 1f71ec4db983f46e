"""Snapshots of a container: its rootfs (an LXC snapshot) and its /openstack data (a copy),
so a developer can try a change and go back with `osa-aio rollback`."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from osa_aio.containers import DATA_ROOT, SNAPSHOT_DATA, START_TIMEOUT
from osa_aio.errors import ContainerError, OsaAioError
from osa_aio.haproxy import ServerUp, admin_command, mark_healthy, server_states, set_server_state
from osa_aio.transport import LocalRunner
from osa_aio.transport.lxc import lxc_module

TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


@dataclass(frozen=True)
class Snapshot:
    tag: str
    created: str
    lxc_name: str  # LXC's own name for the rootfs snapshot (snap0, snap1 ...)


def _index_path(name: str) -> Path:
    return SNAPSHOT_DATA / name / "index.json"


def list_snapshots(name: str) -> list[Snapshot]:
    try:
        return [Snapshot(**item) for item in json.loads(_index_path(name).read_text())]
    except (OSError, ValueError):
        return []


def _save_index(name: str, snapshots: list[Snapshot]) -> None:
    path = _index_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(s) for s in snapshots], indent=2) + "\n")


def _container(name: str):
    container = lxc_module().Container(name)
    if not container.defined:
        raise ContainerError("the container does not exist", file=name, hint="`osa-aio list` shows them")
    return container


def _stopped(container) -> bool:
    """Stop a running container (cleanly); return whether it was running."""
    if not container.running:
        return False
    if not container.shutdown(30):
        container.stop()
    return True


def _start(container, name: str) -> None:
    if not container.start() or not container.wait("RUNNING", START_TIMEOUT):
        raise ContainerError("LXC could not start the container again", file=name)


def _taken_down(container, name: str) -> tuple[bool, list[str]]:
    """Out of HAProxy's rotation (no request meets it while it is down), then stopped; whether it
    was running, and the backends it was balanced in."""
    balanced = balanced_backends(name)
    if balanced:
        set_server_state(name, "maint")
    return _stopped(container), balanced


def _brought_back(container, name: str, was_running: bool, balanced: list[str]) -> None:
    """As it was before _taken_down: running and served again, or stopped (HAProxy holds it DOWN)."""
    if was_running:
        _start(container, name)
        if balanced:
            wait_until_served(name, balanced)
    elif balanced:
        set_server_state(name, "enable")


def take(name: str, tag: str | None = None) -> Snapshot:
    """Snapshot the rootfs and the data of ``name`` (stopped for a moment, for a consistent copy)."""
    tag = tag or datetime.now(timezone.utc).strftime("snap-%Y%m%d-%H%M%S")
    if not TAG.match(tag):
        raise OsaAioError(f"{tag!r} is not a usable snapshot name", key="--name",
                          hint="use letters, digits, '.', '_' and '-'")
    existing = list_snapshots(name)
    if any(s.tag == tag for s in existing):
        raise OsaAioError(f"{name} already has a snapshot {tag!r}", key="--name", hint="choose another name")
    container = _container(name)
    was_running, balanced = _taken_down(container, name)
    try:
        before = set(_lxc_snapshot_names(container))
        if container.snapshot() is False:
            raise ContainerError("LXC could not snapshot the container", file=name)
        lxc_name = sorted(set(_lxc_snapshot_names(container)) - before)[-1]
        data = DATA_ROOT / name
        if data.exists():
            target = SNAPSHOT_DATA / name / tag / "data"
            target.parent.mkdir(parents=True, exist_ok=True)
            LocalRunner().run(["cp", "-a", "--reflink=auto", str(data), str(target)], timeout=1800)
    finally:
        _brought_back(container, name, was_running, balanced)
    snapshot = Snapshot(tag, datetime.now(timezone.utc).isoformat(timespec="seconds"), lxc_name)
    _save_index(name, existing + [snapshot])
    return snapshot


def rollback(name: str, tag: str | None = None) -> Snapshot:
    """Put the rootfs and the data of ``name`` back as they were at snapshot ``tag`` (the newest
    when none is named), and start it again if it was running."""
    snapshots = list_snapshots(name)
    if not snapshots:
        raise OsaAioError(f"{name} has no snapshots", hint=f"take one with `osa-aio snapshot {name}`")
    chosen = next((s for s in snapshots if s.tag == tag), None) if tag else snapshots[-1]
    if chosen is None:
        raise OsaAioError(f"{name} has no snapshot {tag!r}",
                          hint=f"it has: {', '.join(s.tag for s in snapshots)}")
    container = _container(name)
    was_running, balanced = _taken_down(container, name)
    if not container.snapshot_restore(chosen.lxc_name, name):
        raise ContainerError(f"LXC could not restore {chosen.lxc_name}", file=name)
    saved = SNAPSHOT_DATA / name / chosen.tag / "data"
    if saved.exists():
        DATA_ROOT.joinpath(name).mkdir(parents=True, exist_ok=True)
        LocalRunner().run(["rsync", "-a", "--delete", f"{saved}/", f"{DATA_ROOT / name}/"], timeout=1800)
    _brought_back(lxc_module().Container(name), name, was_running, balanced)
    return chosen


def balanced_backends(name: str) -> list[str]:
    """The backends HAProxy balances to ``name`` in (a server drained or in maintenance on
    purpose is left as it is); none when HAProxy is not running."""
    try:
        return sorted({s.backend for s in server_states(admin_command("show stat"))
                       if s.server == name and not s.admin_down})
    except OsaAioError:
        return []


def wait_until_served(name: str, backends: list[str], seconds: float = 180) -> None:
    """Back in HAProxy, taking requests only once its checks pass again (its service answers):
    `rollback` says done then, as `rebuild` and `dev` do."""
    mark_healthy(name, backends, healthy=False)  # it restarted: HAProxy must see it answer first
    set_server_state(name, "enable")
    for backend in backends:
        ServerUp(backend, name, wait=seconds).apply()


def _lxc_snapshot_names(container) -> list[str]:
    return [entry[0] for entry in (container.snapshot_list() or [])]
