"""Logging: every command and step goes to a log file under /var/log/osa-aio/."""

from __future__ import annotations

import logging
import os
from pathlib import Path

LOG_DIR = Path(os.environ.get("OSA_AIO_LOG_DIR", "/var/log/osa-aio"))
LOG_FILE = "osa-aio.log"

commands = logging.getLogger("osa_aio.commands")
log = logging.getLogger("osa_aio")


def setup_file_logging(directory: Path | None = None) -> Path | None:
    """Send osa-aio's log to ``directory`` (LOG_DIR)/osa-aio.log; None when it cannot be written (not root)."""
    root = logging.getLogger("osa_aio")
    root.setLevel(logging.DEBUG)
    directory = directory or LOG_DIR
    path = directory / LOG_FILE
    if any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        return path
    try:
        directory.mkdir(mode=0o750, parents=True, exist_ok=True)
        handler = logging.FileHandler(path)
        os.chmod(path, 0o640)
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(name)s %(message)s"))
    root.addHandler(handler)
    return path


def log_result(target: str, argv: tuple[str, ...], rc: int, stdout: str, stderr: str, seconds: float) -> None:
    """One command's record: where, what (secrets already masked), exit code, time and output."""
    if not commands.isEnabledFor(logging.DEBUG):
        return
    commands.debug("[%s] rc=%s %.2fs $ %s", target, rc, seconds, " ".join(argv))
    for name, text in (("stdout", stdout), ("stderr", stderr)):
        if text.strip():
            commands.debug("[%s] %s:\n%s", target, name, text.rstrip())
