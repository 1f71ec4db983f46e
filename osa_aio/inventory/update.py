"""Bring the saved inventory up to the config: build it (pure) over the saved one, collect the
warnings (the inventory's and the knobs'), save it when it changed. `osa-aio inventory` and
`osa-aio run` both do this."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from osa_aio.config import Config
from osa_aio.inventory.generate import build_inventory
from osa_aio.inventory.store import load_inventory, save_inventory
from osa_aio.knobs import check_knobs
from osa_aio.roles import ROLES


@dataclass(frozen=True)
class Updated:
    inventory: dict
    warnings: tuple[str, ...]
    written: bool  # False: the saved inventory was already this one (or nothing was saved)


def update(config: Config, directory: Path, save: bool = True) -> Updated:
    """The inventory for ``config`` over the one saved in ``directory``; saved unless ``save`` is False."""
    inventory, warnings = build_inventory(config, load_inventory(directory))
    warnings = [*warnings, *check_knobs(config, ROLES.values())]
    written = save_inventory(directory, inventory) if save else False
    return Updated(inventory, tuple(warnings), bool(written))
