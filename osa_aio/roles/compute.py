"""The compute node, in OSA's nova_compute_container (a privileged LXC container here, on metal in
OSA): nova-compute driving libvirt and QEMU's TCG (no KVM on these hosts), and the OVN chassis
beside it: Open vSwitch on its userspace datapath (no kernel module here), ovn-controller, and
neutron's OVN agent serving the metadata API to the guests. Both venvs are the nova and neutron
services' own wheel sets, installed here. Guests' disks and the node's identity live on the
container's /openstack bind mount, so a rebuild of the container keeps its instances.

The order of the chassis' first start matters (shared/reference/ovn-netdev-tried.md, T1-T4): the
host name and OVS's system-id file are written before OVS ever runs; ovsdb-server starts alone;
the chassis settings and the userspace TSO switch (without it, TCP through the userspace
datapath's conntrack fails its checksums) go in before ovs-vswitchd's first start; br-ex is a
netdev bridge; then ovn-controller."""

from __future__ import annotations

import json
from dataclasses import dataclass

import netaddr

from osa_aio.errors import OsaAioError
from osa_aio.guest_image import GUEST, Glance, GuestImageBuilt, GuestImageUploaded
from osa_aio.roles import cloud, galera, neutron, nova, ovn_northd
from osa_aio.roles.base import Check, Role
from osa_aio.roles.context import Context
from osa_aio.roles.openstack import VENVS, template_values, venv_siblings
from osa_aio.steps import (DAEMON_RELOAD, Command, Directory, FileContent, FileCopied, ServiceRunning, ServiceSteady,
                           SystemdReloaded, SystemUser, is_pending, mark_pending, sh, wait_for)
from osa_aio.templates import render
from osa_aio.transport import Runner

NAME = "compute"
GROUP = "nova_compute"
CONTAINER_TYPE = "nova_compute_container"
PACKAGES = ("python3-venv", "sudo", "qemu-system-x86", "qemu-utils", "libvirt-daemon-system", "libvirt-clients",
            "libvirt-daemon-driver-qemu", "python3-libvirt", "openvswitch-switch", "ovn-host", "haproxy", "ethtool",
            "iputils-ping", "cpio")
# Started by the role in its order, never by the image's first boot.
DISABLED_SERVICES = ("openvswitch-switch", "ovn-host", "libvirtd", "haproxy")
STATE_PATH = "/openstack/nova"       # instances, their disks, the node's compute_id: kept by a rebuild
NOVA_UID = 1620                      # nova owns files that outlive the container
BRIDGE = "br-ex"                     # the provider bridge (physnet1)
TUNNEL_BRIDGE = "br-tunnel"          # Geneve between chassis leaves through it (tunnel_unit)
TUNNEL_UNIT = "osa-aio-tunnel"
PROVIDER_INTERFACE = "eth12"         # its uplink to the host's bridge
OVSDB = "tcp:127.0.0.1:6640"         # os-vif and the OVN agent talk to the local ovsdb-server here
OVSDB_LISTEN = "ptcp:6640:127.0.0.1"  # the same, as OVSDB's passive remote (port first)
NOVA_VENV = f"{VENVS}/nova"
NEUTRON_VENV = f"{VENVS}/neutron"
# The host's TCP hands its veth 64 KB segmentation-offload packets; OVS's userspace datapath takes
# them whole (userspace TSO), and OVN's check of the router's gateway MTU (check_pkt_len) sees 64 KB
# and drops them: uploads from the host to a floating IP crawl at ~35 KB/s (found by hand: a 1 MB
# POST timed out; downloads were fine). Capping the host end's GSO size makes the host segment
# first: the same upload took 0.6 s.
PROVIDER_NET_UP = ("#!/bin/sh\n# Written by osa-aio: LXC runs it on the host when it makes the veth of the compute\n"
                   "# node's OVS uplink (its last argument is the host's end; the one before, the bridge):\n"
                   "# no GSO packets larger than a frame into OVS.\n"
                   'eval "peer=\\${$#}"\nexec ip link set dev "$peer" gso_max_size 1500\n')
