"""Runs steps: each reads the current state, acts only when it differs, and reports
ok / changed / failed with its time. Prints progress and the closing tables."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol

from rich.console import Console
from rich.live import Live
from rich.text import Text

from osa_aio.errors import OsaAioError
from osa_aio.output import format_table

log = logging.getLogger("osa_aio.engine")

OK, CHANGED, FAILED = "ok", "changed", "failed"


class Step(Protocol):
    """One idempotent unit of work."""

    name: str

    def check(self) -> str | None:
        """None when the state is as wanted; otherwise why it must change."""

    def apply(self) -> None:
        """Make the state as wanted (only called after check said it must change)."""


@dataclass(frozen=True)
class StepResult:
    group: str
    target: str
    step: str
    status: str
    reason: str
    seconds: float


class Engine:
    """Runs lists of steps and keeps what happened. ``check_mode`` changes nothing."""

    def __init__(self, console: Console | None = None, check_mode: bool = False) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.check_mode = check_mode
        self.results: list[StepResult] = []
        self.phases: list[tuple[str, float]] = []
        self._lock = threading.RLock()
        self._active: dict[str, tuple[str, float]] = {}
        self._live: Live | None = None

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase of the work for the closing table (listed in the order phases began, so
        a stage comes before the roles that ran side by side in it)."""
        started = time.monotonic()
        with self._lock:
            index = len(self.phases)
            self.phases.append((name, 0.0))
        try:
            yield
        finally:
            with self._lock:
                self.phases[index] = (name, time.monotonic() - started)

    def run(self, group: str, target: str, steps: Iterable[Step]) -> bool:
        """Run ``steps`` in order on ``target``; stop at the first failure. Returns success.

        ``steps`` may be a generator, so a step can be made from what earlier ones did. In check
        mode the target stops at the first step that would change, since later ones build on it.
        """
        for step in steps:
            started = time.monotonic()
            status, reason = OK, ""
            try:
                with self._progress(target, step.name):
                    reason = step.check() or ""
                    if reason and not self.check_mode:
                        step.apply()
                    status = CHANGED if reason else OK
            except OsaAioError as exc:
                status, reason = FAILED, str(exc)
            self._record(StepResult(group, target, step.name, status, reason, time.monotonic() - started))
            if self.check_mode and status == CHANGED and hasattr(step, "diff"):
                self._show_diff(step)
            if status == FAILED or (self.check_mode and status == CHANGED):
                return status != FAILED
        return True

    def run_parallel(self, group: str, jobs: list[tuple[str, Iterable[Step]]], workers: int = 4) -> bool:
        """Run each (target, steps) job in its own thread; True when all succeeded."""
        if len(jobs) <= 1:
            return all(self.run(group, target, steps) for target, steps in jobs)
        with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            futures = [pool.submit(self.run, group, target, steps) for target, steps in jobs]
            return all(future.result() for future in futures)

    @contextmanager
    def _progress(self, target: str, step: str) -> Iterator[None]:
        """Show what runs where, with elapsed time (one live display shared by all threads)."""
        if not self.console.is_terminal:
            yield
            return
        with self._lock:
            self._active[target] = (step, time.monotonic())
            if self._live is None:
                self._live = Live(get_renderable=self._render_progress, console=self.console,
                                  refresh_per_second=4, transient=True)
                self._live.start()
        try:
            yield
        finally:
            with self._lock:
                self._active.pop(target, None)

    def _render_progress(self) -> Text:
        now = time.monotonic()
        with self._lock:
            rows = [f"{target}: {step} ({now - started:.0f}s)" for target, (step, started) in self._active.items()]
        return Text("\n".join(rows) or "...", style="dim")

    def stop_progress(self) -> None:
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None

    def _record(self, result: StepResult) -> None:
        with self._lock:
            self.results.append(result)
        log.info("%s %s %s: %s %s (%.2fs)", result.status, result.group, result.target, result.step,
                 result.reason, result.seconds)
        if result.status != OK:
            verb = "would change" if self.check_mode and result.status == CHANGED else result.status
            self.console.print(f"{verb:>12}  {result.target}  {result.step}"
                               + (f": {result.reason}" if result.reason else ""),
                               markup=False, highlight=False, soft_wrap=True)

    def _show_diff(self, step) -> None:
        """Check mode: the diff a step would make (FileContent's, secrets masked)."""
        try:
            text = step.diff()
        except OsaAioError:
            return
        if text:
            with self._lock:
                self.console.print(text.rstrip("\n"), markup=False, highlight=False, soft_wrap=True)

    def totals(self) -> dict[str, int]:
        counts = {OK: 0, CHANGED: 0, FAILED: 0}
        for result in self.results:
            counts[result.status] += 1
        return counts

    @property
    def failed(self) -> bool:
        return self.totals()[FAILED] > 0

    def summary(self) -> str:
        """The closing tables: per group, per phase, and the ok/changed/failed line."""
        self.stop_progress()
        per_group: dict[str, dict[str, float]] = defaultdict(lambda: {OK: 0, CHANGED: 0, FAILED: 0, "seconds": 0.0})
        for result in self.results:
            per_group[result.group][result.status] += 1
            per_group[result.group]["seconds"] += result.seconds
        groups = format_table(["GROUP", "OK", "CHANGED", "FAILED", "SECONDS"],
                              [(name, g[OK], g[CHANGED], g[FAILED], f"{g['seconds']:.1f}")
                               for name, g in per_group.items()])
        phases = format_table(["PHASE", "SECONDS"], [(name, f"{seconds:.1f}") for name, seconds in self.phases])
        totals = self.totals()
        line = f"ok={totals[OK]} changed={totals[CHANGED]} failed={totals[FAILED]}"
        if self.check_mode:
            line += "  (check mode: nothing was changed)"
        return f"{groups}\n\n{phases}\n\n{line}"
