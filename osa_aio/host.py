"""Facts about, and changes to, the host that carries the containers."""

from __future__ import annotations

import json

from osa_aio.errors import CommandFailed, OsaAioError
from osa_aio.transport import LocalRunner, Runner


def primary_address(runner: Runner | None = None) -> str | None:
    """The IPv4 address of the host's default-route interface, or None when there is none."""
    runner = runner or LocalRunner()
    try:
        routes = json.loads(runner.run(["ip", "-j", "-4", "route", "show", "default"]).stdout or "[]")
        if not routes:
            return None
        if routes[0].get("prefsrc"):
            return routes[0]["prefsrc"]
        links = json.loads(runner.run(["ip", "-j", "-4", "addr", "show", "dev", routes[0]["dev"]]).stdout or "[]")
    except (CommandFailed, OsaAioError, ValueError, KeyError):
        return None
    for link in links:
        for info in link.get("addr_info", []):
            if info.get("local"):
                return info["local"]
    return None
