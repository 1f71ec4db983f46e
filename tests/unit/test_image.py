from osa_aio.image import base_config, host_recipe

DEB822 = """Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


def make_etc(tmp_path, sources_name="debian.sources", sources=DEB822):
    etc = tmp_path / "etc"
    (etc / "apt" / "sources.list.d").mkdir(parents=True)
    (etc / "os-release").write_text('ID=debian\nVERSION_CODENAME=bookworm\n')
    (etc / "apt" / "sources.list.d" / sources_name).write_text(sources)
    return etc


def test_recipe_reads_release_mirror_and_sources(tmp_path):
    ca = tmp_path / "ca"
    ca.mkdir()
    (ca / "corp.crt").write_text("CERT")
    recipe = host_recipe(make_etc(tmp_path), ca)
    assert recipe.codename == "bookworm"
    assert recipe.mirror == "http://mirror.example/debian"
    assert recipe.apt_sources == {"/etc/apt/sources.list.d/debian.sources": DEB822}
    assert recipe.ca_certificates == {"corp.crt": "CERT"}
    assert "systemd" in recipe.packages and "python3" in recipe.packages


def test_one_line_sources_and_digest_follow_the_recipe(tmp_path):
    etc = make_etc(tmp_path, "x.list", "deb [arch=amd64] http://one.example/debian bookworm main\n")
    recipe = host_recipe(etc, tmp_path / "none")
    assert recipe.mirror == "http://one.example/debian"
    (etc / "apt" / "sources.list.d" / "x.list").write_text("deb http://two.example/debian bookworm main\n")
    assert host_recipe(etc, tmp_path / "none").digest() != recipe.digest()
    assert host_recipe(etc, tmp_path / "none").digest() == host_recipe(etc, tmp_path / "none").digest()


def test_base_config_names_no_default_bridge(tmp_path):
    text = base_config("osa-aio-base-x", tmp_path / "rootfs")
    assert "lxcbr0" not in text and "lxc.net.0.type = empty" in text
    assert f"lxc.rootfs.path = dir:{tmp_path / 'rootfs'}" in text


def test_base_image_is_rebuilt_only_when_asked_or_when_the_recipe_changed(tmp_path, monkeypatch):
    import osa_aio.image as image

    recipe = host_recipe(make_etc(tmp_path), tmp_path / "none")
    monkeypatch.setattr(image, "current_base", lambda runner=None: None)
    assert image.BaseImageBuilt(recipe).check() == "absent"
    monkeypatch.setattr(image, "current_base",
                        lambda runner=None: {"name": "osa-aio-base-x-1", "digest": recipe.digest()})
    assert image.BaseImageBuilt(recipe).check() is None
    assert image.BaseImageBuilt(recipe, rebuild=True).check() == "rebuild asked (--rebuild-image)"
    monkeypatch.setattr(image, "current_base", lambda runner=None: {"name": "osa-aio-base-x-1", "digest": "older"})
    assert image.BaseImageBuilt(recipe).check() == "its recipe changed"


def test_wheels_of_a_service_whose_requirements_conflict_name_it_and_the_pins(tmp_path, monkeypatch):
    from osa_aio import repo_build
    from osa_aio.repo_build import RequirementsConflict, WheelsBuilt
    from osa_aio.steps import INSTALLER_VERSION
    from tests.fakes import FakeRunner

    monkeypatch.setattr(repo_build, "WHEEL_CACHE", tmp_path / "wheels")
    monkeypatch.setattr(repo_build, "BUILD_VENV", tmp_path / "venv")
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "osa-aio.ready").write_text(INSTALLER_VERSION)  # made by an earlier run
    uv_says = ("error: No solution found when resolving dependencies\n"
               "  cause: Because openstack-heat>=27.0.1 depends on oslo-versionedobjects>=3.12.0 and "
               "oslo-versionedobjects==3.11.0, we can conclude that openstack-heat>=27.0.1 cannot be used.\n"
               "         And because you require openstack-heat==27.0.1, we can conclude that your requirements "
               "are unsatisfiable.\n")
    runner = FakeRunner({(str(tmp_path / "venv" / "bin" / "uv"), "pip", "compile"): (1, uv_says)})
    step = WheelsBuilt("heat", ("openstack-heat==27.0.1",), runner=runner)
    assert step.check() == "not built"
    import pytest
    with pytest.raises(RequirementsConflict) as caught:
        step.apply()
    message = str(caught.value)
    assert "heat's requirements (openstack-heat==27.0.1) conflict with the upper-constraints: Because " in message
    assert "openstack-heat>=27.0.1 depends on oslo-versionedobjects>=3.12.0 and oslo-versionedobjects==3.11.0" \
        in message and "\n" not in message.split(": ", 1)[1]
    assert not list((tmp_path / "wheels").glob("*"))  # nothing half-built is left


def test_the_best_wheel_for_the_containers_is_picked_else_the_sdist_is_built():
    from osa_aio.repo_build import picks, wheel_rank
    tags = {tag: rank for rank, tag in enumerate(["cp311-cp311-manylinux_2_17_x86_64", "cp311-abi3-manylinux_2_17_x86_64",
                                                  "py3-none-manylinux_2_17_x86_64", "py3-none-any"])}
    assert wheel_rank("cffi-2.1.1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", tags) == 0
    assert wheel_rank("cffi-2.1.1-cp312-cp312-manylinux_2_17_x86_64.whl", tags) is None
    assert wheel_rank("x-1-1build-py2.py3-none-any.whl", tags) == 3
    lock = {"packages": [
        {"name": "cn", "version": "3.5.0", "wheels": [
            {"url": "https://f/cn-3.5.0-py3-none-any.whl", "hashes": {"sha256": "b"}},
            {"url": "https://f/cn-3.5.0-cp311-cp311-manylinux_2_17_x86_64.whl", "hashes": {"sha256": "a"}},
            {"url": "https://f/cn-3.5.0-cp311-cp311-win_amd64.whl", "hashes": {"sha256": "c"}}]},
        {"name": "simplegeneric", "version": "0.8.1", "sdist": {"url": "https://f/simplegeneric-0.8.1.zip"}}]}
    chosen = picks(lock, tags)
    assert [(p.name, p.sha256) for p in chosen] == [("cn", "a"), ("simplegeneric", None)]
    assert chosen[0].url.endswith("cp311-cp311-manylinux_2_17_x86_64.whl") and chosen[1].url is None


def test_container_types_with_the_same_packages_share_one_image():
    from osa_aio.deploy import type_images
    from osa_aio.roles import ROLES

    # The API services with no packages of their own (neutron's differ).
    api_types = [role.container_type for role in ROLES.values()
                 if role.dev is not None and role.packages == ROLES["keystone"].packages]
    steps = type_images([*api_types, "galera_container", "repo_container"])
    assert len({id(steps[t]) for t in api_types}) == 1  # keystone, glance, placement: one image
    assert steps["galera_container"] is not steps[api_types[0]]
    assert steps[api_types[0]].container_types == tuple(api_types)
    assert "galera-4" in steps["galera_container"].packages


def test_raised_pins_replace_the_shipped_ones_each_for_a_release_a_role_installs():
    from osa_aio.repo_build import SHIPPED_CONSTRAINTS, canonical, constraints_text, raised_pins
    from osa_aio.roles import wheel_sets

    def pins(text):
        return {canonical(line.split("===")[0]): line.split("===")[1] for line in text.splitlines() if "===" in line}

    shipped, merged = pins(SHIPPED_CONSTRAINTS.read_text()), pins(constraints_text())
    installed = {package for packages in wheel_sets().values() for package in packages}
    raised = raised_pins()
    assert raised
    for pin in raised:
        # The shipped file still pins what the entry replaces (else the entry is stale: drop it).
        assert shipped[canonical(pin.name)] == pin.replaces, pin
        assert merged[canonical(pin.name)] == pin.version
        assert pin.needed_by in installed, f"{pin.needed_by} is no role's release"
    others = set(shipped) - {canonical(pin.name) for pin in raised}
    assert {name: merged[name] for name in others} == {name: shipped[name] for name in others}


def test_a_raised_pin_without_its_release_is_an_error_naming_the_file(tmp_path):
    import pytest
    from osa_aio.errors import ConfigError
    from osa_aio.repo_build import raised_pins

    path = tmp_path / "raised-pins.yml"
    path.write_text("- pin: horizon===27.0.0\n  replaces: '26.0.0'\n")
    with pytest.raises(ConfigError) as caught:
        raised_pins(path)
    assert str(path) in str(caught.value) and "needed_by" in str(caught.value)
