import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from osa_aio import lock
from osa_aio.cli import cli
from osa_aio.lock import Locked, exclusive

HOLDER = """
import sys, time
from pathlib import Path
from osa_aio.lock import exclusive
with exclusive("run", Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(30)
"""


@pytest.fixture
def held(tmp_path):
    path = tmp_path / "osa-aio.lock"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield path, proc
    proc.kill()
    proc.wait()


def test_a_second_holder_is_refused_naming_the_first(held):
    path, proc = held
    with pytest.raises(Locked) as err:
        with exclusive("bootstrap", path):
            pass
    assert f"pid {proc.pid} running `osa-aio run`" in str(err.value)


def test_the_lock_is_free_again_when_the_holder_is_killed(held):
    path, proc = held
    proc.kill()
    proc.wait()
    with exclusive("run", path):
        assert "osa-aio run" in path.read_text()


def test_changing_commands_exit_2_while_locked_and_reading_commands_do_not_wait(held, config_dir, monkeypatch):
    path, proc = held
    monkeypatch.setattr(lock, "LOCK_FILE", path)
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["secrets", "--config-dir", str(config_dir)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: another osa-aio is at work: pid {proc.pid}")
    assert time.monotonic() - started < 5
    assert CliRunner().invoke(cli, ["inventory", "--check", "--config-dir", str(config_dir)]).exit_code == 0
    assert CliRunner().invoke(cli, ["run", "--help"]).exit_code == 0
