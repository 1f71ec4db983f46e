"""Near the end (it replaces the shared deployment): `bootstrap --profile minimal` then `run`
give a working one-node-per-service AIO, and the preflight refuses a profile whose budget the host
cannot hold, naming it, with nothing changed."""

import json
import shutil

from osa_aio.config import project_path
from osa_aio.yamlio import load_yaml
from tests.cli import osa as run_osa
from osa_aio.roles import ROLES
from tests.integration.conftest import deployed_counts

# One container of each type the minimal profile has (nova and neutron are not in it).
MINIMAL = tuple(role.container_type for role in ROLES.values() if role.profiles.get("minimal"))


def osa(config_dir, *args, check=True):
    return run_osa(*args, config_dir=config_dir, check=check)


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
    assert "osa_aio_profile" not in (load_yaml(config_dir / "user_variables.yml") or {})
    shutil.rmtree(config_dir / "env.d")

    aio.osa("destroy", *deployed_counts(aio))  # the shared deployment's containers make room
    osa(config_dir, "bootstrap", "--profile", "minimal")
    assert load_yaml(config_dir / "user_variables.yml")["osa_aio_profile"] == "minimal"
    osa(config_dir, "run")
    try:
        rows = json.loads(osa(config_dir, "list", "--json").stdout)
        kinds = sorted(row["container_type"] for row in rows)
        assert kinds == sorted(MINIMAL) and all(row["state"] == "RUNNING" for row in rows)
        verify = osa(config_dir, "verify")
        assert "passed" in verify.stdout
        frontends = {f["name"]: f for f in json.loads(osa(config_dir, "topology", "--json").stdout)["haproxy"]["frontends"]}
        assert [len(frontends[name]["backends"]) for name in ("galera", "keystone", "repo")] == [1, 1, 1]
        assert "* minimal" in " ".join(osa(config_dir, "profiles").stdout.split())
    finally:
        osa(config_dir, "destroy", *MINIMAL, check=False)
