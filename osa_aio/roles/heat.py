"""Heat 27 (2026.2), orchestration, on the building block: heat-api and heat-api-cfn under uWSGI
and heat-engine as a daemon, in OSA's heat_api_container. Heat's own: its stack domain (the
`heat` domain with its admin `stack_domain_admin`) and the roles stacks give their users
(OSA's os_heat service setup)."""

from __future__ import annotations

from osa_aio.config import USER_SECRETS
from osa_aio.errors import ConfigError
from osa_aio.roles.catalog import CatalogEntry, DomainAdminReady, Keystone
from osa_aio.roles.context import Context
from osa_aio.roles.openstack import ApiService, WsgiApp, api_role

STACK_DOMAIN = "heat"
STACK_DOMAIN_ADMIN = "stack_domain_admin"
AUTH_ENCRYPTION_KEY = "heat_auth_encryption_key"
AUTH_ENCRYPTION_KEY_LENGTH = 32


def stack_domain(ctx: Context, spec: ApiService) -> list:
    return [DomainAdminReady(Keystone(ctx.internal_vip, ctx.secret("keystone_auth_admin_password")), STACK_DOMAIN,
                             STACK_DOMAIN_ADMIN, ctx.secret("heat_stack_domain_admin_password"),
                             roles=("heat_stack_owner", "heat_stack_user"))]


def secrets(ctx: Context, name: str) -> dict:
    return {"stack_domain_admin_password": ctx.secret("heat_stack_domain_admin_password"),
            "auth_encryption_key": auth_encryption_key(ctx)}


def auth_encryption_key(ctx: Context) -> str:
    """Heat wants exactly 32 characters (heat-engine will not start otherwise): the first 32 of
    the secret, as OSA's os_heat does."""
    key = ctx.secret(AUTH_ENCRYPTION_KEY)
    if len(key) < AUTH_ENCRYPTION_KEY_LENGTH:
        raise ConfigError(f"is {len(key)} characters; heat needs at least {AUTH_ENCRYPTION_KEY_LENGTH}",
                          file=str(ctx.config.path(USER_SECRETS)), key=AUTH_ENCRYPTION_KEY,
                          hint="empty it and run `osa-aio secrets` for a new one")
    return key[:AUTH_ENCRYPTION_KEY_LENGTH]


SPEC = ApiService(
    name="heat", description="OpenStack Orchestration (heat)", group="heat_all", container_type="heat_api_container",
    package="openstack-heat", version="27.0.1", module="heat",
    apps=(WsgiApp("heat-api", "heat.wsgi.api:application", 8004),
          WsgiApp("heat-api-cfn", "heat.wsgi.cfn:application", 8000)),
    daemons=("heat-engine",),
    config="heat.conf",
    catalog=(CatalogEntry("heat", "orchestration", 8004, "/v1/%(tenant_id)s", "OpenStack Orchestration"),
             CatalogEntry("heat-cfn", "cloudformation", 8000, "/v1", "OpenStack Orchestration (CloudFormation)")),
    db_sync=(("heat-manage", "db_sync"),),  # it reads /etc/heat/heat.conf
    defaults={"engine_workers": 1, "max_stacks_per_tenant": 100},
    client_packages=("python-heatclient",),
    extra_secrets=("heat_stack_domain_admin_password", AUTH_ENCRYPTION_KEY),
    # Installed in the venv, read from /etc/heat: the paste pipelines and the default environment.
    venv_files=(("etc/heat/api-paste.ini", "/etc/heat/api-paste.ini"),
                ("etc/heat/environment.d/default.yaml", "/etc/heat/environment.d/default.yaml")),
    dirs=(("/etc/heat/environment.d", 0o755),),
    template_values=secrets,
    once=stack_domain,
    start_order=60, profiles={"minimal": 1, "aio": 2, "compute": 2},
)
ROLE = api_role(SPEC)
