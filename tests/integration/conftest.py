"""One real deployment shared by the integration tests (session-scoped): bootstrap + run on
real LXC, torn down at the end. Needs root and LXC; skips with the reason otherwise."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
import yaml

from osa_aio.config import project_path
from osa_aio.host import primary_address
from osa_aio.inventory.query import group_members
from osa_aio.lock import Locked, exclusive
from osa_aio.profiles import DEFAULT, PROFILES, VARIABLE
from osa_aio.roles import ROLES
from osa_aio.roles.catalog import Keystone
from osa_aio.transport import LxcAttachRunner
from tests.cli import osa
from tests.integration.interrupt import Interrupted, check_completed, kill_cold_run

VIP = "172.29.236.101"          # the shipped config's internal VIP
EXTERNAL_VIP = primary_address()  # `auto`: the host's default-route address
IMAGE = "osa-aio-test-image"



def verify_rows(inventory: dict) -> int:
    """How many rows `osa-aio verify` has on this inventory: every check of every role with containers."""
    return sum(len(role.checks) for role in ROLES.values()
               if role.container_type is None or group_members(inventory, role.group))


def deployed_counts(aio) -> dict[str, int]:
    """container type -> containers of the profile bootstrap chose for this deployment (the default
    grows to the largest profile where the host holds it)."""
    chosen = (yaml.safe_load((aio.config_dir / "user_variables.yml").read_text()) or {}).get(VARIABLE) or DEFAULT
    return {ctype: count for ctype, count in PROFILES[chosen].counts.items() if count}


def deployed_total(aio) -> int:
    return sum(deployed_counts(aio).values())


def shipped_secrets() -> list[str]:
    return list(yaml.safe_load((project_path("user_config") / "user_secrets.yml").read_text()))
# Where a run keeps what it saves (the dashboard's screenshots): one folder per run.
OUTPUT = Path(os.environ.get("OSA_AIO_TEST_OUTPUT") or
              Path(__file__).resolve().parents[2] / "test-output" / time.strftime("%Y%m%d-%H%M%S"))


def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


# Set to keep the base image between local runs (CI purges it, proving the cold build).
KEEP_IMAGE = os.environ.get("OSA_AIO_TEST_KEEP_IMAGE") == "1"
# A developer's shortcut: run the tests on the deployment of this config dir (bootstrap and run
# are re-run on it, nothing is destroyed before or after). CI never sets it.
REUSE = os.environ.get("OSA_AIO_TEST_CONFIG_DIR")
SUITE_LOCK = Path("/run/osa-aio-suite.lock")


def skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "the integration suite needs root"
    if shutil.which("lxc-start") is None:
        return "the integration suite needs LXC (apt-get install lxc)"
    try:
        import lxc  # noqa: F401
    except ImportError:
        return "the integration suite needs the python-lxc bindings"
    return None


@dataclass
class Deployment:
    config_dir: Path
    bootstrap: subprocess.CompletedProcess
    run: subprocess.CompletedProcess
    seconds: dict[str, float] = field(default_factory=dict)
    interrupted: Interrupted | None = None  # the cold run's kills (None with OSA_AIO_TEST_CONFIG_DIR)

    def inventory(self) -> dict:
        return json.loads((self.config_dir / "openstack_inventory.json").read_text())

    def containers(self) -> dict[str, str]:
        """container name -> management address"""
        hostvars = self.inventory()["_meta"]["hostvars"]
        return {name: hv["management_address"] for name, hv in hostvars.items() if hv.get("container_type")}

    def osa(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return osa(*args, config_dir=self.config_dir, check=check)

    def command(self, *args: str) -> list[str]:
        """The argv of an osa-aio command on this deployment (to run it some other way)."""
        return [sys.executable, "-m", "osa_aio", "--config-dir", str(self.config_dir), *args]


@pytest.fixture(scope="session")
def aio(tmp_path_factory) -> Deployment:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    # Two suites on one host destroy each other's containers: the second stops at once, saying so.
    try:
        with exclusive("integration suite", SUITE_LOCK):
            yield from _deployment(tmp_path_factory)
    except Locked as exc:
        pytest.exit(f"{exc}: one integration suite at a time on a host", returncode=1)


def _deployment(tmp_path_factory):
    config_dir = tmp_path_factory.mktemp("aio") / "config"  # absent: bootstrap installs it
    if REUSE:
        config_dir = Path(REUSE)
    else:
        # Leftovers of an interrupted run (or an earlier deployment) go first: this proves a cold start.
        osa("destroy", "--all", "--yes", *([] if KEEP_IMAGE else ["--purge"]), config_dir=config_dir)
    started = time.monotonic()
    boot = osa("bootstrap", config_dir=config_dir)
    booted = time.monotonic()
    # The cold run is killed at four points first (test_interrupted_runs.py asserts on what it saw);
    # the next run must complete it.
    interrupted = None if REUSE else kill_cold_run(config_dir)
    killed = time.monotonic()
    run = osa("run", config_dir=config_dir)
    if interrupted is not None:
        check_completed(config_dir, interrupted, run)
    deployment = Deployment(config_dir, boot, run,
                            {"bootstrap": booted - started, "killed runs": killed - booted,
                             "run": time.monotonic() - killed}, interrupted)
    print("\nosa-aio deployment: " + ", ".join(f"{k} {v:.1f}s" for k, v in deployment.seconds.items()))
    yield deployment
    if not REUSE:
        osa("destroy", "--all", "--yes", *([] if KEEP_IMAGE else ["--purge"]), config_dir=config_dir, check=False)


def make_healthy(aio) -> None:
    """After a test that breaks things on purpose: `osa-aio run` only if a container is not running
    or `verify` fails (a run is half a minute even when it changes nothing)."""
    stopped = [c["name"] for c in json.loads(aio.osa("list", "--json").stdout) if c["state"] != "RUNNING"]
    if stopped or aio.osa("verify", check=False).returncode != 0:
        aio.osa("run", check=False)


@pytest.fixture
def utility(aio):
    """A runner in the utility container (the openstack client and /root/openrc)."""
    return LxcAttachRunner(next(n for n in aio.containers() if "-utility-" in n))


def admin_password(aio) -> str:
    text = (aio.config_dir / "user_secrets.yml").read_text()
    return re.search(r"^keystone_auth_admin_password: (\S+)$", text, re.M).group(1)


def keystone(aio) -> Keystone:
    return Keystone(VIP, admin_password(aio))


@pytest.fixture(scope="module")
def image(aio):
    """A 3 MiB random image uploaded through the VIP with the openstack client (the glance tests
    and the dashboard's Images panel); its id and sha256. One per module."""
    utility = LxcAttachRunner(next(n for n in aio.containers() if "-utility-" in n))
    utility.run(["sh", "-c", "head -c 3145728 /dev/urandom > /root/osa-aio-test.img"])
    digest = utility.run(["sha256sum", "/root/osa-aio-test.img"]).stdout.split()[0]
    created = json.loads(openstack(utility, "image", "create", "--file", "/root/osa-aio-test.img", "--disk-format",
                                   "raw", "--container-format", "bare", IMAGE, "-f", "json").stdout)
    yield created["id"], digest
    openstack(utility, "image", "delete", created["id"], check=False)


def openstack(utility, *args, check=True):
    """The openstack client in the utility container, as admin."""
    return utility.run(["bash", "-c", ". /root/openrc && openstack \"$@\"", "openstack", *args],
                       check=check, timeout=120)


def host_state(aio) -> tuple:
    """What a command that fails must leave as it was: rules, addresses, containers, HAProxy's
    config, the saved inventory and /var/lib/lxc (the preflight test's veth left out)."""
    def run(*argv):
        return subprocess.run(list(argv), capture_output=True, text=True).stdout

    containers = json.loads(aio.osa("list", "--json").stdout)
    return (run("iptables", "-w", "-t", "nat", "-S"), run("iptables", "-w", "-S"),
            "\n".join(line for line in run("ip", "-br", "addr").splitlines() if not line.startswith("osa-pf")),
            [(c["name"], c["state"], c["addresses"]) for c in containers],
            Path("/etc/haproxy/haproxy.cfg").read_text(),
            (aio.config_dir / "openstack_inventory.json").read_bytes(),
            sorted(p.name for p in Path("/var/lib/lxc").iterdir()))


class RequestLoop(threading.Thread):
    """Calls ``request`` (which raises on a wrong answer) every ``interval`` seconds until stopped;
    counts what succeeded and what failed."""

    def __init__(self, request: Callable[[], None], interval: float) -> None:
        super().__init__(daemon=True)
        self.request, self.interval = request, interval
        self.ok, self.failed, self.errors = 0, 0, []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.request()
                self.ok += 1
            except Exception as exc:  # noqa: BLE001 - every failure is counted
                self.failed += 1
                self.errors.append(repr(exc))
            time.sleep(self.interval)


def rebuild_under_load(aio, target: str, loop: RequestLoop) -> tuple[subprocess.CompletedProcess, float]:
    """`osa-aio rebuild TARGET --yes` while ``loop`` sends requests (until 2 s after it ends)."""
    loop.start()
    started = time.monotonic()
    try:
        result = aio.osa("rebuild", target, "--yes")
    finally:
        seconds = time.monotonic() - started
        time.sleep(2)
        loop.stopping.set()
        loop.join()
    return result, seconds


def pytest_terminal_summary(terminalreporter) -> None:
    """The figures the fault tests measured, at the end of the run (CI's output shows them)."""
    from tests.load import FIGURES  # noqa: PLC0415 - only when the integration suite ran

    if FIGURES:
        terminalreporter.section("faults under load: figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
