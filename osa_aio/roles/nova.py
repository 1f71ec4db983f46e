"""Nova 34 (2026.2), compute, on the building block: nova-api (os_compute) and nova-metadata
under uWSGI, nova-conductor, nova-scheduler and nova-novncproxy in OSA's nova_api_container.
The compute node is its own role (osa_aio.roles.compute). Nova's own: its cells (cell0 mapped by
the schema sync, cell1 made once, both as template URLs so no password is stored twice), the
console proxy's frontend and noVNC's web files."""

from __future__ import annotations

from dataclasses import dataclass

from osa_aio.errors import OsaAioError
from osa_aio.haproxy import HaService
from osa_aio.roles import galera, rabbitmq
from osa_aio.roles.base import Check, DevAlso
from osa_aio.roles.catalog import CatalogEntry
from osa_aio.roles.context import Context
from osa_aio.roles.openstack import VENVS, ApiService, WsgiApp, api_role
from osa_aio.steps import Command, sh
from osa_aio.transport import Runner

GROUP = "nova_api_os_compute"  # not nova_all: that one holds the compute containers too
METADATA_SECRET = "nova_metadata_proxy_secret"
NOVNC = "/usr/share/novnc"
NOVNC_PORT = 6080
CELL = "cell1"
# Cell mappings keep template URLs: nova fills them from the [database] connection and
# transport_url of the process that reads them (nova.objects.cell_mapping), so a password lives
# in the config files alone.
CELL0_DATABASE = "{scheme}://{username}:{password}@{hostname}/nova_cell0?{query}"
CELL_DATABASE = "{scheme}://{username}:{password}@{hostname}/{path}?{query}"


def cell_transport(members: int) -> str:
    """The template of a transport_url with ``members`` rabbitmq hosts (nova numbers them from 1)."""
    hosts = ",".join(f"{{username{i}}}:{{password{i}}}@{{hostname{i}}}:{{port{i}}}" for i in range(1, members + 1))
    return f"{{scheme}}://{hosts}/{{path}}"


@dataclass
class CellMapped:
    """Cell ``cell1`` is mapped with the template URLs wanted (read from the nova_api database on
    a galera node: the mapping holds no secret); made with create_cell, or mended with update_cell.
    create_cell exits 2 when the cell exists, so it is a step of its own, not part of the db sync."""

    api_runner: Runner
    galera_runner: Runner
    spec: ApiService
    transport: str
    name = f"cell {CELL} mapped"

    def _found(self) -> tuple[str, str, str] | None:
        row = self.galera_runner.run(["mariadb", "-N", "-B", "-e", "SELECT uuid, transport_url, database_connection "
                                      f"FROM nova_api.cell_mappings WHERE name='{CELL}'"], check=False).stdout.split()
        return (row[0], row[1], row[2]) if len(row) == 3 else None

    def check(self) -> str | None:
        found = self._found()
        if found is None:
            return "absent"
        return None if found[1:] == (self.transport, CELL_DATABASE) else "its URLs differ"

    def apply(self) -> None:
        found = self._found()
        urls = ("--transport-url", self.transport, "--database_connection", CELL_DATABASE)
        if found is None:
            argv = ("nova-manage", "cell_v2", "create_cell", "--name", CELL, *urls)
        else:
            argv = ("nova-manage", "cell_v2", "update_cell", "--cell_uuid", found[0], *urls)
        self.api_runner.run(self.spec.script(argv), timeout=300)


def cells(ctx: Context, spec: ApiService) -> list:
    api = ctx.targets(spec.group)[0]
    return [CellMapped(ctx.runner(api), ctx.runner(galera.synced_member(ctx)), spec,
                       cell_transport(len(ctx.members(rabbitmq.GROUP))))]


def novnc(ctx: Context, spec: ApiService, name: str) -> list:
    """noVNC's web files from Debian's package, without it: the package pulls in nodejs and
    Debian's python3-oslo.config, none of which the console proxy (in the venv) uses."""
    return [Command(ctx.runner(name), f"noVNC files in {NOVNC}",
                    sh('set -e; d=$(mktemp -d); cd "$d"; apt-get download -q novnc >/dev/null; '
                       'dpkg-deb -x novnc_*.deb x; rm -rf "$1"; cp -a x/usr/share/novnc "$1"; cd /; rm -rf "$d"',
                       NOVNC),
                    unless=["test", "-e", f"{NOVNC}/vnc_lite.html"], timeout=300)]


def template_values(ctx: Context, name: str) -> dict:
    return {"metadata_secret": ctx.secret(METADATA_SECRET), "novnc": NOVNC, "novnc_port": NOVNC_PORT,
            "placement_url": f"http://{ctx.internal_vip}:8780", "compute": False}


def status_check(ctx: Context) -> str:
    """`nova-status upgrade check` in the first api container: rc 0, or the failing check named."""
    name = ctx.members(GROUP)[0]
    result = ctx.runner(name).run(SPEC.script(("nova-status", "upgrade", "check")), check=False, timeout=300)
    if result.rc not in (0,):
        failed = [line.strip() for line in result.stdout.splitlines() if "Result:" in line and "Success" not in line]
        raise OsaAioError(f"nova-status upgrade check exited {result.rc}: {'; '.join(failed) or result.stdout[-200:]}",
                          file=name)
    return "every upgrade check succeeds"


SPEC = ApiService(
    name="nova", description="OpenStack Compute (nova)", group=GROUP, container_type="nova_api_container",
    package="nova", version="34.0.0", module="nova",
    apps=(WsgiApp("nova-api", "nova.wsgi.osapi_compute:application", 8774, health="/"),
          # The metadata API answers the compute nodes' proxies only: on the internal VIP alone.
          WsgiApp("nova-metadata", "nova.wsgi.metadata:application", 8775, health="/", external=False)),
    daemons=("nova-conductor", "nova-scheduler", "nova-novncproxy"),
    config="nova.conf",
    catalog=(CatalogEntry("nova", "compute", 8774, "/v2.1", "OpenStack Compute"),),
    service_roles=("admin", "service"),
    databases=("nova_api", "nova_cell0", "nova"),
    # cell0 is mapped before `db sync`, which syncs cell0's database too (it skips it when unmapped).
    db_sync=(("nova-manage", "api_db", "sync"),
             ("nova-manage", "cell_v2", "map_cell0", "--database_connection", CELL0_DATABASE),
             ("nova-manage", "db", "sync")),
    once=cells,
    defaults={"conductor_workers": 1, "scheduler_workers": 1},
    # os-vif creates the taps with it (OSA adds it: the venv lacks it otherwise).
    python_packages=("pyroute2",),
    extra_secrets=(METADATA_SECRET,),
    venv_files=(("etc/nova/api-paste.ini", "/etc/nova/api-paste.ini"),),
    node_extra=lambda ctx, spec, name: novnc(ctx, spec, name),
    template_values=template_values,
    frontends=(HaService(name="nova-novncproxy", port=NOVNC_PORT, group=GROUP, mode="http", external=True,
                         balance="source", check=("option httpchk", "http-check send meth HEAD uri /vnc_lite.html",
                                                  "http-check expect status 200"),
                         options=("timeout server 60m",), frontend_options=("timeout client 60m",)),),
    checks=(Check("nova-status upgrade check", status_check),),
    # `osa-aio dev nova` runs the checkout on the compute node too (the compute role's container).
    dev_also=(DevAlso("compute", "nova_compute", f"{VENVS}/nova", ("nova-compute",)),),
    start_order=60, profiles={"compute": 1},
)
ROLE = api_role(SPEC)
