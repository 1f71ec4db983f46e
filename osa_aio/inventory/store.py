"""The saved inventory: JSON in the config dir, written atomically, earlier versions kept."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from osa_aio.errors import InventoryError
from osa_aio.fsutil import write_atomic

INVENTORY_FILE = "openstack_inventory.json"
BACKUP_DIR = "backups"
KEEP_BACKUPS = 10


def inventory_path(config_dir: Path) -> Path:
    return config_dir / INVENTORY_FILE


def dumps(inventory: dict) -> str:
    """The one serialisation: stable key order, so equal inventories are equal text."""
    return json.dumps(inventory, indent=2, sort_keys=True) + "\n"


def load_inventory(config_dir: Path) -> dict | None:
    """The saved inventory, or None when there is none yet."""
    path = inventory_path(config_dir)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InventoryError(f"cannot read the saved inventory ({exc})", file=str(path),
                             hint=f"restore one from {config_dir / BACKUP_DIR}") from None
    if not isinstance(data, dict) or not isinstance(data.get("_meta", {}).get("hostvars"), dict):
        raise InventoryError("the saved inventory has no _meta.hostvars", file=str(path),
                             hint=f"restore one from {config_dir / BACKUP_DIR}")
    return data


def save_inventory(config_dir: Path, inventory: dict) -> bool:
    """Write the inventory if it differs from the saved one, backing that one up first.

    Returns whether anything was written.
    """
    path = inventory_path(config_dir)
    text = dumps(inventory)
    if path.exists() and path.read_text() == text:
        return False
    backup_inventory(config_dir)
    write_atomic(path, text, mode=0o600)
    return True


def backup_inventory(config_dir: Path) -> Path | None:
    """Copy the saved inventory to backups/ (at most KEEP_BACKUPS are kept)."""
    path = inventory_path(config_dir)
    if not path.exists():
        return None
    folder = config_dir / BACKUP_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    target = folder / f"{INVENTORY_FILE}.{stamp}"
    write_atomic(target, path.read_text(), mode=0o600)
    for old in list_backups(config_dir)[:-KEEP_BACKUPS]:
        old.unlink()
    return target


def list_backups(config_dir: Path) -> list[Path]:
    """Backups, oldest first."""
    folder = config_dir / BACKUP_DIR
    return sorted(folder.glob(f"{INVENTORY_FILE}.*")) if folder.is_dir() else []
