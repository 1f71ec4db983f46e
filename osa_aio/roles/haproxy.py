"""HAProxy on the host: frontends on the VIPs for every service a role declares (HAPROXY), its
config checked with `haproxy -c` before it replaces the running one, reloaded only on change.
Under systemd it is the distribution's unit; without systemd (these test machines) osa-aio
starts and reloads it itself (`haproxy -D -p PIDFILE`, reload with `-sf`)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from osa_aio.errors import OsaAioError
from osa_aio.haproxy import (SERVER_STATE_FILE, BackendUp, admin_command, render_haproxy_cfg, save_server_state,
                             server_states)
from osa_aio.roles.base import Check, Role
from osa_aio.roles.context import Context
from osa_aio.steps import Packages, clear_pending, is_pending, mark_pending
from osa_aio.transport import LocalRunner, Runner

NAME = "haproxy"
GROUP = "haproxy_all"
CONFIG = Path("/etc/haproxy/haproxy.cfg")
ORIGINAL = Path("/etc/haproxy/haproxy.cfg.osa-aio-orig")
PIDFILE = Path("/run/haproxy.pid")
PACKAGES = ("haproxy",)


def host_has_systemd() -> bool:
    return Path("/run/systemd/system").is_dir()


@dataclass
class HaproxyConfig:
    """haproxy.cfg has this content; a new one must pass `haproxy -c` before it is installed."""

    runner: Runner
    content: str
    name = "haproxy.cfg"

    def check(self) -> str | None:
        current = CONFIG.read_text() if CONFIG.exists() else None
        return None if current == self.content else "differs from the inventory"

    def apply(self) -> None:
        with tempfile.NamedTemporaryFile("w", dir=CONFIG.parent, prefix=".haproxy.cfg.", delete=False) as tmp:
            tmp.write(self.content)
        try:
            result = self.runner.run(["haproxy", "-c", "-q", "-f", tmp.name], check=False)
            if result.rc != 0:
                raise OsaAioError(f"the generated config fails `haproxy -c`: {(result.stderr or result.stdout).strip()}",
                                  file=str(CONFIG), hint="this is a bug in osa-aio's HAProxy template")
            if CONFIG.exists() and not ORIGINAL.exists():
                CONFIG.rename(ORIGINAL)  # the distribution's file, put back by `destroy --all`
            os.chmod(tmp.name, 0o644)
            mark_pending(self.runner, (NAME,))  # the reload is owed even if this run dies now
            os.replace(tmp.name, CONFIG)
        finally:
            Path(tmp.name).unlink(missing_ok=True)


def running_pids() -> list[int]:
    """The pids in haproxy's pidfile that are alive."""
    try:
        pids = [int(p) for p in PIDFILE.read_text().split()]
    except (OSError, ValueError):
        return []
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            alive.append(pid)
        except OSError:
            pass
    return alive


@dataclass
class HaproxyRunning:
    """HAProxy runs the installed config; reloaded (not restarted) when the config changed (in
    this run, or in one killed between writing it and reloading)."""

    runner: Runner
    name = "haproxy running"

    def check(self) -> str | None:
        if host_has_systemd():
            state = self.runner.run(["systemctl", "is-active", "haproxy"], check=False).stdout.strip()
            if state != "active":
                return f"is {state}"
        elif not running_pids():
            return "not running"
        return "config changed: reload" if is_pending(self.runner, NAME) else None

    def apply(self) -> None:
        if host_has_systemd():
            if self.runner.run(["systemctl", "is-active", "haproxy"], check=False).stdout.strip() == "active":
                save_server_state()
            self.runner.run(["systemctl", "enable", "haproxy"])
            self.runner.run(["systemctl", "reload-or-restart", "haproxy"])
            clear_pending(self.runner, NAME)
            return
        Path("/run/haproxy").mkdir(exist_ok=True)
        argv = ["haproxy", "-D", "-p", str(PIDFILE), "-f", str(CONFIG)]
        old = running_pids()
        if old:
            save_server_state()
        self.runner.run(argv + (["-sf", *map(str, old)] if old else []))
        clear_pending(self.runner, NAME)


def stop_haproxy(runner: Runner | None = None) -> bool:
    """Stop the HAProxy osa-aio runs and put the distribution's config back (for destroy --all)."""
    runner = runner or LocalRunner()
    stopped = False
    if host_has_systemd():
        stopped = runner.run(["systemctl", "stop", "haproxy"], check=False).rc == 0
    for pid in running_pids():
        try:
            os.kill(pid, 15)
            stopped = True
        except OSError:
            pass
    PIDFILE.unlink(missing_ok=True)
    # Saved drains and maintenance name containers a later deployment may name the same way.
    Path(SERVER_STATE_FILE).unlink(missing_ok=True)
    if ORIGINAL.exists():
        os.replace(ORIGINAL, CONFIG)
    return stopped


def deploy(ctx: Context) -> None:
    runner = ctx.host
    content = render_haproxy_cfg(ctx.inventory, list(ctx.haproxy_services), ctx.internal_vip, ctx.external_vip)
    config = HaproxyConfig(runner, content)
    # The next stages install from the repo through the VIP: wait until HAProxy sees it.
    repo_ready = [BackendUp("repo")] if ctx.members("repo_all") else []
    ctx.engine.run(NAME, "localhost", [Packages(runner, PACKAGES), config, HaproxyRunning(runner), *repo_ready])


def check_backends(ctx: Context) -> str:
    states = server_states(admin_command("show stat"))
    down = [f"{s.backend}/{s.server} {s.status}" for s in states if not s.status.startswith("UP") and not s.admin_down]
    if down:
        raise OsaAioError("; ".join(down))
    drained = [f"{s.backend}/{s.server}" for s in states if s.admin_down]
    up = len(states) - len(drained)
    return f"{up} servers UP" + (f", drained on purpose: {', '.join(drained)}" if drained else "")


# HAProxy runs on the host (no container type): its check always runs.
ROLE = Role(NAME, deploy, group=GROUP, packages=(), checks=(Check("haproxy backends", check_backends),))
