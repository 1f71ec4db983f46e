"""Python wheels for the containers, built on the host (which reaches PyPI; containers cannot)
with the distribution's python3, the same interpreter the containers run, and cached.

Each service's requirements are resolved on their own against the shipped upper-constraints (as
OSA's python_venv_build does per venv): a new pin re-resolves only the services it touches, and
a conflict names the service and the pins before any container changes."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from osa_aio.errors import CommandFailed, ConfigError, OsaAioError
from osa_aio.image import CACHE_DIR
from osa_aio.transport import LocalRunner, Runner
from osa_aio.yamlio import load_yaml

WHEELS_FORMAT = 2
WHEEL_CACHE = CACHE_DIR / "wheels"
BUILD_VENV = CACHE_DIR / "build-venv"
PIP_CACHE = CACHE_DIR / "pip"  # osa-aio's own download cache: `destroy --all --purge` empties it
DATA = Path(__file__).resolve().parent / "data"
SHIPPED_CONSTRAINTS = DATA / "upper-constraints.txt"
RAISED_PINS = DATA / "raised-pins.yml"
SYSTEM_PYTHON = "/usr/bin/python3"
MARKER = "osa-aio-wheels.json"


@dataclass(frozen=True)
class RaisedPin:
    """A pin raised over the shipped upper-constraints, with the release that needs it."""

    name: str
    version: str
    replaces: str
    needed_by: str


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def raised_pins(path: Path = RAISED_PINS) -> list[RaisedPin]:
    pins = []
    for index, entry in enumerate(load_yaml(path, mapping=False) or []):
        try:
            name, version = str(entry["pin"]).split("===")
            pins.append(RaisedPin(name, version, str(entry["replaces"]), str(entry["needed_by"])))
        except (KeyError, TypeError, ValueError):
            raise ConfigError("each entry needs pin (name===version), replaces and needed_by",
                              file=str(path), key=f"[{index}]") from None
    return pins


def constraints_text(shipped: Path = SHIPPED_CONSTRAINTS, raised: Path = RAISED_PINS) -> str:
    """The shipped upper-constraints with the raised pins in place of the ones they replace."""
    pins = {canonical(pin.name): pin for pin in raised_pins(raised)}
    lines = []
    for line in shipped.read_text().splitlines():
        name = line.split("===")[0].strip()
        pin = pins.pop(canonical(name), None) if "===" in line else None
        lines.append(f"{pin.name}==={pin.version}" if pin else line)
    lines += [f"{pin.name}==={pin.version}" for pin in pins.values()]  # pins the file does not have
    return "\n".join(lines) + "\n"


def wheels_dir(packages: tuple[str, ...], constraints: str) -> Path:
    digest = hashlib.sha256(json.dumps([WHEELS_FORMAT, sorted(packages), constraints]).encode())
    return WHEEL_CACHE / digest.hexdigest()[:16]


class RequirementsConflict(OsaAioError):
    """A service's requirements cannot be met within the upper-constraints."""


def conflict_lines(pip_output: str) -> list[str]:
    """The lines of pip's resolver error that say what conflicts with what."""
    lines = [line.strip() for line in pip_output.splitlines()]
    keep = [line for line in lines if line.startswith(("The user requested", "The conflict is caused by"))
            or " depends on " in line or line.startswith("ERROR: Could not find a version")
            or line.startswith("ERROR: No matching distribution")]
    return keep or [line for line in lines if line.startswith("ERROR")][-3:]


_BUILD_VENV_LOCK = threading.Lock()


def build_venv(runner: Runner) -> Path:
    """The host's venv that builds wheels, made once: the sets build side by side, and one of
    them must not run a pip the other is still installing (its marker is written last)."""
    ready = BUILD_VENV / "osa-aio.ready"
    with _BUILD_VENV_LOCK:
        if not ready.exists():
            shutil.rmtree(BUILD_VENV, ignore_errors=True)
            runner.run([SYSTEM_PYTHON, "-m", "venv", str(BUILD_VENV)])
            ready.write_text("")
    return BUILD_VENV


@dataclass
class WheelsBuilt:
    """Every wheel one service needs, pinned by the 2026.2 upper-constraints, in the cache."""

    service: str
    packages: tuple[str, ...]
    constraints: str = field(default_factory=constraints_text)  # the text of upper-constraints.txt
    runner: Runner = field(default_factory=LocalRunner)

    @property
    def name(self) -> str:
        return f"python wheels for {self.service}"

    @property
    def target(self) -> Path:
        return wheels_dir(self.packages, self.constraints)

    def check(self) -> str | None:
        return None if (self.target / MARKER).exists() else "not built"

    def apply(self) -> None:
        build_venv(self.runner)
        work = self.target.with_name(self.target.name + ".building")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        constraints = work / "upper-constraints.txt"  # published with the wheels
        constraints.write_text(self.constraints)
        # The host's own pip configuration is ignored: only PyPI and these pins count.
        try:
            # --use-pep517: an sdist-only dependency (glance's simplegeneric) builds without `wheel` installed.
            self.runner.run([str(BUILD_VENV / "bin" / "pip"), "wheel", "--quiet", "--disable-pip-version-check",
                             "--use-pep517",
                             "--cache-dir", str(PIP_CACHE), "--wheel-dir", str(work),
                             "--constraint", str(constraints), *self.packages],
                            env={"PIP_CONFIG_FILE": "/dev/null"}, timeout=1800)
        except CommandFailed as exc:
            shutil.rmtree(work, ignore_errors=True)
            if "ResolutionImpossible" in exc.output or "conflict" in exc.output.lower() \
                    or "Could not find a version" in exc.output:
                raise RequirementsConflict(
                    f"{self.service}'s requirements ({' '.join(self.packages)}) conflict with the upper-constraints: "
                    + " | ".join(conflict_lines(exc.output)), file=str(SHIPPED_CONSTRAINTS),
                    hint=f"raise the pin it names in {RAISED_PINS} (with the release that needs it)") from None
            raise
        wheels = sorted(p.name for p in work.glob("*.whl"))
        (work / MARKER).write_text(json.dumps({"packages": list(self.packages), "wheels": wheels}, indent=2) + "\n")
        shutil.rmtree(self.target, ignore_errors=True)
        work.rename(self.target)