OVN_AGENT_INI = "/etc/neutron/plugins/ml2/ovn_agent.ini"
# python3-libvirt is compiled against Debian's libvirt: linked into the nova venv (OSA's way).
LIBVIRT_FILES = "/usr/lib/python3/dist-packages/libvirt*"
UNITS = ("libvirtd", "neutron-ovn-agent", "nova-compute")
# The files that take overrides (osa_aio.overrides): file -> (path, has sections).
CONFIG_FILES = {"nova.conf": ("/etc/nova/nova.conf", True), "neutron.conf": ("/etc/neutron/neutron.conf", True),
                "ovn_agent.ini": (OVN_AGENT_INI, True)}
# Memory nova keeps from its guests (OSA's default); the rest of what libvirt reports is theirs.
# graceful_shutdown_timeout: nova-compute's stop hangs after its graceful shutdown (its thread pool
# waits) until systemd kills it at 30 s; oslo.service ends it this many seconds in (30 -> 3 s measured).
DEFAULTS = {"reserved_host_memory_mb": 2048, "tb_cache_size": 128, "graceful_shutdown_timeout": 10}


def sudoers(service: str, venv: str, commands: tuple[str, ...]) -> str:
    """OSA's sudoers for a service: its venv's rootwrap (which starts privsep) as root, found
    first on sudo's path (nova calls `sudo nova-rootwrap` by name)."""
    lines = [f"# Written by osa-aio (OSA's {service}_sudoers).", f"Defaults:{service} !requiretty",
             f'Defaults:{service} secure_path="{venv}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"']
    lines += [f"{service} ALL = (root) NOPASSWD: {venv}/bin/{command}" for command in commands]
    return "\n".join(lines) + "\n"


def rootwrap(service: str, venv: str, more_dirs: str = "") -> str:
    return (f"# Written by osa-aio: {service}'s rootwrap, its venv's commands first (OSA's overrides).\n"
            f"[DEFAULT]\nfilters_path = /etc/{service}/rootwrap.d\n"
            f"exec_dirs = {venv}/bin,/sbin,/usr/sbin,/bin,/usr/bin,/usr/local/bin,/usr/local/sbin{more_dirs}\n"
            "use_syslog = False\nsyslog_log_facility = syslog\nsyslog_log_level = ERROR\ndaemon_timeout = 600\n"
            "rlimit_nofile = 1024\n")


def tunnel_network(ctx: Context, name: str) -> dict:
    """The container's interface on the tunnel network: interface, address, netmask."""
    networks = ctx.inventory["_meta"]["hostvars"][name].get("container_networks", {})
    found = networks.get("tunnel_address", {})
    if not found.get("address"):
        raise OsaAioError("has no address on the tunnel network (OVN's Geneve tunnels need one)", file=name,
                          hint="give the br-vxlan provider network group_binds: [neutron_ovn_controller]")
    return found


def tunnel_address(ctx: Context, name: str) -> str:
    return tunnel_network(ctx, name)["address"]


def tunnel_unit(interface: str, address: str, prefixlen: int) -> str:
    """OVS's userspace datapath sends Geneve only out of an OVS bridge whose own port holds the
    tunnel address (its native tunnelling routes and resolves neighbours itself): at each boot the
    address moves from the container's interface (which LXC sets) to TUNNEL_BRIDGE."""
    # $1 the bridge, $2 the interface, $3 the address: values, never pasted into the script.
    script = ('for i in $(seq 60); do ip link show dev "$1" >/dev/null 2>&1 && break; sleep 0.5; done; '
              'ip link show dev "$1" >/dev/null || exit 1; '
              'ip addr flush dev "$2" && ip link set dev "$1" up && ip addr replace "$3" dev "$1"')
    return ("# Written by osa-aio.\n[Unit]\nDescription=osa-aio: the Geneve tunnel address on OVS's "
            f"{TUNNEL_BRIDGE}\nAfter=ovs-vswitchd.service\nRequires=ovs-vswitchd.service\n"
            "Before=ovn-controller.service\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\n"
            # systemd expands $ itself: $$ is a literal one for the shell.
            f"ExecStart=/bin/sh -c '{script.replace('$', '$$')}' tunnel {TUNNEL_BRIDGE} {interface} "
            f"{address}/{prefixlen}\n\n"
            "[Install]\nWantedBy=multi-user.target\n")


