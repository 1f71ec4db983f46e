"""OVN's central part (Debian's ovn-central) in OSA's neutron_ovn_northd_container: the Northbound
database neutron-server writes, ovn-northd translating it into the Southbound database the
chassis (ovn-controller on the compute node) read. The databases live on the container's
/openstack bind mount, so a rebuild keeps every logical switch, router and chassis. OVSDB is
reached directly on the container's address (OSA does not put it behind HAProxy)."""

from __future__ import annotations

from osa_aio.errors import OsaAioError
from osa_aio.roles.base import Check, Role
from osa_aio.roles.context import Context
from osa_aio.steps import Command, Directory, FileContent, ServiceRunning, ServiceSteady, sh

NAME = "ovn_northd"
GROUP = "neutron_ovn_northd"
CONTAINER_TYPE = "neutron_ovn_northd_container"
PACKAGES = ("ovn-central",)
DISABLED_SERVICES = ("ovn-central",)
DB_DIR = "/openstack/ovn"
NB_PORT, SB_PORT = 6641, 6642
# The server closes an idle client after this long (OVSDB's default, 5 s, drops neutron's and the
# chassis' connections while a busy host keeps them from answering a probe): OSA's value.
INACTIVITY_PROBE_MS = 60000
# Pulled in by ovn-central (Wants=) and restarted with it (PartOf=); static units, so only their
# state is checked. A restart of one of them beside ovn-central's races it: ovn-ctl's stop of
# one instance stops the next (found by hand), so files notify ovn-central alone.
UNITS = ("ovn-ovsdb-server-nb", "ovn-ovsdb-server-sb", "ovn-northd")


def connections(ctx: Context) -> dict[str, str]:
    """The OVSDB addresses of the NB and SB databases (the first northd container)."""
    members = ctx.members(GROUP)
    if not members:
        return {"ovn_nb": "", "ovn_sb": ""}
    address = ctx.address(members[0])
    return {"ovn_nb": f"tcp:{address}:{NB_PORT}", "ovn_sb": f"tcp:{address}:{SB_PORT}"}


def _listening(runner, ctl: str, address: str, port: int) -> Command:
    """The database listens on the container's address with OSA's inactivity probe (a Connection
    row in the database itself, so a rebuild keeps it)."""
    remote = f"ptcp:{port}:{address}"
    facts = (f'[ "$({ctl} get-connection | sed "s/.* //")" = "{remote}" ] && '
             f'[ "$({ctl} --if-exists get connection . inactivity_probe)" = "{INACTIVITY_PROBE_MS}" ]')
    return Command(runner, f"{ctl} listens on {address}:{port}",
                   sh(f'{ctl} set-connection "$1" && {ctl} set connection . inactivity_probe={INACTIVITY_PROBE_MS}',
                      remote),
                   unless=sh(facts))


def deploy(ctx: Context) -> None:
    jobs = []
    for name in ctx.targets(GROUP):
        runner = ctx.runner(name)
        options = f"--db-nb-file={DB_DIR}/ovnnb_db.db --db-sb-file={DB_DIR}/ovnsb_db.db"
        jobs.append((name, [
            Directory(runner, DB_DIR, 0o750),
            FileContent(runner, "/etc/default/ovn-central",
                        f'# Written by osa-aio: the databases on the /openstack bind mount.\nOVN_CTL_OPTS="{options}"\n',
                        notify=("ovn-central",)),
            ServiceRunning(runner, "ovn-central"),
            *[ServiceRunning(runner, unit, enabled=None) for unit in UNITS],
            ServiceSteady(runner, "ovn-northd", seconds=3),
            _listening(runner, "ovn-nbctl", ctx.address(name), NB_PORT),
            _listening(runner, "ovn-sbctl", ctx.address(name), SB_PORT),
        ]))
    ctx.engine.run_parallel(NAME, jobs)


def _answers(ctx: Context) -> str:
    urls = connections(ctx)
    name = ctx.members(GROUP)[0]
    for ctl, url in (("ovn-nbctl", urls["ovn_nb"]), ("ovn-sbctl", urls["ovn_sb"])):
        result = ctx.runner(name).run([ctl, f"--db={url}", "--timeout=10", "show"], check=False, timeout=30)
        if result.rc != 0:
            raise OsaAioError(f"{ctl} --db={url} show failed: {result.stderr.strip()[-200:]}", file=name)
    return f"NB on {urls['ovn_nb']}, SB on {urls['ovn_sb']}"


ROLE = Role(NAME, deploy, group=GROUP, container_type=CONTAINER_TYPE, packages=PACKAGES,
            disabled_services=DISABLED_SERVICES, start_order=20, profiles={"compute": 1},
            checks=(Check("OVN NB and SB answer", _answers),),
            log_units=UNITS, log_files=("/var/log/ovn/*.log",))
