"""The keystone catalog through keystone's API on the internal VIP (kolla's service-ks-register,
OSA's service_setup): a service's user in project `service` with its roles, its service entry
and its public/internal/admin endpoints. Every call reads first and creates or mends only what
is missing or different, so a run killed half way is finished by the next one."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from osa_aio.errors import OsaAioError

log = logging.getLogger("osa_aio.catalog")

REGION = "RegionOne"
SERVICE_PROJECT = "service"
INTERFACES = ("public", "internal", "admin")


class KeystoneError(OsaAioError):
    """Keystone's API answered something osa-aio did not expect."""


class Keystone:
    """A small client of keystone's v3 API with the admin's project-scoped token."""

    def __init__(self, vip: str, admin_password: str, timeout: float = 30) -> None:
        self.url = f"http://{vip}:5000/v3"
        self._password = admin_password
        self._timeout = timeout
        self._token: str | None = None

    def request(self, method: str, path: str, body: dict | None = None, token: bool = True) -> tuple[int, dict]:
        """(status, JSON body); 4xx and 5xx are returned, not raised, so callers decide. ``path``
        is keystone's, or a whole URL of another service's API (the same admin token)."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["X-Auth-Token"] = self.token()
        url = path if path.startswith("http") else f"{self.url}{path}"
        request = urllib.request.Request(url, method=method, headers=headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        if url.startswith(self.url):
            log.info("keystone %s %s", method, path)
        else:
            log.info("api %s %s", method, url)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                status, raw, token_header = response.status, response.read(), response.headers.get("X-Subject-Token")
        except urllib.error.HTTPError as exc:
            status, raw, token_header = exc.code, exc.read(), None
        except (urllib.error.URLError, OSError) as exc:
            raise KeystoneError(f"does not answer ({getattr(exc, 'reason', exc)})", file=url,
                                hint="`osa-aio verify` tells whether keystone is up") from None
        data = json.loads(raw) if raw.strip() else {}
        if token_header:
            data["_token"] = token_header
        return status, data

    def call(self, method: str, path: str, body: dict | None = None, ok: tuple[int, ...] = (200, 201, 204)) -> dict:
        status, data = self.request(method, path, body)
        if status not in ok:
            message = (data.get("error") or {}).get("message", "")
            raise KeystoneError(f"{method} {path} answered {status} {message}".strip(), file=self.url)
        return data

    def token(self) -> str:
        if self._token is None:
            status, data = self.request("POST", "/auth/tokens", password_auth("admin", self._password, "admin"),
                                        token=False)
            if status != 201:
                raise KeystoneError(f"the admin could not log in (HTTP {status})", file=self.url,
                                    hint="is keystone_auth_admin_password in user_secrets.yml the deployed one?")
            self._token = data["_token"]
        return self._token

    def find(self, collection: str, **query: str) -> list[dict]:
        data = self.call("GET", f"/{collection}?{urllib.parse.urlencode(query)}")
        return data[collection]

    def one(self, collection: str, **query: str) -> dict | None:
        found = self.find(collection, **query)
        return found[0] if found else None

    def can_log_in(self, user: str, password: str, domain: str = "Default") -> bool:
        status, _ = self.request("POST", "/auth/tokens", password_auth(user, password, domain=domain), token=False)
        return status == 201

    def role(self, name: str, todo: list[str], apply: bool) -> dict | None:
        """The role named ``name``; made when missing and ``apply`` (noted in ``todo``)."""
        role = self.one("roles", name=name)
        if role is None:
            todo.append(f"role {name}")
            if apply:
                role = self.call("POST", "/roles", {"role": {"name": name}})["role"]
        return role

    def user(self, name: str, password: str, domain_id: str, domain: str, todo: list[str], apply: bool) -> dict | None:
        """The user ``name`` of a domain, able to log in with ``password``; made or mended when ``apply``."""
        user = self.one("users", name=name, domain_id=domain_id)
        if user is None:
            todo.append(f"user {name}")
            if apply:
                user = self.call("POST", "/users", {"user": {
                    "name": name, "domain_id": domain_id, "password": password, "enabled": True}})["user"]
        elif not self.can_log_in(name, password, domain):
            todo.append(f"password of {name}")
            if apply:
                self.call("PATCH", f"/users/{user['id']}", {"user": {"password": password}})
        return user

    def grant(self, target: str | None, user: dict | None, role: dict | None, what: str, todo: list[str],
              apply: bool) -> None:
        """``role`` of ``user`` on ``target`` ("projects/<id>" or "domains/<id>"); nothing to check
        while one of them is still to be made."""
        if not (target and user and role):
            return
        path = f"/{target}/users/{user['id']}/roles/{role['id']}"
        status, _ = self.request("HEAD", path)
        if status != 204:
            todo.append(what)
            if apply:
                self.call("PUT", path)


def password_auth(user: str, password: str, project: str | None = None, domain: str = "Default") -> dict:
    auth = {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": domain}, "password": password}}}}
    if project:
        auth["scope"] = {"project": {"name": project, "domain": {"name": "Default"}}}
    return {"auth": auth}


@dataclass(frozen=True)
class CatalogEntry:
    """One service in the catalog: ``http://<VIP>:<port><path>`` on every interface; the public
    one on the external VIP when the service is public."""

    name: str      # the service's name in keystone: "glance"
    type: str      # its type: "image"
    port: int
    path: str = ""
    description: str = ""
    external: bool = True

    def urls(self, internal_vip: str, external_vip: str) -> dict[str, str]:
        public = external_vip if self.external else internal_vip
        return {"public": f"http://{public}:{self.port}{self.path}",
                "internal": f"http://{internal_vip}:{self.port}{self.path}",
                "admin": f"http://{internal_vip}:{self.port}{self.path}"}


class KeystonePlan:
    """A step whose ``_plan(apply)`` lists what differs in keystone (mending it when ``apply``):
    check is that list, apply mends and then reads again."""

    keystone: Keystone

    def _plan(self, apply: bool) -> list[str]:
        raise NotImplementedError

    def check(self) -> str | None:
        todo = self._plan(apply=False)
        return "; ".join(todo) if todo else None

    def apply(self) -> None:
        self._plan(apply=True)
        left = self._plan(apply=False)
        if left:
            raise KeystoneError(f"still missing after mending: {'; '.join(left)}", file=self.keystone.url)


@dataclass
class CatalogRegistered(KeystonePlan):
    """A service's keystone user (when it has one) with its roles in project `service`, and its
    catalog entries with exactly one endpoint per interface at the wanted URL."""

    keystone: Keystone
    entries: tuple[CatalogEntry, ...]
    internal_vip: str
    external_vip: str
    user: str | None = None         # the service user (None: no user, keystone itself)
    password: str | None = None
    roles: tuple[str, ...] = ("admin",)

    @property
    def name(self) -> str:
        return "keystone catalog " + ", ".join(f"{e.name} ({e.type})" for e in self.entries)

    def _plan(self, apply: bool) -> list[str]:
        """What differs from the wanted catalog (and, with ``apply``, mend it on the way)."""
        todo: list[str] = []
        ks = self.keystone
        if self.user:
            project = ks.one("projects", name=SERVICE_PROJECT, domain_id="default")
            if project is None:
                todo.append(f"project {SERVICE_PROJECT}")
                if apply:
                    project = ks.call("POST", "/projects", {"project": {
                        "name": SERVICE_PROJECT, "domain_id": "default", "description": "OpenStack services"}})["project"]
            user = ks.user(self.user, self.password or "", "default", "Default", todo, apply)
            for role_name in self.roles:
                ks.grant(f"projects/{project['id']}" if project else None, user, ks.role(role_name, todo, apply),
                         f"role {role_name} of {self.user} in {SERVICE_PROJECT}", todo, apply)
        for entry in self.entries:
            todo += self._entry(entry, apply)
        return todo

    def _entry(self, entry: CatalogEntry, apply: bool) -> list[str]:
        ks = self.keystone
        todo = []
        services = [s for s in ks.find("services", type=entry.type) if s["name"] == entry.name]
        service = services[0] if services else None
        if service is None:
            todo.append(f"service {entry.name}")
            if not apply:
                return todo + [f"{entry.name} {interface} endpoint" for interface in INTERFACES]
            service = ks.call("POST", "/services", {"service": {
                "name": entry.name, "type": entry.type, "description": entry.description, "enabled": True}})["service"]
        endpoints = ks.find("endpoints", service_id=service["id"])
        for interface, url in entry.urls(self.internal_vip, self.external_vip).items():
            found = [e for e in endpoints if e["interface"] == interface and e.get("region_id") in (REGION, None)]
            for extra in found[1:]:  # one endpoint per interface: a duplicate (an old run) goes
                todo.append(f"duplicate {entry.name} {interface} endpoint")
                if apply:
                    ks.call("DELETE", f"/endpoints/{extra['id']}")
            if not found:
                todo.append(f"{entry.name} {interface} endpoint")
                if apply:
                    ks.call("POST", "/endpoints", {"endpoint": {
                        "service_id": service["id"], "interface": interface, "url": url, "region_id": REGION,
                        "enabled": True}})
            elif found[0]["url"] != url:
                todo.append(f"{entry.name} {interface} endpoint URL")
                if apply:
                    ks.call("PATCH", f"/endpoints/{found[0]['id']}", {"endpoint": {"url": url}})
        return todo


def catalog_problem(keystone: Keystone, entry: CatalogEntry, internal_vip: str, external_vip: str) -> str | None:
    """For `verify`: None when the catalog holds ``entry`` with its three endpoints as wanted."""
    services = [s for s in keystone.find("services", type=entry.type) if s["name"] == entry.name]
    if len(services) != 1:
        return f"{len(services)} {entry.type} services named {entry.name}"
    endpoints = {e["interface"]: e["url"] for e in keystone.find("endpoints", service_id=services[0]["id"])}
    wanted = entry.urls(internal_vip, external_vip)
    return None if endpoints == wanted else f"endpoints are {endpoints}"


@dataclass
class DomainAdminReady(KeystonePlan):
    """A keystone domain of the service's own, a user holding ``admin`` on it, and roles the
    service's users are given (heat's stack domain: OSA's os_heat service setup)."""

    keystone: Keystone
    domain: str
    user: str
    password: str
    roles: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"keystone domain {self.domain} with its admin {self.user}" + (
            f", roles {', '.join(self.roles)}" if self.roles else "")

    def _plan(self, apply: bool) -> list[str]:
        todo: list[str] = []
        ks = self.keystone
        domain = ks.one("domains", name=self.domain)
        if domain is None:
            todo.append(f"domain {self.domain}")
            if apply:
                domain = ks.call("POST", "/domains", {"domain": {
                    "name": self.domain, "description": f"Owns the users and projects {self.domain} creates",
                    "enabled": True}})["domain"]
        if domain is None:
            return todo + [f"user {self.user}"]
        user = ks.user(self.user, self.password, domain["id"], self.domain, todo, apply)
        ks.grant(f"domains/{domain['id']}", user, ks.role("admin", todo, apply),
                 f"role admin of {self.user} on domain {self.domain}", todo, apply)
        for role in self.roles:
            ks.role(role, todo, apply)
        return todo
