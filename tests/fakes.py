"""A fake Runner for unit tests of pure decisions: records commands, answers from a script."""

from __future__ import annotations

from typing import Callable

from osa_aio.transport.base import Result, finish, describe

Answer = tuple[int, str] | Callable[[list[str], bytes | str | None], tuple[int, str]]


class FakeRunner:
    """``answers`` maps an argv prefix (tuple) to (rc, stdout); the longest matching prefix wins."""

    def __init__(self, answers: dict[tuple[str, ...], Answer] | None = None, name: str = "fake") -> None:
        self.name = name
        self.answers = answers or {}
        self.calls: list[list[str]] = []
        self.stdins: list[bytes | str | None] = []

    def run(self, argv, check=True, stdin=None, env=None, timeout=None, log_output=True) -> Result:
        argv = list(describe(argv))
        self.calls.append(argv)
        self.stdins.append(stdin)
        matches = [prefix for prefix in self.answers if tuple(argv[: len(prefix)]) == prefix]
        answer = self.answers[max(matches, key=len)] if matches else (0, "")
        rc, stdout = answer(argv, stdin) if callable(answer) else answer
        return finish(self.name, argv, rc, stdout, "", check)
