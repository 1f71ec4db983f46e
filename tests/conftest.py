"""Shared fixtures: a config dir copied from the shipped user_config/, and YAML editing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest
import yaml

from osa_aio.config import load_config, project_path

HOST_ADDRESS = "192.0.2.2"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A fresh copy of the project's default config dir."""
    target = tmp_path / "config"
    shutil.copytree(project_path("user_config"), target)
    return target


def edit_yaml(path: Path, change: Callable[[dict], object]) -> None:
    """Load a YAML mapping, let ``change`` edit it in place, write it back."""
    data = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    change(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def user_config(config_dir: Path) -> Path:
    return config_dir / "openstack_user_config.yml"


@pytest.fixture
def load(config_dir: Path):
    """Load the config dir with a fixed host address (no host facts in unit tests)."""
    return lambda directory=config_dir: load_config(directory, host_address=HOST_ADDRESS)


def default_counts() -> dict[str, int]:
    """container type -> containers in the shipped config: what the default profile declares
    (tests/unit/test_generate.py checks the two agree)."""
    from osa_aio.profiles import DEFAULT, PROFILES

    return {ctype: count for ctype, count in PROFILES[DEFAULT].counts.items() if count}


def default_total() -> int:
    return sum(default_counts().values())
