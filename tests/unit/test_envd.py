from pathlib import Path

import pytest

from osa_aio.config import project_path
from osa_aio.errors import ConfigError, EnvdError
from osa_aio.inventory.envd import load_envd

PROJECT_ENVD = project_path("env.d")


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def test_project_envd_defines_the_services_with_osa_names():
    skeleton = load_envd([PROJECT_ENVD])
    assert {"galera_container", "rabbit_mq_container", "keystone_container", "repo_container",
            "memcached_container", "utility_container", "haproxy_container"} <= set(skeleton.containers)
    assert skeleton.is_metal("haproxy_container")
    assert not skeleton.is_metal("keystone_container")
    assert "shared_infra_hosts" in skeleton.host_groups()
    assert skeleton.host_groups_of("galera_container") == ["database_hosts", "shared_infra_hosts"]


def test_user_envd_merges_dicts_and_replaces_lists(tmp_path):
    write(tmp_path, "keystone.yml", """
container_skel:
  keystone_container:
    belongs_to:
      - shared_infra_containers
    properties:
      service_name: keystone
""")
    skeleton = load_envd([PROJECT_ENVD, tmp_path])
    entry = skeleton.containers["keystone_container"]
    assert entry["belongs_to"] == ["shared_infra_containers"]  # list replaced, not appended
    assert entry["contains"] == ["keystone"]  # untouched key kept by the merge
    # Mappings merge key by key: the project's budget stays beside the new key.
    assert entry["properties"] == {"service_name": "keystone", "memory_mb": 512, "disk_mb": 800}


def test_empty_dict_replaces(tmp_path):
    write(tmp_path, "haproxy.yml", """
container_skel:
  haproxy_container:
    properties: {}
""")
    skeleton = load_envd([PROJECT_ENVD, tmp_path])
    assert skeleton.containers["haproxy_container"]["properties"] == {}
    assert not skeleton.is_metal("haproxy_container")


def test_unknown_top_level_key_names_file_and_key(tmp_path):
    path = write(tmp_path, "bad.yml", "container_skell:\n  x: {}\n")
    with pytest.raises(EnvdError) as err:
        load_envd([PROJECT_ENVD, tmp_path])
    assert str(path) in str(err.value) and "container_skell" in str(err.value)


def test_container_type_naming_unknown_group(tmp_path):
    path = write(tmp_path, "extra.yml", """
container_skel:
  extra_container:
    belongs_to:
      - nowhere_containers
    contains:
      - keystone
""")
    with pytest.raises(EnvdError) as err:
        load_envd([PROJECT_ENVD, tmp_path])
    message = str(err.value)
    assert str(path) in message and "container_skel.extra_container.belongs_to" in message
    assert "nowhere_containers" in message


def test_container_type_containing_unknown_component(tmp_path):
    write(tmp_path, "extra.yml", """
container_skel:
  extra_container:
    belongs_to: [identity_containers]
    contains: [nothing]
""")
    with pytest.raises(EnvdError, match="unknown component 'nothing'"):
        load_envd([PROJECT_ENVD, tmp_path])


def test_unknown_entry_key_and_bad_belongs_to(tmp_path):
    write(tmp_path, "a.yml", "component_skel:\n  x:\n    belong_to: [y]\n")
    with pytest.raises(EnvdError, match="unknown key 'belong_to'"):
        load_envd([tmp_path])
    write(tmp_path, "a.yml", "component_skel:\n  x:\n    belongs_to: y\n")
    with pytest.raises(EnvdError, match="component_skel.x.belongs_to: must be a list"):
        load_envd([tmp_path])


def test_yaml_syntax_error_in_envd_names_file_and_line(tmp_path):
    path = write(tmp_path, "broken.yml", "component_skel:\n  x:\n    belongs_to: [a\n  y: {}\n")
    with pytest.raises(ConfigError) as err:
        load_envd([tmp_path])
    assert f"{path}:4" in str(err.value) and "YAML syntax error" in str(err.value)