def libvirt_files() -> list[tuple[str, str]]:
    return [
        ("/etc/libvirt/qemu.conf",
         "# Written by osa-aio: QEMU in a privileged container has no cgroups, namespaces or security\n"
         "# driver of its own to set up; it leaves its files' owners as they are (no xattrs).\n"
         "cgroup_controllers = [ ]\nnamespaces = [ ]\nsecurity_driver = \"none\"\nremember_owner = 0\nvnc_tls = 0\n"),
        ("/etc/libvirt/libvirtd.conf",
         "# Written by osa-aio: nova (group libvirt) talks to libvirtd on its socket.\n"
         "unix_sock_group = \"libvirt\"\nunix_sock_ro_perms = \"0777\"\nunix_sock_rw_perms = \"0770\"\n"
         "auth_unix_ro = \"none\"\nauth_unix_rw = \"none\"\n"),
        # Debian's --timeout 120 lets an idle libvirtd exit (a later run would see it stopped).
        ("/etc/default/libvirtd", "# Written by osa-aio.\nLIBVIRTD_ARGS=\"\"\n"),
    ]


def node_steps(ctx: Context, name: str) -> list:
    """What needs only the repo: packages are in the image; users, dirs, both venvs, every file."""
    runner = ctx.runner(name)
    knobs = ctx.settings(ROLE)
    nova_values = template_values(ctx, nova.SPEC, name)
    nova_values.update(compute=True, state_path=STATE_PATH, reserved_host_memory_mb=knobs["reserved_host_memory_mb"],
                       settings={**nova_values["settings"], **knobs})
    neutron_values = {**template_values(ctx, neutron.SPEC, name), **ovn_northd.connections(ctx),
                      "metadata_secret": ctx.secret(nova.METADATA_SECRET), "venv": NEUTRON_VENV}
    files = CONFIG_FILES

    def config(service: str, file: str, text: str, notify: str) -> FileContent:
        return FileContent(runner, files[file][0], ctx.config_file(NAME, files, file, name, text), mode=0o640,
                           group=service, notify=(notify,))

    return [
        # The chassis' identity before OVS first runs (T3, T4): the container's name.
        FileContent(runner, "/etc/hostname", f"{name}\n"),
        FileContent(runner, "/etc/openvswitch/system-id.conf", f"{name}\n"),
        SystemUser(runner, "nova", "/var/lib/nova", uid=NOVA_UID),
        SystemUser(runner, "neutron", "/var/lib/neutron"),
        Command(runner, "nova in group libvirt", ["usermod", "-aG", "libvirt", "nova"],
                unless=sh('id -nG nova | tr " " "\\n" | grep -qx libvirt')),
        Directory(runner, "/etc/nova", 0o750, "root", "nova"),
        Directory(runner, "/etc/nova/rootwrap.d", 0o755),
        Directory(runner, "/etc/neutron", 0o750, "root", "neutron"),
        Directory(runner, "/etc/neutron/rootwrap.d", 0o755),
        Directory(runner, "/etc/neutron/plugins", 0o750, "root", "neutron"),
        Directory(runner, "/etc/neutron/plugins/ml2", 0o750, "root", "neutron"),
        Directory(runner, "/var/lib/nova", 0o750, "nova"),
        Directory(runner, "/var/log/nova", 0o750, "nova"),
        Directory(runner, "/var/lib/neutron", 0o750, "neutron"),
        Directory(runner, "/var/log/neutron", 0o750, "neutron"),
        # libvirt-qemu walks to the guests' disks.
        Directory(runner, STATE_PATH, 0o755, "nova"),
        Directory(runner, f"{STATE_PATH}/instances", 0o755, "nova"),
        # The same packages from the same repo as nova's and neutron's API containers: their venvs
        # are copied (hard links) from there when finished, not built again.
        *ctx.venv_steps(name, NOVA_VENV, nova.SPEC.venv_packages, notify=("nova-compute",),
                        siblings=venv_siblings(ctx, nova.SPEC, name)),
        Command(runner, "python3-libvirt linked into the nova venv",
                sh('site=$("$1/bin/python3" -c "import sysconfig; print(sysconfig.get_paths()[\'purelib\'])") && '
                   'ln -sf $2 "$site/"', NOVA_VENV, LIBVIRT_FILES),
                unless=sh('"$1/bin/python3" -c "import libvirt"', NOVA_VENV)),
        *ctx.venv_steps(name, NEUTRON_VENV, neutron.SPEC.venv_packages, notify=("neutron-ovn-agent",),
                        siblings=venv_siblings(ctx, neutron.SPEC, name)),
        # Privileges as OSA gives them: sudo -> the venv's rootwrap -> privsep (os-vif's taps,
        # neutron's namespaces and the metadata haproxy).
        FileContent(runner, "/etc/sudoers.d/nova_sudoers", sudoers("nova", NOVA_VENV, ("nova-rootwrap",
                                                                                       "privsep-helper")), mode=0o440),
        FileContent(runner, "/etc/sudoers.d/neutron_sudoers",
                    sudoers("neutron", NEUTRON_VENV, ("neutron-rootwrap", "neutron-rootwrap-daemon", "privsep-helper")),
                    mode=0o440),
        FileContent(runner, "/etc/nova/rootwrap.conf", rootwrap("nova", NOVA_VENV), mode=0o640, group="nova",
                    notify=("nova-compute",)),
        FileContent(runner, "/etc/neutron/rootwrap.conf", rootwrap("neutron", NEUTRON_VENV, ",/etc/neutron/kill_scripts"),
                    mode=0o640, group="neutron", notify=("neutron-ovn-agent",)),
        FileCopied(runner, f"{NOVA_VENV}/etc/nova/rootwrap.d/compute.filters", "/etc/nova/rootwrap.d/compute.filters"),
        FileCopied(runner, f"{NEUTRON_VENV}/etc/neutron/rootwrap.d/rootwrap.filters",
                   "/etc/neutron/rootwrap.d/rootwrap.filters"),
        *[FileContent(runner, path, text, notify=("libvirtd",)) for path, text in libvirt_files()],
        config("nova", "nova.conf", render("nova/nova.conf", **nova_values), "nova-compute"),
        config("neutron", "neutron.conf", render("compute/neutron.conf", **neutron_values), "neutron-ovn-agent"),
        config("neutron", "ovn_agent.ini", render("compute/ovn_agent.ini", **neutron_values), "neutron-ovn-agent"),
        FileContent(runner, "/etc/systemd/system/nova-compute.service",
                    render("openstack/daemon.service", service="nova", daemon="nova-compute", venv=NOVA_VENV,
                           description="OpenStack Compute (nova)", environment={},
                           config_paths=("/etc/nova/nova.conf",)),
                    notify=(DAEMON_RELOAD, "nova-compute")),
        FileContent(runner, "/etc/systemd/system/neutron-ovn-agent.service",
                    render("openstack/daemon.service", service="neutron", daemon="neutron-ovn-agent",
                           venv=NEUTRON_VENV, description="OpenStack Networking (neutron)", environment={},
                           config_paths=("/etc/neutron/neutron.conf", OVN_AGENT_INI)),
                    notify=(DAEMON_RELOAD, "neutron-ovn-agent")),
        SystemdReloaded(runner),
    ]


