"""Container names and MAC addresses: deterministic, valid hostnames, stable across runs."""

from __future__ import annotations

import hashlib
import re

MAX_HOSTNAME = 63
_SUFFIX = re.compile(r"-[0-9a-f]{8}$")


def container_name(host: str, container_type: str, index: int) -> str:
    """``<host>-<type>-<8 hex>``, e.g. aio1-keystone-container-821e7cf8.

    The suffix is a hash of host, type and index, so the same slot always gets the same name.
    """
    digest = hashlib.sha256(f"{host}/{container_type}/{index}".encode()).hexdigest()[:8]
    return f"{normalize(host)}-{normalize(container_type)}-{digest}"


def normalize(name: str) -> str:
    """The canonical spelling of a name given on the command line or in OSA's older form.

    OSA names containers ``aio1_keystone_container-821e7cf8``; osa-aio uses hyphens only, so
    underscores become hyphens and case is folded.
    """
    return name.strip().lower().replace("_", "-")


def container_mac(name: str, interface: str, attempt: int = 0) -> str:
    """A fixed, locally administered unicast MAC for one interface of one container."""
    digest = hashlib.sha256(f"{name}/{interface}/{attempt}".encode()).digest()
    return "02:" + ":".join(f"{byte:02x}" for byte in digest[:5])


def looks_like_container_name(name: str) -> bool:
    return bool(_SUFFIX.search(normalize(name)))
