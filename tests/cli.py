"""Run the real CLI the way a user does (python -m osa_aio), for the integration tests and the benchmark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def osa(*args: str, config_dir: Path, check: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run the real CLI (python -m osa_aio) with this config dir."""
    proc = subprocess.run([sys.executable, "-m", "osa_aio", "--config-dir", str(config_dir), *args],
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"osa-aio {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc
