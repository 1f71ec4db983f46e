import pytest
from click.testing import CliRunner

from osa_aio import devstate
from osa_aio.cli import cli
from osa_aio.containers import container_spec, lxc_config_items
from osa_aio.dev import checkout_problem, dev_role
from osa_aio.devstate import DevCheckout
from osa_aio.errors import UnknownTarget
from osa_aio.inventory.generate import build_inventory


def make_checkout(root, name="keystone", cfg_name=None):
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    (root / "setup.cfg").write_text(f"[metadata]\nname = {cfg_name or name}\n")
    return root


def test_a_checkout_is_recognised_and_bad_paths_are_named(tmp_path):
    good = make_checkout(tmp_path / "src")
    assert checkout_problem(good, "keystone") is None
    assert checkout_problem(tmp_path / "missing", "keystone") == "does not exist"
    (tmp_path / "file").write_text("x")
    assert checkout_problem(tmp_path / "file", "keystone") == "is not a directory"
    other = make_checkout(tmp_path / "nova-src", name="nova")
    assert checkout_problem(other, "keystone").startswith("is not a checkout of keystone")
    spaced = make_checkout(tmp_path / "my src")
    assert "white space" in checkout_problem(spaced, "keystone")


def test_only_services_with_a_dev_mode_are_accepted():
    assert dev_role("keystone").dev.distribution == "keystone"
    assert (dev_role("placement").dev.distribution, dev_role("placement").dev.module) == ("openstack-placement",
                                                                                         "placement")
    with pytest.raises(UnknownTarget, match="unknown service 'keystorne'"):
        dev_role("keystorne")
    with pytest.raises(UnknownTarget, match="galera has no dev mode"):
        dev_role("galera")


def test_dev_state_round_trip_and_mounts(tmp_path):
    path = tmp_path / "dev.json"
    checkouts = {"keystone": DevCheckout("keystone", "aio1-keystone-container-1", "/src/keystone")}
    devstate.save(checkouts, path)
    assert devstate.load(path) == checkouts
    assert devstate.mounts_for("aio1-keystone-container-1", checkouts) == (("/src/keystone", "opt/dev/keystone"),)
    assert devstate.mounts_for("other", checkouts) == ()
    assert devstate.load(tmp_path / "absent.json") == {}


def test_a_dev_mount_changes_the_container_config(load):
    inv, _ = build_inventory(load(), None)
    name = inv["keystone_container"]["hosts"][0]
    plain = container_spec(inv, name)
    with_dev = container_spec(inv, name, (("/src/keystone", "opt/dev/keystone"),))
    assert plain.digest() != with_dev.digest()
    assert ("lxc.mount.entry", "/src/keystone opt/dev/keystone none bind,create=dir 0 0") in lxc_config_items(with_dev)


@pytest.mark.parametrize("args, expected", [
    (["dev", "keystone", "--source", "/nonexistent/src"], "--source: /nonexistent/src does not exist"),
    (["dev", "no-such-service", "--source", "/tmp"], "SERVICE: unknown service 'no-such-service'"),
    (["dev", "keystone"], "give one of --source PATH, --restart, --foreground or --off"),
])
def test_dev_bad_input_is_one_line_and_exit_2(args, expected, config_dir, monkeypatch, tmp_path):
    state = tmp_path / "dev.json"
    monkeypatch.setattr(devstate, "DEV_STATE", state)
    result = CliRunner().invoke(cli, [*args, "--config-dir", str(config_dir)])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert expected in result.stderr
    assert not state.exists()


def test_the_foreground_log_leaves_out_haproxys_health_checks():
    import re

    from osa_aio.roles import ROLES

    for service in [name for name, role in ROLES.items() if role.dev is not None]:
        role = dev_role(service)
        argv = role.dev.foreground(None, "aio1-x-container-00000000")
        drain = re.compile(argv[argv.index("--log-drain") + 1])
        check = next(service.check[1] for service in role.haproxy)  # "http-check send meth GET uri ..."
        uri = check.split(" uri ")[1]
        line = f"[pid: 1|app: 0|req: 1/1] 172.29.236.100 () {{28 vars}} [Wed Dec  2] GET {uri} => generated 2 bytes"
        assert drain.search(line), service
        health = uri.split("?")[0]
        assert uri.endswith("from=haproxy")
        assert not drain.search(line.replace(f"GET {uri} ", f"GET {health} ")), service  # a person's own request
        assert not drain.search(line.replace(f"GET {uri} ", "GET /v2/images ")), service
        assert argv[argv.index("--logto") + 1] == "/dev/stdout"
