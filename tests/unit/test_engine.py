import io
from dataclasses import dataclass, field

from rich.console import Console

from osa_aio.engine import Engine
from osa_aio.errors import OsaAioError


@dataclass
class FakeStep:
    name: str
    state: list = field(default_factory=list)
    want: str = "x"
    fail: bool = False
    applied: int = 0

    def check(self):
        if self.fail:
            raise OsaAioError("broken", file=self.name)
        return None if self.want in self.state else "missing"

    def apply(self):
        self.applied += 1
        self.state.append(self.want)


def quiet_engine(check_mode=False):
    return Engine(console=Console(file=open("/dev/null", "w")), check_mode=check_mode)


def test_steps_act_only_when_state_differs_and_second_run_is_all_ok():
    state: list = []
    steps = [FakeStep("a", state, "a"), FakeStep("b", state, "b")]
    engine = quiet_engine()
    assert engine.run("g", "t", steps)
    assert engine.totals() == {"ok": 0, "changed": 2, "failed": 0}
    again = quiet_engine()
    again.run("g", "t", steps)
    assert again.totals() == {"ok": 2, "changed": 0, "failed": 0}
    assert [s.applied for s in steps] == [1, 1]
    assert again.summary().splitlines()[-1] == "ok=2 changed=0 failed=0"


def test_failure_stops_the_target_and_is_counted():
    later = FakeStep("later")
    engine = quiet_engine()
    assert not engine.run("g", "t", [FakeStep("bad", fail=True), later])
    assert engine.failed and later.applied == 0
    assert engine.results[0].reason == "bad: broken"


def test_check_mode_changes_nothing():
    step = FakeStep("a")
    engine = quiet_engine(check_mode=True)
    engine.run("g", "t", [step, FakeStep("b")])
    assert step.applied == 0
    assert engine.totals() == {"ok": 0, "changed": 1, "failed": 0}
    assert "check mode" in engine.summary()


def test_summary_has_group_and_phase_tables():
    engine = quiet_engine()
    with engine.phase("network"):
        engine.run("network", "aio1", [FakeStep("a")])
    groups, phases, totals = engine.summary().split("\n\n")
    assert [row.split() for row in groups.splitlines()] == [["GROUP", "OK", "CHANGED", "FAILED", "SECONDS"],
                                                            ["network", "0", "1", "0", "0.0"]]
    assert [row.split() for row in phases.splitlines()] == [["PHASE", "SECONDS"], ["network", "0.0"]]
    assert totals == "ok=0 changed=1 failed=0"


def test_on_a_terminal_changes_go_to_the_live_rows_and_failures_and_phases_are_lines():

    out = io.StringIO()
    engine = Engine(console=Console(file=out, force_terminal=True, width=200))
    assert engine.live
    with engine.phase("keystone"):
        engine.run("keystone", "c1", [FakeStep("made"), FakeStep("bad", fail=True)])
    engine.say("c1: enabled in HAProxy")
    engine.stop_progress()
    text = out.getvalue()
    assert "changed" not in text                   # a change: in the log and the rows, not a line
    assert "failed  c1  bad: bad: broken" in text  # a failure: in full, where it happens
    assert "done  keystone (" in text and "c1: enabled in HAProxy" in text
    verbose = io.StringIO()
    loud = Engine(console=Console(file=verbose, force_terminal=True, width=200), verbose=True)
    loud.run("g", "c1", [FakeStep("made")])
    loud.stop_progress()
    assert "changed  c1  made: missing" in verbose.getvalue()


def test_the_live_row_of_a_group_shows_steps_done_of_known_and_the_running_step():
    import threading

    engine = Engine(console=Console(file=io.StringIO(), force_terminal=True, width=200))
    release = threading.Event()

    @dataclass
    class Slow:
        name: str = "slow step"

        def check(self):
            release.wait(5)
            return None

        def apply(self):
            pass

    worker = threading.Thread(target=engine.run, args=("glance", "c2", [FakeStep("a"), Slow(), FakeStep("b")]))
    worker.start()
    try:
        for _ in range(100):
            if "c2" in getattr(engine._groups.get("glance"), "running", {}) and \
                    engine._groups["glance"].running["c2"][0] == "slow step":
                break
            threading.Event().wait(0.02)
        render = io.StringIO()
        Console(file=render, width=200).print(engine._render_progress())
        row = render.getvalue()
        assert "glance" in row and "1/3" in row and "c2: slow step" in row, row
    finally:
        release.set()
        worker.join()
        engine.stop_progress()


def test_without_a_terminal_every_change_is_a_plain_line():

    out = io.StringIO()
    engine = Engine(console=Console(file=out, force_terminal=False, width=200))
    with engine.phase("x"):
        engine.run("g", "c1", [FakeStep("made")])
    assert out.getvalue().splitlines() == ["     changed  c1  made: missing"]


def test_installs_run_ahead_beside_earlier_stages_and_each_deploy_waits_for_its_own(monkeypatch):
    import threading
    from types import SimpleNamespace

    from osa_aio import deploy
    from osa_aio.roles.base import Role

    events, infra_may_finish = [], threading.Event()

    def deploy_of(name, wait=None):
        def run(ctx):
            if wait is not None:
                assert wait.wait(10), f"{name}: the installs did not run beside it"
            events.append(f"deploy {name}")
        return run

    def install_of(name, ok=True, then=None):
        def run(ctx):
            events.append(f"install {name}")
            if then is not None:
                then.set()
            return ok
        return run

    repo = Role("repo", deploy_of("repo"), install=install_of("repo"))
    infra = Role("infra", deploy_of("infra", wait=infra_may_finish))
    api = Role("api", deploy_of("api"), install=install_of("api", then=infra_may_finish))
    broken = Role("broken", deploy_of("broken"), install=install_of("broken", ok=False))
    monkeypatch.setattr(deploy, "STAGES", [[repo], [infra], [api, broken]])
    monkeypatch.setattr(deploy, "INSTALLS_FROM", 1)
    engine = Engine(console=Console(file=io.StringIO()))
    deploy._run_stages(SimpleNamespace(engine=engine), [repo, infra, api, broken])
    # The repo's stage comes before INSTALLS_FROM: its install runs inline, then its deploy.
    assert events[:2] == ["install repo", "deploy repo"]
    # api's install ran while infra's deploy waited for it; api deployed after; broken never deployed.
    assert events.index("install api") < events.index("deploy infra") < events.index("deploy api")
    assert "install broken" in events and "deploy broken" not in events
    assert [name for name, _ in engine.phases][:2] == ["repo", "install repo"]
    assert "install api (ahead)" in [name for name, _ in engine.phases]
