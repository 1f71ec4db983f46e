"""`osa-aio topology`: what is where. The host's bridges and addresses, the containers on each
bridge with their address and state, HAProxy's frontends with each backend server's health, and
the dev checkouts. `build` is pure (state read by the caller); tree, JSON and Graphviz renderers."""

from __future__ import annotations

from typing import Iterable

from rich.tree import Tree

from osa_aio import devstate
from osa_aio.config import Config
from osa_aio.containers import ContainerState, container_spec, container_states, ordered
from osa_aio.errors import OsaAioError
from osa_aio.haproxy import HaService, ServerState, admin_command, frontends, server_states
from osa_aio.host import BridgePlan, BridgePresent, host_fleet, network_plan
from osa_aio.roles import haproxy_services
from osa_aio.transport import LocalRunner


def gather(config: Config, inventory: dict) -> dict:
    """The topology now: this host's bridges, the containers on them (of every host), each host's
    bridges, HAProxy's view and dev checkouts."""
    runner = LocalRunner()
    fleet = host_fleet(config, runner)
    entries = config.hosts()
    host = entries[fleet.local.name]
    plans = network_plan(config, host)
    try:
        servers = server_states(admin_command("show stat"))
    except OsaAioError:
        servers = None
    hosts = []
    for each in fleet.hosts.values():
        try:
            bridges = {p.bridge: BridgePresent(each.runner, p.bridge, each.name if each.remote else "").check() is None
                       for p in network_plan(config, entries[each.name], vips=not each.remote)}
        except OsaAioError as exc:
            bridges = {"unreachable": False}
            each_error = str(exc)
        else:
            each_error = None
        hosts.append({"name": each.name, "remote": each.remote, "address": each.address or "this machine",
                      "bridges": bridges, "error": each_error})
    return build(host.name, inventory, plans, hosts[0]["bridges"],
                 {state.name: state for state in container_states(inventory, fleet)}, haproxy_services(), servers,
                 config.internal_vip, config.external_vip,
                 {c.container: f"{c.service} from {c.source}" for c in devstate.load().values()}, hosts)


def build(host: str, inventory: dict, plans: list[BridgePlan], bridges_up: dict[str, bool],
          states: dict[str, ContainerState], services: Iterable[HaService], servers: list[ServerState] | None,
          internal_vip: str, external_vip: str, checkouts: dict[str, str], hosts: list[dict] | None = None) -> dict:
    """The topology as plain data. ``servers`` is None when HAProxy does not answer;
    ``checkouts`` maps a container to the dev checkout it runs."""
    names = ordered(inventory)
    specs = {name: container_spec(inventory, name) for name in names}
    bridges = []
    for plan in plans:
        members = []
        for name in names:
            for net in specs[name].networks:
                if net.bridge != plan.bridge:
                    continue
                state = states.get(name)
                members.append({"name": name, "type": specs[name].container_type, "host": specs[name].host,
                                "interface": net.interface,
                                "address": net.address, "state": state.state if state else "ABSENT",
                                "dev": checkouts.get(name)})
        bridges.append({"name": plan.bridge, "up": bridges_up.get(plan.bridge, False),
                        "addresses": [f"{address}/{prefix}" for address, prefix in plan.addresses],
                        "containers": members})
    by_server = {(s.backend, s.server): s for s in servers or []}
    shown = []
    for service, binds, members in frontends(inventory, services, internal_vip, external_vip):
        rows = []
        for server in members:
            seen = by_server.get((service.name, server.name))
            rows.append({"server": server.name, "address": f"{server.address}:{service.port}",
                         "backup": server.backup, "health": seen.status if seen else "unknown",
                         "dev": checkouts.get(server.name)})
        shown.append({"name": service.name, "mode": service.mode,
                      "binds": [f"{address}:{service.port}" for address in binds], "backends": rows})
    return {"host": host, "hosts": hosts or [], "bridges": bridges,
            "haproxy": {"answering": servers is not None, "frontends": shown},
            "dev": [{"container": c, "checkout": s} for c, s in sorted(checkouts.items())]}


