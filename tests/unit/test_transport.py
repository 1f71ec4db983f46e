"""The lxc-attach command through a host runner: what it asks the host to run."""

import pytest

from osa_aio.errors import CommandFailed, ContainerError
from osa_aio.secrets import Secret
from osa_aio.transport import LxcCommandRunner, Result
from osa_aio.transport.lxc import BASE_ENV
from tests.fakes import FakeRunner


class Host(FakeRunner):
    """A fake host that also records the environment and timeout each command was given."""

    def __init__(self, answers):
        super().__init__(answers, name="aio2")
        self.envs, self.timeouts = [], []

    def run(self, argv, check=True, stdin=None, env=None, timeout=None, log_output=True):
        self.envs.append(env)
        self.timeouts.append(timeout)
        return super().run(argv, check, stdin, env, timeout, log_output)


def test_values_travel_in_the_environment_and_the_timeout_wraps_the_command():
    host = Host({("lxc-attach",): (0, "done\n")})
    runner = LxcCommandRunner(host, "aio2-utility-container-1")
    result = runner.run(["echo", Secret("s3cr3t")], stdin="in", env={"TOKEN": "t0ken"}, timeout=10)
    argv = host.calls[0]
    assert argv[:4] == ["lxc-attach", "-n", "aio2-utility-container-1", "--clear-env"]
    assert argv[argv.index("--"):] == ["--", "timeout", "--kill-after=5", "10", "echo", "***"]
    kept = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--keep-var"]
    assert sorted(kept) == sorted([*BASE_ENV, "TOKEN"])
    assert "t0ken" not in " ".join(argv) and host.envs[0]["TOKEN"] == "t0ken"
    assert host.stdins[0] == "in" and host.timeouts[0] > 10
    assert (result.rc, result.stdout, result.argv) == (0, "done\n", ("echo", "***"))


def test_a_stopped_container_and_a_failure_name_the_container():
    class Stopped:
        name = "aio2"

        def run(self, argv, **_):
            return Result(tuple(argv), 1, "", "lxc-attach: aio2-x: attach.c: Failed to get init pid")
    with pytest.raises(ContainerError, match="not running"):
        LxcCommandRunner(Stopped(), "aio2-x").run(["true"])
    failing = Host({("lxc-attach",): (5, "last words")})
    with pytest.raises(CommandFailed, match="aio2-y.*exited 5"):
        LxcCommandRunner(failing, "aio2-y").run(["false"])
