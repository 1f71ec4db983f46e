"""Idempotent primitives that work over any Runner: each reads the state before acting."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from osa_aio.errors import OsaAioError
from osa_aio.secrets import mask
from osa_aio.transport import LocalRunner, Runner, put

# Restarts a changed file calls for are recorded here (in the container, or on the host) before the
# file changes and cleared once done: a run killed in between still restarts on the next run.
PENDING_DIR = "/var/lib/osa-aio/pending"
DAEMON_RELOAD = "daemon-reload"


def sh(script: str, *args: str) -> list[str]:
    """A shell script with its values as positional parameters ($1, $2 ...), never pasted into it."""
    return ["sh", "-c", script, "sh", *args]


def mark_pending(runner: Runner, names: tuple[str, ...] | list[str]) -> None:
    """Record that ``names`` (units, or DAEMON_RELOAD) must restart."""
    runner.run(["sh", "-c", 'mkdir -p "$0" && cd "$0" && touch -- "$@"', PENDING_DIR, *names])


def is_pending(runner: Runner, name: str) -> bool:
    return runner.run(["test", "-e", f"{PENDING_DIR}/{name}"], check=False).rc == 0


def clear_pending(runner: Runner, name: str) -> None:
    runner.run(["rm", "-f", f"{PENDING_DIR}/{name}"])


_FILE_FACT = ('if [ -e "$1" ]; then sha256sum "$1" | cut -d" " -f1; stat -c %a:%U:%G "$1"; '
              'else echo absent; fi')


@dataclass
class FileContent:
    """A file with exactly this content, mode and owner; a change records a restart of the units
    in ``notify`` (ServiceRunning, SystemdReloaded and galera's cluster step carry it out)."""

    runner: Runner
    path: str
    content: str
    mode: int = 0o644
    owner: str = "root"
    group: str | None = None
    notify: tuple[str, ...] = ()

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
        if self.notify:
            mark_pending(self.runner, self.notify)
        put(self.runner, self.path, self.content, mode=self.mode, owner=self.owner, group=self.group)

    def diff(self) -> str:
        """What applying would change, as a unified diff with every secret value masked."""
        found = self.runner.run(["cat", self.path], check=False, log_output=False)
        current = found.stdout if found.rc == 0 else ""
        lines = difflib.unified_diff(current.splitlines(keepends=True), self.content.splitlines(keepends=True),
                                     fromfile=f"{self.path} (now)", tofile=f"{self.path} (wanted)")
        return mask("".join(lines))


@dataclass
class FileCopied:
    """A file with the same content as another one in the same container (a data file a venv
    installs, such as glance's paste pipeline, put where the service reads it). A source that is
    absent leaves the copy as it is (a dev checkout installed editable takes the venv's data files
    away)."""

    runner: Runner
    source: str
    path: str
    mode: int = 0o644
    notify: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"file {self.path} from {self.source}"

    def check(self) -> str | None:
        same = self.runner.run(sh('[ ! -e "$1" ] || cmp -s "$1" "$2"', self.source, self.path), check=False)
        return None if same.rc == 0 else "differs"

    def apply(self) -> None:
        if self.notify:
            mark_pending(self.runner, self.notify)
        self.runner.run(["install", "-m", f"{self.mode:o}", self.source, self.path])


@dataclass
class Directory:
    """A directory that exists with this mode and owner."""

    runner: Runner
    path: str
    mode: int = 0o755
    owner: str = "root"
    group: str | None = None

    @property
    def name(self) -> str:
        return f"directory {self.path}"

    def check(self) -> str | None:
        result = self.runner.run(["stat", "-c", "%F:%a:%U:%G", self.path], check=False)
        if result.rc != 0:
            return "absent"
        wanted = f"directory:{self.mode:o}:{self.owner}:{self.group or self.owner}"
        return None if result.stdout.strip() == wanted else f"is {result.stdout.strip()}"

    def apply(self) -> None:
        self.runner.run(["mkdir", "-p", self.path])
        self.runner.run(["chmod", f"{self.mode:o}", self.path])
        self.runner.run(["chown", f"{self.owner}:{self.group or self.owner}", self.path])


@dataclass
class Packages:
    """Debian packages installed (apt), without starting what they ship: roles start services."""

    runner: Runner
    packages: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"packages {' '.join(self.packages)}"

    def _missing(self) -> list[str]:
        result = self.runner.run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\\n", *self.packages],
                                 check=False)
        installed = {line.split()[0] for line in result.stdout.splitlines() if line.endswith(" installed")}
        return [p for p in self.packages if p not in installed]

    def check(self) -> str | None:
        missing = self._missing()
        return f"missing {' '.join(missing)}" if missing else None

    def apply(self) -> None:
        missing = self._missing()
        # policy-rc.d (exit 101) keeps postinst scripts from starting services; one already there stays.
        script = ("set -e; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\\nexit 101\\n' "
                  "> /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; trap 'rm -f /usr/sbin/policy-rc.d' EXIT; fi; "
                  "apt-get update -qq; apt-get install -y -qq --no-install-recommends \"$@\"")
        self.runner.run(["sh", "-c", script, "apt", *missing], env={"DEBIAN_FRONTEND": "noninteractive"},
                        timeout=1800)


