"""Faults under load: a bounded client loop through the keystone VIP, and the faults the
integration tests (and `scripts/benchmark.py --faults`) put under it.

The load is token issue, project create and project delete in turn, at a fixed rate for a fixed
time, only to the deployment's own internal VIP. Each scenario returns its figures (requests,
failures, seconds to recover); the tests assert on them, the benchmark prints them.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from osa_aio.config import load_config
from osa_aio.containers import container_state
from osa_aio.haproxy import admin_command, server_states
from osa_aio.roles.galera import node_state, parse_grastate
from osa_aio.roles.rabbitmq import running_nodes
from osa_aio.transport import LxcAttachRunner
from tests.cli import osa

PREFIX = "osa-aio-load-"
FIGURES: list[str] = []  # what the scenarios measured in this test run (printed at its end)
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy


@dataclass(frozen=True)
class Outcome:
    at: float        # seconds since the load started
    op: str          # token, create, delete
    ok: bool
    status: str      # HTTP status or the error
    seconds: float   # how long the request took


@dataclass
class LoadReport:
    outcomes: list[Outcome]
    created: set[str]            # projects whose create was answered 201
    deleted: set[str]            # projects whose delete was answered 204
    delete_tried: set[str]       # projects a delete was sent for (answered or not)

    @property
    def requests(self) -> int:
        return len(self.outcomes)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def failed_after(self, at: float) -> list[Outcome]:
        """Failures of requests sent at or after ``at`` (seconds since the load started)."""
        return [o for o in self.failed if o.at >= at]

    def summary(self) -> str:
        failed = self.failed
        first = f", first at {failed[0].at:.1f}s, last at {failed[-1].at:.1f}s" if failed else ""
        kinds = sorted({f"{o.op}:{o.status}" for o in failed})
        return (f"{self.requests} requests, {len(failed)} failed ({100 * len(failed) / max(1, self.requests):.2f}%)"
                f"{first}{' ' + str(kinds) if kinds else ''}")


class KeystoneLoad:
    """``rate`` requests a second for ``duration`` seconds through ``url`` (keystone's /v3 on the VIP)."""

    def __init__(self, url: str, password: str, rate: float = 20.0, duration: float = 60.0,
                 timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.password = password
        self.rate = rate
        self.duration = duration
        self.timeout = timeout
        self.started = 0.0
        self._outcomes: list[Outcome] = []
        self._created: set[str] = set()
        self._deleted: set[str] = set()
        self._delete_tried: set[str] = set()
        self._live: deque[str] = deque()
        self._kept = 0
        self._lock = threading.Lock()
        self._token = ""
        self._thread: threading.Thread | None = None

    # -- requests ------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("X-Auth-Token", token)
        try:
            with OPENER.open(request, timeout=self.timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def issue_token(self) -> tuple[int, str]:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": self.password}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        status, headers, _ = self._request("POST", "/auth/tokens", body)
        return status, headers.get("X-Subject-Token", "") if status == 201 else ""

    def _one(self, op: str) -> tuple[bool, str]:
        if op == "token":
            status, _ = self.issue_token()
            return status == 201, str(status)
        if op == "create":
            body = {"project": {"name": f"{PREFIX}{uuid.uuid4().hex[:12]}", "domain_id": "default"}}
            status, _, data = self._request("POST", "/projects", body, self._token)
            if status == 201:
                project = json.loads(data)["project"]["id"]
                with self._lock:
                    self._created.add(project)
                    self._kept += 1
                    if self._kept % 4:  # every fourth project stays until the end: rows to check
                        self._live.append(project)
            return status == 201, str(status)
        with self._lock:
            project = self._live.popleft() if self._live else None
            if project:
                self._delete_tried.add(project)
        if project is None:
            return self._one("token")
        status, _, _ = self._request("DELETE", f"/projects/{project}", token=self._token)
        if status == 204:
            with self._lock:
                self._deleted.add(project)
        return status == 204, str(status)

    def _timed(self, op: str, at: float) -> None:
        began = time.monotonic()
        try:
            ok, status = self._one(op)
        except Exception as exc:  # noqa: BLE001 - a failed request is a figure, not a crash
            ok, status = False, type(exc).__name__
        outcome = Outcome(at, op, ok, status, time.monotonic() - began)
        with self._lock:
            self._outcomes.append(outcome)

    # -- the loop ------------------------------------------------------------------------------
    def start(self) -> "KeystoneLoad":
        status, self._token = self.issue_token()
        if status != 201:
            raise AssertionError(f"no admin token before the load started (HTTP {status})")
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="keystone-load", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        ops = ("token", "create", "delete")
        total = int(self.rate * self.duration)
        with ThreadPoolExecutor(max_workers=32, thread_name_prefix="load") as pool:
            for index in range(total):
                due = self.started + index / self.rate
                time.sleep(max(0.0, due - time.monotonic()))
                pool.submit(self._timed, ops[index % len(ops)], due - self.started)

    def now(self) -> float:
        """Seconds since the load started."""
        return time.monotonic() - self.started

    def wait_until(self, at: float) -> None:
        time.sleep(max(0.0, at - self.now()))

    def join(self) -> LoadReport:
        assert self._thread is not None
        self._thread.join()
        with self._lock:
            outcomes = sorted(self._outcomes, key=lambda o: o.at)
            return LoadReport(outcomes, set(self._created), set(self._deleted), set(self._delete_tried))

    def clean_up(self) -> None:
        """Delete the projects the load left (best effort: the next load uses new names anyway)."""
        status, token = self.issue_token()
        if status != 201:
            return
        _, _, data = self._request("GET", "/projects", token=token)
        for project in json.loads(data).get("projects", []):
            if project["name"].startswith(PREFIX):
                self._request("DELETE", f"/projects/{project['id']}", token=token)


# ---- the deployment, read from its config dir ---------------------------------------------------

@dataclass
class Target:
    config_dir: Path

    def inventory(self) -> dict:
        return json.loads((self.config_dir / "openstack_inventory.json").read_text())

    def containers(self, kind: str) -> list[str]:
        """Containers whose name holds ``-<kind>-`` (galera, keystone, rabbit-mq ...), sorted."""
        hostvars = self.inventory()["_meta"]["hostvars"]
        return sorted(n for n, hv in hostvars.items() if hv.get("container_type") and f"-{kind}-" in n)

    def load(self, rate: float, duration: float) -> KeystoneLoad:
        config = load_config(self.config_dir)
        return KeystoneLoad(f"http://{config.internal_vip}:5000/v3",
                            config.secret("keystone_auth_admin_password"), rate, duration)

    def osa(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return osa(*args, config_dir=self.config_dir, check=check)


def lxc(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True, timeout=300)


def haproxy_servers(backend: str) -> list:
    return [s for s in server_states(admin_command("show stat")) if s.backend == backend]


def wait(probe, seconds: float, step: float = 0.5):
    """Poll ``probe`` until it returns something true; return (value, seconds taken) or (None, seconds)."""
    began = time.monotonic()
    while True:
        value = probe()
        taken = time.monotonic() - began
        if value or taken >= seconds:
            return value or None, taken
        time.sleep(step)


# ---- scenarios ------------------------------------------------------------------------------------

def projects_on(node: str) -> set[str] | None:
    """The load's projects as one galera node stores them (None when the node does not answer)."""
    result = LxcAttachRunner(node).run(["mariadb", "-N", "-B", "-e",
                                        f"SELECT id FROM keystone.project WHERE name LIKE '{PREFIX}%'"],
                                       check=False, log_output=False)
    return set(result.stdout.split()) if result.rc == 0 else None


def galera_active_node_stopped(target: Target, rate: float = 20, duration: float = 60) -> dict:
    """Stop the galera node HAProxy sends traffic to, start it again; every committed row stays."""
    nodes = target.containers("galera")
    active = next(s.server for s in haproxy_servers("galera") if not s.backup and s.status.startswith("UP"))
    load = target.load(rate, duration).start()
    load.wait_until(duration / 6)
    stopped_at = load.now()
    lxc("lxc-stop", "-n", active)
    stop_took = load.now() - stopped_at
    load.wait_until(duration / 2)
    lxc("lxc-start", "-n", active)
    synced, rejoin = wait(lambda: (s := node_state(active, LxcAttachRunner(active))).synced
                          and s.cluster_size == len(nodes), 180)
    report = load.join()
    # Every project whose create was answered and that no delete was sent for is on every node;
    # none whose delete was answered is on any.
    must_exist = report.created - report.delete_tried
    lost, resurrected = {}, {}
    for node in nodes:
        rows = projects_on(node) or set()
        lost[node] = len(must_exist - rows)
        resurrected[node] = len(rows & report.deleted)
    load.clean_up()
    return {"scenario": "galera active node stopped and started", "node": active, "load": report.summary(),
            "requests": report.requests, "failed": len(report.failed),
            "failed_pct": 100 * len(report.failed) / max(1, report.requests),
            "stop_seconds": round(stop_took, 1), "stopped_at": round(stopped_at, 1),
            "rejoined": bool(synced), "rejoin_seconds": round(rejoin, 1),
            "rows_checked": len(must_exist), "rows_lost": sum(lost.values()),
            "rows_resurrected": sum(resurrected.values())}


def keystone_stopped(target: Target, rate: float = 20, duration: float = 60) -> dict:
    """Stop one keystone container under load, start it again: once HAProxy has marked it down,
    no request fails (retries and redispatch send them to the other one)."""
    name = target.containers("keystone")[0]
    load = target.load(rate, duration).start()
    load.wait_until(duration / 6)
    stopped_at = load.now()
    stopping = threading.Thread(target=lxc, args=("lxc-stop", "-n", name))
    stopping.start()
    _, marked = wait(lambda: any(s.server == name and not s.status.startswith("UP")
                                 for s in haproxy_servers("keystone")), 30, 0.05)
    down_at = stopped_at + marked
    stopping.join()
    load.wait_until(duration / 2)
    started_at = load.now()
    lxc("lxc-start", "-n", name)
    up, back = wait(lambda: any(s.server == name and s.status.startswith("UP")
                                for s in haproxy_servers("keystone")), 120)
    report = load.join()
    load.clean_up()
    after_down = report.failed_after(down_at)
    return {"scenario": "one keystone stopped and started", "node": name, "load": report.summary(),
            "requests": report.requests, "failed": len(report.failed),
            "failed_pct": 100 * len(report.failed) / max(1, report.requests),
            "marked_down_seconds": round(marked, 1), "failed_after_marked_down": len(after_down),
            "back_up": bool(up), "back_up_seconds": round(back, 1), "started_at": round(started_at, 1)}


def rabbitmq_node_stopped(target: Target, rate: float = 20, duration: float = 60) -> dict:
    """Stop one rabbitmq node under load: the other two keep running as one cluster, and the node
    rejoins when its container starts again."""
    nodes = target.containers("rabbit-mq")
    name, witness = nodes[-1], LxcAttachRunner(nodes[0])
    load = target.load(rate, duration).start()
    load.wait_until(duration / 6)
    lxc("lxc-stop", "-n", name)
    during = running_nodes(witness)
    load.wait_until(duration / 2)
    lxc("lxc-start", "-n", name)
    full, rejoin = wait(lambda: len(running_nodes(witness)) == len(nodes), 180)
    report = load.join()
    load.clean_up()
    return {"scenario": "one rabbitmq node stopped and started", "node": name, "load": report.summary(),
            "requests": report.requests, "failed": len(report.failed),
            "failed_pct": 100 * len(report.failed) / max(1, report.requests),
            "running_while_stopped": len(during), "rejoined": bool(full), "rejoin_seconds": round(rejoin, 1)}


def every_container_stopped(target: Target) -> dict:
    """Stop every container the way a host shutdown does (lxc-autostart, reverse start order, each
    cleanly), then `osa-aio run` alone brings everything back, galera from its safe_to_bootstrap node."""
    galera = target.containers("galera")
    began = time.monotonic()
    subprocess.run(["lxc-autostart", "--shutdown", "--groups", "openstack", "--timeout", "120"], check=True,
                   capture_output=True, timeout=900)
    stop_took = time.monotonic() - began
    still = [n for n in target.containers("") if container_state(n).state != "STOPPED"]
    grastates = {}
    for node in galera:
        path = Path("/openstack") / node / "mysql" / "grastate.dat"
        grastates[node] = parse_grastate(path.read_text()) if path.exists() else {}
    safe = [n for n, g in grastates.items() if g.get("safe_to_bootstrap") == 1]
    log = Path("/var/log/osa-aio/osa-aio.log")
    offset = log.stat().st_size if log.exists() else 0
    began = time.monotonic()
    run = target.osa("run", check=False)
    run_took = time.monotonic() - began
    with log.open() as handle:
        handle.seek(offset)
        bootstrapped = [line.split("[", 1)[1].split("]", 1)[0] for line in handle
                        if line.rstrip().endswith("$ galera_new_cluster") and "rc=0" in line]
    status, _ = target.load(1, 1).issue_token()
    return {"scenario": "every container stopped, then osa-aio run", "stop_seconds": round(stop_took, 1),
            "left_running": still, "safe_to_bootstrap": safe, "bootstrapped": bootstrapped,
            "run_rc": run.returncode, "run_seconds": round(run_took, 1), "token_after_run": status,
            "run_output": run.stdout[-3000:] + run.stderr[-3000:]}


SCENARIOS = {"galera": galera_active_node_stopped, "keystone": keystone_stopped, "rabbitmq": rabbitmq_node_stopped}
