"""Near the end (it replaces the shared deployment): `bootstrap --profile minimal` then `run`
give a working one-node-per-service AIO, and the preflight refuses a profile whose budget the host
cannot hold, naming it, with nothing changed."""

import json
import shutil
import subprocess
import sys

from osa_aio.config import project_path

TYPES = ("galera_container", "rabbit_mq_container", "memcached_container", "repo_container",
         "keystone_container", "utility_container")


def osa(config_dir, *args, check=True):
    proc = subprocess.run([sys.executable, "-m", "osa_aio", "--config-dir", str(config_dir), *args],
                          capture_output=True, text=True, timeout=1800)
    assert not check or proc.returncode == 0, f"osa-aio {' '.join(args)}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_minimal_profile_gives_one_container_per_service(aio, tmp_path):
    config_dir = tmp_path / "minimal"
    shutil.copytree(project_path("user_config"), config_dir)
    (config_dir / "env.d").mkdir()
    (config_dir / "env.d" / "huge.yml").write_text(
        "container_skel:\n  galera_container:\n    properties:\n      memory_mb: 99999999\n")
    refused = osa(config_dir, "bootstrap", "--profile", "minimal", check=False)
    assert refused.returncode == 2
    assert any(line.startswith("error: not enough memory for profile 'minimal': the containers need")
               for line in refused.stderr.splitlines()), refused.stderr
    assert not (config_dir / "openstack_inventory.json").exists()
    assert "osa_aio_profile" not in (config_dir / "user_variables.yml").read_text()
    shutil.rmtree(config_dir / "env.d")

    aio.osa("destroy", *TYPES)  # the shared deployment's containers make room
    osa(config_dir, "bootstrap", "--profile", "minimal")
    assert "osa_aio_profile: minimal" in (config_dir / "user_variables.yml").read_text()
    osa(config_dir, "run")
    try:
        rows = json.loads(osa(config_dir, "list", "--json").stdout)
        kinds = sorted(row["container_type"] for row in rows)
        assert kinds == sorted(TYPES) and all(row["state"] == "RUNNING" for row in rows)
        verify = osa(config_dir, "verify")
        assert "passed" in verify.stdout
        frontends = {f["name"]: f for f in json.loads(osa(config_dir, "topology", "--json").stdout)["haproxy"]["frontends"]}
        assert [len(frontends[name]["backends"]) for name in ("galera", "keystone", "repo")] == [1, 1, 1]
        assert "* minimal" in " ".join(osa(config_dir, "profiles").stdout.split())
    finally:
        osa(config_dir, "destroy", *TYPES, check=False)