@dataclass
class ChassisConfigured:
    """Open vSwitch holds the chassis' settings: its name, the SB database, the Geneve tunnel
    address, netdev bridges, the provider bridge mapping, a gateway chassis, and the userspace TSO
    switch. That switch takes effect only when ovs-vswitchd starts: changed on a running one, it
    is restarted (ServiceRunning carries the restart out)."""

    runner: Runner
    settings: dict[str, str]     # external_ids
    tso: str = "true"
    name = "OVN chassis settings in Open vSwitch"

    def _found(self) -> tuple[dict[str, str], str]:
        out = self.runner.run(["ovs-vsctl", "--format=json", "--columns=external_ids,other_config", "list",
                               "Open_vSwitch", "."]).stdout
        row = json.loads(out)["data"][0]
        ids = dict(row[0][1])
        other = dict(row[1][1])
        return ids, other.get("userspace-tso-enable", "")

    def check(self) -> str | None:
        ids, tso = self._found()
        wrong = sorted(k for k, v in self.settings.items() if ids.get(k) != v)
        if wrong:
            return f"{', '.join(wrong)} differ"
        return None if tso == self.tso else f"userspace-tso-enable is {tso or 'unset'}"

    def apply(self) -> None:
        _, tso = self._found()
        pairs = [f"external_ids:{k}={v}" for k, v in self.settings.items()]
        # --no-wait: ovs-vswitchd may not run yet (the first time it must not).
        self.runner.run(["ovs-vsctl", "--no-wait", "set", "Open_vSwitch", ".", *pairs,
                         f"other_config:userspace-tso-enable={self.tso}"])
        running = self.runner.run(["systemctl", "is-active", "ovs-vswitchd"], check=False).stdout.strip()
        if tso != self.tso and running == "active":  # its first start reads it anyway (no restart then)
            mark_pending(self.runner, ("ovs-vswitchd",))


