"""LxcAttachRunner: commands inside a container through python-lxc's attach_wait."""

from __future__ import annotations

import os
import tempfile
import time
from typing import Mapping, Sequence

from osa_aio.errors import ContainerError
from osa_aio.transport.base import Arg, Result, Runner, finish, reveal

BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
}


def lxc_module():
    """The python-lxc bindings, or a clear error when they are missing."""
    try:
        import lxc  # noqa: PLC0415 - optional until containers are used
    except ImportError:
        raise ContainerError("the python-lxc bindings are not installed",
                             hint="install Debian's lxc-dev and pkg-config, then `pip install lxc`"
                                  " (scripts/aio.sh does this)") from None
    return lxc


class LxcAttachRunner:
    """Runs in container ``name`` with a clean environment (BASE_ENV plus ``env``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._container = None

    @property
    def container(self):
        if self._container is None:
            self._container = lxc_module().Container(self.name)
        return self._container

    def _require_running(self) -> None:
        if not self.container.running:
            raise not_running(self.name)

    def interactive(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
        """Run with the caller's terminal (stdin, stdout, stderr); return the exit code."""
        lxc = lxc_module()
        self._require_running()
        variables = [f"{k}={v}" for k, v in {**BASE_ENV, **(env or {})}.items()]
        status = self.container.attach_wait(lxc.attach_run_command, list(argv),
                                            env_policy=lxc.LXC_ATTACH_CLEAR_ENV, extra_env_vars=variables)
        return _exit_code(status)

    def run(self, argv: Sequence[Arg], check: bool = True, stdin: str | bytes | None = None,
            env: Mapping[str, str] | None = None, timeout: float | None = None,
            log_output: bool = True) -> Result:
        lxc = lxc_module()
        self._require_running()
        command = with_timeout(reveal(argv), timeout)
        variables = [f"{k}={v}" for k, v in {**BASE_ENV, **(env or {})}.items()]
        data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        started = time.monotonic()
        with tempfile.TemporaryFile() as fin, tempfile.TemporaryFile() as fout, \
                tempfile.TemporaryFile() as ferr:
            fin.write(data)
            fin.seek(0)
            status = self.container.attach_wait(
                lxc.attach_run_command, command, env_policy=lxc.LXC_ATTACH_CLEAR_ENV,
                extra_env_vars=variables, stdin=fin, stdout=fout, stderr=ferr)
            fout.seek(0)
            ferr.seek(0)
            stdout = fout.read().decode(errors="replace")
            stderr = ferr.read().decode(errors="replace")
        rc = _exit_code(status)
        return finish(self.name, argv, rc, stdout, stderr, check, time.monotonic() - started, log_output)


def with_timeout(command: list, timeout: float | None) -> list:
    """The command under coreutils' timeout (exit 124 when it fires): attaching has none of its own."""
    return ["timeout", "--kill-after=5", str(int(timeout)), *command] if timeout else command


def not_running(name: str) -> ContainerError:
    return ContainerError("the container is not running", file=name, hint="start it with `osa-aio run --limit NAME`")


def _exit_code(status: int) -> int:
    """attach_wait's raw wait status as an exit code (-N for a signal).

    liblxc reports an exit code of 255 as -1, the same as a failed attach; the container was
    checked to be running, so -1 is taken as 255.
    """
    return 255 if status == -1 else os.waitstatus_to_exitcode(status)


class LxcCommandRunner:
    """Runs in container ``name`` through the host runner ``host`` (a remote host's SshRunner) with
    the `lxc-attach` command: the clean environment of LxcAttachRunner, its timeout, its errors."""

    def __init__(self, host: Runner, name: str) -> None:
        self.host = host
        self.name = name

    def interactive(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
        """With the caller's terminal, through the host runner's own (``env``: no secrets, it is
        on the command line)."""
        values = [arg for k, v in {**BASE_ENV, **(env or {})}.items() for arg in ("--set-var", f"{k}={v}")]
        return self.host.interactive(["lxc-attach", "-n", self.name, "--clear-env", *values, "--", *argv])

    def run(self, argv: Sequence[Arg], check: bool = True, stdin: str | bytes | None = None,
            env: Mapping[str, str] | None = None, timeout: float | None = None,
            log_output: bool = True) -> Result:
        variables = {**BASE_ENV, **(env or {})}
        command = with_timeout(list(argv), timeout)
        # The values travel in the host runner's environment, never on a command line.
        keep = [arg for name in variables for arg in ("--keep-var", name)]
        started = time.monotonic()
        done = self.host.run(["lxc-attach", "-n", self.name, "--clear-env", *keep, "--", *command], check=False,
                             stdin=stdin, env=variables, timeout=timeout + 30 if timeout else None, log_output=False)
        if done.rc != 0 and "Failed to get init pid" in done.stderr:
            raise not_running(self.name)
        return finish(self.name, argv, done.rc, done.stdout, done.stderr, check, time.monotonic() - started,
                      log_output)
