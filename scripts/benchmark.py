#!/usr/bin/env python3
"""Measure osa-aio on this machine and print one table (run as root; it redeploys the AIO).

    scripts/benchmark.py [--config-dir DIR] [--runs 30] [--skip-cold] [--faults | --faults-only]
                         [--two-hosts | --two-hosts-only]

Rows: a cold deploy (no caches: `destroy --all --purge` first, so the base image, the images and
the wheels are all built), a no-op re-run, a warm deploy (caches kept, containers destroyed), each
deploy's phases (a phase per service); with the compute profile, a server of the test guest (create to
ACTIVE and to its first TCP answer on a floating IP, a rebuild of the compute container, delete); for
keystone, glance and heat, rebuilding one container, swapping
in a dev checkout (made from its sdist), an edit then `dev --restart`, and `dev --off`; the
resident memory of each container after the deploy; and the median time of one `true` through the
python-lxc runner next to the same through the `lxc-attach` command. It leaves a deployed AIO behind.

--two-hosts adds a second host (scripts/rig.py's, on this machine, reached over SSH) as a compute
host: its bootstrap, the run across both hosts, a server there to ACTIVE and to its first TCP answer
on a floating IP, and `destroy --all` of both; then the AIO is deployed again.

--faults adds the faults under load (tests/load.py, the scenarios the integration tests run):
20 keystone requests a second for 60 s through the VIP while galera's active node, a keystone and
a rabbitmq node are stopped and started, then every container stopped and `osa-aio run`;
--faults-only runs just those, on the AIO already deployed.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from osa_aio import guest_image  # noqa: E402
from osa_aio.config import resolve_config_dir  # noqa: E402
from osa_aio.containers import osa_aio_containers  # noqa: E402
from osa_aio.output import format_table  # noqa: E402
from osa_aio.roles import ROLES, cloud  # noqa: E402
from osa_aio.transport import LxcAttachRunner  # noqa: E402
from tests.checkouts import sdist_checkout  # noqa: E402
from tests.cli import osa as run_osa  # noqa: E402
from tests.load import SCENARIOS, Target, every_container_stopped  # noqa: E402

TARGETS = {"cold deploy": 6 * 60, "warm deploy": 3 * 60, "no-op re-run": 15}
# With nova, neutron and a compute node (the compute profile, the default where the host holds it).
COMPUTE_TARGETS = {"cold deploy": 10 * 60}
# For each service: a file of its checkout and an edit to it (what `dev --restart` then serves).
EDITS = {"keystone": ("keystone/api/discovery.py", "'id': 'v3.14',", "'id': 'v3.14', 'edited': 1,"),
         "glance": ("glance/api/versions.py", "dict(versions=version_objs)", "dict(versions=version_objs, edited=1)"),
         "heat": ("heat/api/versions.py", "dict(versions=version_objs)", "dict(versions=version_objs, edited=1)"),
         "nova": ("nova/api/openstack/compute/versions.py", '"updated": "2013-07-23T11:33:21Z"',
                  '"updated": "2026-12-03T00:00:00Z"'),
         "neutron": ("neutron/pecan_wsgi/controllers/root.py", "return {'versions': versions}",
                     "return {'versions': versions, 'edited': 1}")}


def containers_of(service: str) -> list[str]:
    """The service's containers on this host, by name."""
    kind = ROLES[service].container_type.replace("_", "-")
    return sorted(n for n in osa_aio_containers() if f"-{kind}-" in n)


def developer_rows(config_dir: Path, service: str, rows: list) -> None:
    """Rebuild one of its containers, swap in a dev checkout, edit and restart, swap back."""
    role = ROLES[service]
    name = containers_of(service)[0]
    seconds, _ = osa(config_dir, "rebuild", name, "--yes")
    rows.append((f"rebuild one {service} container", f"{seconds:.1f} s", "< 30 s"))
    with tempfile.TemporaryDirectory() as tmp:
        checkout = sdist_checkout(role.dev.distribution, role.dev.version, Path(tmp))
        seconds, _ = osa(config_dir, "dev", service, "--source", str(checkout))
        rows.append((f"{service} dev swap (command to dev code serving)", f"{seconds:.1f} s", "< 20 s"))
        path, old, new = EDITS[service]
        edited = checkout / path
        edited.write_text(edited.read_text().replace(old, new))
        seconds, _ = osa(config_dir, "dev", service, "--restart")
        rows.append((f"{service} edit -> dev --restart", f"{seconds:.1f} s", "< 5 s"))
        seconds, _ = osa(config_dir, "dev", service, "--off")
        rows.append((f"{service} dev --off (released code back)", f"{seconds:.1f} s", ""))