def _style(state: str) -> str:
    return "green" if state in ("RUNNING", "UP") else ("yellow" if state.startswith(("DRAIN", "MAINT")) else "red")


def tree(topology: dict) -> Tree:
    root = Tree(f"[bold]{topology['host']}[/] (host)")
    several = len(topology.get("hosts", [])) > 1
    if several:
        branch = root.add("[bold]hosts[/]")
        for host in topology["hosts"]:
            bridges = ", ".join(f"{name} [{'green' if up else 'red'}]{'up' if up else 'missing'}[/]"
                                for name, up in host["bridges"].items())
            error = f"  [red]{host['error']}[/]" if host.get("error") else ""
            branch.add(f"{host['name']}  {host['address']}  {bridges}{error}")
    for bridge in topology["bridges"]:
        up = "[green]up[/]" if bridge["up"] else "[red]missing[/]"
        branch = root.add(f"[bold]{bridge['name']}[/] {up}  {', '.join(bridge['addresses']) or '-'}")
        for member in bridge["containers"]:
            dev = f"  [magenta]dev: {member['dev']}[/]" if member["dev"] else ""
            where = f" on {member['host']}" if several else ""
            branch.add(f"{member['name']}{where}  {member['address'] or '-'} ({member['interface']})  "
                       f"[{_style(member['state'])}]{member['state']}[/]{dev}")
    haproxy = topology["haproxy"]
    lb = root.add("[bold]HAProxy[/]" + ("" if haproxy["answering"] else "  [red]not answering[/]"))
    for frontend in haproxy["frontends"]:
        branch = lb.add(f"[bold]{frontend['name']}[/] ({frontend['mode']})  {', '.join(frontend['binds'])}")
        for row in frontend["backends"]:
            backup = " backup" if row["backup"] else ""
            dev = f"  [magenta]dev: {row['dev']}[/]" if row["dev"] else ""
            branch.add(f"{row['server']}  {row['address']}{backup}  [{_style(row['health'])}]{row['health']}[/]{dev}")
    return root


def dot(topology: dict) -> str:
    """Graphviz: the host, its bridges, the containers on them; frontends pointing at their servers."""
    def q(text: str) -> str:
        return '"' + text.replace('"', '\\"') + '"'

    lines = ["digraph osa_aio {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];",
             f"  {q(topology['host'])} [shape=box3d];"]
    for bridge in topology["bridges"]:
        label = f"{bridge['name']}\\n{', '.join(bridge['addresses'])}"
        lines.append(f"  {q(bridge['name'])} [shape=ellipse, label={q(label)}];")
        lines.append(f"  {q(topology['host'])} -> {q(bridge['name'])} [arrowhead=none];")
        for member in bridge["containers"]:
            color = "darkgreen" if member["state"] == "RUNNING" else "red"
            label = f"{member['name']}\\n{member['state']}" + (f"\\ndev: {member['dev']}" if member["dev"] else "")
            lines.append(f"  {q(member['name'])} [color={color}, label={q(label)}];")
            lines.append(f"  {q(bridge['name'])} -> {q(member['name'])} "
                         f"[arrowhead=none, label={q(member['address'] or '')}];")
    for frontend in topology["haproxy"]["frontends"]:
        node = f"haproxy:{frontend['name']}"
        label = f"{frontend['name']}\\n{', '.join(frontend['binds'])}"
        lines.append(f"  {q(node)} [shape=cds, label={q(label)}];")
        for row in frontend["backends"]:
            style = "dashed" if row["backup"] else "solid"
            color = "darkgreen" if row["health"].startswith("UP") else "red"
            lines.append(f"  {q(node)} -> {q(row['server'])} [style={style}, color={color}, label={q(row['health'])}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