@dataclass
class ServiceRunning:
    """A systemd unit enabled (or not) and active; restarted when a file notifying it changed
    (in this run or in one that was interrupted before the restart). ``enabled=None``: a static
    unit another one pulls in at boot (OVN's ovn-northd): only its state counts."""

    runner: Runner
    unit: str
    enabled: bool | None = True

    @property
    def name(self) -> str:
        return f"service {self.unit}"

    def check(self) -> str | None:
        script = ('a=$(systemctl is-active "$1"); e=$(systemctl is-enabled "$1" 2>/dev/null); '
                  'p=none; [ -e "$2" ] && p=pending; echo "${a:-unknown} ${e:-unknown} $p"')
        active, enabled, pending = self.runner.run(
            ["sh", "-c", script, "service-fact", self.unit, f"{PENDING_DIR}/{self.unit}"], check=False).stdout.split()
        if pending == "pending":
            return "its files changed: restart"
        if active != "active":
            return f"is {active}"
        if self.enabled is not None and (enabled == "enabled") != self.enabled:
            return f"is {enabled}"
        return None

    def apply(self) -> None:
        if self.enabled is not None:
            self.runner.run(["systemctl", "enable" if self.enabled else "disable", self.unit])
        self.runner.run(["systemctl", "restart", self.unit], timeout=900)
        clear_pending(self.runner, self.unit)


@dataclass
class ServiceSteady:
    """A daemon stays up: active for ``seconds`` without systemd restarting it. `active` alone is
    read a moment after a start, before a daemon that dies on a bad config has died."""

    runner: Runner
    unit: str
    seconds: float = 8
    wait: float = 90

    @property
    def name(self) -> str:
        return f"service {self.unit} stays up"

    def _state(self) -> tuple[str, float, int]:
        """(active state, seconds since it became active, systemd's restart count)."""
        script = ('now=$(date +%s); systemctl show --timestamp=unix -p ActiveState -p ActiveEnterTimestamp '
                  '-p NRestarts "$1"; echo "Now=@$now"')
        facts = dict(line.split("=", 1) for line in self.runner.run(
            sh(script, self.unit), check=False).stdout.splitlines() if "=" in line)

        def stamp(key: str) -> float:
            value = facts.get(key, "").lstrip("@")
            return float(value) if value.replace(".", "", 1).isdigit() else 0.0
        since = stamp("Now") - stamp("ActiveEnterTimestamp") if stamp("ActiveEnterTimestamp") else 0.0
        restarts = facts.get("NRestarts", "0")
        return facts.get("ActiveState", "unknown"), since, int(restarts) if restarts.isdigit() else 0

    def _reason(self, active: str, since: float) -> str | None:
        if active != "active":
            return f"is {active}"
        return None if since >= self.seconds else f"has been up {since:.0f}s"

    def check(self) -> str | None:
        active, since, _ = self._state()
        return self._reason(active, since)

    def apply(self) -> None:
        deadline = time.monotonic() + self.wait
        first = None
        while True:
            active, since, restarts = self._state()
            reason = self._reason(active, since)
            if reason is None:
                return
            first = restarts if first is None else first
            if restarts > first or time.monotonic() > deadline:
                last = self.runner.run(["journalctl", "-u", self.unit, "-n", "40", "--no-pager", "-o", "cat"],
                                       check=False).stdout
                errors = [line for line in last.splitlines() if "ERROR" in line or "CRITICAL" in line]
                said = (errors or last.splitlines() or ["(no log)"])[-1].strip()
                raise OsaAioError(f"{self.unit} does not stay up ({reason}, restarted {restarts - first} times): "
                                  f"{mask(said)}", file=self.runner.name,
                                  hint=f"`journalctl -u {self.unit}` in the container")
            time.sleep(1)


