#!/usr/bin/env python3
"""Measure osa-aio on this machine and print a table of figures (run as root).

    scripts/benchmark.py [--config-dir DIR] [--runs 30] [--skip-image]

Figures: base image build (debootstrap), creating and starting every container from the
inventory, a no-op re-run, and the median time of one `true` through the python-lxc runner
next to the same through the `lxc-attach` command, measured in the same run.
It bootstraps the host first if needed and leaves the containers running.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console  # noqa: E402

from osa_aio.bootstrap import bootstrap  # noqa: E402
from osa_aio.config import resolve_config_dir  # noqa: E402
from osa_aio.containers import destroy_container, osa_aio_containers  # noqa: E402
from osa_aio.deploy import deploy  # noqa: E402
from osa_aio.engine import Engine  # noqa: E402
from osa_aio.image import BaseImageBuilt, host_recipe  # noqa: E402
from osa_aio.output import format_table  # noqa: E402
from osa_aio.transport import LocalRunner, LxcAttachRunner  # noqa: E402


def quiet() -> Engine:
    return Engine(console=Console(file=open("/dev/null", "w")))


def timed(func) -> float:
    started = time.monotonic()
    func()
    return time.monotonic() - started


def checked(engine: Engine, what: str) -> Engine:
    if engine.failed:
        sys.exit(f"benchmark: {what} failed:\n{engine.summary()}")
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config-dir", default=None)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--skip-image", action="store_true", help="do not rebuild the base image")
    args = parser.parse_args()
    config_dir = resolve_config_dir(args.config_dir)
    rows: list[tuple[str, str]] = []

    checked_engine = quiet()
    bootstrap(config_dir, checked_engine)
    checked(checked_engine, "bootstrap")

    if not args.skip_image:
        engine = quiet()
        seconds = timed(lambda: engine.run("image", "localhost", [BaseImageBuilt(host_recipe(), rebuild=True,
                                                                                 runner=LocalRunner())]))
        checked(engine, "base image build")
        rows.append(("base image build (debootstrap + customise)", f"{seconds:.1f} s"))

    for name in osa_aio_containers():
        destroy_container(name)
    engine = quiet()
    seconds = timed(lambda: deploy(config_dir, engine))
    checked(engine, "run")
    count = len(osa_aio_containers())
    rows.append((f"create and start all containers ({count})", f"{seconds:.2f} s"))

    engine = quiet()
    seconds = timed(lambda: deploy(config_dir, engine))
    checked(engine, "no-op run")
    rows.append((f"no-op re-run (changed={engine.totals()['changed']})", f"{seconds:.2f} s"))

    name = osa_aio_containers()[0]
    runner = LxcAttachRunner(name)
    runner.run(["true"])  # warm up
    through_lxc = [timed(lambda: runner.run(["true"])) for _ in range(args.runs)]
    through_cli = [timed(lambda: subprocess.run(["lxc-attach", "-n", name, "--", "true"], check=True))
                   for _ in range(args.runs)]
    rows.append((f"`true` via python-lxc runner (median of {args.runs})", f"{statistics.median(through_lxc) * 1000:.1f} ms"))
    rows.append((f"`true` via lxc-attach command (median of {args.runs})", f"{statistics.median(through_cli) * 1000:.1f} ms"))

    print(format_table(["MEASURE", "VALUE"], rows))


if __name__ == "__main__":
    main()
