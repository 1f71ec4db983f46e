"""Glance 33 (2026.2), the image service, on the building block: glance-api under uWSGI in OSA's
glance containers. Its file store is one host folder bind-mounted into every glance container,
owned by the same uid/gid in each, so an image uploaded through either is served by both and
survives a rebuild of both."""

from __future__ import annotations

from osa_aio.containers import DATA_ROOT
from osa_aio.roles.catalog import CatalogEntry
from osa_aio.roles.openstack import ApiService, WsgiApp, api_role

IMAGES = "/var/lib/glance/images"
UID = 1610  # glance's uid and gid in every glance container (the store's files are shared)

SPEC = ApiService(
    name="glance", description="OpenStack Image (glance)", group="glance_all", container_type="glance_container",
    package="glance", version="33.0.0", module="glance",
    # Chunked uploads need no uWSGI option on http-socket: glance reads them with uwsgi.chunked_read().
    apps=(WsgiApp("glance-api", "glance.wsgi.api:application", 9292, balance="source",
                  uwsgi_options=("socket-timeout = 10",)),),
    config="glance-api.conf",
    catalog=(CatalogEntry("glance", "image", 9292, "", "OpenStack Image"),),
    db_sync=(("glance-manage", "db_sync"),),  # it reads /etc/glance/glance-api.conf
    client_packages=("python-glanceclient",),
    uid=UID,
    # Its paste pipeline: installed in the venv, read from beside glance-api.conf.
    venv_files=(("etc/glance/glance-api-paste.ini", "/etc/glance/glance-api-paste.ini"),),
    dirs=((IMAGES, 0o750), ("/var/lib/glance/staging", 0o750), ("/var/lib/glance/tasks", 0o750)),
    mounts=((str(DATA_ROOT / "shared" / "glance-images"), IMAGES.lstrip("/")),),
    start_order=55, profiles={"minimal": 1, "aio": 2, "compute": 2},
)
ROLE = api_role(SPEC)
