"""The decision whether a rabbitmq node is stuck outside its cluster (roles/rabbitmq.NodeNotWedged)."""

import json

from osa_aio.roles import rabbitmq
from osa_aio.roles.rabbitmq import NodeNotWedged
from tests.fakes import FakeRunner

PEERS_RUN_WITHOUT_IT = json.dumps({"running_nodes": ["rabbit@b", "rabbit@c"]})


def node(states, clock):
    """Node "a", whose unit answers the next of ``states`` ((state, entered at s)) each time it is asked;
    ``clock``: [seconds since boot], moved on by the patched sleep."""
    answers = iter(states)
    last = [states[0]]

    def show(argv, stdin):
        last[0] = next(answers, last[0])  # the last state stays once the list is used up
        state, since = last[0]
        return 0, f"ActiveState={state}\nStateChangeTimestampMonotonic={int(since * 1e6)}\n"
    return FakeRunner({("systemctl", "show"): show, ("test", "-d"): (0, ""),
                       ("cat", "/proc/uptime"): lambda argv, stdin: (0, f"{clock[0]:.2f} 1.00")}, name="a")


def peers():
    return {name: FakeRunner({("rabbitmqctl", "cluster_status"): (0, PEERS_RUN_WITHOUT_IT)}, name=name)
            for name in ("b", "c")}


def patched_sleep(monkeypatch, clock):
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds
    monkeypatch.setattr(rabbitmq.time, "sleep", sleep)
    return slept


def test_a_node_seen_just_after_a_start_is_watched_until_it_is_stuck(monkeypatch):
    # The run before was killed while the node joined: seconds after its start it waits for its own tables.
    clock = [1000.0]
    slept = patched_sleep(monkeypatch, clock)
    step = NodeNotWedged("a", {"a": node([("activating", 996.4)], clock), **peers()})
    assert step.check() == "activating, and its peers run without it"
    assert sum(slept) >= rabbitmq.WEDGED_AFTER - 3.6 - 0.01 and max(slept) <= 5.0


def test_a_node_that_comes_up_while_watched_is_left_alone(monkeypatch):
    clock = [1000.0]
    slept = patched_sleep(monkeypatch, clock)
    states = [("activating", 996.0), ("activating", 996.0), ("active", 1009.0)]
    step = NodeNotWedged("a", {"a": node(states, clock), **peers()})
    assert step.check() is None
    assert sum(slept) == 10.0


def test_a_stopped_node_is_stuck_at_once_when_its_peers_run(monkeypatch):
    clock = [1000.0]
    slept = patched_sleep(monkeypatch, clock)
    step = NodeNotWedged("a", {"a": node([("failed", 999.0)], clock), **peers()})
    assert step.check() == "failed, and its peers run without it" and slept == []
