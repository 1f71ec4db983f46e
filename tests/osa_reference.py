"""Render openstack-ansible's AIO config (../shared/reference/osa) into a config dir, as OSA's
bootstrap-aio does with its Jinja templates, and its example configs, so tests can feed them to
osa-aio's loader."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import jinja2
import yaml

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


# The schema reference (openstack_user_config.yml.example) is all comments; its examples name no
# VIPs, so the rendering gives it host names, as OSA's other examples have.
EXAMPLE_VIPS = {"internal_lb_vip_address": "internal-openstack.example.com",
                "external_lb_vip_address": "openstack.example.com", "management_bridge": "br-mgmt"}
_BLOCK_START = re.compile(r"^# ([a-z_]+:)\s*$|^#   (provider_networks:)\s*$")


def osa_examples() -> list[Path]:
    """OSA's example user configs present in the reference folder."""
    return sorted(REFERENCE.glob("openstack_user_config.yml*.example"))


def uncomment_examples(text: str) -> str:
    """The YAML of a commented config: every block that opens with a top-level key (or the
    provider_networks of global_overrides), uncommented and merged in file order."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        start = _BLOCK_START.match(line)
        if start:
            current = [start.group(1) or start.group(2)]
            blocks.append(current)
        elif current is not None and line.startswith("#  "):
            current.append(line[2:])
        else:
            current = None
    merged: dict = {}
    taken: dict[str, str] = {}  # address -> host: the examples are independent, some share an address
    for block in blocks:
        data = yaml.safe_load("\n".join(block)) or {}
        if "provider_networks" in data:
            data = {"global_overrides": {**EXAMPLE_VIPS, **data}}
        for key, hosts in data.items():
            if key.endswith("_hosts") and isinstance(hosts, dict):
                for host in list(hosts):
                    if taken.setdefault(str(hosts[host].get("ip")), host) != host:
                        del hosts[host]
        for key, value in data.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key].update(value)
            else:
                merged[key] = value
    return yaml.safe_dump(merged, sort_keys=False)


def render_osa_example(source: Path, target: Path) -> Path:
    """Write one of OSA's example configs (uncommented when it is all comments) with OSA's env.d
    into ``target`` and return it."""
    target.mkdir(parents=True, exist_ok=True)
    text = source.read_text()
    if not yaml.safe_load(text):
        text = uncomment_examples(text)
    (target / "openstack_user_config.yml").write_text(text)
    shutil.copytree(REFERENCE / "env.d", target / "env.d", dirs_exist_ok=True)
    shutil.copy(REFERENCE / "user_secrets.yml", target / "user_secrets.yml")
    return target
