"""A service's checkout made from its sdist on PyPI (tests and the benchmark cannot clone from the
internet): what a developer's clone of it would be, committed so pbr finds a git tree."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path


def sdist_checkout(package: str, version: str, folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                    "-d", str(folder), f"{package}=={version}"], check=True,
                   env={"PIP_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin"})
    prefix = package.replace("-", "_")
    archive_path = next(p for p in folder.glob("*.tar.gz") if p.name.lower().replace("-", "_").startswith(prefix))
    with tarfile.open(archive_path) as archive:
        archive.extractall(folder)  # noqa: S202 - the sdist just downloaded from PyPI
    checkout = folder / archive_path.name.removesuffix(".tar.gz")
    git = ["git", "-c", "user.email=dev@example.invalid", "-c", "user.name=dev", "-c", "safe.directory=*"]
    subprocess.run([*git, "init", "-q"], cwd=checkout, check=True)
    subprocess.run([*git, "add", "-A"], cwd=checkout, check=True)
    subprocess.run([*git, "commit", "-qm", f"{package} {version}"], cwd=checkout, check=True)
    return checkout
