"""The OpenStack services on the building block, for real: an image through glance's VIP and each
glance container, kept across a rolling rebuild of both under a client loop; placement through
its VIP; every service's catalog entry; the catalog step idempotent and finished after a kill;
`osa-aio dev glance` serving a checkout."""

import hashlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from osa_aio.inventory.query import group_members
from osa_aio.roles import ROLES, compute, glance
from tests.checkouts import sdist_checkout
from tests.integration.conftest import (EXTERNAL_VIP, VIP, RequestLoop, keystone, openstack, rebuild_under_load,
                                       verify_rows)

def fetch(url: str, token: str) -> bytes:
    request = urllib.request.Request(url, headers={"X-Auth-Token": token})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def glance_containers(aio) -> dict[str, str]:
    return {n: a for n, a in aio.containers().items() if "-glance-" in n}


def test_an_image_uploaded_through_the_vip_downloads_with_its_checksum(utility, image):
    image_id, digest = image
    shown = json.loads(openstack(utility, "image", "show", image_id, "-f", "json").stdout)
    assert shown["status"] == "active" and shown["size"] == 3145728
    openstack(utility, "image", "save", "--file", "/root/osa-aio-test.out", image_id)
    assert utility.run(["sha256sum", "/root/osa-aio-test.out"]).stdout.split()[0] == digest


def test_each_glance_container_serves_the_image(aio, image):
    image_id, digest = image
    token = keystone(aio).token()
    containers = glance_containers(aio)
    assert len(containers) == ROLES["glance"].profiles["aio"]
    for name, address in containers.items():
        data = fetch(f"http://{address}:9292/v2/images/{image_id}/file", token)
        assert hashlib.sha256(data).hexdigest() == digest, name
    # One store on the host, owned by glance's fixed uid in every container.
    stored = list(Path(glance.ROLE.mounts[0][0]).iterdir())
    assert image_id in [p.name for p in stored] and {p.stat().st_uid for p in stored} == {glance.UID}


def test_placement_answers_through_the_vip(aio, utility):
    providers = json.loads(openstack(utility, "resource", "provider", "list", "-f", "json").stdout)
    # Each compute node registers itself (none without the compute profile).
    computes = sorted(n for n in aio.containers() if aio.inventory()["_meta"]["hostvars"][n]["container_type"]
                      == compute.CONTAINER_TYPE)
    assert sorted(p["name"] for p in providers) == computes
    classes = json.loads(openstack(utility, "resource", "class", "list", "-f", "json").stdout)
    assert "VCPU" in {c["name"] for c in classes}
    with urllib.request.urlopen(f"http://{VIP}:8780/", timeout=10) as response:
        assert json.loads(response.read())["versions"][0]["status"] == "CURRENT"


def test_every_service_has_three_endpoints_on_the_vips(aio, utility):
    endpoints = json.loads(openstack(utility, "endpoint", "list", "-f", "json").stdout)
    # Every entry of every service the profile deployed.
    entries = [entry for role in ROLES.values() for entry in role.catalog
               if group_members(aio.inventory(), role.group)]
    assert {e.type for e in entries} >= {"identity", "image", "placement"}
    for entry in entries:
        found = {e["Interface"]: e["URL"] for e in endpoints if e["Service Type"] == entry.type}
        assert found == entry.urls(VIP, EXTERNAL_VIP), entry


def test_verify_has_a_row_per_app_and_catalog_entry(aio):
    result = aio.osa("verify")
    assert f"All {verify_rows(aio.inventory())} checks passed." in result.stdout
    for row in ("glance-api through the VIP", "glance in the catalog", "placement-api through the VIP",
                "placement in the catalog", "keystone in the catalog"):
        assert re.search(rf"^{row} +ok ", result.stdout, re.M), row


