"""`osa-aio attach`: commands in a container with their output and exit code passed through."""

import subprocess
import sys


def test_attach_runs_a_command_and_passes_its_exit_code(aio):
    result = aio.osa("attach", "keystone_container", "--", "sh", "-c", "echo out; echo err >&2; exit 7", check=False)
    assert result.returncode == 7
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"


def test_attach_takes_a_name_in_either_spelling(aio):
    name = sorted(n for n in aio.containers() if "-galera-" in n)[1]
    for spelling in (name, name.replace("aio1-galera-container-", "aio1_galera_container-")):
        result = aio.osa("attach", spelling, "--", "hostname")
        assert result.stdout.strip() == name


def test_attach_to_a_type_picks_the_first_and_unknown_names_exit_2(aio):
    first = sorted(n for n in aio.containers() if "-rabbit-mq-" in n)[0]
    assert aio.osa("attach", "rabbit_mq_container", "--", "hostname").stdout.strip() == first
    unknown = aio.osa("attach", "aio1-nope-container-00000000", "--", "true", check=False)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: no container, type or group named 'aio1-nope-container-00000000'")


def test_attach_a_command_that_does_not_exist(aio):
    result = aio.osa("attach", "utility_container", "--", "no-such-command", check=False)
    assert result.returncode != 0


def test_attach_without_a_command_opens_a_shell(aio):
    name = sorted(n for n in aio.containers() if "-memcached-" in n)[0]
    proc = subprocess.run([sys.executable, "-m", "osa_aio", "--config-dir", str(aio.config_dir), "attach",
                           "memcached_container"], input="hostname; exit 3\n", capture_output=True, text=True)
    assert proc.returncode == 3
    assert proc.stdout.strip().splitlines()[-1] == name