@dataclass
class HostMapped:
    """The compute node is mapped to its cell (nova-manage cell_v2 discover_hosts, in an api
    container, once nova-compute has registered); read from the nova_api database."""

    api_runner: Runner
    galera_runner: Runner
    host: str

    @property
    def name(self) -> str:
        return f"{self.host} mapped to its cell"

    def check(self) -> str | None:
        found = self.galera_runner.run(["mariadb", "-N", "-B", "-e", "SELECT COUNT(*) FROM nova_api.host_mappings "
                                        f"WHERE host={galera.sql_string(self.host)}"], check=False).stdout.strip()
        return None if found not in ("", "0") else "not mapped"

    def apply(self) -> None:
        self.api_runner.run(nova.SPEC.script(("nova-manage", "cell_v2", "discover_hosts", "--by-service")),
                            timeout=300)


@dataclass
class ComputeServiceUp:
    """nova-compute on this node reports to nova as up (through the conductor: the queue and the
    database work), read from the compute API."""

    api: cloud.Cloud
    host: str
    wait: float = 180

    @property
    def name(self) -> str:
        return f"nova-compute on {self.host} up"

    def _problem(self) -> str | None:
        data = self.api.call("GET", f"{self.api.nova}/os-services?binary=nova-compute&host={self.host}")
        services = data.get("services", [])
        if not services:
            return "not registered"
        return None if services[0].get("state") == "up" else f"is {services[0].get('state')}"

    def check(self) -> str | None:
        return self._problem()

    def apply(self) -> None:
        wait_for(self._problem, self.wait, self.host, hint=f"`osa-aio logs compute --container {self.host}`")


