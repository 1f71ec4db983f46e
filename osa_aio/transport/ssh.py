"""SshRunner: commands on a remote host over paramiko, one connection reused."""

from __future__ import annotations

import base64
import shlex
import socket
import threading
import time
from pathlib import Path
from typing import Mapping, Sequence

from osa_aio.errors import CommandFailed, HostError
from osa_aio.transport.base import Arg, Result, describe, finish, reveal


KNOWN_HOSTS = Path("~/.ssh/known_hosts").expanduser()
# Reads NAME=base64(value) lines up to an empty one from stdin (sh's read takes a pipe byte by byte,
# so the rest is the command's own stdin), exports them and runs the command.
_ENV_PRELUDE = ('while IFS= read -r kv && [ -n "$kv" ]; do '
                'export "${kv%%=*}=$(printf %s "${kv#*=}" | base64 -d)"; done; exec "$@"')


class SshRunner:
    """Connects on first use and keeps the connection; ``env`` reaches the command through stdin.
    The host's key must be in ``known_hosts`` (else the system's): an unknown or changed key is
    refused, never added on trust."""

    def __init__(self, host: str, *, port: int = 22, username: str = "root",
                 key_filename: str | None = None, connect_timeout: float = 10.0,
                 known_hosts: str | Path | None = None) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.key_filename = key_filename
        self.connect_timeout = connect_timeout
        self.known_hosts = Path(known_hosts) if known_hosts else KNOWN_HOSTS
        self.name = f"{username}@{host}:{port}"
        self._client = None
        self._lock = threading.Lock()  # steps on one host run in threads: one connection for them all

    def _connect(self):
        with self._lock:
            if self._client is None or not self._client.get_transport() or \
                    not self._client.get_transport().is_active():
                self._client = self._new_client()
            return self._client

    def _new_client(self):
        import paramiko  # noqa: PLC0415 - only hosts reached over SSH need it

        client = paramiko.SSHClient()
        client.load_system_host_keys()
        if self.known_hosts.exists():
            client.load_host_keys(str(self.known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        keyscan = f"ssh-keyscan -p {self.port} {self.host} >> {self.known_hosts}"
        try:
            client.connect(self.host, port=self.port, username=self.username,
                           key_filename=self.key_filename, timeout=self.connect_timeout,
                           banner_timeout=self.connect_timeout, auth_timeout=self.connect_timeout,
                           allow_agent=False, look_for_keys=self.key_filename is None)
        except paramiko.AuthenticationException:
            raise HostError("SSH authentication failed", file=self.name,
                            hint=f"put the public key of {self.key_filename or '~/.ssh/id_*'} "
                                 f"in {self.username}'s authorized_keys there") from None
        except (paramiko.ssh_exception.NoValidConnectionsError, ConnectionRefusedError):
            raise HostError("SSH connection refused", file=self.name,
                            hint="check that sshd runs there and the address and port are right") from None
        except (socket.timeout, TimeoutError):
            raise HostError(f"SSH connection timed out after {self.connect_timeout}s", file=self.name,
                            hint="check the address and that the host is up") from None
        except paramiko.BadHostKeyException:
            raise HostError(f"SSH host key of {self.host} changed (not the one in {self.known_hosts})",
                            file=self.name, hint=f"if the host was reinstalled: ssh-keygen -f {self.known_hosts} "
                                                 f"-R '{_known_name(self.host, self.port)}', then {keyscan}") from None
        except paramiko.SSHException as exc:
            if "not found in known_hosts" not in str(exc):
                raise HostError(f"SSH connection failed: {exc}", file=self.name) from None
            raise HostError(f"SSH host key of {self.host} is not known", file=self.name,
                            hint=f"check its fingerprint, then accept it: {keyscan}") from None
        except OSError as exc:
            raise HostError(f"SSH connection failed: {exc}", file=self.name) from None
        return client

    def run(self, argv: Sequence[Arg], check: bool = True, stdin: str | bytes | None = None,
            env: Mapping[str, str] | None = None, timeout: float | None = None,
            log_output: bool = True) -> Result:
        client = self._connect()
        data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        command = shlex.join(reveal(argv))
        if env:
            # The values go ahead of stdin, never into a command line (which `ps` shows on the host).
            command = shlex.join(["sh", "-c", _ENV_PRELUDE, "env", *reveal(argv)])
            data = b"".join(f"{k}={base64.b64encode(str(v).encode()).decode()}\n".encode()
                            for k, v in env.items()) + b"\n" + data
        started = time.monotonic()
        chan = client.get_transport().open_session(timeout=self.connect_timeout)
        try:
            chan.exec_command(command)
            if data:
                chan.sendall(data)
            chan.shutdown_write()
            stdout, stderr = _drain(chan, started + timeout if timeout else None)
            rc = chan.recv_exit_status()
        except (socket.timeout, TimeoutError):
            raise CommandFailed(self.name, shlex.join(describe(argv)), 124, f"timed out after {timeout}s") from None
        finally:
            chan.close()
        return finish(self.name, argv, rc, stdout, stderr, check, time.monotonic() - started, log_output)

    def interactive(self, argv: Sequence[str]) -> int:
        """Run with the caller's terminal (OpenSSH's client, for its pty handling); the exit code."""
        import subprocess  # noqa: PLC0415

        return subprocess.call(["ssh", "-t", "-p", str(self.port), "-o", "BatchMode=yes",
                                "-o", "StrictHostKeyChecking=yes",
                                "-o", f"UserKnownHostsFile={self.known_hosts} {KNOWN_HOSTS}",  # paramiko's two
                                *(["-i", self.key_filename] if self.key_filename else []),
                                f"{self.username}@{self.host}", "--", shlex.join(argv)])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _known_name(host: str, port: int) -> str:
    """How known_hosts names a host (OpenSSH's form: [host]:port off port 22)."""
    return host if port == 22 else f"[{host}]:{port}"


def _drain(chan, deadline: float | None) -> tuple[str, str]:
    """Read both streams to the end without letting either fill up and block the other."""
    out, err = bytearray(), bytearray()
    while True:
        progressed = False
        if chan.recv_ready():
            out += chan.recv(65536)
            progressed = True
        if chan.recv_stderr_ready():
            err += chan.recv_stderr(65536)
            progressed = True
        if chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready():
            break
        if not progressed:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError
            time.sleep(0.005)
    return out.decode(errors="replace"), err.decode(errors="replace")
