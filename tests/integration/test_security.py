"""Secrets hygiene and exposure on the real deployment: no secret in any output or log, tight
modes on files holding secrets, HAProxy's stats and admin socket local, MariaDB root on its local
socket only, and the infrastructure services listening on the management network only."""

import os
import re
import socket
import stat
import subprocess

import pymysql
import pytest

from osa_aio.transport import LxcAttachRunner
from tests.integration.conftest import shipped_secrets


def secret_values(aio) -> list[str]:
    text = (aio.config_dir / "user_secrets.yml").read_text()
    values = re.findall(r"^\w+: (\S+)$", text, re.M)
    assert len(values) == len(shipped_secrets())
    return values


def test_no_secret_in_any_output_or_log(aio):
    outputs = [aio.bootstrap.stdout, aio.bootstrap.stderr, aio.run.stdout, aio.run.stderr]
    for args in (["run", "--check"], ["verify"], ["list"], ["inventory", "--json"], ["inventory", "--list"],
                 ["haproxy", "status"], ["secrets", "--check"]):
        result = aio.osa(*args)
        outputs += [result.stdout, result.stderr]
    outputs.append(open("/var/log/osa-aio/osa-aio.log").read())
    leaked = [value[:6] + "..." for value in secret_values(aio) if any(value in text for text in outputs)]
    assert leaked == []


def mode_owner(runner, path):
    return runner.run(["stat", "-c", "%a:%U:%G", path]).stdout.strip()


def test_files_holding_secrets_have_tight_modes(aio):
    assert stat.S_IMODE(os.stat(aio.config_dir / "user_secrets.yml").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(aio.config_dir / "openstack_inventory.json").st_mode) == 0o600
    names = sorted(aio.containers())
    keystone = LxcAttachRunner(next(n for n in names if "-keystone-" in n))
    assert mode_owner(keystone, "/etc/keystone/keystone.conf") == "640:root:keystone"
    assert mode_owner(keystone, "/etc/keystone/fernet-keys") == "700:keystone:keystone"
    utility = LxcAttachRunner(next(n for n in names if "-utility-" in n))
    assert mode_owner(utility, "/root/openrc") == "600:root:root"
    assert mode_owner(utility, "/root/.config/openstack/clouds.yaml") == "600:root:root"
    rabbit = LxcAttachRunner(next(n for n in names if "-rabbit-mq-" in n))
    assert mode_owner(rabbit, "/var/lib/rabbitmq/.erlang.cookie") == "400:rabbitmq:rabbitmq"


def test_haproxy_stats_and_admin_socket_are_local(aio):
    listeners = subprocess.run(["ss", "-ltnHp"], capture_output=True, text=True, check=True).stdout
    stats = [line.split()[3] for line in listeners.splitlines() if ":1936" in line.split()[3]]
    assert stats == ["127.0.0.1:1936"]
    assert stat.S_IMODE(os.stat("/run/haproxy/admin.sock").st_mode) == 0o600


def reachable(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=5).close()
    except OSError:
        return False
    return True


def test_mariadb_root_only_through_the_local_socket(aio):
    node = sorted(n for n in aio.containers() if "-galera-" in n)[0]
    address = aio.containers()[node]
    # A refused or timed-out connection raises OperationalError too: first make sure MariaDB answers.
    assert reachable(address, 3306), f"{node}: nothing answers on {address}:3306"
    with pytest.raises(pymysql.err.OperationalError) as refused:
        pymysql.connect(host=address, user="root", password="", connect_timeout=5)
    # 1045 access denied, 1130 host not allowed to connect: the server itself said no.
    assert refused.value.args[0] in (1045, 1130), refused.value.args
    assert LxcAttachRunner(node).run(["mariadb", "-N", "-B", "-e", "SELECT CURRENT_USER()"]).stdout.strip() == \
        "root@localhost"


@pytest.mark.parametrize("kind, port", [("-galera-", 3306), ("-rabbit-mq-", 5672), ("-memcached-", 11211)])
def test_infrastructure_listens_on_the_management_network_only(aio, kind, port):
    members = {name: address for name, address in aio.containers().items() if kind in name}
    assert members, f"no {kind.strip('-')} container in the inventory"
    for name, address in members.items():
        listening = {tuple(line.split()[4].rsplit(":", 1))  # netid, state, recv-q, send-q, local address:port
                     for line in LxcAttachRunner(name).run(["ss", "-ltnuH"]).stdout.splitlines()}
        assert (address, str(port)) in listening, (name, listening)  # the service itself is up and seen
        assert {host for host, _ in listening} <= {address, "127.0.0.1"}, (name, listening)