def test_the_catalog_step_mends_what_is_missing_and_finishes_after_a_kill(aio):
    ks = keystone(aio)
    service = next(s for s in ks.find("services", type="placement") if s["name"] == "placement")
    for endpoint in ks.find("endpoints", service_id=service["id"]):
        if endpoint["interface"] != "public":
            ks.call("DELETE", f"/endpoints/{endpoint['id']}")
    user = ks.one("users", name="placement")
    ks.call("PATCH", f"/users/{user['id']}", {"user": {"password": "not-the-deployed-one"}})
    # Kill a run of placement's role as soon as it has started mending the catalog.
    log = open("/var/log/osa-aio/osa-aio.log")
    log.seek(0, os.SEEK_END)
    proc = subprocess.Popen(aio.command("run", "placement"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    killed = False
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        line = log.readline()
        if not line:
            time.sleep(0.005)
            continue
        if re.search(r"keystone (PATCH|POST) /(users|endpoints)", line):
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
    proc.wait(timeout=60)
    assert killed, "the run never reached the catalog"
    left = len(ks.find("endpoints", service_id=service["id"]))
    print(f"\ncatalog run killed with {left} of 3 placement endpoints made")
    again = aio.osa("run", "placement")
    assert re.search(r"changed +\S+ +keystone catalog placement \(placement\)", again.stderr), again.stderr
    endpoints = {e["interface"]: e["url"] for e in ks.find("endpoints", service_id=service["id"])}
    assert endpoints == {"public": f"http://{EXTERNAL_VIP}:8780", "internal": f"http://{VIP}:8780",
                         "admin": f"http://{VIP}:8780"}
    third = aio.osa("run", "placement")
    assert re.search(r"^ok=\d+ changed=0 failed=0$", third.stdout, re.M), third.stdout


def image_requests(token: str, image_id: str, digest: str):
    """Image list and image download through the VIP, in turn."""
    turn = iter(range(1_000_000))

    def request() -> None:
        if next(turn) % 2:
            listed = json.loads(fetch(f"http://{VIP}:9292/v2/images", token))
            assert any(i["id"] == image_id for i in listed["images"])
        else:
            assert hashlib.sha256(fetch(f"http://{VIP}:9292/v2/images/{image_id}/file", token)).hexdigest() == digest
    return request


def test_a_rolling_rebuild_of_both_glance_containers_keeps_the_image_and_every_request(aio, image):
    image_id, digest = image
    before = glance_containers(aio)
    loop = RequestLoop(image_requests(keystone(aio).token(), image_id, digest), 0.2)
    result, seconds = rebuild_under_load(aio, "glance_container", loop)
    print(f"\nglance_container x{len(before)} rebuilt in {seconds:.1f}s; image requests: {loop.ok} ok, "
          f"{loop.failed} failed")
    assert loop.failed == 0, loop.errors[:3]
    assert loop.ok > 20
    assert glance_containers(aio) == before
    for name in before:
        assert re.search(rf"^rebuilt {name} in [\d.]+s$", result.stdout, re.M)
    token = keystone(aio).token()
    for address in before.values():
        assert hashlib.sha256(fetch(f"http://{address}:9292/v2/images/{image_id}/file", token)).hexdigest() == digest


@pytest.fixture(scope="module")
def glance_checkout(tmp_path_factory):
    return sdist_checkout("glance", glance.SPEC.version, tmp_path_factory.mktemp("glance-src"))


def version_marks(count: int) -> list:
    marks = []
    for _ in range(count):
        try:
            with urllib.request.urlopen(f"http://{VIP}:9292/versions", timeout=10) as response:
                marks.append(json.loads(response.read()).get("osa_aio_dev"))
        except urllib.error.HTTPError as exc:
            marks.append(json.loads(exc.read()).get("osa_aio_dev"))
    return marks


def test_dev_glance_serves_a_checkout_through_the_vip_then_off(aio, glance_checkout):
    versions = glance_checkout / "glance" / "api" / "versions.py"
    text = versions.read_text()
    assert "dict(versions=version_objs)" in text
    versions.write_text(text.replace("dict(versions=version_objs)", "dict(versions=version_objs, osa_aio_dev=1)"))
    started = time.monotonic()
    result = aio.osa("dev", "glance", "--source", str(glance_checkout))
    swap = time.monotonic() - started
    assert "requests through the VIP reach the dev code" in result.stdout
    assert version_marks(10) == [1] * 10
    versions.write_text(versions.read_text().replace("osa_aio_dev=1", "osa_aio_dev=2"))
    started = time.monotonic()
    aio.osa("dev", "glance", "--restart")
    restart = time.monotonic() - started
    assert version_marks(10) == [2] * 10
    aio.osa("dev", "glance", "--off")
    assert version_marks(10) == [None] * 10
    assert f"All {verify_rows(aio.inventory())} checks passed." in aio.osa("verify").stdout
    print(f"\nglance dev swap {swap:.1f}s, edit -> restart {restart:.1f}s")


def test_rebuild_of_a_service_with_one_container_serves_again_through_the_vip(aio):
    """A service with one container (placement; nova and neutron on the compute profile) has no peer
    to drain to: its rebuild is the outage asked for, and the VIP answers again when it ends."""
    (name,) = group_members(aio.inventory(), ROLES["placement"].group)  # every profile with it has one
    result = aio.osa("rebuild", name, "--yes")
    assert re.search(rf"^rebuilt {name} in [\d.]+s$", result.stdout, re.M)
    assert "drained" not in result.stdout
    with urllib.request.urlopen(f"http://{VIP}:8780/", timeout=10) as response:
        assert json.loads(response.read())["versions"][0]["status"] == "CURRENT"
    aio.osa("verify")
