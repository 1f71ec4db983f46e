"""Redundancy for real: galera nodes killed (crashed, not stopped): the first one, then all of them.
(Clean stops under load are in test_faults_under_load.py.)"""

import subprocess
import time

import pytest

from osa_aio.transport import LxcAttachRunner
from tests.integration.conftest import make_healthy, openstack


def stop(name: str, kill: bool = False) -> None:
    subprocess.run(["lxc-stop", "-n", name, *(["-k"] if kill else [])], check=True)


def test_projects_created_with_the_first_galera_node_stopped(aio, utility):
    first = sorted(n for n in aio.containers() if "-galera-" in n)[0]
    stop(first, kill=True)
    started = time.monotonic()
    try:
        created = None
        while time.monotonic() - started < 90 and created is None:
            result = openstack(utility, "project", "create", "osa-aio-failover", "-f", "value", "-c", "name",
                               check=False)
            if result.rc == 0:
                created = result.stdout.strip()
            else:
                time.sleep(2)
        print(f"\nproject created {time.monotonic() - started:.1f}s after galera's first node was killed")
        assert created == "osa-aio-failover"
        openstack(utility, "project", "delete", "osa-aio-failover")
    finally:
        aio.osa("run", "galera")
    assert verify_within(aio, 120) is not None


def test_run_brings_galera_back_after_every_node_was_stopped(aio):
    nodes = sorted(n for n in aio.containers() if "-galera-" in n)
    for name in nodes:
        stop(name, kill=True)
    started = time.monotonic()
    run = aio.osa("run", "galera")
    print(f"\ngalera back from a full stop in {time.monotonic() - started:.1f}s")
    assert "cluster synced: 0/3 nodes synced" in run.stderr
    size = LxcAttachRunner(nodes[0]).run(["mariadb", "-N", "-B", "-e", "SHOW STATUS LIKE 'wsrep_cluster_size'"])
    assert size.stdout.split() == ["wsrep_cluster_size", "3"]
    # Keystone's pooled database connections died with the cluster: it recovers by itself.
    assert verify_within(aio, 120) is not None


def verify_within(aio, seconds: float) -> float | None:
    """Seconds until `osa-aio verify` passes (None if it does not within ``seconds``)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if aio.osa("verify", check=False).returncode == 0:
            took = time.monotonic() - started
            print(f"verify passed {took:.1f}s after the run")
            return took
        time.sleep(2)
    return None


@pytest.fixture(autouse=True)
def healthy_after(aio):
    yield
    make_healthy(aio)
