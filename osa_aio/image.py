"""The base image: the host's Debian release, built once with mmdebstrap and kept as a stopped
LXC container that every osa-aio container is cloned from (copy-on-write)."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from osa_aio.errors import HostError
from osa_aio.lxchost import (LOCAL, LXC_PATH, MARKER, destroy, exists, markers, read_text, remove_tree, state,
                             write_marker)
from osa_aio.steps import sh
from osa_aio.transport import LocalRunner, Runner, put

RECIPE_VERSION = 3  # 3: made by mmdebstrap
CACHE_DIR = Path("/var/cache/osa-aio")
CURRENT_BASE = CACHE_DIR / "base-image.json"
BASE_PREFIX = "osa-aio-base-"
BASE_PACKAGES = ("systemd", "systemd-sysv", "dbus", "python3", "ca-certificates", "iproute2",
                 "iputils-ping", "procps", "netbase", "less", "curl", "rsync")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
MERGED_USR_HOOK = "/usr/share/mmdebstrap/hooks/maybe-merged-usr"
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")


@dataclass(frozen=True)
class ImageRecipe:
    """Everything the base image is made from; its digest decides when to rebuild."""

    codename: str
    mirror: str
    packages: tuple[str, ...]
    apt_sources: dict[str, str] = field(default_factory=dict)  # path in the image -> content
    ca_certificates: dict[str, str] = field(default_factory=dict)  # file name -> content
    version: int = RECIPE_VERSION

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def host_recipe(etc: Path = Path("/etc"), ca_dir: Path = HOST_CA_DIR) -> ImageRecipe:
    """The recipe for this host: its release, its apt sources and its extra CA certificates."""
    release = _os_release(etc / "os-release")
    codename = release.get("VERSION_CODENAME")
    if not codename:
        raise HostError("cannot tell the host's release", file=str(etc / "os-release"),
                        hint="osa-aio needs Debian or Ubuntu with VERSION_CODENAME set")
    sources: dict[str, str] = {}
    for path in [etc / "apt" / "sources.list", *sorted((etc / "apt" / "sources.list.d").glob("*"))]:
        if path.is_file() and path.suffix in (".list", ".sources"):
            sources[str(Path("/etc/apt") / path.relative_to(etc / "apt"))] = path.read_text()
    certs = {p.name: p.read_text() for p in sorted(ca_dir.glob("*.crt"))} if ca_dir.is_dir() else {}
    return ImageRecipe(codename=codename, mirror=_mirror(sources.values(), codename),
                       packages=BASE_PACKAGES, apt_sources=sources, ca_certificates=certs)


def _os_release(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"')
    return values


def _mirror(sources, codename: str) -> str:
    """The first archive URI that serves ``codename`` itself (not -security or -updates)."""
    for text in sources:
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            if uris and suites and codename in suites.group(1).split():
                return uris.group(1)
        for match in re.finditer(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", text, re.M):
            if match.group(2) == codename:
                return match.group(1)
    return DEFAULT_MIRROR


# ---- which base image is current ------------------------------------------------------------

def current_base(runner: Runner = LOCAL) -> dict | None:
    """{"name", "digest"} of the image new containers on the runner's host are cloned from, or None."""
    try:
        data = json.loads(read_text(CURRENT_BASE, runner) or "")
    except ValueError:
        return None
    marked = data.get("name") and runner.run(["test", "-e", str(LXC_PATH / data["name"] / MARKER)], check=False).ok
    return data if marked else None


def base_images(runner: Runner = LOCAL) -> list[str]:
    """Every base image osa-aio built (current or not)."""
    return sorted(name for name, marker in markers(runner).items()
                  if name.startswith(BASE_PREFIX) and marker.get("kind") == "base")


# ---- building ----------------------------------------------------------------------------

@dataclass
class BaseImageBuilt:
    """The current base image exists and was made from this recipe."""

    recipe: ImageRecipe
    rebuild: bool = False
    runner: Runner = field(default_factory=LocalRunner)

    name = "base image"

    def check(self) -> str | None:
        current = current_base(self.runner)
        if self.rebuild:
            return "rebuild asked (--rebuild-image)"
        if current is None:
            return "absent"
        if current.get("digest") != self.recipe.digest():
            return "its recipe changed"
        return None

    def apply(self) -> None:
        name = build_base_image(self.recipe, self.runner)
        self.runner.run(["mkdir", "-p", str(CACHE_DIR)])
        put(self.runner, str(CURRENT_BASE), json.dumps({"name": name, "digest": self.recipe.digest()}) + "\n")
        self.rebuild = False
        remove_unused_bases(images_in_use(self.runner), self.runner)  # older images nothing was cloned from


