"""Preflight on the real host: a container network already in use stops bootstrap before any change."""

import subprocess

import pytest

from tests.integration.conftest import host_state


@pytest.fixture
def squatter():
    """A veth on this host holding an address inside the management network (no traffic is sent)."""
    subprocess.run(["ip", "link", "add", "osa-pf0", "type", "veth", "peer", "name", "osa-pf1"], check=True)
    subprocess.run(["ip", "addr", "add", "172.29.237.7/24", "dev", "osa-pf0"], check=True)
    yield "osa-pf0"
    subprocess.run(["ip", "link", "del", "osa-pf0"], check=False)


def test_network_in_use_fails_preflight_with_exit_2_and_changes_nothing(aio, squatter):
    before = host_state(aio)
    result = aio.osa("bootstrap", check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert any("cidr_networks.management: 172.29.236.0/22 is already used by osa-pf0 (172.29.237.7/24); "
               "choose another network" in line for line in lines), result.stderr
    assert all(line.startswith("error: ") for line in lines)
    assert host_state(aio) == before  # the saved inventory included
