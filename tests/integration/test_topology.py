"""`osa-aio topology` on the real deployment: every container on br-mgmt with its address and
RUNNING, every HAProxy backend UP, and the same facts in the tree and Graphviz forms."""

import json

from osa_aio.inventory.query import group_members
from osa_aio.roles import haproxy_services


def test_topology_shows_the_deployed_aio(aio):
    data = json.loads(aio.osa("topology", "--json").stdout)
    containers = aio.containers()
    mgmt = next(b for b in data["bridges"] if b["name"] == "br-mgmt")
    assert mgmt["up"] and "172.29.236.101/32" in mgmt["addresses"]
    assert {(c["name"], c["address"], c["state"]) for c in mgmt["containers"]} == \
        {(name, address, "RUNNING") for name, address in containers.items()}
    assert data["haproxy"]["answering"]
    frontends = {f["name"]: f for f in data["haproxy"]["frontends"]}
    # Every frontend of a service the profile deployed (none for a service it leaves out).
    assert set(frontends) == {s.name for s in haproxy_services() if group_members(aio.inventory(), s.group)}
    assert all(b["health"].startswith("UP") for f in frontends.values() for b in f["backends"])
    assert len(frontends["keystone"]["backends"]) == 2 and len(frontends["galera"]["backends"]) == 3
    assert data["dev"] == []
    text = aio.osa("topology").stdout
    assert all(name in text for name in containers) and "HAProxy" in text
    graph = aio.osa("topology", "--format", "dot").stdout
    assert graph.startswith("digraph") and graph.count(" -> ") >= len(containers) + 6