def build_base_image(recipe: ImageRecipe, runner: Runner) -> str:
    """mmdebstrap a rootfs, add the host's apt sources and CA certificates, define the container.

    A new image gets a new name, so containers cloned from an older one keep working.
    """
    started = time.monotonic()
    digest = recipe.digest()[:8]
    taken = set(markers(runner))
    index = 1
    while f"{BASE_PREFIX}{digest}-{index}" in taken or exists(f"{BASE_PREFIX}{digest}-{index}", runner):
        index += 1
    name = f"{BASE_PREFIX}{digest}-{index}"
    work = LXC_PATH / f".{name}.building"
    rootfs = work / "rootfs"
    remove_tree(work, runner)
    runner.run(["mkdir", "-p", str(rootfs)])
    try:
        # mmdebstrap: apt resolves and downloads side by side and dpkg runs once (36 s here against
        # debootstrap's 78 s); the merged-/usr hook does what debootstrap does (no usrmerge package).
        runner.run(["mmdebstrap", "--quiet", "--variant=minbase", f"--hook-dir={MERGED_USR_HOOK}",
                    f"--include={','.join(recipe.packages)}", recipe.codename, str(rootfs), recipe.mirror],
                   timeout=1800)
        _customise(rootfs, recipe, runner)
        runner.run(["mv", "-T", str(work), str(LXC_PATH / name)])
    except BaseException:
        remove_tree(work, runner)
        raise
    _define(name, runner)
    write_marker(name, {"kind": "base", "digest": recipe.digest(), "codename": recipe.codename,
                        "seconds": round(time.monotonic() - started, 1)}, runner)
    return name


def _define(name: str, runner: Runner) -> None:
    """Write an image's LXC config, and prove liblxc reads it."""
    put(runner, str(LXC_PATH / name / "config"), base_config(name, LXC_PATH / name / "rootfs"))
    if state(name, runner) == "ABSENT":
        raise HostError(f"LXC does not read the config of {name}", file=str(LXC_PATH / name / "config"),
                        hint=f"look at `lxc-info -n {name}`")


def _customise(rootfs: Path, recipe: ImageRecipe, runner: Runner) -> None:
    runner.run(["rm", "-f", str(rootfs / "etc" / "apt" / "sources.list")])
    files = dict(recipe.apt_sources)
    files.update({f"/usr/local/share/ca-certificates/{file_name}": content
                  for file_name, content in recipe.ca_certificates.items()})
    for path, content in files.items():
        target = rootfs / path.lstrip("/")
        runner.run(["mkdir", "-p", str(target.parent)])
        put(runner, str(target), content)
    if recipe.ca_certificates:
        runner.run(["chroot", str(rootfs), "update-ca-certificates"])
    runner.run(["chroot", str(rootfs), "apt-get", "clean"])
    # Each clone must make its own machine-id at first boot; names resolve as on the host.
    runner.run(sh(': > "$1/etc/machine-id"; rm -f "$1/var/lib/dbus/machine-id"; cp /etc/resolv.conf "$1/etc/"',
                  str(rootfs)))


def base_config(name: str, rootfs: Path) -> str:
    """The LXC config every clone starts from; osa-aio adds networks and mounts per container."""
    return "\n".join([
        "# Written by osa-aio (the config of its images, and of the containers cloned from them).",
        # common.conf ships with liblxc-common; the Debian extras (lxc-templates) are inlined.
        "lxc.include = /usr/share/lxc/config/common.conf",
        "lxc.tty.dir =",
        "lxc.cgroup.devices.allow = c 10:200 rwm",
        "lxc.cgroup2.devices.allow = c 10:200 rwm",
        "lxc.arch = linux64",
        f"lxc.rootfs.path = dir:{rootfs}",
        f"lxc.uts.name = {name}",
        "lxc.apparmor.profile = generated",
        "lxc.apparmor.allow_nesting = 1",
        "lxc.net.0.type = empty",
        "",
    ])


def images_in_use(runner: Runner = LOCAL) -> set[str]:
    """The images (base or type) some osa-aio container is a clone of."""
    return {m.get("base") for m in markers(runner).values() if m.get("kind") == "container"}


