import shutil
import subprocess

import pytest

from osa_aio.haproxy import render_haproxy_cfg, server_states
from osa_aio.inventory.generate import build_inventory
from osa_aio.roles import haproxy_services


def config_text(load):
    config = load()
    inv, _ = build_inventory(config, None)
    return inv, render_haproxy_cfg(inv, list(haproxy_services()), config.internal_vip, config.external_vip)


def test_frontends_on_the_vips_and_galera_active_backup(load):
    inv, text = config_text(load)
    galera = sorted(inv["galera"]["hosts"])
    hostvars = inv["_meta"]["hostvars"]
    assert f"server {galera[0]} {hostvars[galera[0]]['management_address']}:3306 check port 9200\n" in text
    for name in galera[1:]:
        assert f"server {name} {hostvars[name]['management_address']}:3306 check port 9200 backup\n" in text
    assert "bind 172.29.236.101:5000\n    bind 192.0.2.2:5000\n" in text  # keystone: internal and external
    assert "bind 172.29.236.101:3306\n    mode tcp" in text and "bind 192.0.2.2:3306" not in text
    assert "bind 172.29.236.101:8181" in text
    assert "http-check send meth GET uri /healthcheck" in text
    assert "bind 127.0.0.1:1936" in text and "stats socket /run/haproxy/admin.sock mode 600 level admin" in text
    assert "retries 3" in text and "option redispatch" in text


def test_rendering_is_deterministic(load):
    assert config_text(load)[1] == config_text(load)[1]


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed here")
def test_haproxy_accepts_the_generated_config(load, tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(config_text(load)[1])
    result = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


STAT = """# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck
keystone_front,FRONTEND,,,0,1,4096,3,0,0,0,0,0,,,,,OPEN,,,
keystone_back,aio1-keystone-container-1,0,0,0,1,,2,0,0,,0,,0,0,0,0,UP,1,1,0
keystone_back,aio1-keystone-container-2,0,0,0,1,,1,0,0,,0,,0,0,0,0,DOWN,1,1,0
keystone_back,BACKEND,0,0,0,1,410,3,0,0,0,0,,0,0,0,0,UP,1,1,0
galera_back,aio1-galera-container-2,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,0,1
stats,FRONTEND,,,1,1,4096,1,0,0,0,0,0,,,,,OPEN,,,
"""


def test_server_states_parses_show_stat():
    states = server_states(STAT)
    assert states[0].sessions == 0 and not states[0].admin_down
    assert [(s.backend, s.server, s.status, s.backup) for s in states] == [
        ("keystone", "aio1-keystone-container-1", "UP", False),
        ("keystone", "aio1-keystone-container-2", "DOWN", False),
        ("galera", "aio1-galera-container-2", "UP", True),
    ]


def test_uwsgi_servers_take_as_many_requests_as_their_workers(load, config_dir):
    from osa_aio.roles import haproxy_services
    from tests.conftest import edit_yaml

    edit_yaml(config_dir / "user_variables.yml", lambda d: d.update(glance_processes=3))
    config = load()
    services = {s.name: s for s in haproxy_services(config.user_variables)}
    assert (services["keystone"].maxconn, services["glance-api"].maxconn, services["galera"].maxconn) == (2, 3, None)
    inv, _ = build_inventory(config, None)
    text = render_haproxy_cfg(inv, list(services.values()), config.internal_vip, config.external_vip)
    keystone = text.split("backend keystone_back", 1)[1].split("\nfrontend ", 1)[0]
    assert "timeout queue 30s" in keystone and "maxconn 2" in keystone.split("default-server", 1)[1].splitlines()[0]
    assert "maxconn" not in text.split("backend galera_back", 1)[1].split("\nfrontend ", 1)[0]
