from osa_aio.ini import TOP, merge, parse

CONF = """# Written by osa-aio.
[DEFAULT]
# the log
debug = false

[token]
expiration = 3600
provider = fernet

[cache]
enabled = true
"""


def test_keys_are_replaced_added_and_removed_and_comments_stay():
    merged = merge(CONF, {"DEFAULT": {"debug": True, "log_dir": "/var/log/keystone"},
                          "token": {"expiration": 7200, "provider": None},
                          "oslo_policy": {"enforce_scope": False}})
    assert merged == """# Written by osa-aio.
[DEFAULT]
# the log
debug = true
log_dir = /var/log/keystone

[token]
expiration = 7200

[cache]
enabled = true

[oslo_policy]
enforce_scope = false
"""
    assert parse(merged)["token"] == {"expiration": "7200"}


def test_no_overrides_change_nothing_and_removing_a_missing_key_is_a_no_op():
    assert merge(CONF, {}) == CONF
    assert merge(CONF, {"token": {"absent": None}, "nosection": {"x": None}}) == CONF


def test_files_without_sections_and_lists():
    text = "listeners.tcp.default = 10.0.0.1:5672\nloopback_users = none\n"
    merged = merge(text, {TOP: {"loopback_users": None, "vm_memory_high_watermark.relative": 0.6}})
    assert merged == "listeners.tcp.default = 10.0.0.1:5672\nvm_memory_high_watermark.relative = 0.6\n"
    assert merge("[a]\n", {"a": {"hosts": ["h1", "h2"]}}) == "[a]\nhosts = h1,h2\n"


def test_duplicate_keys_collapse_to_the_override():
    assert merge("[a]\nk = 1\nk = 2\n", {"a": {"k": 3}}) == "[a]\nk = 3\n"
