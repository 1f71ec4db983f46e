"""Developer workflows for real: rolling rebuilds under load, a keystone dev checkout served
through the VIP, edits picked up with --restart, and snapshots rolled back."""

import json
import re
import time
import urllib.request
from pathlib import Path
from typing import Callable

import pytest

from osa_aio.roles import keystone
from osa_aio.transport import LxcAttachRunner
from tests.checkouts import sdist_checkout
from tests.integration.conftest import RequestLoop, rebuild_under_load, verify_rows

VIP = "172.29.236.101"


def token_body(aio) -> bytes:
    secrets = (aio.config_dir / "user_secrets.yml").read_text()
    password = re.search(r"^keystone_auth_admin_password: (\S+)$", secrets, re.M).group(1)
    return json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}).encode()


def token_request(body: bytes) -> Callable[[], None]:
    def request() -> None:
        post = urllib.request.Request(f"http://{VIP}:5000/v3/auth/tokens", data=body,
                                      headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(post, timeout=10) as response:
            assert response.headers["X-Subject-Token"]
    return request


def test_rolling_rebuild_of_keystone_keeps_names_ips_and_every_token_request(aio):
    before = {n: a for n, a in aio.containers().items() if "-keystone-" in n}
    loop = RequestLoop(token_request(token_body(aio)), 0.1)
    result, seconds = rebuild_under_load(aio, "keystone_container", loop)
    print(f"\nkeystone_container rebuilt in {seconds:.1f}s; token requests: {loop.ok} ok, {loop.failed} failed")
    assert loop.failed == 0, loop.errors[:3]
    assert loop.ok > 20
    assert {n: a for n, a in aio.containers().items() if "-keystone-" in n} == before
    for name in before:
        assert re.search(rf"^rebuilt {name} in [\d.]+s$", result.stdout, re.M)
    rows = {r["name"]: r for r in json.loads(aio.osa("list", "--json").stdout)}
    assert all(rows[n]["state"] == "RUNNING" and rows[n]["addresses"] == [a] for n, a in before.items())


def test_rebuild_of_a_galera_node_rejoins_with_its_data(aio):
    nodes = sorted(n for n in aio.containers() if "-galera-" in n)
    runner = LxcAttachRunner(nodes[0])
    runner.run(["mariadb", "-e", "CREATE DATABASE IF NOT EXISTS osa_aio_test; CREATE TABLE IF NOT EXISTS "
                "osa_aio_test.kept (v VARCHAR(32)); INSERT INTO osa_aio_test.kept VALUES ('written before')"])
    aio.osa("rebuild", nodes[1], "--yes")
    rebuilt = LxcAttachRunner(nodes[1])
    assert rebuilt.run(["mariadb", "-N", "-B", "-e", "SELECT v FROM osa_aio_test.kept"]).stdout.split("\n")[0] == \
        "written before"
    size = rebuilt.run(["mariadb", "-N", "-B", "-e", "SHOW STATUS LIKE 'wsrep_cluster_size'"]).stdout.split()
    assert size == ["wsrep_cluster_size", "3"]
    runner.run(["mariadb", "-e", "DROP DATABASE osa_aio_test"])


def test_rebuild_refuses_to_take_down_the_last_healthy_galera_node(aio):
    nodes = sorted(n for n in aio.containers() if "-galera-" in n)
    for name in nodes[1:]:
        LxcAttachRunner(name).run(["systemctl", "stop", "mariadb"])
    try:
        refused = aio.osa("rebuild", nodes[0], "--yes", check=False)
        assert refused.returncode == 2
        assert f"{nodes[0]} is the last healthy member of the galera cluster" in refused.stderr
        assert LxcAttachRunner(nodes[0]).run(["systemctl", "is-active", "mariadb"]).stdout.strip() == "active"
    finally:
        aio.osa("run", "galera")


@pytest.fixture(scope="module")
def keystone_checkout(tmp_path_factory):
    return sdist_checkout("keystone", keystone.SPEC.version, tmp_path_factory.mktemp("keystone-src"))


def version_documents(count: int) -> list[dict]:
    docs = []
    for _ in range(count):
        with urllib.request.urlopen(f"http://{VIP}:5000/v3", timeout=10) as response:
            docs.append(json.loads(response.read())["version"])
    return docs


def test_dev_checkout_is_served_through_the_vip_then_off(aio, keystone_checkout):
    discovery = keystone_checkout / "keystone" / "api" / "discovery.py"
    discovery.write_text(discovery.read_text().replace("'id': 'v3.14',", "'id': 'v3.14', 'osa_aio_dev': 1,"))
    started = time.monotonic()
    result = aio.osa("dev", "keystone", "--source", str(keystone_checkout))
    swap = time.monotonic() - started
    assert "requests through the VIP reach the dev code" in result.stdout
    assert all(doc.get("osa_aio_dev") == 1 for doc in version_documents(10))
    dev_rows = [r for r in json.loads(aio.osa("list", "--json").stdout) if r["dev"]]
    assert len(dev_rows) == 1 and str(keystone_checkout) in dev_rows[0]["dev"]
    # An uncommitted edit, then --restart.
    discovery.write_text(discovery.read_text().replace("'osa_aio_dev': 1,", "'osa_aio_dev': 2,"))
    started = time.monotonic()
    aio.osa("dev", "keystone", "--restart")
    restart = time.monotonic() - started
    assert all(doc.get("osa_aio_dev") == 2 for doc in version_documents(10))
    # A run leaves the dev checkout in place and says so.
    run = aio.osa("run", "keystone")
    assert "runs a dev checkout of keystone" in run.stderr
    assert all(doc.get("osa_aio_dev") == 2 for doc in version_documents(5))
    aio.osa("dev", "keystone", "--off")
    assert all("osa_aio_dev" not in doc for doc in version_documents(10))
    assert not [r for r in json.loads(aio.osa("list", "--json").stdout) if r["dev"]]
    assert f"All {verify_rows(aio.inventory())} checks passed." in aio.osa("verify").stdout
    print(f"\ndev swap {swap:.1f}s, edit -> restart {restart:.1f}s")


def test_dev_refuses_a_path_that_is_not_a_checkout(aio, tmp_path):
    result = aio.osa("dev", "keystone", "--source", str(tmp_path), check=False)
    assert result.returncode == 2
    assert f"--source: {tmp_path} is not a checkout of keystone" in result.stderr
    assert not [r for r in json.loads(aio.osa("list", "--json").stdout) if r["dev"]]


def test_rollback_restores_a_file_changed_after_the_snapshot(aio):
    name = next(n for n in aio.containers() if "-utility-" in n)
    runner = LxcAttachRunner(name)
    runner.run(["sh", "-c", "echo before > /etc/osa-aio-snapshot-test; echo data-before > /openstack/snapshot-test"])
    aio.osa("snapshot", name, "--name", "test-point")
    runner.run(["sh", "-c", "echo after > /etc/osa-aio-snapshot-test; echo data-after > /openstack/snapshot-test"])
    assert "test-point" in aio.osa("snapshot", name, "--list").stdout
    aio.osa("rollback", name, "test-point")
    runner = LxcAttachRunner(name)
    assert runner.run(["cat", "/etc/osa-aio-snapshot-test"]).stdout == "before\n"
    assert Path(f"/openstack/{name}/snapshot-test").read_text() == "data-before\n"
    assert aio.osa("rollback", name, "no-such-tag", check=False).returncode == 2


def test_rollback_of_a_balanced_container_returns_once_haproxy_sees_it_up(aio):
    name = sorted(n for n in aio.containers() if "-keystone-" in n)[0]
    aio.osa("snapshot", name, "--name", "before-rollback")
    aio.osa("rollback", name, "before-rollback")
    status = json.loads(aio.osa("haproxy", "status", "--json").stdout)
    assert [s["status"] for s in status if s["server"] == name] == ["UP"]
