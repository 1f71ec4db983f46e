from osa_aio.roles.galera import ClusterRunning, choose_bootstrap_node, parse_grastate
from tests.fakes import FakeRunner

GRASTATE = """# GALERA saved state
version: 2.1
uuid:    8d2a4f1e-9c3b-11ef-a1b2-0242ac110002
seqno:   {seqno}
safe_to_bootstrap: {safe}
"""


def state(seqno, safe):
    return parse_grastate(GRASTATE.format(seqno=seqno, safe=safe))


def test_parse_grastate():
    assert state(116, 1) == {"uuid": "8d2a4f1e-9c3b-11ef-a1b2-0242ac110002", "seqno": 116, "safe_to_bootstrap": 1}
    assert state(-1, 0)["seqno"] == -1


def test_a_new_cluster_starts_from_the_first_node():
    assert choose_bootstrap_node({"g1": None, "g2": None, "g3": None}) == "g1"


def test_safe_to_bootstrap_wins():
    assert choose_bootstrap_node({"g1": state(10, 0), "g2": state(12, 0), "g3": state(9, 1)}) == "g3"


def test_otherwise_the_most_advanced_node():
    assert choose_bootstrap_node({"g1": state(10, 0), "g2": state(12, 0), "g3": state(11, 0)}) == "g2"


def test_after_a_crash_the_recovered_position_decides():
    crashed = {"g1": state(-1, 0), "g2": state(-1, 0), "g3": state(-1, 0)}
    assert choose_bootstrap_node(crashed, {"g1": 40, "g2": 41, "g3": 39}) == "g2"
    assert choose_bootstrap_node(crashed, {}) == "g1"


class Cluster:
    """Three fake galera nodes sharing one state: which run mariadb, and which have a restart pending.
    Each node answers only the commands scripted here: any other command fails the test."""

    def __init__(self, active: set[str], pending: set[str], joining: set[str] = frozenset()) -> None:
        self.active, self.pending, self.restarts, self.joining = set(active), set(pending), [], set(joining)
        self.asked: dict[str, int] = {}
        self.unset: list[str] = []  # nodes whose bootstrap flag was cleared from systemd's environment
        self.runners = {name: FakeRunner(self.answers(name), name) for name in ("g1", "g2", "g3")}

    def answers(self, name):
        def is_active(argv, stdin):
            if name in self.joining:  # activating while osa-aio looks twice (its state, then the join)
                self.asked[name] = self.asked.get(name, 0) + 1
                if self.asked[name] >= 2:
                    self.joining.discard(name)  # it finishes joining while osa-aio waits
                    self.active.add(name)
                return 3, "activating\n"
            return (0, "active\n") if name in self.active else (3, "inactive\n")

        def status(argv, stdin):
            return 0, f"wsrep_local_state\t4\nwsrep_cluster_size\t{len(self.active)}\nwsrep_cluster_status\tPrimary\n"

        def flags(argv, stdin):
            return 0, "pending\n" if name in self.pending else ""

        def unset(argv, stdin):
            self.unset.append(name)
            return 0, ""

        def restart(argv, stdin):
            # A node restarted with galera_new_cluster's flag still set would start a second cluster.
            assert self.unset == list(self.runners), "restart before every bootstrap flag was cleared"
            self.restarts.append(name)
            self.active.add(name)
            return 0, ""

        def clear(argv, stdin):
            self.pending.discard(name)
            return 0, ""

        return {("systemctl", "is-active"): is_active, ("mariadb",): status, ("sh",): flags,
                ("systemctl", "unset-environment", "_WSREP_NEW_CLUSTER"): unset,
                ("systemctl", "restart", "mariadb"): restart, ("galera_new_cluster",): restart, ("rm", "-f"): clear}


def test_a_pending_restart_waits_until_the_down_nodes_have_joined():
    # A run killed right after g1 bootstrapped: g1 runs alone, every node has a restart pending.
    cluster = Cluster(active={"g1"}, pending={"g1", "g2", "g3"})
    step = ClusterRunning(cluster.runners)
    assert step.check() == "0/3 nodes synced"  # g1 is synced, but in a cluster of one
    step.apply()
    assert cluster.unset == ["g1", "g2", "g3"]
    assert cluster.restarts == ["g2", "g3", "g1"]  # never g1 first: it was the whole cluster
    assert cluster.pending == set() and step.check() is None


def test_a_config_change_restarts_one_node_at_a_time():
    cluster = Cluster(active={"g1", "g2", "g3"}, pending={"g2"})
    step = ClusterRunning(cluster.runners)
    assert step.check() == "config changed on g2: rolling restart"
    step.apply()
    assert cluster.restarts == ["g2"] and step.check() is None


def test_a_node_joining_at_boot_is_waited_for_not_restarted():
    cluster = Cluster(active={"g2", "g3"}, pending=set(), joining={"g1"})
    step = ClusterRunning(cluster.runners)
    step.apply()
    assert cluster.restarts == [] and step.check() is None
