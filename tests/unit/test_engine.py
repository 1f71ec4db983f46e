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
