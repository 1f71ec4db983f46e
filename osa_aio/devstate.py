"""Which containers run a developer's checkout (`osa-aio dev`): a small state file on the host,
read by `run` (so it leaves them be), `list` and the container spec (the checkout's bind mount)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from osa_aio.fsutil import write_atomic

DEV_STATE = Path("/var/lib/osa-aio/dev.json")
MOUNT_ROOT = "opt/dev"  # the checkout is /opt/dev/<service> in the container


@dataclass(frozen=True)
class DevCheckout:
    service: str
    container: str
    source: str
    also: tuple[str, ...] = ()  # other containers running the checkout (DevSpec.also)

    @property
    def containers(self) -> tuple[str, ...]:
        return (self.container, *self.also)

    @property
    def mount_point(self) -> str:
        return f"/{MOUNT_ROOT}/{self.service}"


def load(path: Path | None = None) -> dict[str, DevCheckout]:
    """service -> its dev checkout."""
    path = path or DEV_STATE
    try:
        return {k: DevCheckout(**{**v, "also": tuple(v.get("also", ()))}) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, TypeError):
        return {}


def save(checkouts: dict[str, DevCheckout], path: Path | None = None) -> None:
    path = path or DEV_STATE
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({k: asdict(v) for k, v in sorted(checkouts.items())}, indent=2) + "\n")


def mounts_for(container: str, checkouts: dict[str, DevCheckout]) -> tuple[tuple[str, str], ...]:
    """(host path, path in the container without its leading /) of the checkouts in ``container``."""
    return tuple(sorted((c.source, c.mount_point.lstrip("/")) for c in checkouts.values() if container in c.containers))
