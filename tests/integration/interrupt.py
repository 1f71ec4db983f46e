"""The session's cold `osa-aio run`, killed with SIGKILL (its whole process group) at four points
before it is let finish: while it creates containers, right after galera's first node bootstrapped
the cluster, while keystone's venv is installed, and during keystone's first db_sync. Each kill lands
in real work of the cold deploy the suite makes anyway, so it costs seconds, not a second deploy.

What it sees is recorded (``Interrupted``), never asserted here: a failure must not stop the
session's deployment; test_interrupted_runs.py asserts on the record."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import lxc

from osa_aio.containers import osa_aio_containers
from osa_aio.lxchost import LXC_PATH, read_marker
from osa_aio.inventory.query import containers as inventory_containers
from osa_aio.roles.galera import node_state
from osa_aio.transport import LxcAttachRunner

LOG = Path("/var/log/osa-aio/osa-aio.log")


class Missed(Exception):
    """A kill point the run never reached (or the run ended first)."""


@dataclass
class Interrupted:
    kills: list[tuple[str, float]] = field(default_factory=list)   # what, seconds into the run
    problems: list[str] = field(default_factory=list)              # what was not as it must be
    inventory: dict | None = None                                  # saved by the first killed run
    half_made_by_kill: list[str] = field(default_factory=list)
    half_made_by_hand: str | None = None
    keystone_tables_when_killed: int | None = None
    schema_remade: bool = False
    seconds: float = 0.0

    def summary(self) -> dict:
        return {"kills": [[what, round(at, 1)] for what, at in self.kills], "problems": self.problems,
                "half_made_by_kill": self.half_made_by_kill, "half_made_by_hand": self.half_made_by_hand,
                "keystone_tables_when_killed": self.keystone_tables_when_killed,
                "schema_remade": self.schema_remade, "seconds": round(self.seconds, 1)}


def log_has(offset: int, pattern: str):
    """A probe: true once the osa-aio log, from ``offset`` on, has a line matching ``pattern``.
    It reads each line once (the probe runs every few milliseconds while the run writes megabytes)."""
    regex = re.compile(pattern.encode())
    position = [offset]

    def probe() -> bool:
        if not LOG.exists():
            return False
        with LOG.open("rb") as handle:
            handle.seek(position[0])
            while True:
                line = handle.readline()
                if not line.endswith(b"\n"):  # the run has not finished writing it yet
                    return False
                position[0] = handle.tell()
                if regex.search(line):
                    return True
    return probe


def log_size() -> int:
    return LOG.stat().st_size if LOG.exists() else 0


def run_killed(config_dir: Path, probe, what: str, record: Interrupted, limit: float = 900) -> None:
    """Start `osa-aio run`, SIGKILL its process group as soon as ``probe()`` is true."""
    output = tempfile.TemporaryFile("w+")
    argv = [sys.executable, "-m", "osa_aio", "--config-dir", str(config_dir), "run"]
    proc = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    began = time.monotonic()
    while time.monotonic() - began < limit:
        if proc.poll() is not None:
            output.seek(0)
            raise Missed(f"the run ended (exit {proc.returncode}) before {what}:\n{output.read()[-3000:]}")
        if probe():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            record.kills.append((what, time.monotonic() - began))
            return
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    raise Missed(f"no {what} within {limit}s")


def saved_inventory(config_dir: Path) -> dict | None:
    path = config_dir / "openstack_inventory.json"
    return json.loads(path.read_text()) if path.exists() else None


def names_of(inventory: dict) -> list[str]:
    return [row.name for row in inventory_containers(inventory)]


def half_made(names: list[str]) -> list[str]:
    return sorted(n for n in names if (LXC_PATH / n).exists() and read_marker(n) is None)


def check_between(config_dir: Path, record: Interrupted, after: str, whole: bool = True) -> None:
    """The saved inventory is the first killed run's and no container outside it was made; with
    ``whole``, every container of it that exists is whole (osa-aio's marker is written last)."""
    inventory = saved_inventory(config_dir)
    if inventory != record.inventory:
        record.problems.append(f"after {after}: the saved inventory changed")
        return
    names = names_of(inventory)
    stray = sorted(set(osa_aio_containers()) - set(names))
    if stray:
        record.problems.append(f"after {after}: containers outside the inventory: {stray}")
    half = half_made(names)
    if whole and half:
        record.problems.append(f"after {after}: half-made containers: {half}")


def kill_cold_run(config_dir: Path) -> Interrupted:
    """Kill the first (cold) run at the four points; the caller's next run must complete it."""
    record = Interrupted()
    began = time.monotonic()
    try:
        _kill_at_four_points(config_dir, record)
    except Missed as missed:
        record.problems.append(str(missed))
    except Exception as exc:  # noqa: BLE001 - recorded for the test; the session's deploy goes on
        record.problems.append(f"{type(exc).__name__}: {exc}")
    record.seconds = time.monotonic() - began
    return record


def _kill_at_four_points(config_dir: Path, record: Interrupted) -> None:
    names: list[str] = []

    def made() -> int:
        if not names:
            inventory = saved_inventory(config_dir)
            if inventory is None:
                return 0
            names.extend(names_of(inventory))
        return sum((LXC_PATH / n).exists() for n in names)

    # 1. While the containers are being made: some exist, some do not yet.
    run_killed(config_dir, lambda: made() >= 4, "with 4 of the containers made", record)
    record.inventory = saved_inventory(config_dir)
    if made() >= len(names):
        record.problems.append("every container existed when the run was killed: the kill landed too late")
    record.half_made_by_kill = half_made(names)
    check_between(config_dir, record, "the kill while containers were made", whole=False)
    # What a kill inside LXC's clone leaves: a config but no osa-aio marker. The next run remakes it.
    half = next(n for n in reversed(names) if not (LXC_PATH / n).exists())
    (LXC_PATH / half).mkdir()
    (LXC_PATH / half / "config").write_text(f"lxc.uts.name = {half}\nlxc.rootfs.path = dir:/nonexistent\n")
    record.half_made_by_hand = half

    # 2. While galera forms its cluster: right after the first node bootstrapped it.
    offset = log_size()
    run_killed(config_dir, log_has(offset, r"galera-container.*rc=0 .*\$ galera_new_cluster$"),
               "right after galera's first node bootstrapped the cluster", record)
    check_between(config_dir, record, "the kill after galera's bootstrap")
    if read_marker(half) is None or not lxc.Container(half).running:
        record.problems.append(f"{half} (made half by hand) was not remade by the next run")

    # 3. While keystone's venv is being installed from the repo.
    offset = log_size()
    run_killed(config_dir, log_has(offset, r"keystone-container.*rc=0 .*\$ python3 -m venv "
                                           r"/openstack/venvs/keystone-[0-9a-f]+-\d+$"),
               "while keystone's venv is installed", record)
    check_between(config_dir, record, "the kill during keystone's venv")

    # 4. While keystone's db_sync creates the schema of the new database.
    galera = LxcAttachRunner(sorted(n for n in names if "-galera-" in n)[0])
    keystone = LxcAttachRunner(sorted(n for n in names if "-keystone-" in n)[0])

    def tables() -> int:
        sql = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='keystone'"
        found = galera.run(["mariadb", "-N", "-B", "-e", sql], check=False, log_output=False, timeout=20)
        return int(found.stdout.strip() or 0) if found.rc == 0 else 0

    def mid_db_sync() -> bool:
        if tables() < 5:
            return False
        # db_sync runs under runuser, which may outlive the killed run: it goes down with it.
        keystone.run(["pkill", "-KILL", "-f", "keystone-manage db_sync"], check=False, timeout=20)
        return True
    run_killed(config_dir, mid_db_sync, "during keystone's first db_sync (5 tables made)", record)
    record.keystone_tables_when_killed = tables()
    check_between(config_dir, record, "the kill during keystone's db_sync")


def check_completed(config_dir: Path, record: Interrupted, final: subprocess.CompletedProcess) -> None:
    """After the run that completes the killed ones: same inventory, every container whole and
    running, galera one cluster of every node, no half-made datadir, keystone's schema made again."""
    if record.inventory is None:
        return
    try:
        _check_completed(config_dir, record, final)
    except Exception as exc:  # noqa: BLE001 - recorded for the test
        record.problems.append(f"after the completing run: {type(exc).__name__}: {exc}")


def _check_completed(config_dir: Path, record: Interrupted, final: subprocess.CompletedProcess) -> None:
    check_between(config_dir, record, "the completing run")
    record.schema_remade = "database keystone not half-made: " in final.stderr
    names = names_of(record.inventory)
    broken = [n for n in names if read_marker(n) is None or not lxc.Container(n).running]
    if broken:
        record.problems.append(f"after the completing run: not whole or not running: {broken}")
    galera = [n for n in names if "-galera-" in n]
    sizes = {n: node_state(n, LxcAttachRunner(n)).cluster_size for n in galera}
    if any(size != len(galera) for size in sizes.values()):
        record.problems.append(f"after the completing run: galera cluster sizes {sizes}")
    if list(Path("/openstack").glob("*/mysql.new")):
        record.problems.append("a half-made galera datadir was left")
