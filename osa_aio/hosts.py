"""Which of the config's hosts is this machine and which are reached over SSH, and how (pure).

The local host is the one whose address is on this machine; before bootstrap puts the shipped
host's address on br-mgmt none is, and then it is the first host of ``shared-infra_hosts`` (where
HAProxy, the repo and the VIPs live), or the only host. Every other host is remote: osa-aio reaches
it over SSH with the settings OSA's users already write in a host's ``host_vars`` (Ansible's
connection variables), or osa-aio's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from osa_aio.config import USER_CONFIG, Config, HostEntry
from osa_aio.errors import ConfigError

SSH_DIR = "ssh"                  # under the config dir
DEFAULT_KEY = "id_ed25519"       # the key osa-aio makes once (also the cloud's keypair: roles/cloud.py)
KEY_FILE = f"{SSH_DIR}/{DEFAULT_KEY}"
KNOWN_HOSTS = "known_hosts"      # remote hosts' keys, checked before the user's ~/.ssh/known_hosts
ANCHOR_GROUP = "shared_infra_hosts"  # OSA's spelling is shared-infra_hosts: both are read
# host_vars keys (Ansible's) and osa-aio's defaults
ADDRESS, USER, PORT, KEY = "ansible_host", "ansible_user", "ansible_port", "ansible_ssh_private_key_file"


@dataclass(frozen=True)
class SshAccess:
    """How osa-aio logs in to a remote host."""

    host: str
    address: str
    user: str
    port: int
    key_file: Path
    known_hosts: Path


@dataclass(frozen=True)
class HostPlan:
    local: HostEntry
    remote: tuple[HostEntry, ...]


def split_hosts(config: Config, local_addresses: set[str]) -> HostPlan:
    """The config's hosts as this machine and the remote ones (in file order)."""
    hosts = config.hosts()
    here = [entry for entry in hosts.values() if {entry.ip, entry.address} & local_addresses]
    if not here:
        anchors = [entry for entry in config.host_entries if entry.group.replace("-", "_") == ANCHOR_GROUP]
        here = anchors[:1] or list(hosts.values())[:1]
    if not here:
        raise ConfigError("no host is listed", file=str(config.path(USER_CONFIG)), key=ANCHOR_GROUP)
    local = here[0]
    return HostPlan(local, tuple(entry for name, entry in hosts.items() if name != local.name))


def ssh_access(config: Config, entry: HostEntry) -> SshAccess:
    """A remote host's SSH settings from its host_vars; a wrong one is a one-line error naming it."""
    where = f"{entry.group}.{entry.name}.host_vars"
    file = str(config.path(USER_CONFIG))
    merged = {key: value for e in config.host_entries if e.name == entry.name for key, value in e.host_vars.items()}
    address = merged.get(ADDRESS, entry.ip)
    user = merged.get(USER, "root")
    for key, value in ((ADDRESS, address), (USER, user)):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"must be a non-empty string, not {value!r}", file=file, key=f"{where}.{key}")
    port = merged.get(PORT, 22)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"must be a port number (1-65535), not {port!r}", file=file, key=f"{where}.{PORT}")
    key_file = Path(merged[KEY]).expanduser() if merged.get(KEY) else config.path(KEY_FILE)
    if not key_file.is_file():
        raise ConfigError(f"the SSH key {key_file} for host {entry.name} does not exist",
                          file=file, key=f"{where}.{KEY}",
                          hint=f"give the private key osa-aio logs in to {entry.name} with")
    return SshAccess(entry.name, address, user, port, key_file, config.path(SSH_DIR) / KNOWN_HOSTS)


def host_runner(access: SshAccess):
    """The runner of a remote host's own commands (its containers: LxcCommandRunner over it)."""
    from osa_aio.transport import SshRunner  # noqa: PLC0415

    return SshRunner(access.address, port=access.port, username=access.user, key_filename=str(access.key_file),
                     known_hosts=access.known_hosts)
