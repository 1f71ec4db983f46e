"""LocalRunner: commands on this host through subprocess."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from typing import Mapping, Sequence

from osa_aio.errors import CommandFailed, OsaAioError
from osa_aio.transport.base import Arg, Result, describe, finish, reveal


class LocalRunner:
    """Runs on this host; ``env`` adds to the current environment."""

    name = "localhost"

    def run(self, argv: Sequence[Arg], check: bool = True, stdin: str | bytes | None = None,
            env: Mapping[str, str] | None = None, timeout: float | None = None,
            log_output: bool = True) -> Result:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        started = time.monotonic()
        try:
            proc = subprocess.run(reveal(argv), input=data, capture_output=True, timeout=timeout,
                                  env=None if env is None else {**os.environ, **env})
        except subprocess.TimeoutExpired:
            raise CommandFailed(self.name, shlex.join(describe(argv)), 124, f"timed out after {timeout}s") from None
        except FileNotFoundError:
            raise OsaAioError(f"command not found: {argv[0]}", file=self.name,
                              hint="install it (see the README's set-up command)") from None
        return finish(self.name, argv, proc.returncode, proc.stdout.decode(errors="replace"),
                      proc.stderr.decode(errors="replace"), check, time.monotonic() - started, log_output)
