"""One osa-aio at a time: commands that change the host hold an exclusive lock."""

from __future__ import annotations

import fcntl
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from osa_aio.errors import OsaAioError

LOCK_FILE = Path(os.environ.get("OSA_AIO_LOCK_FILE", "/run/osa-aio.lock"))


class Locked(OsaAioError):
    """Another osa-aio holds the lock."""


@contextmanager
def exclusive(what: str, path: Path | None = None) -> Iterator[None]:
    """Hold the host-wide lock for ``what``; fail at once, naming the holder, if it is taken.

    The kernel drops the lock when the holder dies, even by SIGKILL, so no stale lock remains.
    """
    path = path or LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise Locked(f"another osa-aio is at work: {holder}", file=str(path),
                     hint="wait for it to finish, then try again") from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} running `osa-aio {what}` ({' '.join(sys.argv[1:])})\n")
        handle.flush()
        yield
    finally:
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
