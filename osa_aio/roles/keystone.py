"""Keystone 30 (2026.2) on the building block (osa_aio.roles.openstack). What is keystone's own:
the fernet and credential keys, the same on every keystone container (made once, copied from a
container that has them), and `keystone-manage bootstrap` (admin, its project and roles, and the
identity service in the catalog)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from osa_aio.errors import OsaAioError
from osa_aio.roles.base import Check
from osa_aio.roles.catalog import REGION, CatalogEntry, Keystone
from osa_aio.roles.context import Context
from osa_aio.roles.openstack import ApiService, WsgiApp, api_role
from osa_aio.steps import Command, sh
from osa_aio.transport import Runner

NAME = "keystone"
GROUP = "keystone_all"
KEY_DIRS = ("fernet-keys", "credential-keys")
BOOTSTRAP_DIGEST = "/openstack/keystone-bootstrap.digest"


def key_digest(runner: Runner) -> str | None:
    """A digest of the fernet and credential keys (names and contents), None when there are none."""
    script = ('cd /etc/keystone && for d in "$@"; do [ -d "$d" ] && find "$d" -type f | sort | xargs -r sha256sum; '
              'done; true')
    listing = runner.run(sh(script, *KEY_DIRS), log_output=False).stdout
    if not any(f"{d}/" in listing for d in KEY_DIRS):
        return None
    return hashlib.sha256(listing.encode()).hexdigest()


@dataclass
class KeysShared:
    """Every keystone container holds the same fernet and credential keys; they are made once
    (on the first container when none has any) and copied from one that has them."""

    runners: dict[str, Runner]
    manage: str
    name = "fernet and credential keys shared"

    def check(self) -> str | None:
        digests = {name: key_digest(runner) for name, runner in self.runners.items()}
        if all(d is None for d in digests.values()):
            return "no keys yet"
        return None if len(set(digests.values())) == 1 else "differ between containers"

    def apply(self) -> None:
        digests = {name: key_digest(runner) for name, runner in self.runners.items()}
        source = next((n for n, d in digests.items() if d is not None), None)
        if source is None:
            source = next(iter(self.runners))
            runner = self.runners[source]
            for command in ("fernet_setup", "credential_setup"):
                runner.run([self.manage, command, "--keystone-user", "keystone", "--keystone-group", "keystone"])
            digests[source] = key_digest(runner)
        # The keys travel as a tarball on stdin/stdout, never in argv or the log.
        archive = self.runners[source].run(sh('tar -C /etc/keystone -cz "$@" | base64', *KEY_DIRS),
                                           log_output=False).stdout
        for name, runner in self.runners.items():
            if digests[name] != digests[source]:
                runner.run(sh('cd /etc/keystone && rm -rf "$@" && base64 -d | tar -C /etc/keystone -xz', *KEY_DIRS),
                           stdin=archive)
        if len({key_digest(r) for r in self.runners.values()}) != 1:
            raise OsaAioError("keys still differ after copying", file=source)


def once(ctx: Context, spec: ApiService) -> list:
    """After the db sync: the keys, then bootstrap (admin, and the identity service's endpoints)."""
    members = ctx.members(GROUP)
    first = ctx.runner(ctx.targets(GROUP)[0])
    admin = ctx.secret("keystone_auth_admin_password")
    urls = IDENTITY.urls(ctx.internal_vip, ctx.external_vip)
    digest = hashlib.sha256(json.dumps([admin, urls, REGION]).encode()).hexdigest()
    bootstrap = spec.script(("keystone-manage", "bootstrap", "--bootstrap-username", "admin",
                             "--bootstrap-project-name", "admin", "--bootstrap-role-name", "admin",
                             "--bootstrap-service-name", "keystone", "--bootstrap-region-id", REGION,
                             "--bootstrap-admin-url", urls["admin"], "--bootstrap-internal-url", urls["internal"],
                             "--bootstrap-public-url", urls["public"]))
    return [
        KeysShared({name: ctx.runner(name) for name in members}, f"{spec.venv}/bin/keystone-manage"),
        # The password travels in the environment (OS_BOOTSTRAP_PASSWORD), never in argv.
        Command(first, "bootstrap (admin, service, endpoints)",
                sh('"$@" && echo "$DIGEST" > "$MARKER"', *bootstrap),
                unless=sh('grep -qxF -- "$DIGEST" "$MARKER"'),
                env={"OS_BOOTSTRAP_PASSWORD": admin, "DIGEST": digest, "MARKER": BOOTSTRAP_DIGEST}),
    ]


def check_token(ctx: Context) -> str:
    Keystone(ctx.internal_vip, ctx.secret("keystone_auth_admin_password")).token()
    return "admin token issued"


IDENTITY = CatalogEntry("keystone", "identity", 5000, "/v3", "OpenStack Identity")

SPEC = ApiService(
    name=NAME, description="OpenStack Identity (keystone)", group=GROUP, container_type="keystone_container",
    package="keystone", version="30.0.0", module="keystone",
    apps=(WsgiApp("keystone", "keystone.wsgi.api:application", 5000),),
    config="keystone.conf",
    catalog=(IDENTITY,), service_user=False,
    rabbit_secret="keystone_oslomsg_notify_password",
    db_sync=(("keystone-manage", "db_sync"),),
    # bcrypt at keystone's own cost (12 rounds) takes 0.3 s of CPU per password login here: every
    # `openstack` command pays it, and 7 logins a second fill both cores. 8 rounds: 20 ms.
    defaults={"token_expiration": 3600, "processes": 2, "password_hash_rounds": 8},
    extra_secrets=("keystone_auth_admin_password",),
    dirs=tuple((f"/etc/keystone/{d}", 0o700) for d in KEY_DIRS),
    start_order=50, profiles={"identity": 2, "minimal": 1, "aio": 2, "compute": 2},
    checks=(Check("keystone token through the VIP", check_token),),
    once=once,
)
ROLE = api_role(SPEC)
CONFIG_FILES = SPEC.config_files
