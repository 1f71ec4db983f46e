#!/usr/bin/env python3
"""A second host on this machine, for trying and testing osa-aio across hosts: a privileged LXC
container that behaves like a Debian host (systemd, sshd, LXC inside it) on its own address on a
bridge of its own. osa-aio reaches it only over SSH, like any remote host.

    scripts/rig.py up [--name aio2] [--key /etc/osa-aio/ssh/id_ed25519.pub] [--known-hosts FILE]
    scripts/rig.py down [--name aio2]

`up` prints the lines to put in openstack_user_config.yml (or a conf.d file). Nothing leaves this
machine but the rig's package downloads from Debian's mirror (through NAT, like the containers').

The recipe (tried by hand first, see the README): LXC inside a container needs every cgroup v1
hierarchy mounted by LXC itself (`cgroup:mixed:force`); otherwise the rig's systemd co-mounts
cpu,cpuacct, which this host keeps apart, and nested lxc-start fails. /dev/net/tun is passed down
for the compute container's OVS and QEMU. The rig's link has an MTU of 1550 so VXLAN between the
hosts' bridges carries full 1500-byte frames.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from osa_aio.image import MERGED_USR_HOOK, host_recipe  # noqa: E402
from osa_aio.lxchost import LXC_PATH  # noqa: E402
from osa_aio.transport import LocalRunner, put  # noqa: E402

BRIDGE = "br-osa-rig"
NETWORK = "172.31.250.0/24"
GATEWAY = "172.31.250.1"
PREFIX = 24
MTU = 1550
CHAIN = "OSA-RIG"
PACKAGES = ("systemd", "systemd-sysv", "dbus", "openssh-server", "lxc", "iproute2", "iptables", "rsync",
            "mmdebstrap", "ca-certificates", "procps", "iputils-ping", "netbase", "python3")
RUN = LocalRunner()


@dataclass(frozen=True)
class Rig:
    name: str      # the host's name (aio2); its container is osa-rig-<name>
    address: str   # on BRIDGE

    @property
    def container(self) -> str:
        return f"osa-rig-{self.name}"

    @property
    def rootfs(self) -> Path:
        return LXC_PATH / self.container / "rootfs"

    @property
    def mac(self) -> str:
        return "02:72:69:67:" + ":".join(f"{int(part):02x}" for part in self.address.split(".")[2:])

    def host_key(self) -> str:
        """The rig's SSH host key, as a known_hosts line (read from its disk: no trust on first use)."""
        key = (self.rootfs / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
        return f"{self.address} {key[0]} {key[1]}\n"


def _config(rig: Rig) -> str:
    return "\n".join([
        "# osa-aio's test rig: a Debian host in a container (scripts/rig.py)",
        "lxc.include = /usr/share/lxc/config/common.conf",
        "lxc.mount.auto =",
        "lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed:force",
        "lxc.arch = linux64",
        "lxc.tty.dir =",
        f"lxc.rootfs.path = dir:{rig.rootfs}",
        f"lxc.uts.name = {rig.name}",
        "lxc.apparmor.profile = unconfined",
        "lxc.cgroup.devices.allow = c 10:200 rwm",
        "lxc.cgroup2.devices.allow = c 10:200 rwm",
        "lxc.mount.entry = /dev/net/tun dev/net/tun none bind,create=file 0 0",
        "lxc.net.0.type = veth",
        f"lxc.net.0.link = {BRIDGE}",
        "lxc.net.0.name = eth0",
        "lxc.net.0.flags = up",
        # A fixed MAC: with a new one at each start this machine's neighbour entry goes stale for 30 s.
        f"lxc.net.0.hwaddr = {rig.mac}",
        f"lxc.net.0.mtu = {MTU}",
        f"lxc.net.0.ipv4.address = {rig.address}/{PREFIX} {ipaddress.ip_network(NETWORK).broadcast_address}",
        f"lxc.net.0.ipv4.gateway = {GATEWAY}",
        "",
    ])


def _network_up() -> None:
    """The rig's bridge on this machine, and NAT for its package downloads."""
    if RUN.run(["ip", "link", "show", "dev", BRIDGE], check=False).rc != 0:
        RUN.run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        RUN.run(["ip", "addr", "add", f"{GATEWAY}/{PREFIX}", "dev", BRIDGE])
    RUN.run(["ip", "link", "set", "dev", BRIDGE, "mtu", str(MTU), "up"])
    RUN.run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
    for table, builtin, rules in (
            ("nat", "POSTROUTING", [["-s", NETWORK, "!", "-d", NETWORK, "-j", "MASQUERADE"]]),
            ("filter", "FORWARD", [["-s", NETWORK, "-j", "ACCEPT"],
                                   ["-d", NETWORK, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
                                    "-j", "ACCEPT"]])):
        if RUN.run(["iptables", "-w", "-t", table, "-n", "-L", CHAIN], check=False).rc != 0:
            RUN.run(["iptables", "-w", "-t", table, "-N", CHAIN])
            for rule in rules:
                RUN.run(["iptables", "-w", "-t", table, "-A", CHAIN, *rule])
        if RUN.run(["iptables", "-w", "-t", table, "-C", builtin, "-j", CHAIN], check=False).rc != 0:
            RUN.run(["iptables", "-w", "-t", table, "-I", builtin, "1", "-j", CHAIN])


def up(rig: Rig, public_key: str, known_hosts: Path | None = None) -> dict[str, float]:
    """Make the rig (again, from nothing) and wait for its sshd; returns the seconds of each part."""
    seconds = {}
    started = time.monotonic()
    down(rig, network=False)
    _network_up()
    recipe = host_recipe()
    RUN.run(["mkdir", "-p", str(rig.rootfs)])
    RUN.run(["mmdebstrap", "--quiet", "--variant=minbase", f"--hook-dir={MERGED_USR_HOOK}",
             f"--include={','.join(PACKAGES)}", recipe.codename, str(rig.rootfs), recipe.mirror], timeout=1800)
    seconds["rootfs"] = time.monotonic() - started
    root = rig.rootfs
    (root / "etc/hostname").write_text(f"{rig.name}\n")
    (root / "etc/hosts").write_text(f"127.0.0.1\tlocalhost\n127.0.1.1\t{rig.name}\n")
    (root / "etc/resolv.conf").write_text(Path("/etc/resolv.conf").read_text())
    # Its own machine-id (dbus keeps a copy the image would otherwise bring back) and host keys.
    (root / "etc/machine-id").write_text(uuid.uuid4().hex + "\n")
    (root / "var/lib/dbus").mkdir(parents=True, exist_ok=True)
    (root / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    (root / "var/lib/dbus/machine-id").symlink_to("/etc/machine-id")
    RUN.run(["sh", "-c", 'rm -f "$1"/etc/ssh/ssh_host_*; ssh-keygen -q -A -f "$1"', "keys", str(root)])
    (root / "root/.ssh").mkdir(mode=0o700, parents=True, exist_ok=True)
    put(RUN, str(root / "root/.ssh/authorized_keys"), public_key, mode=0o600)
    # No lxcbr0 inside (its lxc.service would wait 30 s for it at boot); osa-aio makes its own bridges.
    (root / "etc/default/lxc-net").write_text('USE_LXC_BRIDGE="false"\n')
    (root / "etc/ssh/sshd_config.d/osa-rig.conf").write_text(
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n")
    (LXC_PATH / rig.container / "config").write_text(_config(rig))
    RUN.run(["lxc-start", "-n", rig.container])
    _wait_for_ssh(rig.address)
    seconds["boot"] = time.monotonic() - started - seconds["rootfs"]
    if known_hosts is not None:
        known_hosts.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lines = [line for line in (known_hosts.read_text().splitlines(keepends=True) if known_hosts.exists() else [])
                 if not line.startswith(f"{rig.address} ")]
        known_hosts.write_text("".join(lines) + rig.host_key())
    return seconds


def _wait_for_ssh(address: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(1)
            if sock.connect_ex((address, 22)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"the rig's sshd at {address}:22 did not answer within {seconds:.0f}s")


def down(rig: Rig, network: bool = True) -> None:
    """The rig gone (its nested containers with it); with ``network`` also its bridge and NAT."""
    if (LXC_PATH / rig.container).exists():
        RUN.run(["lxc-stop", "-n", rig.container, "-k"], check=False, timeout=120)
        RUN.run(["lxc-destroy", "-n", rig.container], check=False, timeout=600)
        RUN.run(["rm", "-rf", "--one-file-system", str(LXC_PATH / rig.container)])
    if not network:
        return
    others = [p for p in LXC_PATH.glob("osa-rig-*")] if LXC_PATH.is_dir() else []
    if others:
        return  # another rig still uses the bridge
    if RUN.run(["ip", "link", "show", "dev", BRIDGE], check=False).rc == 0:
        RUN.run(["ip", "link", "del", BRIDGE])
    for table, builtin in (("nat", "POSTROUTING"), ("filter", "FORWARD")):
        while RUN.run(["iptables", "-w", "-t", table, "-D", builtin, "-j", CHAIN], check=False).rc == 0:
            pass
        if RUN.run(["iptables", "-w", "-t", table, "-n", "-L", CHAIN], check=False).rc == 0:
            RUN.run(["iptables", "-w", "-t", table, "-F", CHAIN])
            RUN.run(["iptables", "-w", "-t", table, "-X", CHAIN])


def config_lines(rig: Rig, management_address: str, group: str = "compute_hosts") -> str:
    """What openstack_user_config.yml (or a conf.d file) says to add the rig as a host."""
    return (f"{group}:\n  {rig.name}:\n    ip: {management_address}\n"
            f"    host_vars:\n      ansible_host: {rig.address}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--name", default="aio2")
    parser.add_argument("--address", default="172.31.250.2")
    parser.add_argument("--management-address", default="172.29.236.20",
                        help="its address on br-mgmt (one of used_ips, so no container gets it)")
    parser.add_argument("--key", type=Path, default=Path("/etc/osa-aio/ssh/id_ed25519.pub"),
                        help="the public key osa-aio logs in with (`osa-aio ssh-key` prints it)")
    parser.add_argument("--known-hosts", type=Path, default=Path("/etc/osa-aio/ssh/known_hosts"))
    args = parser.parse_args()
    rig = Rig(args.name, args.address)
    if args.action == "down":
        down(rig)
        print(f"{rig.container} and its network are gone")
        return
    if not args.key.is_file():
        raise SystemExit(f"{args.key}: no such public key; `osa-aio ssh-key` makes osa-aio's")
    seconds = up(rig, args.key.read_text(), args.known_hosts)
    print(json.dumps({k: round(v, 1) for k, v in seconds.items()}))
    print(f"# {rig.name} answers SSH at {rig.address}; its host key is in {args.known_hosts}. Add it as a host:")
    print(config_lines(rig, args.management_address), end="")


if __name__ == "__main__":
    main()
