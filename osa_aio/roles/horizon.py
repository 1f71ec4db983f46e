"""Horizon 27 (2026.2), the dashboard, on the building block: a Django site under uWSGI on port
80 of OSA's horizon containers, its static files collected and compressed at deploy and served
by uWSGI, sessions in memcached, no database and no message queue.

uWSGI rather than Apache mod_wsgi: every other service runs under the same uWSGI, unit and
HAProxy checks (one template, one dev mode, one foreground mode), and the container needs no
Apache. Its settings are the module ``local.local_settings`` that horizon imports: the package
/etc/horizon/local, first on the Python path, so neither the venv nor a dev checkout is written."""

from __future__ import annotations

from osa_aio.roles import memcached
from osa_aio.roles.context import Context
from osa_aio.roles.openstack import ApiService, WsgiApp, api_role

STATIC = "/var/lib/horizon/static"
SETTINGS_PATH = "/etc/horizon"  # holds the package `local`
DJANGO = {"PYTHONPATH": SETTINGS_PATH, "DJANGO_SETTINGS_MODULE": "openstack_dashboard.settings"}
LOGIN = "/auth/login/"
# Dashboard plugins: (distribution pin, module with an `enabled` package). Not in upper-constraints
# (plugins are not libraries): pinned here to the release for horizon 27.
PLUGINS = (("heat-dashboard==16.0.0", "heat_dashboard"),)


def values(ctx: Context, name: str) -> dict:
    return {"secret_key": ctx.secret("horizon_secret_key"), "static_root": STATIC,
            "memcache_locations": [f"{ctx.address(m)}:11211" for m in ctx.members(memcached.GROUP)],
            "plugins": [module for _, module in PLUGINS]}


SPEC = ApiService(
    name="horizon", description="OpenStack Dashboard (horizon)", group="horizon_all",
    container_type="horizon_container", package="horizon", version="27.0.0", module="openstack_dashboard",
    apps=(WsgiApp("horizon", "openstack_dashboard.wsgi:application", 80, health=LOGIN, balance="source",
                  uwsgi_options=(f"static-map = /static={STATIC}", "offload-threads = 2")),),
    config="local_settings.py", config_path=f"{SETTINGS_PATH}/local/local_settings.py", config_overrides=False,
    databases=(), messaging=False, service_user=False,
    environment=DJANGO,
    build=(("django-admin", "collectstatic", "--noinput", "--verbosity", "0"),
           ("django-admin", "compress", "--force", "--verbosity", "0")),
    # Django 5 talks to memcached through pymemcache.
    python_packages=("pymemcache", *[pin for pin, _ in PLUGINS]),
    defaults={"processes": 2, "session_timeout": 3600},
    extra_secrets=("horizon_secret_key",),
    dirs=((f"{SETTINGS_PATH}/local", 0o750), (STATIC, 0o755)),
    files=((f"{SETTINGS_PATH}/local/__init__.py", "# The package of horizon's local_settings (osa-aio).\n"),),
    template_values=values,
    start_order=65, profiles={"minimal": 1, "aio": 2, "compute": 2},
)
ROLE = api_role(SPEC)