def deploy(ctx: Context) -> None:
    targets = ctx.targets(GROUP)
    if not targets:
        return
    sb = ovn_northd.connections(ctx)["ovn_sb"]
    jobs = []
    for name in targets:
        runner = ctx.runner(name)
        tunnel = tunnel_network(ctx, name)
        prefixlen = netaddr.IPAddress(tunnel["netmask"]).netmask_bits()
        chassis = {"system-id": name, "hostname": name, "ovn-remote": sb, "ovn-encap-type": "geneve",
                   "ovn-encap-ip": tunnel_address(ctx, name), "ovn-bridge-datapath-type": "netdev",
                   "ovn-bridge-mappings": f"{neutron.PHYSNET}:{BRIDGE}", "ovn-cms-options": "enable-chassis-as-gw"}
        jobs.append((name, [
            ServiceRunning(runner, "ovsdb-server", enabled=None),
            ChassisConfigured(runner, chassis),
            Command(runner, f"OVSDB manager {OVSDB_LISTEN}", ["ovs-vsctl", "--no-wait", "set-manager", OVSDB_LISTEN],
                    unless=sh('[ "$(ovs-vsctl get-manager)" = "$1" ]', OVSDB_LISTEN)),
            ServiceRunning(runner, "openvswitch-switch"),
            ServiceRunning(runner, "ovs-vswitchd", enabled=None),
            Command(runner, f"netdev bridge {BRIDGE}",
                    ["ovs-vsctl", "--may-exist", "add-br", BRIDGE, "--", "set", "Bridge", BRIDGE, "datapath_type=netdev"],
                    unless=sh('[ "$(ovs-vsctl get Bridge "$1" datapath_type 2>/dev/null)" = netdev ]', BRIDGE)),
            Command(runner, f"{PROVIDER_INTERFACE} a port of {BRIDGE}",
                    ["ovs-vsctl", "--may-exist", "add-port", BRIDGE, PROVIDER_INTERFACE],
                    unless=sh('[ "$(ovs-vsctl port-to-br "$1" 2>/dev/null)" = "$2" ]', PROVIDER_INTERFACE, BRIDGE)),
            Command(runner, f"netdev bridge {TUNNEL_BRIDGE}",
                    ["ovs-vsctl", "--may-exist", "add-br", TUNNEL_BRIDGE, "--", "set", "Bridge", TUNNEL_BRIDGE,
                     "datapath_type=netdev"],
                    unless=sh('[ "$(ovs-vsctl get Bridge "$1" datapath_type 2>/dev/null)" = netdev ]', TUNNEL_BRIDGE)),
            Command(runner, f"{tunnel['interface']} a port of {TUNNEL_BRIDGE}",
                    ["ovs-vsctl", "--may-exist", "add-port", TUNNEL_BRIDGE, tunnel["interface"]],
                    unless=sh('[ "$(ovs-vsctl port-to-br "$1" 2>/dev/null)" = "$2" ]', tunnel["interface"],
                              TUNNEL_BRIDGE)),
            FileContent(runner, f"/etc/systemd/system/{TUNNEL_UNIT}.service",
                        tunnel_unit(tunnel["interface"], tunnel["address"], prefixlen),
                        notify=(DAEMON_RELOAD, TUNNEL_UNIT)),
            SystemdReloaded(runner),
            ServiceRunning(runner, TUNNEL_UNIT),
            ServiceRunning(runner, "ovn-host"),
            ServiceRunning(runner, "ovn-controller", enabled=None),
            Command(runner, "libvirt's default network removed",
                    sh("virsh net-destroy default >/dev/null 2>&1; virsh net-undefine default"),
                    unless=sh("! virsh net-info default >/dev/null 2>&1")),
            *[ServiceRunning(runner, unit) for unit in UNITS],
            *[ServiceSteady(runner, unit) for unit in UNITS[1:]],
        ]))
    if not ctx.engine.run_parallel(NAME, jobs):
        return
    api = ctx.runner(ctx.members(nova.GROUP)[0])
    database = ctx.runner(galera.synced_member(ctx))
    if not ctx.engine.run(NAME, "registered", [
            *[ComputeServiceUp(_cloud(ctx), name) for name in targets],
            *[HostMapped(api, database, name) for name in targets]]):
        return
    # The guest is built in the first compute container (apt and cpio are there), cached on this machine.
    ready = _ready_steps(ctx)
    ctx.engine.run(NAME, "ready to use", [*ready[:-1], GuestImageBuilt(ctx.runner(targets[0]), targets[0]), ready[-1]])


def install(ctx: Context) -> bool:
    return ctx.engine.run_parallel(NAME, [(name, node_steps(ctx, name)) for name in ctx.targets(GROUP)])


def _chassis(ctx: Context) -> str:
    names = ctx.members(GROUP)
    for name in names:
        runner = ctx.runner(name)
        found = runner.run(["ovs-vsctl", "get", "Open_vSwitch", ".", "other_config:userspace-tso-enable",
                            "external_ids:system-id"], check=False).stdout.replace('"', "").split()
        if found != ["true", name]:
            raise OsaAioError(f"TSO and system-id are {found} (want true and {name})", file=name)
        bridge = runner.run(["ovs-vsctl", "get", "Bridge", "br-int", "datapath_type"], check=False).stdout.strip()
        if bridge != "netdev":
            raise OsaAioError(f"br-int's datapath is {bridge or 'absent'}, not netdev", file=name)
        sb = runner.run(["ovn-sbctl", f"--db={ovn_northd.connections(ctx)['ovn_sb']}", "--timeout=10", "get",
                         "Chassis", name, "other_config:datapath-type"], check=False).stdout.strip().strip('"')
        if sb != "netdev":
            raise OsaAioError(f"the SB database has no netdev chassis {name} ({sb or 'absent'})", file=name)
    return f"{len(names)} chassis registered on the userspace datapath, TSO on"


