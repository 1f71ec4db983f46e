"""Runs steps: each reads the current state, acts only when it differs, and reports
ok / changed / failed with its time. Prints progress and the closing tables.

On a terminal a person follows a live view: one row per running group (a role, or the
containers of one phase) with a bar of its steps done / known, the step running and its time;
a line for each phase done; failures in full where they happen. The changed lines go to the log
file (and to the screen with ``verbose``). Without a terminal: one plain line per change."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Protocol, Sized

from rich.console import Console
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
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


@dataclass
class GroupProgress:
    """One live row: a group's steps done of those known so far, and what runs where now."""

    started: float
    done: int = 0
    known: int = 0
    changed: int = 0
    running: dict[str, tuple[str, float]] = field(default_factory=dict)  # target -> (step, since)


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

    def __init__(self, console: Console | None = None, check_mode: bool = False, verbose: bool = False) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.out = Console(highlight=False) if console is None else console  # messages, when no live rows show
        self.check_mode = check_mode
        self.verbose = verbose
        self.results: list[StepResult] = []
        self.phases: list[tuple[str, float]] = []
        self._lock = threading.RLock()
        self._groups: dict[str, GroupProgress] = {}
        self._live: Live | None = None

    @property
    def live(self) -> bool:
        """A person watches a terminal: the live view instead of a line per change."""
        return self.console.is_terminal

    def say(self, message: str) -> None:
        """A message of a command (rebuild, dev): on stdout, or above the live rows while they show
        (never on the same line as one of them)."""
        with self._lock:
            console = self.console if self._live is not None else self.out
            console.print(message, markup=False, highlight=False, soft_wrap=True)

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
            seconds = time.monotonic() - started
            with self._lock:
                self.phases[index] = (name, seconds)
            if self.live:
                with self._lock:
                    self.console.print(f"{'done':>12}  {name} ({seconds:.1f}s)", markup=False, highlight=False)

    def run(self, group: str, target: str, steps: Iterable[Step]) -> bool:
        """Run ``steps`` in order on ``target``; stop at the first failure. Returns success.

        ``steps`` may be a generator, so a step can be made from what earlier ones did. In check
        mode the target stops at the first step that would change, since later ones build on it.
        """
        group_progress = self._group(group)
        if isinstance(steps, Sized):
            with self._lock:
                group_progress.known += len(steps)
        for step in steps:
            if not isinstance(steps, Sized):
                with self._lock:
                    group_progress.known += 1
            started = time.monotonic()
            status, reason = OK, ""
            try:
                with self._progress(group_progress, target, step.name):
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

    def _group(self, group: str) -> GroupProgress:
        with self._lock:
            if group not in self._groups:
                self._groups[group] = GroupProgress(time.monotonic())
            return self._groups[group]

    @contextmanager
    def _progress(self, group: GroupProgress, target: str, step: str) -> Iterator[None]:
        """Show what runs where, with elapsed time (one live display shared by all threads)."""
        with self._lock:
            group.running[target] = (step, time.monotonic())
            if self._live is None and self.live:
                self._live = Live(get_renderable=self._render_progress, console=self.console,
                                  refresh_per_second=4, transient=True)
                self._live.start()
        try:
            yield
        finally:
            with self._lock:
                group.running.pop(target, None)
                group.done += 1

    def _render_progress(self) -> Table:
        now = time.monotonic()
        table = Table.grid(padding=(0, 1))
        with self._lock:
            for name, group in self._groups.items():
                if not group.running:
                    continue
                target, (step, since) = min(group.running.items(), key=lambda item: item[1][1])
                more = f" (+{len(group.running) - 1} more)" if len(group.running) > 1 else ""
                table.add_row(Text(name, style="bold"),
                              ProgressBar(total=max(group.known, 1), completed=group.done, width=20),
                              f"{group.done:>3}/{group.known:<3}",
                              Text(f"{target}: {step} ({now - since:.0f}s){more}", style="dim", overflow="ellipsis",
                                   no_wrap=True))
        return table

    def stop_progress(self) -> None:
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None

    def _record(self, result: StepResult) -> None:
        with self._lock:
            self.results.append(result)
            if result.status == CHANGED:
                self._group(result.group).changed += 1
        log.info("%s %s %s: %s %s (%.2fs)", result.status, result.group, result.target, result.step,
                 result.reason, result.seconds)
        # On a terminal the live rows show the work; a change is a line with -v (and in the log).
        quiet = result.status == CHANGED and self.live and not self.verbose and not self.check_mode
        if result.status != OK and not quiet:
            verb = "would change" if self.check_mode and result.status == CHANGED else result.status
            self.console.print(f"{verb:>12}  {result.target}  {result.step}"
                               + (f": {result.reason}" if result.reason else ""),
                               markup=False, highlight=False, soft_wrap=True,
                               style="bold red" if result.status == FAILED else None)

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
