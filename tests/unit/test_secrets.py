import stat

from osa_aio.secrets import SECRET_LENGTH, Secret, fill_secrets, load_secrets, new_secret_value

SECRETS = """---
# a comment that must survive
galera_root_password:
keystone_auth_admin_password: ""
kept_password: my-own-value  # set by the user
rabbitmq_cookie_token: ~
"""


def test_fill_fills_only_empty_values_keeps_comments_and_mode(tmp_path):
    path = tmp_path / "user_secrets.yml"
    path.write_text(SECRETS)
    path.chmod(0o644)
    filled = fill_secrets(path)
    assert sorted(filled) == ["galera_root_password", "keystone_auth_admin_password", "rabbitmq_cookie_token"]
    values = load_secrets(path)
    assert values["kept_password"].reveal() == "my-own-value"
    for key in filled:
        assert len(values[key].reveal()) >= 32
    assert len({values[key].reveal() for key in filled}) == 3
    text = path.read_text()
    assert "# a comment that must survive" in text and "# set by the user" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_filled_values_never_change(tmp_path):
    path = tmp_path / "user_secrets.yml"
    path.write_text(SECRETS)
    fill_secrets(path)
    before = path.read_text()
    assert fill_secrets(path) == []
    assert path.read_text() == before


def test_new_values_are_strong_strings():
    values = {new_secret_value() for _ in range(200)}
    assert len(values) == 200
    for value in values:
        assert len(value) == SECRET_LENGTH >= 32
        assert value.isalnum() and value[0].isalpha()


def test_secret_never_prints_its_value():
    secret = Secret("hunter2-very-secret")
    assert str(secret) == "***"
    assert repr(secret) == "Secret('***')"
    assert "hunter2" not in f"{secret} {secret!r} {[secret]} {dict(a=secret)}"
    assert secret.reveal() == "hunter2-very-secret"


def test_secrets_the_services_use_that_the_file_lacks_are_added_and_filled(tmp_path):
    from osa_aio.roles import used_secrets

    path = tmp_path / "user_secrets.yml"
    path.write_text("# mine\nkeystone_auth_admin_password: kept-value\n")
    filled = fill_secrets(path, used_secrets())
    assert "keystone_auth_admin_password" not in filled and "glance_service_password" in filled
    found = load_secrets(path)
    assert set(found) == set(used_secrets()) and all(found.values())
    assert found["keystone_auth_admin_password"].reveal() == "kept-value"
    assert path.read_text().startswith("# mine\nkeystone_auth_admin_password: kept-value\n")
    assert fill_secrets(path, used_secrets()) == []
