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
    monkeypatch.setattr(image, "current_base", lambda: None)
    assert image.BaseImageBuilt(recipe).check() == "absent"
    monkeypatch.setattr(image, "current_base", lambda: {"name": "osa-aio-base-x-1", "digest": recipe.digest()})
    assert image.BaseImageBuilt(recipe).check() is None
    assert image.BaseImageBuilt(recipe, rebuild=True).check() == "rebuild asked (--rebuild-image)"
    monkeypatch.setattr(image, "current_base", lambda: {"name": "osa-aio-base-x-1", "digest": "older"})
    assert image.BaseImageBuilt(recipe).check() == "its recipe changed"