def memory_rows(rows: list) -> None:
    """The resident memory of each container (its processes' RSS added up), and per type."""
    per_type: dict[str, list[int]] = defaultdict(list)
    for name in osa_aio_containers():
        kilobytes = sum(int(v) for v in LxcAttachRunner(name).run(["ps", "-eo", "rss="]).stdout.split())
        per_type[name.split("-", 1)[1].rsplit("-", 1)[0]].append(kilobytes // 1024)
    total = 0
    for ctype, sizes in sorted(per_type.items()):
        total += sum(sizes)
        rows.append((f"memory: {ctype} x{len(sizes)}", " + ".join(f"{s} MB" for s in sizes), ""))
    rows.append(("memory: every container", f"{total} MB", ""))


def openstack(*args: str) -> str:
    """The openstack client in the utility container, as admin."""
    utility = next(n for n in osa_aio_containers() if "-utility-" in n)
    return LxcAttachRunner(utility).run(["bash", "-c", '. /root/openrc && openstack "$@"', "openstack", *args],
                                        timeout=600).stdout


def ssh_banner(address: str, seconds: float) -> float:
    """Seconds until the guest's SSH server answers on ``address`` (its banner read over TCP)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            with socket.create_connection((address, 22), timeout=3) as conn:
                conn.settimeout(3)
                if conn.recv(64).startswith(b"SSH-"):
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"benchmark: no SSH answer from {address} within {seconds:.0f}s")


def server_rows(config_dir: Path, rows: list) -> None:
    """A server of the test guest: `server create` to ACTIVE, to its first answer over TCP on a
    floating IP, the qemu process's memory, a rebuild of the compute container to the answer again,
    and `server delete` until it is gone (the openstack client's own seconds included)."""
    name = "osa-aio-benchmark-vm"
    if name in openstack("server", "list", "-f", "value", "-c", "Name").split():  # a leftover
        openstack("server", "delete", "--wait", name)
    fip = openstack("floating", "ip", "create", cloud.PUBLIC, "-f", "value", "-c", "floating_ip_address").strip()
    started = time.monotonic()
    openstack("server", "create", "--image", guest_image.GUEST, "--flavor", cloud.FLAVOR["name"], "--network",
              cloud.PRIVATE, "--key-name", cloud.KEYPAIR, "--wait", name)
    active = time.monotonic() - started
    openstack("server", "add", "floating", "ip", name, fip)
    answered = active + ssh_banner(fip, 300)
    rows.append(("server create: ACTIVE", f"{active:.1f} s", ""))
    rows.append(("server create: first TCP answer on its floating IP", f"{answered:.1f} s", "<= 90 s"))
    host = next(n for n in osa_aio_containers() if "-nova-compute-" in n)
    qemu = LxcAttachRunner(host).run(["sh", "-c", "ps -C qemu-system-x86_64 -o rss= | head -1"]).stdout.strip()
    rows.append(("memory: qemu of the test VM (256 MB flavor)", f"{int(qemu or 0) // 1024} MB", ""))
    seconds, _ = osa(config_dir, "rebuild", host, "--yes")
    again = seconds + ssh_banner(fip, 300)
    rows.append(("rebuild of the compute container: the VM answers again", f"{again:.1f} s", ""))
    started = time.monotonic()
    openstack("server", "delete", "--wait", name)
    rows.append(("server delete until gone", f"{time.monotonic() - started:.1f} s", ""))
    openstack("floating", "ip", "delete", fip)


def osa(config_dir: Path, *args: str) -> tuple[float, str]:
    """Seconds an osa-aio command took, and its output; the benchmark stops when one fails."""
    started = time.monotonic()
    try:
        proc = run_osa(*args, config_dir=config_dir)
    except AssertionError as exc:
        sys.exit(f"benchmark: {exc}")
    return time.monotonic() - started, proc.stdout


def phases(output: str) -> list[tuple[str, float]]:
    """The PHASE table of a run's closing output."""
    table = output.split("PHASE", 1)[1].split("\n\n", 1)[0] if "PHASE" in output else ""
    return [(m.group(1).strip(), float(m.group(2))) for m in re.finditer(r"^(.+?)\s+([\d.]+)$", table, re.M)
            if m.group(1).strip() != "SECONDS"]


def deploy(config_dir: Path, label: str, rows: list) -> None:
    boot, boot_out = osa(config_dir, "bootstrap")
    run, run_out = osa(config_dir, "run")
    total = boot + run
    target = (COMPUTE_TARGETS if any("-nova-compute-" in n for n in osa_aio_containers()) else {}).get(
        label, TARGETS.get(label))
    rows.append((label, f"{total:.1f} s", f"< {target} s" if target else ""))
    for name, seconds in phases(boot_out) + phases(run_out):
        if seconds >= 0.05:
            rows.append((f"  {name}", f"{seconds:.1f} s", ""))


def fault_rows(config_dir: Path, rows: list) -> None:
    """Each fault under load: its requests, failures and seconds to recover."""
    target = Target(config_dir)
    for name, scenario in SCENARIOS.items():
        figures = scenario(target)
        rows.append((figures["scenario"], figures["load"], "<= 1% failed"))
        if name == "galera":
            rows.append(("  rows checked / lost on any node", f"{figures['rows_checked']} / {figures['rows_lost']}",
                         "0 lost"))
            rows.append(("  node rejoined after its container started", f"{figures['rejoin_seconds']:.1f} s", ""))
        elif name == "keystone":
            rows.append(("  HAProxy marked it down after", f"{figures['marked_down_seconds']:.1f} s", ""))
            rows.append(("  failed after it was marked down", str(figures["failed_after_marked_down"]), "0"))
            rows.append(("  back in HAProxy after its container started", f"{figures['back_up_seconds']:.1f} s", ""))
        else:
            rows.append(("  nodes running while one was stopped", str(figures["running_while_stopped"]), "2"))
            rows.append(("  node rejoined after its container started", f"{figures['rejoin_seconds']:.1f} s", ""))
        osa(config_dir, "run")
    figures = every_container_stopped(target)
    rows.append((figures["scenario"], f"{figures['run_seconds']:.1f} s (exit {figures['run_rc']})", ""))
    rows.append(("  galera bootstrapped from / safe_to_bootstrap was",
                 f"{','.join(figures['bootstrapped'])} / {','.join(figures['safe_to_bootstrap'])}", "the same"))
    rows.append(("  stopping every container (lxc-autostart -s)", f"{figures['stop_seconds']:.1f} s", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config-dir", default=None)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--skip-cold", action="store_true", help="no cold deploy (keeps caches)")
    parser.add_argument("--faults", action="store_true", help="also the faults under load")
    parser.add_argument("--two-hosts", action="store_true", help="also a second compute host (scripts/rig.py)")
    parser.add_argument("--two-hosts-only", action="store_true", help="only the second host, on the deployed AIO")
    parser.add_argument("--faults-only", action="store_true", help="only the faults, on the deployed AIO")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    try:
        measure(args, resolve_config_dir(args.config_dir), rows)
    finally:  # what was measured is printed even when a step fails
        print(format_table(["MEASURE", "VALUE", "TARGET"], rows))


def measure(args, config_dir: Path, rows: list) -> None:
    if args.faults_only:
        fault_rows(config_dir, rows)
        return
    if args.two_hosts_only:
        two_host_rows(config_dir, rows)
        return

    if not args.skip_cold:
        osa(config_dir, "destroy", "--all", "--yes", "--purge")
        deploy(config_dir, "cold deploy", rows)
        noop, _ = osa(config_dir, "run")
        rows.append(("no-op re-run", f"{noop:.1f} s", "< 15 s"))
    osa(config_dir, "destroy", "--all", "--yes")
    deploy(config_dir, "warm deploy", rows)
    noop, out = osa(config_dir, "run")
    changed = re.search(r"changed=(\d+)", out).group(1)
    rows.append((f"no-op re-run (changed={changed})", f"{noop:.1f} s", "< 15 s"))
    if any("-nova-compute-" in n for n in osa_aio_containers()):
        server_rows(config_dir, rows)
    memory_rows(rows)
    for service in EDITS:
        if containers_of(service):  # nova and neutron: the compute profile only
            developer_rows(config_dir, service, rows)

    name = osa_aio_containers()[0]
    runner = LxcAttachRunner(name)
    runner.run(["true"])

    def timed(func) -> float:
        started = time.monotonic()
        func()
        return time.monotonic() - started

    through_lxc = [timed(lambda: runner.run(["true"])) for _ in range(args.runs)]
    through_cli = [timed(lambda: subprocess.run(["lxc-attach", "-n", name, "--", "true"], check=True))
                   for _ in range(args.runs)]
    rows.append((f"`true` via python-lxc runner (median of {args.runs})",
                 f"{statistics.median(through_lxc) * 1000:.1f} ms", ""))
    rows.append((f"`true` via lxc-attach command (median of {args.runs})",
                 f"{statistics.median(through_cli) * 1000:.1f} ms", ""))
    if args.faults:
        fault_rows(config_dir, rows)
    if args.two_hosts:
        two_host_rows(config_dir, rows)


def two_host_rows(config_dir: Path, rows: list) -> None:
    """A second compute host (the rig): bootstrap, run, a server there, destroy --all of both."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import rig  # noqa: PLC0415 - scripts/rig.py, beside this script

    second = rig.Rig("aio2", "172.31.250.2")
    _, key = osa(config_dir, "ssh-key")
    made = rig.up(second, key, config_dir / "ssh" / "known_hosts")
    rows.append(("two hosts: the rig's rootfs (mmdebstrap) / boot to SSH",
                 f"{made['rootfs']:.1f} s / {made['boot']:.1f} s", ""))
    conf_d = config_dir / "conf.d" / "aio2.yml"
    conf_d.parent.mkdir(exist_ok=True)
    conf_d.write_text(rig.config_lines(second, "172.29.236.20"))
    try:
        for label, command in (("bootstrap of the second host", "bootstrap"), ("run across both hosts", "run")):
            seconds, out = osa(config_dir, command)
            rows.append((f"two hosts: {label}", f"{seconds:.1f} s", ""))
            for name, phase in phases(out):
                if phase >= 1:
                    rows.append((f"  {name}", f"{phase:.1f} s", ""))
        seconds, out = osa(config_dir, "run", "--limit", second.name)
        changed = re.search(r"changed=(\d+)", out).group(1)
        rows.append((f"two hosts: run --limit {second.name} (changed={changed})", f"{seconds:.1f} s", ""))
        compute = next(n for n in osa_aio_containers() if "-nova-compute-" in n)  # this machine's
        there = next(line.split()[0] for line in osa(config_dir, "list")[1].splitlines()
                     if "-nova-compute-" in line and line.split()[0] != compute)
        openstack("network", "create", "osa-aio-benchmark-net")
        openstack("subnet", "create", "--network", "osa-aio-benchmark-net", "--subnet-range", "10.98.0.0/24",
                  "osa-aio-benchmark-subnet")
        openstack("router", "add", "subnet", cloud.ROUTER, "osa-aio-benchmark-subnet")
        fip = openstack("floating", "ip", "create", cloud.PUBLIC, "-f", "value", "-c", "floating_ip_address").strip()
        started = time.monotonic()
        openstack("server", "create", "--image", guest_image.GUEST, "--flavor", cloud.FLAVOR["name"], "--network",
                  "osa-aio-benchmark-net", "--key-name", cloud.KEYPAIR, "--availability-zone", f"nova:{there}",
                  "--wait", "osa-aio-benchmark-vm2")
        active = time.monotonic() - started
        openstack("server", "add", "floating", "ip", "osa-aio-benchmark-vm2", fip)
        answered = active + ssh_banner(fip, 300)
        rows.append(("two hosts: a server on the second host: ACTIVE / first TCP answer",
                     f"{active:.1f} s / {answered:.1f} s", ""))
        openstack("server", "delete", "--wait", "osa-aio-benchmark-vm2")
        openstack("floating", "ip", "delete", fip)
        openstack("router", "remove", "subnet", cloud.ROUTER, "osa-aio-benchmark-subnet")
        openstack("network", "delete", "osa-aio-benchmark-net")
        seconds, _ = osa(config_dir, "destroy", "--all", "--yes")
        rows.append(("two hosts: destroy --all (both hosts)", f"{seconds:.1f} s", ""))
    finally:
        conf_d.unlink(missing_ok=True)
        rig.down(second)
    inventory = json.loads((config_dir / "openstack_inventory.json").read_text())
    for name in inventory["_meta"]["hostvars"]:
        if name.startswith("aio2-"):
            osa(config_dir, "inventory", "--remove", name)
    osa(config_dir, "bootstrap")
    osa(config_dir, "run")


if __name__ == "__main__":
    main()