def _services(ctx: Context) -> str:
    api = _cloud(ctx)
    services = api.call("GET", f"{api.nova}/os-services")["services"]
    down = [f"{s['binary']} on {s['host']}" for s in services if s.get("state") != "up" and s.get("status") == "enabled"]
    if down:
        raise OsaAioError(f"down: {', '.join(down)}")
    return f"{len(services)} services up: " + ", ".join(sorted({s["binary"] for s in services}))


def _hypervisors(ctx: Context) -> str:
    api = _cloud(ctx)
    found = api.call("GET", f"{api.nova}/os-hypervisors")["hypervisors"]
    names = {h["hypervisor_hostname"] for h in found if h.get("state") == "up"}
    missing = [n for n in ctx.members(GROUP) if n not in names]
    if missing:
        raise OsaAioError(f"no hypervisor up for {', '.join(missing)}")
    return f"{len(names)} up: {', '.join(sorted(names))}"


def _cloud(ctx: Context) -> cloud.Cloud:
    """The compute and network APIs with the admin's token."""
    return cloud.Cloud(ctx.internal_vip, ctx.secret("keystone_auth_admin_password"))


def _ready_steps(ctx: Context) -> list:
    ready = _cloud(ctx)
    return [*cloud.steps(ctx.config, ready), GuestImageUploaded(Glance(ready.keystone, ctx.internal_vip))]


def _ready(ctx: Context) -> str:
    """What the deploy made ready to use is still there (each step's own check, nothing changed)."""
    for step in _ready_steps(ctx):
        problem = step.check()
        if problem:
            raise OsaAioError(f"{step.name}: {problem}", hint="`osa-aio run compute` makes it again")
    return (f"flavor {cloud.FLAVOR['name']}, networks {cloud.PUBLIC} and {cloud.PRIVATE}, {cloud.ROUTER}, "
            f"keypair {cloud.KEYPAIR}, image {GUEST}")


def _daemons(ctx: Context) -> str:
    for name in ctx.members(GROUP):
        for unit in ("ovsdb-server", "ovs-vswitchd", "ovn-controller", *UNITS):
            problem = ServiceSteady(ctx.runner(name), unit, seconds=0).check()
            if problem or is_pending(ctx.runner(name), unit):
                raise OsaAioError(f"{unit} {problem or 'waits for a restart'}", file=name,
                                  hint=f"`osa-aio logs compute --container {name}`")
    return "ovsdb-server, ovs-vswitchd, ovn-controller, " + ", ".join(UNITS) + " active"


ROLE = Role(NAME, deploy, install=install, group=GROUP, container_type=CONTAINER_TYPE, packages=PACKAGES,
            disabled_services=DISABLED_SERVICES, defaults=DEFAULTS, start_order=80, profiles={"compute": 1},
            # The tap device for OVS's userspace bridges and QEMU's NICs; no AppArmor in the way of
            # libvirt and the namespaces neutron makes (as OSA's neutron agent containers). No
            # /dev/kvm: these hosts have none that QEMU can use.
            lxc_config=(("lxc.mount.entry", "/dev/net/tun dev/net/tun none bind,create=file 0 0"),
                        ("lxc.apparmor.profile", "unconfined")),
            net_up={PROVIDER_INTERFACE: PROVIDER_NET_UP},
            config_files=CONFIG_FILES,
            checks=(Check("compute daemons running", _daemons), Check("OVN chassis", _chassis),
                    Check("compute services up", _services), Check("hypervisors up", _hypervisors),
                    Check("cloud ready to use", _ready)),
            log_units=("nova-compute", "neutron-ovn-agent", "libvirtd", "ovn-controller", "ovs-vswitchd"),
            log_files=("/var/log/nova/*.log", "/var/log/neutron/*.log", "/var/log/openvswitch/*.log",
                       "/var/log/ovn/*.log", "/var/log/libvirt/qemu/*.log"))
