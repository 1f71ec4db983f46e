"""Python wheels for the containers, fetched on the host (which reaches PyPI; containers cannot)
for the distribution's python3, the same interpreter the containers run, and cached: uv resolves,
the lock's wheels are fetched by URL and sha256, an sdist-only package is built by pip.

Each service's requirements are resolved on their own against the shipped upper-constraints (as
OSA's python_venv_build does per venv): a new pin re-resolves only the services it touches, and
a conflict names the service and the pins before any container changes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import tomllib
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from osa_aio.errors import CommandFailed, ConfigError, OsaAioError
from osa_aio.image import CACHE_DIR
from osa_aio.steps import INSTALLER_PACKAGE, INSTALLER_VERSION
from osa_aio.transport import LocalRunner, Runner
from osa_aio.yamlio import load_yaml

WHEELS_FORMAT = 3
WHEEL_CACHE = CACHE_DIR / "wheels"
BUILD_VENV = CACHE_DIR / "build-venv"
PIP_CACHE = CACHE_DIR / "pip"  # osa-aio's own download caches: `destroy --all --purge` empties them
UV_CACHE = CACHE_DIR / "uv"
WHEEL_POOL = WHEEL_CACHE / "pool"  # every wheel fetched, once: the sets link theirs from it
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


def conflict_reason(output: str) -> str:
    """What the resolver (uv) says conflicts with what, on one line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    causes = [line.removeprefix("cause:").strip() for line in lines if not line.startswith("error:")]
    return " ".join(causes or lines[-3:])


_BUILD_VENV_LOCK = threading.Lock()


