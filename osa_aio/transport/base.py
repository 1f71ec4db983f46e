"""The Runner protocol and its Result."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Mapping, Protocol, Sequence

from osa_aio.errors import CommandFailed
from osa_aio.logs import log_result
from osa_aio.secrets import Secret

Arg = str | Secret


@dataclass(frozen=True)
class Result:
    """What a command did: its argv (secrets masked), exit code and output."""

    argv: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0


class Runner(Protocol):
    """Runs commands somewhere: the host, a container, a remote host."""

    name: str

    def run(self, argv: Sequence[Arg], check: bool = True, stdin: str | bytes | None = None,
            env: Mapping[str, str] | None = None, timeout: float | None = None,
            log_output: bool = True) -> Result:
        """Run argv; ``log_output=False`` for a command whose output is itself a secret."""


def describe(argv: Sequence[Arg]) -> tuple[str, ...]:
    """The argv as it may be logged or shown: every Secret is ***."""
    return tuple(str(arg) for arg in argv)


def reveal(argv: Sequence[Arg]) -> list[str]:
    """The argv as it is executed."""
    return [arg.reveal() if isinstance(arg, Secret) else str(arg) for arg in argv]


def finish(target: str, argv: Sequence[Arg], rc: int, stdout: str, stderr: str, check: bool,
           seconds: float = 0.0, log_output: bool = True) -> Result:
    """Build the Result and log it; with ``check`` a non-zero exit raises CommandFailed."""
    result = Result(describe(argv), rc, stdout, stderr)
    if log_output:
        log_result(target, result.argv, rc, stdout, stderr, seconds)
    else:
        log_result(target, result.argv, rc, "(output not logged)", "", seconds)
    if check and rc != 0:
        raise CommandFailed(target, shlex.join(result.argv), rc, stderr or stdout)
    return result


def put(runner: Runner, path: str, content: str | bytes, mode: int = 0o644, owner: str = "root",
        group: str | None = None) -> Result:
    """Write a file through any runner: stdin to a temp file, then chmod, chown and rename."""
    tmp = f"{path}.osa-aio-tmp"
    script = ('set -e; umask 077; cat > "$1"; chmod "$2" "$1"; chown "$3" "$1"; mv -f "$1" "$4"')
    return runner.run(["sh", "-c", script, "put", tmp, f"{mode:o}", f"{owner}:{group or owner}", path],
                      stdin=content)
