"""Runners: one protocol to run commands locally, in a container or over SSH."""

from osa_aio.transport.base import Result, Runner, describe, put
from osa_aio.transport.local import LocalRunner
from osa_aio.transport.lxc import LxcAttachRunner, LxcCommandRunner
from osa_aio.transport.ssh import SshRunner

__all__ = ["LocalRunner", "LxcAttachRunner", "LxcCommandRunner", "Result", "Runner", "SshRunner", "describe", "put"]
