"""Config overrides on the real deployment: a keystone.conf override in user_variables.yml lands
in both keystone containers and changes a token's lifetime through the VIP; `run --check` shows
the diff first and changes nothing; a per-container fragment lands in that container only;
removing the overrides and re-running puts the defaults back."""

import json
import urllib.request
from datetime import datetime

import pytest
import yaml

from osa_aio.config import load_config
from osa_aio.ini import parse
from osa_aio.profiles import VARIABLE
from osa_aio.transport import LxcAttachRunner

CONF = "/etc/keystone/keystone.conf"


def token_lifetime(aio) -> float:
    config = load_config(aio.config_dir)
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"},
        "password": config.secret("keystone_auth_admin_password")}}}}}
    request = urllib.request.Request(f"http://{config.internal_vip}:5000/v3/auth/tokens", method="POST",
                                     data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        token = json.loads(response.read())["token"]
    stamp = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (stamp(token["expires_at"]) - stamp(token["issued_at"])).total_seconds()


def conf(name: str) -> str:
    return LxcAttachRunner(name).run(["cat", CONF], log_output=False).stdout


def set_variables(aio, values: dict) -> None:
    """user_variables.yml holds ``values`` and the profile bootstrap chose (which decides the containers)."""
    path = aio.config_dir / "user_variables.yml"
    kept = {k: v for k, v in (yaml.safe_load(path.read_text()) or {}).items() if k == VARIABLE}
    path.write_text(yaml.safe_dump({**kept, **values}) if kept or values else "{}\n")


@pytest.fixture
def keystones(aio):
    names = sorted(n for n in aio.containers() if "-keystone-" in n)
    before = {name: conf(name) for name in names}
    yield names
    set_variables(aio, {})
    for path in sorted((aio.config_dir / "config").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    aio.osa("run", "keystone", check=False)
    assert {name: conf(name) for name in names} == before


def test_overrides_land_show_their_diff_and_go_away(aio, keystones):
    first, second = keystones
    original = {name: conf(name) for name in keystones}
    assert abs(token_lifetime(aio) - 3600) < 5

    set_variables(aio, {"keystone_keystone_conf_overrides": {"token": {"expiration": 7200}}})
    check = aio.osa("run", "keystone", "--check")
    shown = check.stdout + check.stderr
    assert "-expiration = 3600" in shown and "+expiration = 7200" in shown
    assert all(conf(name) == original[name] for name in keystones), "--check changed a file"

    aio.osa("run", "keystone")
    for name in keystones:
        assert parse(conf(name))["token"]["expiration"] == "7200"
    assert abs(token_lifetime(aio) - 7200) < 5

    folder = aio.config_dir / "config" / "keystone" / first
    folder.mkdir(parents=True)
    (folder / "keystone.conf").write_text("# only this container\n[DEFAULT]\ndebug = true\n")
    aio.osa("run", "keystone")
    assert parse(conf(first))["DEFAULT"]["debug"] == "true"
    assert parse(conf(second))["DEFAULT"]["debug"] == "false"

    set_variables(aio, {})
    (folder / "keystone.conf").unlink()
    aio.osa("run", "keystone")
    assert {name: conf(name) for name in keystones} == original
    assert abs(token_lifetime(aio) - 3600) < 5


def test_an_override_naming_an_unknown_file_changes_nothing(aio, keystones):
    set_variables(aio, {"keystone_policy_yaml_overrides": {"a": {"b": 1}}})
    result = aio.osa("run", check=False)
    assert result.returncode == 2
    assert "keystone_policy_yaml_overrides: no service file takes these overrides" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
