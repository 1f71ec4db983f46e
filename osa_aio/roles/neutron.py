"""Neutron 29 (2026.2), networking with ML2/OVN, on the building block: neutron-server under
uWSGI with its periodic and OVN maintenance workers in OSA's neutron_server_container. There are
no RPC agents under OVN (rpc_workers = 0): OVN's northd (osa_aio.roles.ovn_northd) and the
compute node's ovn-controller and OVN agent (osa_aio.roles.compute) do the agents' work."""

from __future__ import annotations

from osa_aio.roles import ovn_northd
from osa_aio.roles.base import DevAlso
from osa_aio.roles.catalog import CatalogEntry
from osa_aio.roles.context import Context
from osa_aio.roles.openstack import VENVS, ApiService, ConfigFile, WsgiApp, api_role

GROUP = "neutron_server"  # not neutron_all: that one holds the compute containers too
ML2_CONF = "/etc/neutron/plugins/ml2/ml2_conf.ini"
PHYSNET = "physnet1"       # the flat provider network's name (br-ex on the compute node)
VLAN_RANGE = "100:199"     # VLAN tenant networks on it (they span hosts where Geneve cannot carry TCP)


COMPUTE_GROUP = "nova_compute"


def tenant_network_types(ctx: Context) -> str:
    """Geneve; VLANs on PHYSNET first when compute containers are on more than one host (OVS 3.1's
    userspace datapath drops the guests' checksum-offloaded TCP at a Geneve tunnel; a VLAN leaves
    through br-ex, which segments and checksums it)."""
    hostvars = ctx.inventory["_meta"]["hostvars"]
    hosts = {hostvars[name]["physical_host"] for name in ctx.members(COMPUTE_GROUP)}
    return "vlan,geneve" if len(hosts) > 1 else "geneve"


def template_values(ctx: Context, name: str) -> dict:
    return {**ovn_northd.connections(ctx), "physnet": PHYSNET, "vlan_range": VLAN_RANGE,
            "tenant_network_types": tenant_network_types(ctx)}


SPEC = ApiService(
    name="neutron", description="OpenStack Networking (neutron)", group=GROUP,
    container_type="neutron_server_container", package="neutron", version="29.0.0", module="neutron",
    # start-time: neutron's uWSGI app reads it to tell its workers' start apart (OS §1.2).
    apps=(WsgiApp("neutron-server", "neutron.wsgi.api:application", 9696, uwsgi_options=("start-time = %t",)),),
    daemons=("neutron-periodic-workers", "neutron-ovn-maintenance-worker"),
    # The OVN driver reads the databases' schemas with ovsdb-client at start.
    packages=("openvswitch-common",),
    config="neutron.conf",
    more_configs=(ConfigFile("ml2_conf.ini", ML2_CONF),),
    catalog=(CatalogEntry("neutron", "network", 9696, "", "OpenStack Networking"),),
    service_roles=("admin", "service"),
    db_sync=(("neutron-db-manage", "--config-file", "/etc/neutron/neutron.conf", "--config-file", ML2_CONF,
              "upgrade", "head"),),
    venv_files=(("etc/neutron/api-paste.ini", "/etc/neutron/api-paste.ini"),),
    # Its privileged agent code imports it; neutron 29.0.0 does not declare it.
    python_packages=("pyroute2",),
    dirs=(("/etc/neutron/plugins", 0o750), ("/etc/neutron/plugins/ml2", 0o750)),
    template_values=template_values,
    # `osa-aio dev neutron` runs the checkout in the compute node's OVN agent too.
    dev_also=(DevAlso("compute", "nova_compute", f"{VENVS}/neutron", ("neutron-ovn-agent",)),),
    start_order=60, profiles={"compute": 1},
)
ROLE = api_role(SPEC)