@dataclass
class Command:
    """A command that runs only when ``unless`` (a command) fails: the guard reads the state."""

    runner: Runner
    label: str
    argv: list
    unless: list | None = None
    stdin: str | None = None
    env: dict | None = None
    timeout: float | None = 600

    @property
    def name(self) -> str:
        return self.label

    def check(self) -> str | None:
        if self.unless is not None and self.runner.run(self.unless, check=False, env=self.env).rc == 0:
            return None
        return "not done yet"

    def apply(self) -> None:
        self.runner.run(self.argv, stdin=self.stdin, env=self.env, timeout=self.timeout)


@dataclass
class SystemUser:
    """A system user and group with this home, no login; with ``uid``, that uid and gid (files
    shared between containers, such as glance's image store, need the same owner everywhere)."""

    runner: Runner
    user: str
    home: str
    uid: int | None = None

    @property
    def name(self) -> str:
        return f"user {self.user}"

    def check(self) -> str | None:
        found = self.runner.run(sh('echo "$(id -u "$1")" "$(getent group "$1" | cut -d: -f3)"', self.user),
                                check=False).stdout.split()
        if not found or not found[0].isdigit():
            return "absent"
        if self.uid is not None and found != [str(self.uid), str(self.uid)]:
            return f"uid/gid {'/'.join(found)}, not {self.uid}"
        return None

    def apply(self) -> None:
        ids = ["--gid", str(self.uid)] if self.uid is not None else []
        if self.runner.run(["getent", "group", self.user], check=False).rc != 0:
            self.runner.run(["groupadd", "--system", *ids, self.user])
        elif self.uid is not None:
            self.runner.run(["groupmod", "--gid", str(self.uid), self.user])
        if self.runner.run(["id", "-u", self.user], check=False).rc != 0:
            self.runner.run(["useradd", "--system", *(["--uid", str(self.uid)] if self.uid is not None else []),
                             "--gid", self.user, "--home-dir", self.home, "--shell", "/usr/sbin/nologin", self.user])
        elif self.uid is not None:
            self.runner.run(["usermod", "--uid", str(self.uid), "--gid", self.user, self.user])


# The installer of every venv in the containers: uv installs a service's ~150 wheels and compiles
# them in a fifth of pip's time (heat: 14 s against 47 s on 2 cores). It comes from the private
# repo like every other package (its wheel holds one static binary); the venvs keep pip for hands.
INSTALLER_VERSION = "0.13.9"
INSTALLER_PACKAGE = f"uv=={INSTALLER_VERSION}"
INSTALLER = "/usr/local/bin/uv"
# Finds uv's wheel in the repo's listing and writes the binary it holds to argv[3], atomically.
_FETCH_INSTALLER = r"""
import io, os, re, sys, urllib.request, zipfile
repo, version, target = sys.argv[1:]
listing = urllib.request.urlopen(repo, timeout=30).read().decode()
found = re.search(r'href="(uv-%s-[^"]+\.whl)"' % re.escape(version), listing)
if not found:
    sys.exit("no uv-%s wheel in %s" % (version, repo))
wheel = zipfile.ZipFile(io.BytesIO(urllib.request.urlopen(repo + found.group(1), timeout=300).read()))
binary = wheel.read(next(n for n in wheel.namelist() if n.endswith(".data/scripts/uv")))
with open(target + ".new", "wb") as out:
    out.write(binary)
os.chmod(target + ".new", 0o755)
os.replace(target + ".new", target)
"""


