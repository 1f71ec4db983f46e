"""Heat and horizon, for real: a stack's lifecycle through the VIP, heat with one container
stopped, its stack domain, `osa-aio dev heat` (API and engine on the checkout); the dashboard in a
real headless browser (login, Images, Stacks, logout, a wrong password), with screenshots;
`osa-aio logs` reading both heat containers; a rebuild of one container of each."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from osa_aio.haproxy import ServerUp, admin_command, server_states
from osa_aio.roles import ROLES, heat, horizon
from osa_aio.transport import LxcAttachRunner
from tests.checkouts import sdist_checkout
from tests.integration.conftest import EXTERNAL_VIP, IMAGE, VIP, admin_password, openstack, output_dir

STACK = "osa-aio-test-stack"
TEMPLATE = """\
heat_template_version: 2021-04-16
description: Needs no other service than heat.
parameters:
  length: {type: number, default: 24}
resources:
  secret:
    type: OS::Heat::RandomString
    properties: {length: {get_param: length}}
  greeting:
    type: OS::Heat::Value
    properties:
      value: {str_replace: {template: "hello $who", params: {$who: osa-aio}}}
outputs:
  greeting: {value: {get_attr: [greeting, value]}}
  secret: {value: {get_attr: [secret, value]}}
"""


def members(aio, service: str) -> list[str]:
    return sorted(n for n in aio.containers() if f"-{ROLES[service].container_type.replace('_', '-')}-" in n)


def create_stack(utility, name: str) -> dict:
    utility.run(["sh", "-c", 'cat > /root/osa-aio-stack.yaml'], stdin=TEMPLATE)
    out = openstack(utility, "stack", "create", "-t", "/root/osa-aio-stack.yaml", "--wait", name, "-f", "json").stdout
    return json.loads(out[re.search(r"^\{", out, re.M).start():])  # --wait prints the stack's events first


def delete_stack(utility, name: str) -> None:
    openstack(utility, "stack", "delete", "--yes", "--wait", name)
    assert name not in {s["Stack Name"] for s in json.loads(openstack(utility, "stack", "list", "-f", "json").stdout)}


def delete_test_stacks(utility) -> None:
    """Every stack these tests make (and a run cut short left behind)."""
    for listed in json.loads(openstack(utility, "stack", "list", "-f", "json").stdout):
        if listed["Stack Name"].startswith("osa-aio-"):
            openstack(utility, "stack", "delete", "--yes", "--wait", listed["Stack Name"], check=False)


@pytest.fixture(scope="module", autouse=True)
def no_test_stacks_left(aio):
    utility = LxcAttachRunner(next(n for n in aio.containers() if "-utility-" in n))
    delete_test_stacks(utility)
    yield
    delete_test_stacks(utility)


@pytest.fixture(scope="module")
def stack(aio):
    """A stack made through the VIP (listed in the dashboard's Stacks panel), deleted at the end."""
    utility = LxcAttachRunner(next(n for n in aio.containers() if "-utility-" in n))
    created = create_stack(utility, STACK)
    yield created
    openstack(utility, "stack", "delete", "--yes", "--wait", STACK, check=False)


def test_a_stack_is_created_its_outputs_read_and_it_is_deleted(utility):
    created = create_stack(utility, "osa-aio-lifecycle")
    assert created["stack_status"] == "CREATE_COMPLETE", created
    greeting = json.loads(openstack(utility, "stack", "output", "show", "osa-aio-lifecycle", "greeting",
                                    "-f", "json").stdout)
    assert greeting["output_value"] == "hello osa-aio"
    secret = json.loads(openstack(utility, "stack", "output", "show", "osa-aio-lifecycle", "secret",
                                  "-f", "json").stdout)
    assert len(secret["output_value"]) == 24
    delete_stack(utility, "osa-aio-lifecycle")


def test_heat_has_its_stack_domain_admin_and_roles(aio, utility):
    domain = json.loads(openstack(utility, "domain", "show", heat.STACK_DOMAIN, "-f", "json").stdout)
    assert domain["enabled"]
    assignments = json.loads(openstack(utility, "role", "assignment", "list", "--user", heat.STACK_DOMAIN_ADMIN,
                                       "--user-domain", heat.STACK_DOMAIN, "--domain", heat.STACK_DOMAIN, "--names",
                                       "-f", "json").stdout)
    assert [a["Role"] for a in assignments] == ["admin"]
    roles = {r["Name"] for r in json.loads(openstack(utility, "role", "list", "-f", "json").stdout)}
    assert {"heat_stack_owner", "heat_stack_user"} <= roles
    engines = json.loads(openstack(utility, "orchestration", "service", "list", "-f", "json").stdout)
    assert {(s["Binary"], s["Host"]) for s in engines if s["Status"] == "up"} == \
        {("heat-engine", name) for name in members(aio, "heat")}  # one engine up in each container


def test_a_stack_creates_through_the_vip_with_one_heat_container_stopped(aio, utility):
    stopped = members(aio, "heat")[0]
    container = LxcAttachRunner(stopped).container
    assert container.stop()
    try:
        created = create_stack(utility, "osa-aio-one-down")
        assert created["stack_status"] == "CREATE_COMPLETE", created
        delete_stack(utility, "osa-aio-one-down")
    finally:
        assert container.start() and container.wait("RUNNING", 60)
        for app in heat.SPEC.apps:
            ServerUp(app.name, stopped, wait=180).apply()


def test_dashboard_in_a_real_browser(aio, image, stack):
    from tests.browser import Browser  # noqa: PLC0415 - selenium only for this test

    shots = output_dir() / "dashboard"
    with Browser(shots, EXTERNAL_VIP) as browser:
        assert "/auth/login/" in browser.open(f"http://{EXTERNAL_VIP}/").url
        browser.check_page("01-login")
        browser.log_in("admin", "not-the-password")
        error = browser.check_page("02-wrong-password")
        assert "/auth/login/" in browser.url and "Invalid credentials." in error.text, error.text
        assert browser.alerts() == ["Invalid credentials."]
        browser.log_in("admin", admin_password(aio))
        assert "/auth/login/" not in browser.url
        browser.check_page("03-logged-in")
        browser.open(f"http://{EXTERNAL_VIP}/project/images/")
        browser.wait_for_text(IMAGE)
        browser.check_page("04-images")
        browser.open(f"http://{EXTERNAL_VIP}/project/stacks/")
        browser.wait_for_text(STACK)
        browser.check_page("05-stacks")
        browser.log_out()
        assert "/auth/login/" in browser.url
        browser.check_page("06-logged-out")
    assert sorted(p.name for p in shots.glob("*.png")) == [f"{name}.png" for name in (
        "01-login", "02-wrong-password", "03-logged-in", "04-images", "05-stacks", "06-logged-out")]
    print(f"\ndashboard screenshots: {shots}")


def test_both_horizon_containers_serve_the_same_compressed_static_files(aio):
    """A session can move between them: the same SECRET_KEY and the same compressed file names."""
    pages = {}
    for name in members(aio, "horizon"):
        address = aio.containers()[name]
        with urllib.request.urlopen(f"http://{address}{horizon.LOGIN}", timeout=30) as response:
            page = response.read().decode()
        pages[name] = sorted(set(part.split('"')[0] for part in page.split('href="/static/dashboard/css/')[1:]))
        assert pages[name], f"{name}: no compressed stylesheet on the login page"
    assert len({tuple(v) for v in pages.values()}) == 1, pages
    runner = LxcAttachRunner(members(aio, "horizon")[0])
    keys = {LxcAttachRunner(n).run(["grep", "^SECRET_KEY", horizon.SPEC.main_config]).stdout
            for n in members(aio, "horizon")}
    assert len(keys) == 1 and runner.run(["stat", "-c", "%U", horizon.STATIC]).stdout.strip() == "horizon"


@pytest.fixture(scope="module")
def heat_checkout(tmp_path_factory):
    return sdist_checkout("openstack-heat", heat.SPEC.version, tmp_path_factory.mktemp("heat-src"))


def api_mark() -> object:
    try:
        with urllib.request.urlopen(f"http://{VIP}:8004/", timeout=10) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:  # 300 Multiple Choices
        body = exc.read()
    return json.loads(body).get("osa_aio_dev")


def engine_marks(utility, count: int) -> list[bool]:
    found = []
    for _ in range(count):
        versions = json.loads(openstack(utility, "orchestration", "template", "version", "list", "-f", "json").stdout)
        found.append("osa-aio-dev" in {v["Version"] for v in versions})
    return found


def test_dev_heat_runs_api_and_engine_on_the_checkout_then_off(aio, utility, heat_checkout):
    versions = heat_checkout / "heat" / "api" / "versions.py"
    versions.write_text(versions.read_text().replace("dict(versions=version_objs)",
                                                     "dict(versions=version_objs, osa_aio_dev=1)"))
    service = heat_checkout / "heat" / "engine" / "service.py"
    text = service.read_text()
    anchor = "        return versions\n\n    def list_template_functions"
    assert anchor in text
    service.write_text(text.replace(anchor, "        versions.append({'version': 'osa-aio-dev', 'type': 'hot', "
                                            "'aliases': []})\n" + anchor))
    started = time.monotonic()
    try:
        result = aio.osa("dev", "heat", "--source", str(heat_checkout))
        swap = time.monotonic() - started
        assert "its queue's work reaches the dev code" in result.stdout
        dev_container = json.loads(aio.osa("list", "--json").stdout)
        dev_name = next(r["name"] for r in dev_container if r["dev"])
        others = [n for n in members(aio, "heat") if n != dev_name]
        assert [api_mark() for _ in range(6)] == [1] * 6
        assert engine_marks(utility, 4) == [True] * 4  # every engine RPC reaches the checkout
        for other in others:
            assert LxcAttachRunner(other).run(["systemctl", "is-active", "heat-engine"],
                                              check=False).stdout.strip() == "inactive"
    finally:
        aio.osa("dev", "heat", "--off")
    assert [api_mark() for _ in range(4)] == [None] * 4
    assert engine_marks(utility, 2) == [False] * 2
    for other in others:
        assert LxcAttachRunner(other).run(["systemctl", "is-active", "heat-engine"]).stdout.strip() == "active"
    print(f"\nheat dev swap {swap:.1f}s")


def test_logs_of_heat_interleave_both_containers_and_leave_health_checks_out(aio):
    names = members(aio, "heat")
    result = aio.osa("logs", "heat", "--since", "2 hours ago")
    lines = result.stdout.splitlines()
    assert {line.split()[2] for line in lines} == set(names)
    assert {"heat-engine:", "heat-api-uwsgi.log:"} <= {line.split()[3] for line in lines}
    stamps = [" ".join(line.split()[:2]) for line in lines]
    assert stamps == sorted(stamps)
    assert not [line for line in lines if "from=haproxy" in line]
    checks = aio.osa("logs", "heat", "--since", "1 min ago", "--health-checks").stdout
    assert "GET /healthcheck?from=haproxy" in checks
    one = aio.osa("logs", "heat", "--container", names[1], "-n", "5").stdout.splitlines()
    assert len(one) == 5 and {line.split()[2] for line in one} == {names[1]}
    wrong = aio.osa("logs", "heat", "--container", members(aio, "horizon")[0], check=False)
    assert wrong.returncode == 2 and "is not a heat container" in wrong.stderr


def test_logs_follow_prints_a_request_as_it_happens_and_stops_on_ctrl_c(aio):
    follow = subprocess.Popen(aio.command("logs", "heat", "-f", "-n", "0"), stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        time.sleep(3)
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://{VIP}:8004/osa-aio-logs-probe", timeout=10)
        deadline = time.monotonic() + 30
        seen = None
        while time.monotonic() < deadline and seen is None:
            line = follow.stdout.readline()
            if "osa-aio-logs-probe" in line:
                seen = line
        assert seen and seen.split()[2] in members(aio, "heat"), seen
    finally:
        follow.send_signal(signal.SIGINT)
        assert follow.wait(timeout=30) == 0


def test_a_heat_and_a_horizon_container_rebuild_and_serve_again(aio, utility):
    for service in ("heat", "horizon"):
        name = members(aio, service)[-1]
        result = aio.osa("rebuild", name, "--yes")
        assert f"rebuilt {name} in" in result.stdout
        assert [s.status for s in server_states(admin_command("show stat")) if s.server == name] \
            == ["UP"] * len(ROLES[service].haproxy)
    address = aio.containers()[members(aio, "horizon")[-1]]
    with urllib.request.urlopen(f"http://{address}{horizon.LOGIN}", timeout=30) as response:
        assert response.status == 200
    created = create_stack(utility, "osa-aio-after-rebuild")
    assert created["stack_status"] == "CREATE_COMPLETE"
    delete_stack(utility, "osa-aio-after-rebuild")


@pytest.fixture(scope="module")
def horizon_checkout(tmp_path_factory):
    return sdist_checkout("horizon", horizon.SPEC.version, tmp_path_factory.mktemp("horizon-src"))


def login_page() -> str:
    with urllib.request.urlopen(f"http://{VIP}{horizon.LOGIN}", timeout=30) as response:
        return response.read().decode()


def compressed_css(page: str) -> str:
    """The compressed stylesheets a page links, as served through the VIP."""
    text = ""
    for href in sorted(set(part.split('"')[0] for part in page.split('href="/static/dashboard/css/')[1:])):
        with urllib.request.urlopen(f"http://{VIP}/static/dashboard/css/{href}", timeout=30) as response:
            text += response.read().decode()
    return text


def test_dev_horizon_serves_a_checkout_with_its_static_files_then_off(aio, horizon_checkout):
    splash = horizon_checkout / "openstack_dashboard" / "templates" / "auth" / "_splash.html"  # over horizon's
    splash.write_text('<p id="osa-aio-dev">dev checkout</p>\n')
    scss = horizon_checkout / "openstack_dashboard" / "static" / "dashboard" / "scss" / "horizon.scss"
    scss.write_text(scss.read_text() + "\n#osa-aio-dev { color: rgb(1, 2, 3); }\n")
    started = time.monotonic()
    try:
        aio.osa("dev", "horizon", "--source", str(horizon_checkout))
        swap = time.monotonic() - started
        for _ in range(4):  # every request through the VIP: the dev container (the other is drained)
            page = login_page()
            assert 'id="osa-aio-dev"' in page
        assert "#osa-aio-dev" in compressed_css(page)  # collected and compressed from the checkout
    finally:
        aio.osa("dev", "horizon", "--off")
    page = login_page()
    assert 'id="osa-aio-dev"' not in page and "#osa-aio-dev" not in compressed_css(page)
    print(f"\nhorizon dev swap {swap:.1f}s")
