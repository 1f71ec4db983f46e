"""Runners: one protocol to run commands locally, in a container or over SSH."""

from osa_aio.transport.base import Result, Runner, describe
from osa_aio.transport.local import LocalRunner

__all__ = ["LocalRunner", "Result", "Runner", "describe"]