def installer_argv(python: str, find_links: str, constraints: str, *args: str) -> list[str]:
    """``uv pip install`` into the venv of ``python``, from the private repo only (plain HTTP on the
    project's own VIP; no index) unless ``args`` say otherwise; uv's own config files ignored."""
    return [INSTALLER, "pip", "install", "--quiet", "--no-config", "--python", python, "--link-mode", "copy",
            "--find-links", find_links, "--constraint", constraints, *args]


@dataclass
class InstallerPresent:
    """uv (INSTALLER_VERSION) at INSTALLER, taken from the private repo's wheel of it."""

    runner: Runner
    find_links: str  # the repo's listing, ending in /

    @property
    def name(self) -> str:
        return f"installer uv {INSTALLER_VERSION}"

    def check(self) -> str | None:
        found = self.runner.run([INSTALLER, "--version"], check=False)
        if found.rc != 0:
            return "absent"
        return None if found.stdout.split()[1:2] == [INSTALLER_VERSION] else f"is {found.stdout.strip()}"

    def apply(self) -> None:
        self.runner.run(["python3", "-c", _FETCH_INSTALLER, self.find_links, INSTALLER_VERSION, INSTALLER],
                        timeout=600)


@dataclass
class PythonVenv:
    """A venv with these packages, installed by uv (InstallerPresent before it) only from the
    private repo (no public index), byte-compiled (the service user cannot write its caches).

    ``path`` is a symlink to the venv built for the current digest (``<path>-<digest>``): a new
    venv is built aside and swapped in when complete, never removed or changed under a running
    service; the one before it stays until the next swap. The venv records its digest last, so a
    re-run reads one file and a half-built venv is never taken for done.
    """

    runner: Runner
    path: str
    packages: tuple[str, ...]
    find_links: str
    constraints: str
    notify: tuple[str, ...] = ()
    siblings: "VenvSiblings | None" = None
    compile: bool = True  # False: its user (root) writes Python's byte-code caches itself

    @property
    def name(self) -> str:
        return f"venv {self.path}"

    def digest(self) -> str:
        return hashlib.sha256(json.dumps([self.packages, self.find_links, self.constraints]).encode()).hexdigest()

    def check(self) -> str | None:
        found = self.runner.run(["cat", f"{self.path}/osa-aio-venv.digest"], check=False)
        if found.rc != 0:
            return "absent"
        return None if found.stdout.strip() == self.digest() else "packages changed"

    def apply(self) -> None:
        if self.notify:
            mark_pending(self.runner, self.notify)
        # A fresh folder every time: one whose digest is missing may be half-made (a run killed
        # while `venv` installed pip, or during `pip install`) or be the one that runs now.
        build = self.siblings.copy(self.path, self.digest()) if self.siblings else None
        if build is None:
            build = f"{self.path}-{self.digest()[:12]}-{int(time.time())}"
            self.runner.run(["python3", "-m", "venv", build])
            self.runner.run(installer_argv(f"{build}/bin/python", self.find_links, self.constraints, "--no-index",
                                           *(["--compile-bytecode"] if self.compile else []), *self.packages),
                            timeout=1800)
            put(self.runner, f"{build}/osa-aio-venv.digest", self.digest() + "\n")
        # Swap: the link is replaced in one rename. A venv from before links (a folder at ``path``)
        # is moved aside first. Then every older build goes but the one just replaced.
        self.runner.run(sh('set -e; p="$1"; b="$2"; old=$(readlink -f "$p" || true)\n'
                           'if [ -d "$p" ] && [ ! -L "$p" ]; then mv "$p" "$p-previous-$(date +%s)"; '
                           'old=$(ls -d "$p"-previous-* | tail -n1); fi\n'
                           'ln -sfn "$(basename "$b")" "$p.link" && mv -T "$p.link" "$p"\n'
                           'for d in "$p"-*; do [ "$d" = "$b" ] || [ "$d" = "$old" ] || rm -rf "$d"; done',
                           self.path, build))


