"""Bad input against the real deployment: command-line arguments and the environment. Each case
gives one line per problem, each naming the argument, file or key and what to do, exit code 2, and
neither the host nor the saved inventory changes. (The configuration and env.d cases, 29 of them,
are in tests/unit/test_validation.py: the same rule, without LXC.)"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import host_state


CLI_CASES = {
    "attach unknown container": (["attach", "aio1-nope-container-00000000", "--", "true"],
                                 "no container, type or group named 'aio1-nope-container-00000000'"),
    "run unknown service": (["run", "no-such-service"], "unknown service 'no-such-service'; services are: repo, haproxy"),
    "run bad --limit": (["run", "--limit", "keystone_containr"], "did you mean keystone-container?"),
    "rebuild unknown name": (["rebuild", "aio1-keystone-container-00000000", "--yes"], "no container, type or group"),
    "dev unknown service": (["dev", "keystorne", "--source", "/tmp"], "SERVICE: unknown service 'keystorne'"),
    "dev source missing": (["dev", "keystone", "--source", "/nonexistent/keystone"], "--source: /nonexistent/keystone does not exist"),
    "dev source not a checkout": (["dev", "keystone", "--source", "/etc"], "--source: /etc is not a checkout of keystone"),
    "dev container of another service": (["dev", "keystone", "--source", "{checkout}", "--container",
                                          "galera_container"], "--container: 'galera_container' is not one keystone"),
    "dev restart without a checkout": (["dev", "keystone", "--restart"], "no container runs a dev checkout of keystone"),
    "destroy unknown name": (["destroy", "aio1-nope-container-00000000"], "no container, type or group"),
    "destroy all without yes": (["destroy", "--all"], "add --yes to confirm"),
    "destroy purge without all": (["destroy", "--purge", "utility_container"], "--purge goes with --all"),
    "snapshot a whole type": (["snapshot", "galera_container"], "'galera_container' means 3 containers"),
    "rollback without snapshots": (["rollback", "memcached_container"], "has no snapshots"),
    "haproxy drain unknown": (["haproxy", "drain", "aio1-nope-container-00000000"], "no container, type or group"),
    "inventory remove unknown": (["inventory", "--remove", "aio1-nope-container-00000000"], "no container named"),
    "snapshot bad tag": (["snapshot", "utility_container", "--name", "bad tag!"], "--name: 'bad tag!' is not a usable"),
}


@pytest.fixture
def checkout(tmp_path):
    (tmp_path / "keystone").mkdir()
    (tmp_path / "keystone" / "__init__.py").write_text("")
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = keystone\n")
    return tmp_path


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_bad_arguments(aio, case, checkout):
    args, expected = CLI_CASES[case]
    args = [a.replace("{checkout}", str(checkout)) for a in args]
    before = host_state(aio)
    result = aio.osa(*args, check=False)
    assert result.returncode == 2, (case, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines
    assert host_state(aio) == before


def test_not_root(aio):
    before = host_state(aio)
    result = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
                             *aio.command("run")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: osa-aio must run as root: run it with sudo"
    assert host_state(aio) == before


def test_lxc_missing(aio, tmp_path):
    """A PATH without LXC's tools (everything else still there)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in Path("/usr/bin").iterdir():
        if not tool.name.startswith("lxc-"):
            (bin_dir / tool.name).symlink_to(tool)
    before = host_state(aio)
    result = subprocess.run(aio.command("bootstrap"), capture_output=True, text=True,
                            env={**os.environ, "PATH": f"{bin_dir}:/usr/sbin"})
    assert result.returncode == 2
    assert "error: the command lxc-start is missing: install the host packages (scripts/aio.sh does)" in \
        result.stderr.splitlines()
    assert all(line.startswith("error: ") for line in result.stderr.strip().splitlines())
    assert host_state(aio) == before


# The line names the profile bootstrap chose (`... for profile 'compute': ...`) when there is one.
@pytest.mark.parametrize("key, expected", [("disk_mb", r"not enough disk at /var/lib/lxc( for profile '\w+')?: "),
                                           ("memory_mb", r"not enough memory( for profile '\w+')?: the containers need")])
def test_too_little_disk_or_memory(aio, key, expected):
    envd = aio.config_dir / "env.d"
    envd.mkdir(exist_ok=True)
    (envd / "huge.yml").write_text(f"container_skel:\n  keystone_container:\n    properties:\n      {key}: 99999999\n")
    try:
        before = host_state(aio)
        result = aio.osa("bootstrap", check=False)
        assert result.returncode == 2
        assert any(re.match(f"error: {expected}", line) for line in result.stderr.splitlines()), result.stderr
        assert host_state(aio) == before
    finally:
        shutil.rmtree(envd)


def test_an_empty_secret_stops_run_before_any_change(aio):
    secrets = aio.config_dir / "user_secrets.yml"
    original = secrets.read_text()
    secrets.write_text("\n".join("keystone_auth_admin_password:" if line.startswith("keystone_auth_admin_password:")
                                 else line for line in original.splitlines()) + "\n")
    try:
        before = host_state(aio)
        result = aio.osa("run", check=False)
        assert result.returncode == 2
        assert result.stderr.strip() == (f"error: {secrets}: keystone_auth_admin_password: empty or missing; "
                                         "run `osa-aio bootstrap` (or `osa-aio secrets`) to fill it")
        assert host_state(aio) == before
    finally:
        secrets.write_text(original)


@pytest.mark.parametrize("command", ["bootstrap", "run"])
def test_a_vip_name_that_does_not_resolve_stops_before_any_change(aio, command):
    """OSA's configs name their VIPs; one that does not resolve is one line naming the key (a name
    under .invalid is never looked up: no traffic leaves the machine)."""
    conf_d = aio.config_dir / "conf.d"
    conf_d.mkdir(exist_ok=True)
    extra = conf_d / "zz-vip.yml"
    extra.write_text("global_overrides:\n  external_lb_vip_address: openstack.osa-aio.invalid\n")
    try:
        before = host_state(aio)
        inventory = (aio.config_dir / "openstack_inventory.json").read_text()
        result = aio.osa(command, check=False)
        assert result.returncode == 2, result.stdout[-2000:]
        assert result.stderr.strip().splitlines() == [
            f"error: {extra}: global_overrides.external_lb_vip_address: 'openstack.osa-aio.invalid' does not "
            "resolve (a reserved name); add it to /etc/hosts or DNS, or write the address"], result.stderr
        assert host_state(aio) == before
        assert (aio.config_dir / "openstack_inventory.json").read_text() == inventory
    finally:
        extra.unlink()
