"""Destroying containers: one by name, and `run` making it again with the same name, IP and MAC."""

import json
import re

import lxc

from tests.integration.conftest import deployed_total


def test_destroy_one_then_run_brings_it_back_the_same(aio):
    name = sorted(n for n in aio.containers() if "-keystone-" in n)[0]
    mac = lxc.Container(name).get_config_item("lxc.net.0.hwaddr")
    out = aio.osa("destroy", name.replace("aio1-keystone-container-", "aio1_keystone_container-"))
    assert out.stdout.strip() == f"destroyed {name}"
    rows = {r["name"]: r for r in json.loads(aio.osa("list", "--json").stdout)}
    assert rows[name]["state"] == "ABSENT"
    assert sum(r["state"] == "RUNNING" for r in rows.values()) == deployed_total(aio) - 1
    run = aio.osa("run", "--limit", name)
    assert re.search(r"^ok=\d+ changed=\d+ failed=0$", run.stdout, re.M), run.stdout
    rows = {r["name"]: r for r in json.loads(aio.osa("list", "--json").stdout)}
    assert rows[name]["state"] == "RUNNING" and rows[name]["addresses"] == [aio.containers()[name]]
    assert lxc.Container(name).get_config_item("lxc.net.0.hwaddr") == mac
    # It serves again, with the keys its peer had (a token from one validates on the other).
    assert aio.osa("verify").returncode == 0


def test_destroy_refuses_without_target_or_yes(aio):
    assert aio.osa("destroy", check=False).returncode == 2
    refused = aio.osa("destroy", "--all", check=False)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert sum(r["state"] == "RUNNING" for r in json.loads(aio.osa("list", "--json").stdout)) == deployed_total(aio)