@dataclass(frozen=True)
class VenvSiblings:
    """The containers of one service on this host build a venv once. The same packages from the
    same repo on the same image give the same venv, so one container (``builder``) installs it and
    the others copy it, folder name and all (its scripts name it), through the host
    (``host_path``: where a container's path is on the host). A copy is taken only from a finished
    venv (its digest written last) and never from a container running a dev checkout."""

    me: str
    builder: str                   # the first of this run's containers: it installs, the others wait
    sources: tuple[str, ...]       # containers a finished venv may be copied from
    host_path: Callable[[str, str], Path]
    wait: float = 900              # for the builder to finish
    start_wait: float = 60         # for the builder to start

    def _finished(self, name: str, path: str, digest: str) -> Path | None:
        link = self.host_path(name, path)
        try:
            build = link.parent / os.readlink(link)
            return build if (build / "osa-aio-venv.digest").read_text().strip() == digest else None
        except OSError:
            return None

    def _copy_from(self, source: Path, path: str) -> str | None:
        """Copy a sibling's finished venv here under its own folder name; None if that folder is
        here already (it may be in use: install afresh instead)."""
        build = str(Path(path).parent / source.name)
        target = self.host_path(self.me, build)
        if target.exists():
            return None
        partial = target.with_name(target.name + ".copying")
        # Hard links, not copies: nothing writes a venv's files in place (an install, a byte-code
        # cache, a dev checkout's editable install each write new files), so containers share them.
        LocalRunner().run(sh('mkdir -p "${2%/*}" && rm -rf "$3" && cp -al "$1" "$3" && mv -T "$3" "$2"',
                             str(source), str(target), str(partial)), timeout=900)
        return build

    def copy(self, path: str, digest: str) -> str | None:
        """The venv's folder (a path in the container) once copied from a sibling; None: build it here."""
        started = time.monotonic()
        others = [name for name in self.sources if name != self.me]
        while True:
            source = next(filter(None, (self._finished(name, path, digest) for name in others)), None)
            if source:
                return self._copy_from(source, path)
            waited = time.monotonic() - started
            link = self.host_path(self.builder, path)
            building = list(link.parent.glob(f"{link.name}-{digest[:12]}-*"))
            if self.me == self.builder or waited > self.wait or (waited > self.start_wait and not building):
                return None
            time.sleep(2)


def wait_for(probe: Callable[[], str | None], seconds: float, where: str, hint: str) -> None:
    """Poll ``probe`` (None when ready, else why not) each second; after ``seconds`` raise its reason."""
    deadline = time.monotonic() + seconds
    while (reason := probe()) is not None:
        if time.monotonic() > deadline:
            raise OsaAioError(f"still {reason} after {seconds:.0f}s", file=where, hint=hint)
        time.sleep(1)


@dataclass
class HttpAnswers:
    """An HTTP endpoint (one of the project's own) answers with ``status``; apply waits for it."""

    url: str
    status: int = 200
    wait: float = 60
    method: str = "GET"

    @property
    def name(self) -> str:
        return f"{self.url} answers {self.status}"

    def _probe(self) -> str | None:
        request = urllib.request.Request(self.url, method=self.method)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                code = response.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        except (urllib.error.URLError, OSError) as exc:
            return f"no answer ({getattr(exc, 'reason', exc)})"
        return None if code == self.status else f"answered {code}"

    def check(self) -> str | None:
        return self._probe()

    def apply(self) -> None:
        wait_for(self._probe, self.wait, self.url, "see the service's log in /openstack/log/<container>/")


@dataclass
class SystemdReloaded:
    """systemd re-reads unit files after one of them changed (files with notify=(DAEMON_RELOAD,))."""

    runner: Runner
    name = "systemd units reloaded"

    def check(self) -> str | None:
        return "unit files changed" if is_pending(self.runner, DAEMON_RELOAD) else None

    def apply(self) -> None:
        self.runner.run(["systemctl", "daemon-reload"])
        clear_pending(self.runner, DAEMON_RELOAD)
