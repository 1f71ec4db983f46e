from osa_aio.containers import ContainerState
from osa_aio.haproxy import ServerState
from osa_aio.host import BridgePlan
from osa_aio.inventory.generate import build_inventory
from osa_aio.inventory.query import containers
from osa_aio.roles import haproxy_services
from osa_aio.topology import build, dot, tree


def topology(load, servers=(), checkouts=None, stopped=()):
    inventory = build_inventory(load(), None)[0]
    rows = containers(inventory)
    states = {r.name: ContainerState(r.name, r.container_type, "STOPPED" if r.name in stopped else "RUNNING",
                                     (r.management_address,), True) for r in rows}
    plans = [BridgePlan("br-mgmt", (("172.29.236.100", 22), ("172.29.236.101", 32))),
             BridgePlan("br-storage", (("172.29.244.100", 22),))]
    return rows, build("aio1", inventory, plans, {"br-mgmt": True, "br-storage": False}, states,
                       haproxy_services(), list(servers) if servers is not None else None,
                       "172.29.236.101", "192.0.2.2", checkouts or {})


def test_containers_hang_off_their_bridges_with_address_and_state(load):
    rows, data = topology(load, stopped={"x"})
    mgmt, storage = data["bridges"]
    assert mgmt["up"] and not storage["up"]
    # Only the types bound to the storage network (glance) have a leg on br-storage.
    assert {c["name"] for c in storage["containers"]} == {r.name for r in rows if r.container_type == "glance_container"}
    assert mgmt["addresses"] == ["172.29.236.100/22", "172.29.236.101/32"]
    assert {(c["name"], c["address"], c["state"]) for c in mgmt["containers"]} == \
        {(r.name, r.management_address, "RUNNING") for r in rows}


def test_frontends_list_their_servers_with_health_and_dev_checkouts(load):
    rows, _ = topology(load)
    keystones = sorted(r.name for r in rows if r.container_type == "keystone_container")
    servers = [ServerState("keystone", keystones[0], "UP", False), ServerState("keystone", keystones[1], "DOWN", False)]
    _, data = topology(load, servers, {keystones[0]: "keystone from /src/keystone"})
    keystone = next(f for f in data["haproxy"]["frontends"] if f["name"] == "keystone")
    assert keystone["binds"] == ["172.29.236.101:5000", "192.0.2.2:5000"]
    assert [(b["server"], b["health"], b["dev"]) for b in keystone["backends"]] == \
        [(keystones[0], "UP", "keystone from /src/keystone"), (keystones[1], "DOWN", None)]
    galera = next(f for f in data["haproxy"]["frontends"] if f["name"] == "galera")
    assert [b["backup"] for b in galera["backends"]] == [False, True, True]
    assert data["dev"] == [{"container": keystones[0], "checkout": "keystone from /src/keystone"}]
    text = dot(data)
    assert text.startswith("digraph osa_aio {") and f'"haproxy:keystone" -> "{keystones[1]}"' in text
    assert tree(data).label.startswith("[bold]aio1")


def test_haproxy_not_answering_is_said(load):
    _, data = topology(load, servers=None)
    assert data["haproxy"]["answering"] is False
    assert {b["health"] for f in data["haproxy"]["frontends"] for b in f["backends"]} == {"unknown"}