def remove_unused_bases(in_use: set[str], runner: Runner = LOCAL) -> list[str]:
    """Destroy base images that are neither current nor cloned from; return their names."""
    current = (current_base(runner) or {}).get("name")
    removed = []
    for name in base_images(runner):
        if name != current and name not in in_use:
            destroy(name, runner)
            removed.append(name)
    return removed


# ---- an image per package set ------------------------------------------------------------------

TYPE_PREFIX = "osa-aio-img-"
TYPE_IMAGE_FORMAT = 2


def type_image_digest(base_digest: str, packages: tuple[str, ...], disabled: tuple[str, ...]) -> str:
    """An image is keyed by what it holds: container types with the same packages (the API
    services: uWSGI and venv support) share one."""
    data = [TYPE_IMAGE_FORMAT, base_digest, sorted(packages), sorted(disabled)]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def find_type_image(digest: str, runner: Runner = LOCAL) -> str | None:
    """The built image of this digest on the runner's host, if there is one."""
    return next((name for name, marker in sorted(markers(runner).items()) if name.startswith(TYPE_PREFIX)
                 and marker.get("kind") == "type-image" and marker.get("digest") == digest), None)


def type_images(runner: Runner = LOCAL) -> list[str]:
    return sorted(name for name, marker in markers(runner).items()
                  if name.startswith(TYPE_PREFIX) and marker.get("kind") == "type-image")


@dataclass
class TypeImageBuilt:
    """An image with a package set: a full copy of the base with the packages installed once, their
    services disabled (roles start them), so each container using it is a cheap clone."""

    container_types: tuple[str, ...]  # the types that use it (for the name and the marker)
    packages: tuple[str, ...]
    disabled: tuple[str, ...] = ()
    runner: Runner = field(default_factory=LocalRunner)

    @property
    def name(self) -> str:
        return f"image for {', '.join(self.container_types)}"

    def digest(self) -> str:
        base = current_base(self.runner)
        return type_image_digest((base or {}).get("digest", ""), self.packages, self.disabled)

    def check(self) -> str | None:
        return None if find_type_image(self.digest(), self.runner) else "absent or out of date"

    def apply(self) -> None:
        base = current_base(self.runner)
        if base is None:
            raise HostError("there is no base image", hint="run `osa-aio bootstrap` first")
        started = time.monotonic()
        digest = self.digest()
        name = f"{TYPE_PREFIX}{digest[:12]}"
        work = LXC_PATH / f".{name}.building"
        remove_tree(work, self.runner)
        remove_tree(LXC_PATH / name, self.runner)
        self.runner.run(["mkdir", "-p", str(work)])
        try:
            # cp keeps hard links, owners and modes; the base is never running, so it is consistent.
            self.runner.run(["cp", "-a", str(LXC_PATH / base["name"] / "rootfs"), str(work / "rootfs")], timeout=600)
            self._install(work / "rootfs")
            self.runner.run(["mv", "-T", str(work), str(LXC_PATH / name)])
        except BaseException:
            remove_tree(work, self.runner)
            raise
        _define(name, self.runner)
        write_marker(name, {"kind": "type-image", "container_types": list(self.container_types), "digest": digest,
                            "packages": list(self.packages),
                            "base": base["name"], "seconds": round(time.monotonic() - started, 1)}, self.runner)

    def _install(self, rootfs: Path) -> None:
        """apt-get install in a chroot with its own mount namespace: /proc, /sys and /dev vanish with it."""
        packages = " ".join(shlex.quote(p) for p in self.packages)
        disable = " ".join(shlex.quote(u) for u in self.disabled)
        script = f"""set -e
mount -t proc proc "$1/proc"; mount --rbind /sys "$1/sys"; mount --rbind /dev "$1/dev"
printf '#!/bin/sh\\nexit 101\\n' > "$1/usr/sbin/policy-rc.d"; chmod 755 "$1/usr/sbin/policy-rc.d"
chroot "$1" apt-get update -qq
chroot "$1" apt-get install -y -qq --no-install-recommends {packages}
{f'chroot "$1" systemctl disable {disable}' if disable else ':'}
chroot "$1" apt-get clean
rm -f "$1/usr/sbin/policy-rc.d"
"""
        self.runner.run(["unshare", "--mount", "--propagation", "private", "--fork", "sh", "-c", script,
                         "type-image", str(rootfs)], env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=1800)


def remove_unused_type_images(wanted: set[str], in_use: set[str], runner: Runner = LOCAL) -> list[str]:
    removed = []
    for name in type_images(runner):
        if name not in wanted and name not in in_use:
            destroy(name, runner)
            removed.append(name)
    return removed
