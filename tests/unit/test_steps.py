import hashlib
import os
from pathlib import Path

import pytest

from osa_aio.errors import OsaAioError
from osa_aio.steps import (DAEMON_RELOAD, PENDING_DIR, Directory, FileContent, ServiceRunning, ServiceSteady,
                            VenvSiblings,
                            SystemdReloaded)
from osa_aio.transport.base import put
from tests.fakes import FakeRunner


def fact(content, meta="644:root:root"):
    return (0, f"{hashlib.sha256(content.encode()).hexdigest()}\n{meta}\n")


def test_file_content_decisions():
    assert FileContent(FakeRunner({("sh",): (0, "absent\n")}), "/etc/x", "a").check() == "absent"
    assert FileContent(FakeRunner({("sh",): fact("a")}), "/etc/x", "a").check() is None
    assert FileContent(FakeRunner({("sh",): fact("b")}), "/etc/x", "a").check() == "content differs"
    assert FileContent(FakeRunner({("sh",): fact("a", "600:root:root")}), "/etc/x", "a").check() == \
        "mode/owner 600:root:root"
    assert FileContent(FakeRunner({("sh",): fact("a", "640:root:keystone")}), "/etc/x", "a",
                       mode=0o640, group="keystone").check() is None


def test_put_sends_content_on_stdin_and_renames_into_place():
    runner = FakeRunner({("sh", "-c"): (0, "")})
    put(runner, "/etc/keystone/keystone.conf", "secret-content", mode=0o640, owner="root", group="keystone")
    [argv] = runner.calls  # one command: the temp file is written, chmod-ed, chown-ed and renamed together
    assert argv[:2] == ["sh", "-c"] and argv[4:] == ["/etc/keystone/keystone.conf.osa-aio-tmp", "640",
                                                      "root:keystone", "/etc/keystone/keystone.conf"]
    assert 'mv -f "$1" "$4"' in argv[2]
    assert runner.stdins == ["secret-content"]
    assert "secret-content" not in " ".join(argv)


def test_directory_decisions():
    assert Directory(FakeRunner({("stat",): (1, "")}), "/d").check() == "absent"
    assert Directory(FakeRunner({("stat",): (0, "directory:755:root:root\n")}), "/d").check() is None
    assert Directory(FakeRunner({("stat",): (0, "regular file:644:root:root\n")}), "/d").check() == \
        "is regular file:644:root:root"
    assert Directory(FakeRunner({("stat",): (0, "directory:700:root:root\n")}), "/d", 0o700, "keystone").check() \
        == "is directory:700:root:root"


def test_a_change_records_the_restart_before_the_file_is_written():
    runner = FakeRunner({("sh", "-c"): (0, "")})
    FileContent(runner, "/etc/memcached.conf", "-m 64", notify=("memcached",)).apply()
    mark, write = runner.calls  # exactly these two, in this order
    assert mark[-2:] == [PENDING_DIR, "memcached"] and "touch" in mark[2]
    assert write[-4:] == ["/etc/memcached.conf.osa-aio-tmp", "644", "root:root", "/etc/memcached.conf"]
    assert runner.stdins == [None, "-m 64"]


def service(active="active", enabled="enabled", pending="none"):
    return FakeRunner({("sh", "-c"): (0, f"{active} {enabled} {pending}\n"), ("systemctl", "enable"): (0, ""),
                       ("systemctl", "restart"): (0, ""), ("rm", "-f"): (0, "")})


def test_service_restarts_while_a_restart_is_pending_even_from_an_interrupted_run():
    assert ServiceRunning(service(), "memcached").check() is None
    assert ServiceRunning(service(pending="pending"), "memcached").check() == "its files changed: restart"
    assert ServiceRunning(service("inactive"), "memcached").check() == "is inactive"
    assert ServiceRunning(service(enabled="disabled"), "memcached").check() == "is disabled"
    runner = service(pending="pending")
    ServiceRunning(runner, "memcached").apply()
    assert runner.calls == [["systemctl", "enable", "memcached"], ["systemctl", "restart", "memcached"],
                            ["rm", "-f", f"{PENDING_DIR}/memcached"]]


def test_daemon_reload_follows_the_pending_marker():
    assert SystemdReloaded(FakeRunner({("test",): (1, "")})).check() is None
    runner = FakeRunner({("test",): (0, ""), ("systemctl", "daemon-reload"): (0, ""), ("rm", "-f"): (0, "")})
    assert SystemdReloaded(runner).check() == "unit files changed"
    SystemdReloaded(runner).apply()
    marker = f"{PENDING_DIR}/{DAEMON_RELOAD}"
    assert runner.calls == [["test", "-e", marker], ["systemctl", "daemon-reload"], ["rm", "-f", marker]]


