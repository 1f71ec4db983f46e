from osa_aio.roles.galera import choose_bootstrap_node, parse_grastate

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
