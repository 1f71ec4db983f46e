"""A fake Runner for unit tests of pure decisions: records commands, answers from a script."""

from __future__ import annotations

import shlex
from typing import Callable

from osa_aio.transport.base import Result, finish, describe

Answer = tuple[int, str] | Callable[[list[str], bytes | str | None], tuple[int, str]]


class FakeRunner:
    """``answers`` maps an argv prefix (tuple) to (rc, stdout); the longest matching prefix wins.

    Strict by default (like Invoke's MockContext): a command no prefix matches fails the test with an
    AssertionError that names it. A test that means to accept any other command says so with
    ``default=(0, "")``; ``strict=False`` without a default answers ``(0, "")``.
    """

    def __init__(self, answers: dict[tuple[str, ...], Answer] | None = None, name: str = "fake",
                 strict: bool = True, default: Answer | None = None) -> None:
        self.name = name
        self.answers = answers or {}
        self.default = default if default is not None or strict else (0, "")
        self.calls: list[list[str]] = []
        self.stdins: list[bytes | str | None] = []

    def run(self, argv, check=True, stdin=None, env=None, timeout=None, log_output=True) -> Result:
        argv = list(describe(argv))
        self.calls.append(argv)
        self.stdins.append(stdin)
        matches = [prefix for prefix in self.answers if tuple(argv[: len(prefix)]) == prefix]
        if matches:
            answer = self.answers[max(matches, key=len)]
        elif self.default is not None:
            answer = self.default
        else:
            raise AssertionError(f"{self.name}: unscripted command: {shlex.join(argv)}")
        rc, stdout = answer(argv, stdin) if callable(answer) else answer
        return finish(self.name, argv, rc, stdout, "", check)
