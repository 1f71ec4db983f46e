"""Which of the config's hosts is this machine and which are reached over SSH, and how (pure).

The local host is the one whose address is on this machine; before bootstrap puts the shipped
host's address on br-mgmt none is, and then it is the first host of ``shared-infra_hosts`` (where
HAProxy, the repo and the VIPs live), or the only host. Every other host is remote: osa-aio reaches
it over SSH with the settings OSA's users already write in a host's ``host_vars`` (Ansible's
connection variables), or osa-aio's defaults.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from osa_aio.config import USER_CONFIG, Config, HostEntry
from osa_aio.errors import ConfigError, UnknownTarget
from osa_aio.transport import LxcAttachRunner, LxcCommandRunner, Runner

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
                          hint=f"give the private key osa-aio logs in to {entry.name} with, or leave the key "
                               f"out and put the one `osa-aio ssh-key` prints in root's authorized_keys there")
    return SshAccess(entry.name, address, user, port, key_file, config.path(SSH_DIR) / KNOWN_HOSTS)


def host_runner(access: SshAccess):
    """The runner of a remote host's own commands (its containers: LxcCommandRunner over it)."""
    from osa_aio.transport import SshRunner  # noqa: PLC0415

    return SshRunner(access.address, port=access.port, username=access.user, key_filename=str(access.key_file),
                     known_hosts=access.known_hosts)


@dataclass
class Host:
    """One host: its own commands run through ``runner``; its containers' through ``container(name)``
    (python-lxc's attach on this machine, the lxc-attach command over SSH on a remote host)."""

    name: str
    runner: Runner
    remote: bool = False
    address: str = ""  # where osa-aio reaches it (a remote host's SSH address)
    _containers: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def running(self, name: str) -> bool:
        """Container ``name`` runs on this host."""
        from osa_aio.lxchost import running  # noqa: PLC0415 - lxchost builds on the transports too

        return running(name, self.runner)

    def container(self, name: str) -> Runner:
        with self._lock:
            if name not in self._containers:
                self._containers[name] = LxcCommandRunner(self.runner, name) if self.remote else LxcAttachRunner(name)
            return self._containers[name]


@dataclass
class Fleet:
    """Every host of the config: this machine first, then the remote ones in file order."""

    hosts: dict[str, Host]

    @property
    def local(self) -> Host:
        return next(iter(self.hosts.values()))

    def host(self, name: str) -> Host:
        if name not in self.hosts:
            raise UnknownTarget(f"unknown host {name!r}", hint=f"hosts are: {', '.join(self.hosts)}")
        return self.hosts[name]

    def of(self, inventory: dict, container: str) -> Host:
        """The host a container of the inventory lives on."""
        return self.host(inventory["_meta"]["hostvars"][container]["physical_host"])

    def container(self, inventory: dict, name: str) -> Runner:
        return self.of(inventory, name).container(name)


def fleet(config: Config, local_addresses: set[str], runner: Runner) -> Fleet:
    """The config's hosts with their runners (``runner``: this machine's); nothing connects yet."""
    plan = split_hosts(config, local_addresses)
    hosts = {plan.local.name: Host(plan.local.name, runner)}
    for entry in plan.remote:
        access = ssh_access(config, entry)
        hosts[entry.name] = Host(entry.name, host_runner(access), remote=True, address=access.address)
    return Fleet(hosts)
