"""Faults under load (tests/load.py): 20 requests a second for 30 seconds through the keystone VIP
(token issue, project create, project delete) while a galera node, a keystone or a rabbitmq node
stops (at 1/6 of the load) and starts again (at 1/2); then every container stopped as by a host
shutdown. Each test prints its figures; `scripts/benchmark.py --faults` runs the same scenarios
with 60 seconds of load (the README's figures)."""

import json

import pytest

from tests.integration.conftest import make_healthy
from tests.load import FIGURES, Target, every_container_stopped, galera_active_node_stopped, keystone_stopped, \
    rabbitmq_node_stopped


RATE, SECONDS = 20, 30
REQUESTS = int(0.9 * RATE * SECONDS)   # at least 90 % of the requests the load sends were sent
ROWS = int(0.8 * RATE * SECONDS / 3 / 4)  # a third are project creates, every fourth project stays


def show(figures: dict) -> None:
    """Print the figures, and keep them for the summary at the end of the run (conftest)."""
    line = json.dumps({k: v for k, v in figures.items() if k != "run_output"})
    print("\nFIGURES " + line)
    FIGURES.append(line)


def test_galera_active_node_stopped_and_started_under_load(aio):
    figures = galera_active_node_stopped(Target(aio.config_dir), RATE, SECONDS)
    show(figures)
    assert figures["requests"] >= REQUESTS
    assert figures["failed_pct"] <= 1.0, figures["load"]
    assert figures["rows_checked"] >= ROWS
    assert figures["rows_lost"] == 0 and figures["rows_resurrected"] == 0
    assert figures["rejoined"], f"{figures['node']} did not rejoin in {figures['rejoin_seconds']}s"


def test_one_keystone_stopped_under_load(aio):
    figures = keystone_stopped(Target(aio.config_dir), RATE, SECONDS)
    show(figures)
    assert figures["requests"] >= REQUESTS
    assert figures["failed_after_marked_down"] == 0, figures["load"]
    assert figures["failed_pct"] <= 1.0, figures["load"]
    assert figures["back_up"]


def test_one_rabbitmq_node_stopped_under_load(aio):
    figures = rabbitmq_node_stopped(Target(aio.config_dir), RATE, SECONDS)
    show(figures)
    assert figures["running_while_stopped"] == 2
    assert figures["rejoined"], f"{figures['node']} did not rejoin in {figures['rejoin_seconds']}s"
    assert figures["failed_pct"] <= 1.0, figures["load"]


def test_run_brings_everything_back_after_every_container_stopped(aio):
    figures = every_container_stopped(Target(aio.config_dir))
    show(figures)
    assert figures["left_running"] == []
    assert figures["run_rc"] == 0, figures["run_output"]
    assert len(figures["safe_to_bootstrap"]) == 1
    assert figures["bootstrapped"] == figures["safe_to_bootstrap"]
    assert figures["token_after_run"] == 201
    assert aio.osa("verify", check=False).returncode == 0


@pytest.fixture(autouse=True)
def healthy_after(aio):
    yield
    make_healthy(aio)