def test_check_mode_diff_masks_every_secret():
    from osa_aio.secrets import Secret
    secret = Secret("db-password-9f2c1")
    runner = FakeRunner({("cat",): (0, "[database]\nconnection = mysql://k:old@vip/k\n[token]\nexpiration = 3600\n")})
    step = FileContent(runner, "/etc/keystone/keystone.conf",
                       f"[database]\nconnection = mysql://k:{secret.reveal()}@vip/k\n[token]\nexpiration = 7200\n")
    diff = step.diff()
    assert "-expiration = 3600" in diff and "+expiration = 7200" in diff
    assert "+connection = mysql://k:***@vip/k" in diff and secret.reveal() not in diff


def steady(states):
    """A FakeRunner whose `systemctl show` answers the next of ``states`` each time."""
    answers = iter(states)

    def show(argv, stdin):
        active, since, restarts = next(answers)
        return 0, (f"NRestarts={restarts}\nActiveState={active}\nActiveEnterTimestamp=@{1000 - since}\n"
                   "Now=@1000\n")
    return FakeRunner({("sh", "-c"): show, ("journalctl",): (0, "starting\nCRITICAL heat-engine [-] misconfigured\n")},
                      name="c1")


def test_service_steady_reads_how_long_a_daemon_has_been_up():
    assert ServiceSteady(steady([("active", 30, 0)]), "heat-engine").check() is None
    assert ServiceSteady(steady([("active", 1, 0)]), "heat-engine").check() == "has been up 1s"
    assert ServiceSteady(steady([("activating", 0, 3)]), "heat-engine").check() == "is activating"


def test_service_steady_fails_at_the_first_restart_with_the_daemons_last_error(monkeypatch):
    monkeypatch.setattr("osa_aio.steps.time.sleep", lambda _: None)
    runner = steady([("active", 1, 4), ("active", 2, 4), ("activating", 0, 5)])
    with pytest.raises(OsaAioError, match=r"heat-engine does not stay up \(is activating, restarted 1 times\): "
                                          r"CRITICAL heat-engine \[-\] misconfigured"):
        ServiceSteady(runner, "heat-engine").apply()
    ServiceSteady(steady([("active", 1, 0), ("active", 9, 0)]), "heat-engine").apply()


def on_host(root):
    """Containers' /openstack under ``root``, as osa_aio.containers.host_path has them under /openstack."""
    return lambda name, path: root / name / Path(path).relative_to("/openstack")


def finished_venv(root, name, digest, build="heat-abc-1"):
    venvs = root / name / "venvs"
    (venvs / build / "bin").mkdir(parents=True)
    (venvs / build / "bin" / "heat-engine").write_text(f"#!/openstack/venvs/{build}/bin/python\n")
    (venvs / build / "osa-aio-venv.digest").write_text(digest + "\n")
    (venvs / "heat").symlink_to(build)


def test_venv_siblings_copy_a_finished_venv_and_keep_its_folder_name(tmp_path):
    finished_venv(tmp_path, "c1", "d1")
    siblings = VenvSiblings(me="c2", builder="c1", sources=("c1", "c2"), host_path=on_host(tmp_path))
    assert siblings.copy("/openstack/venvs/heat", "d1") == "/openstack/venvs/heat-abc-1"
    copied = tmp_path / "c2" / "venvs" / "heat-abc-1"
    assert (copied / "bin" / "heat-engine").read_text() == "#!/openstack/venvs/heat-abc-1/bin/python\n"
    # Linked, not copied: the two containers share the files.
    source = tmp_path / "c1" / "venvs" / "heat-abc-1" / "bin" / "heat-engine"
    assert (copied / "bin" / "heat-engine").stat().st_ino == source.stat().st_ino
    assert not list((tmp_path / "c2" / "venvs").glob("*.copying"))
    # The folder is there already (it may run): install afresh rather than replace it.
    assert siblings.copy("/openstack/venvs/heat", "d1") is None


def test_venv_siblings_build_when_no_sibling_has_it(tmp_path, monkeypatch):
    finished_venv(tmp_path, "c1", "old-digest")
    builder = VenvSiblings("c1", "c1", ("c1", "c2"), host_path=on_host(tmp_path))
    assert builder.copy("/openstack/venvs/heat", "d1") is None
    # Not the builder, and the builder builds nothing: it stops waiting after start_wait.
    monkeypatch.setattr("osa_aio.steps.time.sleep", lambda _: None)
    waiting = VenvSiblings("c2", "c1", ("c1", "c2"), host_path=on_host(tmp_path), start_wait=0)
    assert waiting.copy("/openstack/venvs/heat", "d1") is None
    # A dev checkout's container is no source, even with the right digest.
    finished_venv(tmp_path, "c3", "d1")
    alone = VenvSiblings("c2", "c2", ("c1", "c2"), host_path=on_host(tmp_path))
    assert alone.copy("/openstack/venvs/heat", "d1") is None


