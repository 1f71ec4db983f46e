"""The test guest (cirros cannot be downloaded here): a Debian cloud kernel and a busybox
initramfs with dropbear, built from Debian packages by ``data/guest/build.sh`` in the compute
container (it has apt and cpio), cached on the host under /var/cache/osa-aio/guest-image/<recipe
digest>/ and rebuilt only when the recipe (the builder, the guest's /init and its DHCP script)
changes. Uploaded to glance as three images: the kernel (aki), the ramdisk (ari) and a 1 MiB raw
disk (`osa-aio-guest`, what servers boot) that names them and nova's kernel command line.

What the guest does (data/guest/init): loads the virtio modules, takes a DHCP lease (with the
classless routes of option 121: neutron routes the metadata address through them), reads its
hostname and SSH key from the metadata service, runs dropbear on 22 and busybox httpd on 80 (a
1 MiB /big.bin and /cgi-bin/up, which counts what is posted), and prints `GUEST: ...` lines and
`GUEST-MARKER: ready` on its serial console."""

from __future__ import annotations

import base64
import hashlib
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from osa_aio.errors import OsaAioError
from osa_aio.image import CACHE_DIR
from osa_aio.transport import Runner, put

SOURCE = Path(__file__).resolve().parent / "data" / "guest"
FILES = ("build.sh", "init", "udhcpc.script")
RECIPE_VERSION = 1
CACHE = CACHE_DIR / "guest-image"
BUILD_DIR = "/openstack/guest-build"   # in the builder container
KERNEL, RAMDISK, GUEST = "osa-aio-guest-kernel", "osa-aio-guest-ramdisk", "osa-aio-guest"
COMMAND_LINE = "console=ttyS0 panic=-1"
DISK_BYTES = 1 << 20                   # never mounted: the guest lives in its initramfs
RECIPE_PROPERTY = "osa_aio_recipe"


def recipe_digest() -> str:
    digest = hashlib.sha256(f"guest-image/{RECIPE_VERSION}".encode())
    for name in FILES:
        digest.update(name.encode() + b"\0" + (SOURCE / name).read_bytes())
    return digest.hexdigest()[:16]


def cached(digest: str | None = None) -> Path:
    return CACHE / (digest or recipe_digest())


@dataclass
class GuestImageBuilt:
    """The cache holds the guest of the current recipe (vmlinuz, initrd.gz, disk.raw, manifest)."""

    runner: Runner
    container: str
    name = "test guest image built"

    def check(self) -> str | None:
        folder = cached()
        return None if all((folder / f).is_file() for f in ("vmlinuz", "initrd.gz", "disk.raw")) else "not built"

    def apply(self) -> None:
        digest = recipe_digest()
        source = f"{BUILD_DIR}/src"
        out = f"{BUILD_DIR}/{digest}"
        self.runner.run(["rm", "-rf", BUILD_DIR])
        self.runner.run(["mkdir", "-p", source])
        for name in FILES:
            put(self.runner, f"{source}/{name}", (SOURCE / name).read_bytes(), mode=0o755)
        self.runner.run(["sh", f"{source}/build.sh", out], env={"GUEST_SRC": source}, timeout=900)
        work = CACHE / f".{digest}.building"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        for name in ("vmlinuz", "initrd.gz", "manifest.txt"):  # read through the runner: any host's container
            data = self.runner.run(["base64", "-w0", f"{out}/{name}"], log_output=False).stdout
            (work / name).write_bytes(base64.b64decode(data))
        with open(work / "disk.raw", "wb") as disk:
            disk.truncate(DISK_BYTES)
        shutil.rmtree(cached(digest), ignore_errors=True)
        work.rename(cached(digest))
        self.runner.run(["rm", "-rf", BUILD_DIR])
        for old in CACHE.iterdir():  # earlier recipes
            if old.name != digest:
                shutil.rmtree(old, ignore_errors=True)


class Glance:
    """Glance's v2 API on the internal VIP with the admin's token (osa_aio.roles.catalog.Keystone)."""

    def __init__(self, keystone, vip: str) -> None:
        self.keystone = keystone
        self.url = f"http://{vip}:9292/v2"

    def images(self, name: str) -> list[dict]:
        return self.keystone.call("GET", f"{self.url}/images?name={name}")["images"]

    def create(self, name: str, disk_format: str, path: Path, properties: dict[str, str]) -> str:
        image = self.keystone.call("POST", f"{self.url}/images", {
            "name": name, "disk_format": disk_format, "container_format": "bare" if disk_format == "raw" else
            disk_format, "visibility": "public", **properties})
        request = urllib.request.Request(f"{self.url}/images/{image['id']}/file", method="PUT", data=path.read_bytes(),
                                         headers={"Content-Type": "application/octet-stream",
                                                  "X-Auth-Token": self.keystone.token()})
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            raise OsaAioError(f"uploading {path.name} as {name} failed: {exc}", file=self.url) from None
        return image["id"]

    def delete(self, image_id: str) -> None:
        self.keystone.call("DELETE", f"{self.url}/images/{image_id}")


@dataclass
class GuestImageUploaded:
    """Glance holds the guest of the current recipe, active (its kernel and ramdisk too); images
    of an earlier recipe are deleted once the new ones are in."""

    glance: Glance
    name = f"test guest image {GUEST} in glance"

    def _current(self, digest: str) -> dict | None:
        return next((i for i in self.glance.images(GUEST)
                     if i.get(RECIPE_PROPERTY) == digest and i.get("status") == "active"), None)

    def check(self) -> str | None:
        digest = recipe_digest()
        image = self._current(digest)
        if image is None:
            return "absent or of an earlier recipe"
        for name in (KERNEL, RAMDISK):
            if not any(i["status"] == "active" and i.get(RECIPE_PROPERTY) == digest for i in self.glance.images(name)):
                return f"{name} missing"
        return None

    def apply(self) -> None:
        digest = recipe_digest()
        folder = cached(digest)
        stale = [i["id"] for name in (GUEST, KERNEL, RAMDISK) for i in self.glance.images(name)]
        tag = {RECIPE_PROPERTY: digest}
        kernel = self.glance.create(KERNEL, "aki", folder / "vmlinuz", tag)
        ramdisk = self.glance.create(RAMDISK, "ari", folder / "initrd.gz", tag)
        self.glance.create(GUEST, "raw", folder / "disk.raw",
                           {**tag, "kernel_id": kernel, "ramdisk_id": ramdisk, "os_command_line": COMMAND_LINE})
        for image_id in stale:
            self.glance.delete(image_id)


def manifest(digest: str | None = None) -> dict[str, str]:
    """What the cached guest is made of (package versions, sizes), for the README and `verify`."""
    path = cached(digest) / "manifest.txt"
    rows = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.startswith("package "):
                _, package, version, *_ = line.split()
                rows[package] = version
    return rows

