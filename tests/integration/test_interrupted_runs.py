"""Interrupted runs: `osa-aio run` killed with SIGKILL (its whole process group) while it creates
containers, while galera forms its cluster, while keystone's venv is installed and during its
first db_sync; the next run completes, the inventory is the same valid one, and no duplicate or half-made container is left.

The containers go first (`destroy` of every type the kills land in: the infrastructure, keystone and
utility; the host, images and wheels stay), so each kill lands in real work; the OpenStack services
after keystone keep their containers (their databases go with galera's and are made again); the
deployment is whole again at the end."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import lxc
import pytest

from osa_aio.containers import osa_aio_containers
from osa_aio.image import LXC_PATH, read_marker
from osa_aio.inventory.query import containers as inventory_containers
from osa_aio.roles import ROLES, keystone
from osa_aio.roles.galera import node_state
from osa_aio.transport import LxcAttachRunner
from tests.integration.conftest import deployed_counts

LOG = Path("/var/log/osa-aio/osa-aio.log")


def log_has(offset: int, pattern: str):
    """A probe: true once the osa-aio log, from ``offset`` on, has a line matching ``pattern``."""
    regex = re.compile(pattern)

    def probe() -> bool:
        with LOG.open() as handle:
            handle.seek(offset)
            return any(regex.search(line) for line in handle)
    return probe


def run_killed(aio, probe, what: str, limit: float = 600) -> float:
    """Start `osa-aio run`, SIGKILL its process group as soon as ``probe()`` is true; the seconds it ran."""
    output = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(aio.command("run"), stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    began = time.monotonic()
    while time.monotonic() - began < limit:
        if proc.poll() is not None:
            output.seek(0)
            pytest.fail(f"the run ended (exit {proc.returncode}) before {what}:\n{output.read()[-4000:]}")
        if probe():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            took = time.monotonic() - began
            print(f"\nrun killed {took:.1f}s in, {what}")
            return took
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail(f"no {what} within {limit}s")


def check_inventory_and_containers(aio, inventory_before: dict, whole: bool = True) -> list[str]:
    """The saved inventory is the one from before and no container outside it was made; with
    ``whole``, every container of the inventory that exists is whole (osa-aio's marker written
    last). Returns the half-made ones."""
    inventory = aio.inventory()
    assert inventory == inventory_before
    names = {row.name for row in inventory_containers(inventory)}
    assert set(osa_aio_containers()) <= names
    half = sorted(n for n in names if (LXC_PATH / n).exists() and read_marker(n) is None)
    if whole:
        assert half == [], f"half-made containers: {half}"
    return half


# The services after keystone keep their containers: every kill lands before them.
KEPT = tuple(role.container_type for role in ROLES.values()
             if role.dev is not None and role is not keystone.ROLE)


def test_runs_killed_at_three_points_are_completed_by_the_next_run(aio):
    inventory_before = aio.inventory()
    names = [row.name for row in inventory_containers(inventory_before)]
    destroyed = [row.name for row in inventory_containers(inventory_before) if row.container_type not in KEPT]
    aio.osa("destroy", *[t for t in deployed_counts(aio) if t not in KEPT])
    assert not any(lxc.Container(n).defined for n in destroyed)

    # 1. While the containers are being made: some exist, some do not yet.
    made = lambda: sum((LXC_PATH / n).exists() for n in destroyed)  # noqa: E731
    run_killed(aio, lambda: made() >= 4, "with 4 of the containers made")
    assert made() < len(destroyed)
    half_made = check_inventory_and_containers(aio, inventory_before, whole=False)
    # What a kill inside LXC's clone leaves: a config but no osa-aio marker. The next run remakes it.
    half = next(n for n in reversed(destroyed) if not (LXC_PATH / n).exists())
    (LXC_PATH / half).mkdir()
    (LXC_PATH / half / "config").write_text(f"lxc.uts.name = {half}\nlxc.rootfs.path = dir:/nonexistent\n")
    print(f"containers present when killed: {made() - 1}/{len(destroyed)}, half-made by the kill: {half_made}, "
          f"one more made half by hand: {half}")

    # 2. While galera forms its cluster: right after the first node bootstrapped it.
    offset = LOG.stat().st_size
    run_killed(aio, log_has(offset, r"galera-container.*rc=0 .*\$ galera_new_cluster$"),
               "right after galera's first node bootstrapped the cluster")
    check_inventory_and_containers(aio, inventory_before)
    assert read_marker(half) is not None and lxc.Container(half).running

    # 3. While keystone's venv is being installed from the repo.
    offset = LOG.stat().st_size
    run_killed(aio, log_has(offset, r"keystone-container.*rc=0 .*\$ python3 -m venv /openstack/venvs/keystone-[0-9a-f]+-\d+$"),
               "while keystone's venv is installed")
    check_inventory_and_containers(aio, inventory_before)

    # 4. (One more) while keystone's db_sync creates the schema of the new database.
    galera = LxcAttachRunner(sorted(n for n in names if "-galera-" in n)[0])

    def tables() -> int:
        sql = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='keystone'"
        found = galera.run(["mariadb", "-N", "-B", "-e", sql], check=False, log_output=False)
        return int(found.stdout.strip() or 0) if found.rc == 0 else 0
    keystone = LxcAttachRunner(sorted(n for n in names if "-keystone-" in n)[0])

    def mid_db_sync() -> bool:
        if tables() < 5:
            return False
        # db_sync runs under runuser, which may outlive the killed run: it goes down with it.
        keystone.run(["pkill", "-KILL", "-f", "keystone-manage db_sync"], check=False)
        return True
    run_killed(aio, mid_db_sync, "during keystone's first db_sync (5 tables made)")
    print(f"keystone tables when killed: {tables()}")
    check_inventory_and_containers(aio, inventory_before)

    # The next run completes, and one more changes nothing.
    began = time.monotonic()
    final = aio.osa("run")
    print(f"the run after the kills completed in {time.monotonic() - began:.1f}s")
    remade = "database keystone not half-made: " in final.stderr
    assert remade, "the half-made keystone schema was not made again"
    again = aio.osa("run")
    assert "changed=0" in again.stdout, again.stdout
    check_inventory_and_containers(aio, inventory_before)
    assert all(read_marker(n) is not None and lxc.Container(n).running for n in names)
    galera = [n for n in names if "-galera-" in n]
    assert all(node_state(n, LxcAttachRunner(n)).cluster_size == len(galera) for n in galera)
    assert not list(Path("/openstack").glob("*/mysql.new")), "a half-made galera datadir was left"
    assert aio.osa("verify", check=False).returncode == 0
    print(json.dumps({"containers": len(names), "half_made_by_kill": half_made, "half_made_by_hand": half,
                      "half_made_schema_remade": remade}))
