import json
import os
import stat

import pytest

from osa_aio.errors import InventoryError
from osa_aio.inventory.store import (KEEP_BACKUPS, inventory_path, list_backups, load_inventory,
                                     save_inventory)

INV = {"_meta": {"hostvars": {"a": {"x": 1}}}, "all": {"vars": {}}}


def test_save_then_load_round_trips_with_private_mode(tmp_path):
    assert load_inventory(tmp_path) is None
    assert save_inventory(tmp_path, INV) is True
    assert load_inventory(tmp_path) == INV
    assert stat.S_IMODE(inventory_path(tmp_path).stat().st_mode) == 0o600


def test_unchanged_inventory_is_not_written(tmp_path):
    save_inventory(tmp_path, INV)
    before = os.stat(inventory_path(tmp_path))
    assert save_inventory(tmp_path, json.loads(json.dumps(INV))) is False
    after = os.stat(inventory_path(tmp_path))
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert list_backups(tmp_path) == []


def test_each_change_backs_up_the_previous_version_bounded(tmp_path):
    for i in range(KEEP_BACKUPS + 5):
        save_inventory(tmp_path, {"_meta": {"hostvars": {"n": {"i": i}}}})
    backups = list_backups(tmp_path)
    assert len(backups) == KEEP_BACKUPS
    newest = json.loads(backups[-1].read_text())
    assert newest["_meta"]["hostvars"]["n"]["i"] == KEEP_BACKUPS + 3
    assert json.loads(backups[0].read_text())["_meta"]["hostvars"]["n"]["i"] == 4


def test_corrupt_inventory_is_a_clear_error(tmp_path):
    inventory_path(tmp_path).write_text("{not json")
    with pytest.raises(InventoryError, match="cannot read the saved inventory.*restore one from"):
        load_inventory(tmp_path)
    inventory_path(tmp_path).write_text("[]")
    with pytest.raises(InventoryError, match="no _meta.hostvars"):
        load_inventory(tmp_path)


def test_no_temporary_files_left_behind(tmp_path):
    save_inventory(tmp_path, INV)
    save_inventory(tmp_path, {"_meta": {"hostvars": {}}})
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []
