"""The deployed AIO for real: keystone through HAProxy, the openstack client in the utility
container, verify, and the pieces behind them (galera, rabbitmq, memcached, repo)."""

import json
import re
import urllib.request
from pathlib import Path

from osa_aio.steps import INSTALLER
from osa_aio.transport import LxcAttachRunner
from tests.integration.conftest import openstack, verify_rows

VIP = "172.29.236.101"
EXTERNAL_VIP = "192.0.2.2"  # `auto`: the host's default-route address on these machines


def test_openstack_client_issues_tokens_lists_endpoints_and_creates_projects(utility):
    token = json.loads(openstack(utility, "token", "issue", "-f", "json").stdout)
    assert len(token["id"]) > 20 and token["project_id"]
    endpoints = json.loads(openstack(utility, "endpoint", "list", "-f", "json").stdout)
    identity = {e["Interface"]: e["URL"] for e in endpoints if e["Service Type"] == "identity"}
    assert identity == {"admin": f"http://{VIP}:5000/v3", "internal": f"http://{VIP}:5000/v3",
                        "public": f"http://{EXTERNAL_VIP}:5000/v3"}
    created = json.loads(openstack(utility, "project", "create", "osa-aio-test-project", "-f", "json").stdout)
    assert created["name"] == "osa-aio-test-project"
    openstack(utility, "project", "delete", "osa-aio-test-project")


def test_keystone_answers_on_the_host_through_haproxy():
    with urllib.request.urlopen(f"http://{VIP}:5000/v3", timeout=10) as response:
        version = json.loads(response.read())["version"]
    assert version["status"] == "stable" and version["id"].startswith("v3")


def test_verify_passes(aio):
    result = aio.osa("verify")
    assert f"All {verify_rows(aio.inventory())} checks passed." in result.stdout
    assert re.search(r"galera through the VIP +ok +cluster size 3, 3/3 synced", result.stdout)
    assert re.search(r"rabbitmq cluster +ok +3/3 nodes running", result.stdout)


def test_galera_cluster_and_data_in_the_bind_mount(aio):
    galera = sorted(n for n in aio.containers() if "-galera-" in n)
    size = LxcAttachRunner(galera[1]).run(["mariadb", "-N", "-B", "-e", "SHOW STATUS LIKE 'wsrep_cluster_size'"])
    assert size.stdout.split() == ["wsrep_cluster_size", "3"]
    for name in galera:
        assert Path(f"/openstack/{name}/mysql/grastate.dat").exists()  # data in the bind mount
        for port in (3306, 4567, 9200):
            listening = LxcAttachRunner(name).run(["ss", "-ltnH", f"sport = :{port}"]).stdout.split()[3]
            assert listening == f"{aio.containers()[name]}:{port}"  # the management address only


def test_haproxy_config_is_checked_generated_and_stats_are_local_only():
    config = open("/etc/haproxy/haproxy.cfg").read()
    assert "frontend keystone_front" in config and f"bind {VIP}:5000" in config
    assert "bind 127.0.0.1:1936" in config
    assert re.search(r"server aio1-galera-container-\S+ \S+:3306 check port 9200 backup", config)
    assert "option redispatch" in config and "retries 3" in config


def test_rabbitmq_has_no_guest_and_keystone_has_its_vhost(aio):
    rabbit = LxcAttachRunner(sorted(n for n in aio.containers() if "-rabbit-mq-" in n)[0])
    users = rabbit.run(["rabbitmqctl", "list_users", "--silent"]).stdout
    assert "guest" not in users.split() and "keystone" in users.split()
    assert "keystone" in rabbit.run(["rabbitmqctl", "list_vhosts", "--silent"]).stdout.split()


def test_keys_are_identical_on_both_keystones(aio):
    digests = set()
    for name in sorted(n for n in aio.containers() if "-keystone-" in n):
        out = LxcAttachRunner(name).run(["sh", "-c", "cd /etc/keystone && find fernet-keys credential-keys -type f"
                                         " | sort | xargs sha256sum"]).stdout
        assert "fernet-keys/0" in out and "credential-keys/0" in out
        digests.add(out)
    assert len(digests) == 1


def test_python_packages_come_only_from_the_private_repo(aio):
    keystone = LxcAttachRunner(sorted(n for n in aio.containers() if "-keystone-" in n)[0])
    version = keystone.run(["/openstack/venvs/keystone/bin/python", "-c",
                            "import importlib.metadata as m; print(m.version('keystone'))"]).stdout.strip()
    assert version == "30.0.0"
    log = open("/var/log/osa-aio/osa-aio.log").read()
    installs = [line for line in log.splitlines() if f"{INSTALLER} pip install" in line and "$ " in line]
    assert installs and all("--no-index" in line and f"http://{VIP}:8181/" in line for line in installs)
