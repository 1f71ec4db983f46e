"""openstack-ansible's own env.d and AIO user config must build an inventory."""

from collections import Counter

import netaddr
import pytest

from osa_aio.config import load_config
from osa_aio.inventory.generate import build_inventory
from osa_aio.inventory.query import containers
from tests.osa_reference import REFERENCE, render_osa_aio

pytestmark = pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"{REFERENCE} is not here")


def test_osa_envd_and_aio_config_build_an_inventory(tmp_path):
    config = load_config(render_osa_aio(tmp_path / "osa"), host_address="172.29.236.100")
    inv, warnings = build_inventory(config, None)
    kinds = Counter(row.container_type for row in containers(inv))
    assert kinds["galera_container"] == 3 and kinds["keystone_container"] == 3
    assert kinds["repo_container"] == 3 and kinds["utility_container"] == 1
    # is_metal services live on the host itself.
    assert "aio1" in inv["nova_compute"]["hosts"]
    assert inv["haproxy"]["hosts"] == ["aio1"]
    addresses = [row.management_address for row in containers(inv)]
    assert len(addresses) == len(set(addresses)) == sum(kinds.values())
    assert all(netaddr.IPAddress(a) in netaddr.IPNetwork("172.29.236.0/22") for a in addresses)
    # The only complaints are OSA's used_ips for a network its AIO no longer defines.
    assert warnings and all("172.29.248." in w for w in warnings)
    again, _ = build_inventory(config, inv)
    assert again == inv
