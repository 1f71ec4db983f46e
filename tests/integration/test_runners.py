"""The runners for real: python-lxc attach into a container, the lxc-attach command through a host
runner (how a remote host's containers are reached), paramiko SSH to an sshd on loopback."""

import socket
import subprocess
import time
from pathlib import Path

import pytest

from osa_aio.errors import CommandFailed, ContainerError, HostError
from osa_aio.secrets import Secret
from osa_aio.transport import LocalRunner, LxcAttachRunner, LxcCommandRunner, SshRunner, put

# The two ways into a container: python-lxc here, the lxc-attach command through a host's runner.
INTO = {"python-lxc": LxcAttachRunner, "lxc-attach command": lambda name: LxcCommandRunner(LocalRunner(), name)}


@pytest.fixture(params=list(INTO))
def utility(aio, request):
    return INTO[request.param](next(n for n in aio.containers() if "-utility-" in n))


def test_lxc_runner_captures_output_and_real_exit_codes(utility):
    result = utility.run(["sh", "-c", "echo hello; echo oops >&2; exit 3"], check=False)
    assert (result.rc, result.stdout, result.stderr) == (3, "hello\n", "oops\n")
    assert utility.run(["cat"], stdin="from stdin\n").stdout == "from stdin\n"
    assert utility.run(["sh", "-c", "echo $FOO:$HOME"], env={"FOO": "bar"}).stdout == "bar:/root\n"


def test_lxc_runner_failure_names_container_command_and_hides_secrets(utility):
    with pytest.raises(CommandFailed) as err:
        utility.run(["sh", "-c", "echo last words >&2; exit 5", Secret("s3cr3t-value")])
    message = str(err.value)
    assert utility.name in message and "exited 5" in message and "last words" in message
    assert "s3cr3t-value" not in message and "***" in message


def test_lxc_runner_timeout(utility):
    started = time.monotonic()
    with pytest.raises(CommandFailed, match="exited 124"):
        utility.run(["sleep", "30"], timeout=1)
    assert time.monotonic() - started < 10


def test_put_writes_content_mode_and_owner(utility):
    put(utility, "/tmp/osa-aio-put-test", "line one\nline two\n", mode=0o640, owner="root", group="adm")
    assert utility.run(["cat", "/tmp/osa-aio-put-test"]).stdout == "line one\nline two\n"
    assert utility.run(["stat", "-c", "%a:%U:%G", "/tmp/osa-aio-put-test"]).stdout.strip() == "640:root:adm"
    utility.run(["rm", "/tmp/osa-aio-put-test"])


@pytest.mark.parametrize("into", list(INTO))
def test_lxc_runner_refuses_a_stopped_container(into):
    with pytest.raises(ContainerError, match="not running"):
        INTO[into]("osa-aio-no-such-container").run(["true"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sshd(tmp_path):
    """An sshd on 127.0.0.1 that only this test's key may log in to, stopped afterwards."""
    if not Path("/usr/sbin/sshd").exists():
        pytest.skip("openssh-server is not installed (scripts/run-tests.sh installs it)")
    host_key = tmp_path / "host_key"
    client_key = tmp_path / "client_key"
    for key in (host_key, client_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (tmp_path / "authorized_keys").write_text((tmp_path / "client_key.pub").read_text())
    port = free_port()
    config = tmp_path / "sshd_config"
    config.write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
AuthorizedKeysFile {tmp_path}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile {tmp_path}/sshd.pid
""")
    Path("/run/sshd").mkdir(exist_ok=True)
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {(tmp_path / 'host_key.pub').read_text().rsplit(' ', 1)[0]}\n")
    yield {"port": port, "key": str(client_key), "dir": tmp_path, "known_hosts": str(known_hosts)}
    proc.terminate()
    proc.wait(timeout=10)


def test_ssh_runner_runs_commands_on_one_reused_connection(sshd):
    runner = SshRunner("127.0.0.1", port=sshd["port"], key_filename=sshd["key"], known_hosts=sshd["known_hosts"])
    try:
        result = runner.run(["sh", "-c", "echo out; echo err >&2; exit 4"], check=False)
        assert (result.rc, result.stdout, result.stderr) == (4, "out\n", "err\n")
        transport = runner._client.get_transport()
        assert runner.run(["cat"], stdin="piped\n").stdout == "piped\n"
        assert runner.run(["sh", "-c", "echo $GREETING"], env={"GREETING": "hi there"}).stdout == "hi there\n"
        assert runner._client.get_transport() is transport  # the same connection
        target = sshd["dir"] / "put-target"
        put(runner, str(target), "via ssh\n", mode=0o600)
        assert target.read_text() == "via ssh\n" and (target.stat().st_mode & 0o777) == 0o600
        with pytest.raises(CommandFailed, match="exited 9"):
            runner.run(["sh", "-c", "exit 9"])
    finally:
        runner.close()


def test_ssh_runner_passes_env_values_outside_any_command_line(sshd):
    """A secret in ``env`` reaches the command (with its stdin after it) but no process's argv."""
    runner = SshRunner("127.0.0.1", port=sshd["port"], key_filename=sshd["key"], known_hosts=sshd["known_hosts"])
    secret = "s3cr3t 'quoted' $value\twith tab"
    try:
        done = runner.run(["sh", "-c", 'printf "%s|" "$PASS"; cat; ps -eo args'], env={"PASS": secret, "B": ""},
                          stdin="after\n")
        shown, _, processes = done.stdout.partition("\n")
        assert shown == f"{secret}|after"
        assert "s3cr3t" not in processes and "printf" in processes  # ps saw the command, not the value
    finally:
        runner.close()


def test_ssh_runner_says_refused_and_auth_failed_clearly(sshd, tmp_path):
    closed = SshRunner("127.0.0.1", port=free_port(), key_filename=sshd["key"], known_hosts=sshd["known_hosts"])
    with pytest.raises(HostError, match="SSH connection refused; check that sshd runs"):
        closed.run(["true"])
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    denied = SshRunner("127.0.0.1", port=sshd["port"], key_filename=str(stranger), known_hosts=sshd["known_hosts"])
    with pytest.raises(HostError, match="SSH authentication failed"):
        denied.run(["true"])


def test_ssh_runner_refuses_an_unknown_or_changed_host_key(sshd, tmp_path):
    """Never trust on first use: the key must be in known_hosts; the error says how to accept it."""
    unknown = SshRunner("127.0.0.1", port=sshd["port"], key_filename=sshd["key"], known_hosts=tmp_path / "empty")
    with pytest.raises(HostError, match=rf"SSH host key of 127.0.0.1 is not known; .*ssh-keyscan -p {sshd['port']} "
                                        rf"127.0.0.1 >> {tmp_path}/empty"):
        unknown.run(["true"])
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    changed = tmp_path / "changed_known_hosts"
    changed.write_text(f"[127.0.0.1]:{sshd['port']} {(tmp_path / 'other_key.pub').read_text().rsplit(' ', 1)[0]}\n")
    impostor = SshRunner("127.0.0.1", port=sshd["port"], key_filename=sshd["key"], known_hosts=changed)
    with pytest.raises(HostError, match=r"SSH host key of 127.0.0.1 changed .*ssh-keygen -f .* -R '\[127.0.0.1\]:"):
        impostor.run(["true"])
