"""Render openstack-ansible's AIO config (../shared/reference/osa) into a config dir, as OSA's
bootstrap-aio does with its Jinja templates, so tests can feed it to osa-aio's loader."""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "osa"

AIO_VARS = {
    # One host address for both, as the issue asks (OSA itself refuses one host with two ips).
    "bootstrap_host_public_address": "172.29.236.100",
    "bootstrap_host_management_address": "172.29.236.100",
    "bootstrap_host_scenarios": ["aio", "keystone", "infra", "lxc"],
    "bootstrap_host_scenarios_expanded": ["aio", "keystone", "infra", "lxc", "manila", "k8sHA"],
    "bootstrap_host_install_method": "source",
    "_neutron_plugin_driver": "ml2.ovn",
}


def render_osa_aio(target: Path, variables: dict | None = None) -> Path:
    """Write OSA's AIO user config, conf.d and env.d into ``target`` and return it."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    values = {**AIO_VARS, **(variables or {})}
    target.mkdir(parents=True, exist_ok=True)
    (target / "conf.d").mkdir(exist_ok=True)
    source = REFERENCE / "openstack_user_config.yml.aio"
    (target / "openstack_user_config.yml").write_text(env.from_string(source.read_text()).render(values))
    for path in sorted((REFERENCE / "conf.d-aio").glob("*.yml.aio")):
        name = path.name.removesuffix(".aio")
        (target / "conf.d" / name).write_text(env.from_string(path.read_text()).render(values))
    shutil.copytree(REFERENCE / "env.d", target / "env.d", dirs_exist_ok=True)
    shutil.copy(REFERENCE / "user_secrets.yml", target / "user_secrets.yml")
    shutil.copy(REFERENCE / "user_variables.yml", target / "user_variables.yml")
    return target
