"""The inventory for other tools (pure): Ansible's dynamic-inventory JSON.

osa-aio's inventory is already in OSA's shape (groups with hosts and children, `_meta.hostvars`);
the export keeps only what Ansible reads and adds how to reach each host: containers through
lxc-attach on their host (the community.general.lxc connection, by container name), the host
osa-aio runs on locally, other hosts over SSH to their address.
"""

from __future__ import annotations

import copy

LXC_CONNECTION = "community.general.lxc"
GROUP_KEYS = ("hosts", "children", "vars")


def ansible_inventory(inventory: dict, local_hosts: set[str]) -> dict:
    """``inventory`` as `ansible-inventory` takes it; ``local_hosts``: the physical hosts that are this machine."""
    exported: dict = {}
    for name, group in sorted(inventory.items()):
        if name == "_meta" or not isinstance(group, dict):
            continue
        entry = {key: copy.deepcopy(group[key]) for key in GROUP_KEYS if group.get(key)}
        exported[name] = entry or {"hosts": []}  # Ansible takes an empty mapping for a host
    hostvars = {}
    for name, values in sorted(inventory.get("_meta", {}).get("hostvars", {}).items()):
        values = copy.deepcopy(values)
        if values.get("container_type"):
            # Reached through lxc-attach on its host: the container's name is its address for LXC.
            values.update(ansible_connection=LXC_CONNECTION, ansible_lxc_host=name,
                          ansible_python_interpreter="/usr/bin/python3")
        elif name in local_hosts:
            values.update(ansible_connection="local", ansible_python_interpreter="/usr/bin/python3")
        else:
            values.setdefault("ansible_connection", "ssh")
        hostvars[name] = values
    exported["_meta"] = {"hostvars": hostvars}
    return exported