@pytest.fixture
def repo_listing(tmp_path):
    """A folder served over HTTP on loopback, listed as the repo's nginx lists it (href="name")."""
    import functools
    import http.server
    import threading
    served = tmp_path / "repo"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_the_installer_is_the_binary_in_the_repos_uv_wheel(repo_listing, tmp_path):
    import zipfile
    from osa_aio.steps import _FETCH_INSTALLER, INSTALLER_VERSION
    from osa_aio.transport import LocalRunner
    served, url = repo_listing
    for version, body in ((INSTALLER_VERSION, b"#!/bin/sh\necho uv\n"), ("0.0.1", b"old")):
        with zipfile.ZipFile(served / f"uv-{version}-py3-none-manylinux_2_17_x86_64.whl", "w") as wheel:
            wheel.writestr(f"uv-{version}.data/scripts/uv", body)
            wheel.writestr(f"uv-{version}.dist-info/METADATA", "Name: uv\n")
    target = tmp_path / "uv"
    LocalRunner().run(["python3", "-c", _FETCH_INSTALLER, url, INSTALLER_VERSION, str(target)])
    assert target.read_bytes() == b"#!/bin/sh\necho uv\n" and os.access(target, os.X_OK)
    assert not list(tmp_path.glob("uv.new"))
    failed = LocalRunner().run(["python3", "-c", _FETCH_INSTALLER, url, "9.9.9", str(tmp_path / "none")], check=False)
    assert failed.rc != 0 and "no uv-9.9.9 wheel" in failed.stderr and not (tmp_path / "none").exists()


def test_installer_present_reads_its_version():
    from osa_aio.steps import INSTALLER, INSTALLER_VERSION, InstallerPresent
    assert InstallerPresent(FakeRunner({(INSTALLER,): (127, "")}), "http://r/").check() == "absent"
    assert InstallerPresent(FakeRunner({(INSTALLER,): (0, f"uv {INSTALLER_VERSION}\n")}), "http://r/").check() is None
    assert InstallerPresent(FakeRunner({(INSTALLER,): (0, "uv 0.0.1\n")}), "http://r/").check() == "is uv 0.0.1"


def test_a_venv_is_installed_by_uv_from_the_repo_alone_and_compiled():
    from osa_aio.steps import INSTALLER, PythonVenv
    runner = FakeRunner(default=(0, ""))
    PythonVenv(runner, "/openstack/venvs/heat", ("openstack-heat==27.0.1",), "http://vip:8181/",
               "http://vip:8181/upper-constraints.txt").apply()
    [install] = [argv for argv in runner.calls if argv[0] == INSTALLER]
    assert install[1:3] == ["pip", "install"] and install[-1] == "openstack-heat==27.0.1"
    for flag in ("--no-index", "--compile-bytecode", "--no-config"):
        assert flag in install
    assert install[install.index("--find-links") + 1] == "http://vip:8181/"
    assert install[install.index("--python") + 1].startswith("/openstack/venvs/heat-")


def test_a_fetched_wheel_is_kept_once_checked_and_linked_into_each_set(repo_listing, tmp_path):
    from osa_aio.repo_build import Pick, fetch
    served, url = repo_listing
    (served / "a-1-py3-none-any.whl").write_bytes(b"wheel")
    good = Pick("a", "1", url + "a-1-py3-none-any.whl", hashlib.sha256(b"wheel").hexdigest())
    pool, one, two = tmp_path / "pool", tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    fetch(good, pool, one)
    (served / "a-1-py3-none-any.whl").unlink()  # the second set takes it from the pool
    fetch(good, pool, two)
    assert (two / "a-1-py3-none-any.whl").read_bytes() == b"wheel"
    assert (one / "a-1-py3-none-any.whl").stat().st_ino == (pool / "a-1-py3-none-any.whl").stat().st_ino
    (served / "b-1-py3-none-any.whl").write_bytes(b"tampered")
    with pytest.raises(OsaAioError, match="does not match the sha256"):
        fetch(Pick("b", "1", url + "b-1-py3-none-any.whl", hashlib.sha256(b"wheel").hexdigest()), pool, one)
    assert sorted(p.name for p in pool.iterdir()) == ["a-1-py3-none-any.whl"]
