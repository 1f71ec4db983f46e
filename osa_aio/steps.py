"""Idempotent primitives that work over any Runner: each reads the state before acting."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from osa_aio.transport import Runner, put

_FILE_FACT = ('if [ -e "$1" ]; then sha256sum "$1" | cut -d" " -f1; stat -c %a:%U:%G "$1"; '
              'else echo absent; fi')


@dataclass
class FileContent:
    """A file with exactly this content, mode and owner."""

    runner: Runner
    path: str
    content: str
    mode: int = 0o644
    owner: str = "root"
    group: str | None = None

    @property
    def name(self) -> str:
        return f"file {self.path}"

    def check(self) -> str | None:
        lines = self.runner.run(["sh", "-c", _FILE_FACT, "file-fact", self.path]).stdout.split()
        if lines == ["absent"]:
            return "absent"
        digest, meta = lines[0], lines[1]
        if digest != hashlib.sha256(self.content.encode()).hexdigest():
            return "content differs"
        if meta != f"{self.mode:o}:{self.owner}:{self.group or self.owner}":
            return f"mode/owner {meta}"
        return None

    def apply(self) -> None:
        put(self.runner, self.path, self.content, mode=self.mode, owner=self.owner, group=self.group)


@dataclass
class Directory:
    """A directory that exists with this mode."""

    runner: Runner
    path: str
    mode: int = 0o755

    @property
    def name(self) -> str:
        return f"directory {self.path}"

    def check(self) -> str | None:
        result = self.runner.run(["stat", "-c", "%F:%a", self.path], check=False)
        if result.rc != 0:
            return "absent"
        if result.stdout.strip() != f"directory:{self.mode:o}":
            return f"is {result.stdout.strip()}"
        return None

    def apply(self) -> None:
        self.runner.run(["mkdir", "-p", self.path])
        self.runner.run(["chmod", f"{self.mode:o}", self.path])