def build_venv(runner: Runner) -> Path:
    """The host's venv that resolves and builds wheels (pip, and uv at INSTALLER_VERSION), made
    once: the sets build side by side, and one of them must not run a tool the other is still
    installing (its marker, the uv version, is written last)."""
    ready = BUILD_VENV / "osa-aio.ready"
    with _BUILD_VENV_LOCK:
        if not ready.exists() or ready.read_text().strip() != INSTALLER_VERSION:
            shutil.rmtree(BUILD_VENV, ignore_errors=True)
            runner.run([SYSTEM_PYTHON, "-m", "venv", str(BUILD_VENV)])
            runner.run([str(BUILD_VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                        "--cache-dir", str(PIP_CACHE), INSTALLER_PACKAGE],
                       env={"PIP_CONFIG_FILE": "/dev/null"}, timeout=900)
            ready.write_text(INSTALLER_VERSION + "\n")
    return BUILD_VENV


_TAGS: list[str] = []


def supported_tags(runner: Runner) -> dict[str, int]:
    """The wheel tags the containers' python3 takes (the host's SYSTEM_PYTHON is the same build),
    best first: what pip itself would pick by."""
    with _BUILD_VENV_LOCK:
        if not _TAGS:
            _TAGS.extend(runner.run([str(BUILD_VENV / "bin" / "python"), "-c",
                                     "from pip._vendor.packaging.tags import sys_tags\n"
                                     "print('\\n'.join(str(t) for t in sys_tags()))"], log_output=False).stdout.split())
    return {tag: rank for rank, tag in enumerate(_TAGS)}


def wheel_rank(file_name: str, tags: dict[str, int]) -> int | None:
    """How good a wheel is here (lower is better; None: it does not install here)."""
    parts = file_name[:-len(".whl")].split("-")
    if len(parts) not in (5, 6):
        return None
    python, abi, platform = parts[-3:]
    ranks = [tags[f"{p}-{a}-{f}"] for p in python.split(".") for a in abi.split(".") for f in platform.split(".")
             if f"{p}-{a}-{f}" in tags]
    return min(ranks) if ranks else None


@dataclass(frozen=True)
class Pick:
    """One package of a lock: the wheel to fetch (its URL and sha256), or None: build its sdist."""

    name: str
    version: str
    url: str | None
    sha256: str | None


def picks(lock: dict, tags: dict[str, int]) -> list[Pick]:
    """Per package of a pylock.toml (PEP 751): its best wheel for the containers, else its sdist."""
    chosen = []
    for package in lock.get("packages", []):
        ranked = sorted((rank, wheel) for wheel in package.get("wheels", [])
                        if (rank := wheel_rank(wheel["url"].rsplit("/", 1)[-1], tags)) is not None)
        if ranked:
            wheel = ranked[0][1]
            chosen.append(Pick(package["name"], package["version"], wheel["url"], wheel["hashes"]["sha256"]))
        else:
            chosen.append(Pick(package["name"], package["version"], None, None))
    return chosen


def fetch(pick: Pick, pool: Path, into: Path) -> None:
    """The wheel into the shared pool (kept across sets and runs, its sha256 checked), then
    linked into a set's folder."""
    name = pick.url.rsplit("/", 1)[-1]
    kept = pool / name
    if not kept.exists():
        pool.mkdir(parents=True, exist_ok=True)
        partial = pool / f".{name}.{threading.get_ident()}"
        with urllib.request.urlopen(pick.url, timeout=300) as response:
            data = response.read()
        if hashlib.sha256(data).hexdigest() != pick.sha256:
            raise OsaAioError(f"{name} from {pick.url} does not match the sha256 of its lock", hint="run again")
        partial.write_bytes(data)
        partial.replace(kept)
    os.link(kept, into / name)


@dataclass
class WheelsBuilt:
    """Every wheel one service needs, pinned by the 2026.2 upper-constraints, in the cache. uv
    resolves the set (in seconds; pip took 20-40 s a set) into a PEP 751 lock; its wheels are
    fetched by URL and sha256, side by side; a package with no wheel for the containers is built
    from its sdist by pip."""

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
        venv = build_venv(self.runner)
        work = self.target.with_name(self.target.name + ".building")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        constraints = work / "upper-constraints.txt"  # published with the wheels
        constraints.write_text(self.constraints)
        try:
            self._build(venv, work, constraints)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        wheels = sorted(p.name for p in work.glob("*.whl"))
        (work / MARKER).write_text(json.dumps({"packages": list(self.packages), "wheels": wheels}, indent=2) + "\n")
        shutil.rmtree(self.target, ignore_errors=True)
        work.rename(self.target)

    def _build(self, venv: Path, work: Path, constraints: Path) -> None:
        lock = work / "pylock.toml"
        # Only PyPI and these pins count: the host's own uv and pip configuration is ignored.
        try:
            self.runner.run([str(venv / "bin" / "uv"), "pip", "compile", "--quiet", "--no-config", "--python",
                             SYSTEM_PYTHON, "--cache-dir", str(UV_CACHE), "--constraint", str(constraints),
                             "--format", "pylock.toml", "--output-file", str(lock), "-"],
                            stdin="\n".join(self.packages) + "\n", timeout=900)
        except CommandFailed as exc:
            if "No solution found" in exc.output or "not found in the package registry" in exc.output:
                raise RequirementsConflict(
                    f"{self.service}'s requirements ({' '.join(self.packages)}) conflict with the upper-constraints: "
                    + conflict_reason(exc.output), file=str(SHIPPED_CONSTRAINTS),
                    hint=f"raise the pin it names in {RAISED_PINS} (with the release that needs it)") from None
            raise
        chosen = picks(tomllib.loads(lock.read_text()), supported_tags(self.runner))
        with ThreadPoolExecutor(max_workers=8) as pool:
            for future in [pool.submit(fetch, pick, WHEEL_POOL, work) for pick in chosen if pick.url]:
                future.result()
        sdists = [f"{pick.name}=={pick.version}" for pick in chosen if not pick.url]
        if sdists:
            # --use-pep517: an sdist-only dependency (glance's simplegeneric) builds without `wheel` installed.
            self.runner.run([str(venv / "bin" / "pip"), "wheel", "--quiet", "--disable-pip-version-check",
                             "--use-pep517", "--no-deps", "--cache-dir", str(PIP_CACHE), "--wheel-dir", str(work),
                             "--constraint", str(constraints), *sdists],
                            env={"PIP_CONFIG_FILE": "/dev/null"}, timeout=1800)
        lock.unlink()
