"""One error hierarchy: every expected failure is an OsaAioError and exits with code 2."""

from __future__ import annotations


class OsaAioError(Exception):
    """An expected error: printed as one line, exit code 2, no traceback."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 hint: str | None = None) -> None:
        self.message = message
        self.file = file
        self.key = key
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.key) if part)
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text = f"{text}; {self.hint}"
        # Always one line, whatever the pieces held.
        return " ".join(text.split())


class ConfigError(OsaAioError):
    """The user configuration (openstack_user_config.yml, conf.d, secrets ...) is wrong."""


class EnvdError(ConfigError):
    """An env.d skeleton file is wrong."""


class InventoryError(OsaAioError):
    """The inventory cannot be built or changed as asked."""


class UnknownTarget(OsaAioError):
    """A container, type or group named on the command line does not exist."""


class CommandFailed(OsaAioError):
    """A command run through a Runner exited non-zero (with check=True)."""

    exit_code = 1

    def __init__(self, target: str, command: str, rc: int, output: str) -> None:
        tail = " | ".join(line for line in output.strip().splitlines()[-3:])
        super().__init__(f"`{command}` exited {rc}" + (f": {tail}" if tail else ""), file=target)
        self.target = target
        self.command = command
        self.rc = rc
        self.output = output


class ContainerError(OsaAioError):
    """A container cannot be created, configured, started or reached."""


class HostError(OsaAioError):
    """The host is not fit for osa-aio (preflight), or a host change failed."""


class StepsFailed(OsaAioError):
    """A run finished with failed steps (already printed)."""

    exit_code = 1
