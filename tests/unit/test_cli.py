import json
import subprocess
import sys

from click.testing import CliRunner

from osa_aio.cli import cli
from osa_aio.inventory.store import list_backups
from osa_aio.secrets import load_secrets
from tests.conftest import default_total

BUILT = ["inventory", "secrets", "bootstrap", "run", "list", "attach", "destroy", "verify", "openrc", "haproxy",
         "rebuild", "snapshot", "rollback", "dev"]


def invoke(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env)


def test_help_lists_every_command_and_each_has_help():
    result = invoke("--help")
    assert result.exit_code == 0
    for name in BUILT:
        assert name in result.output
        sub = invoke(name, "--help")
        assert sub.exit_code == 0 and "Usage: " in sub.output


def test_config_dir_before_or_after_the_command_or_from_env(config_dir, tmp_path):
    after = invoke("inventory", "--json", "--config-dir", str(config_dir))
    before = invoke("--config-dir", str(config_dir), "inventory", "--json")
    from_env = invoke("inventory", "--json", env={"OSA_AIO_CONFIG_DIR": str(config_dir)})
    assert after.exit_code == before.exit_code == from_env.exit_code == 0
    assert after.stdout == before.stdout == from_env.stdout
    # The subcommand's option wins over the group's.
    wins = invoke("--config-dir", str(tmp_path / "nope"), "inventory", "--config-dir", str(config_dir))
    assert wins.exit_code == 0


def test_inventory_json_is_stable_and_second_run_writes_nothing(config_dir):
    first = invoke("inventory", "--json", "--config-dir", str(config_dir))
    saved = (config_dir / "openstack_inventory.json").stat().st_mtime_ns
    second = invoke("inventory", "--json", "--config-dir", str(config_dir))
    assert first.stdout == second.stdout
    assert (config_dir / "openstack_inventory.json").stat().st_mtime_ns == saved
    data = json.loads(first.stdout)
    assert len(data["galera_container"]["hosts"]) == 3
    assert data["haproxy"]["hosts"] == ["aio1"]


def test_list_table_and_list_json(config_dir):
    table = invoke("inventory", "--list", "--config-dir", str(config_dir))
    lines = table.stdout.strip().splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "HOST", "MANAGEMENT", "IP"]
    assert len(lines) == 1 + default_total()
    rows = json.loads(invoke("inventory", "--list", "--json", "--config-dir", str(config_dir)).stdout)
    assert {row["container_type"] for row in rows} >= {"galera_container", "keystone_container"}
    assert [row["name"] for row in rows] == [line.split()[0] for line in lines[1:]]


def test_check_validates_without_writing(config_dir):
    result = invoke("inventory", "--check", "--config-dir", str(config_dir))
    assert result.exit_code == 0 and result.stdout.strip() == "Configuration ok"
    assert not (config_dir / "openstack_inventory.json").exists()


def test_remove_backs_up_and_accepts_osa_name(config_dir):
    data = json.loads(invoke("inventory", "--json", "--config-dir", str(config_dir)).stdout)
    name = data["keystone_container"]["hosts"][0]
    osa_name = name.replace("aio1-keystone-container-", "aio1_keystone_container-")
    result = invoke("inventory", "--remove", osa_name, "--config-dir", str(config_dir))
    assert result.exit_code == 0, result.output
    assert len(list_backups(config_dir)) == 1
    saved = json.loads((config_dir / "openstack_inventory.json").read_text())
    assert name not in saved["_meta"]["hostvars"]
    unknown = invoke("inventory", "--remove", "aio1-nope-container-12345678", "--config-dir", str(config_dir))
    assert unknown.exit_code == 2 and "no container named" in unknown.stderr
    assert len(list_backups(config_dir)) == 1


def test_secrets_fills_without_printing_values(config_dir):
    result = invoke("secrets", "--config-dir", str(config_dir))
    assert result.exit_code == 0
    values = load_secrets(config_dir / "user_secrets.yml")
    assert values and all(values.values())
    for secret in values.values():
        assert secret.reveal() not in result.output
    assert "keystone_auth_admin_password" in result.output
    again = invoke("secrets", "--check", "--config-dir", str(config_dir))
    assert again.stdout.strip() == "No empty secrets"


def test_python_dash_m_runs_the_cli(config_dir):
    proc = subprocess.run([sys.executable, "-m", "osa_aio", "inventory", "--check", "--config-dir", str(config_dir)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "Configuration ok"


def test_commands_that_change_the_host_need_root(config_dir, monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    # The tests often really run as root: were the root check ever made after the work starts, these
    # commands would deploy, bootstrap or wipe this host. Tripwires stand in for the work instead.
    ran: list[str] = []

    def tripwire(name):
        def must_not_run(*args, **kwargs):
            ran.append(name)
            raise AssertionError(f"{name} must not run")
        return must_not_run

    for name in ("deploy", "run_bootstrap", "destroy_all"):
        monkeypatch.setattr(f"osa_aio.cli.{name}", tripwire(name))
    for args in (["run"], ["bootstrap"], ["destroy", "--all", "--yes"], ["secrets"]):
        result = invoke(*args, "--config-dir", str(config_dir))
        assert result.exit_code == 2, args
        assert result.stderr.strip() == "error: osa-aio must run as root: run it with sudo"
    assert ran == []
