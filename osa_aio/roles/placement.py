"""Placement 16 (2026.2) on the building block: placement-api under uWSGI in OSA's placement
container; no message queue. The utility container gets the osc-placement plugin."""

from __future__ import annotations

from osa_aio.roles.catalog import CatalogEntry
from osa_aio.roles.openstack import ApiService, WsgiApp, api_role

SPEC = ApiService(
    name="placement", description="OpenStack Placement", group="placement_all",
    container_type="placement_container", package="openstack-placement", version="16.0.0", module="placement",
    apps=(WsgiApp("placement-api", "placement.wsgi.api:application", 8780, health="/"),),
    config="placement.conf",
    catalog=(CatalogEntry("placement", "placement", 8780, "", "OpenStack Placement"),),
    db_secret="placement_galera_password",  # OSA's name for it
    messaging=False,
    db_sync=(("placement-manage", "db", "sync"),),
    client_packages=("osc-placement",),
    start_order=55, profiles={"minimal": 1, "aio": 1, "compute": 1},
)
ROLE = api_role(SPEC)
