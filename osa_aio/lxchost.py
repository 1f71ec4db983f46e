"""LXC on one host, through that host's runner (this machine's, or a remote host's over SSH): the
lxc-* commands, the files under /var/lib/lxc and osa-aio's marker in each container's directory.

Every function takes the host's runner last, defaulting to this machine: a step is handed the
runner of its host and never asks whether that host is local.
"""

from __future__ import annotations

import json
from pathlib import Path

from osa_aio.errors import ContainerError, HostError
from osa_aio.transport import LocalRunner, Runner, put

LXC_PATH = Path("/var/lib/lxc")
MARKER = "osa-aio.json"
LOCAL: Runner = LocalRunner()
TOP_FOLDERS = ("lxc", "openstack", "log", "snapshots", "osa-aio")  # remove_tree never takes one of these

# Every container directory with osa-aio's marker, one per line: the name, a tab, the marker's JSON.
_MARKERS = ('for d in "$1"/*/; do n=${d%/}; n=${n##*/}; [ -f "$d$2" ] || continue; '
            'printf "%s\\t" "$n"; tr -d "\\n" < "$d$2"; echo; done')


def read_text(path: str | Path, runner: Runner = LOCAL) -> str | None:
    """A file's content on the host, or None when it cannot be read."""
    done = runner.run(["cat", str(path)], check=False)
    return done.stdout if done.rc == 0 else None


def read_marker(name: str, runner: Runner = LOCAL) -> dict | None:
    """osa-aio's marker in a container's directory: what made it and from what."""
    try:
        return json.loads(read_text(LXC_PATH / name / MARKER, runner) or "")
    except ValueError:
        return None


def write_marker(name: str, data: dict, runner: Runner = LOCAL) -> None:
    put(runner, str(LXC_PATH / name / MARKER), json.dumps(data, indent=2, sort_keys=True) + "\n")


def markers(runner: Runner = LOCAL) -> dict[str, dict]:
    """Every marked directory under /var/lib/lxc (containers and images) -> its marker, in one command."""
    found = {}
    for line in runner.run(["sh", "-c", _MARKERS, "markers", str(LXC_PATH), MARKER]).stdout.splitlines():
        name, _, text = line.partition("\t")
        try:
            found[name] = json.loads(text)
        except ValueError:
            continue  # a marker being written: not marked yet
    return found


def exists(name: str, runner: Runner = LOCAL) -> bool:
    """The container's directory exists (defined, or half-made)."""
    return runner.run(["test", "-e", str(LXC_PATH / name)], check=False).rc == 0


def defined(name: str, runner: Runner = LOCAL) -> bool:
    return runner.run(["test", "-f", str(LXC_PATH / name / "config")], check=False).rc == 0


def state(name: str, runner: Runner = LOCAL) -> str:
    """RUNNING, STOPPED ... as lxc-info says, or ABSENT."""
    done = runner.run(["lxc-info", "-n", name, "-s", "-H"], check=False)
    return done.stdout.strip() if done.rc == 0 and done.stdout.strip() else "ABSENT"


def running(name: str, runner: Runner = LOCAL) -> bool:
    return state(name, runner) == "RUNNING"


def states(runner: Runner = LOCAL) -> dict[str, tuple[str, bool, tuple[str, ...]]]:
    """Every container on the host -> (state, autostart, IPv4 addresses), in one command."""
    return parse_lxc_ls(runner.run(["lxc-ls", "-f", "-F", "NAME,STATE,AUTOSTART,IPV4"]).stdout)


def parse_lxc_ls(text: str) -> dict[str, tuple[str, bool, tuple[str, ...]]]:
    """`lxc-ls -f -F NAME,STATE,AUTOSTART,IPV4` as name -> (state, autostart, addresses) (pure)."""
    found = {}
    for row in text.splitlines()[1:]:
        if not row.strip():
            continue
        name, state_, autostart, *addresses = row.split()
        ips = tuple(a.rstrip(",") for a in addresses if a.rstrip(",") not in ("-", ""))
        found[name] = (state_, autostart == "1", ips)
    return found


def remove_tree(path: str | Path, runner: Runner = LOCAL) -> None:
    """rm -rf of a path osa-aio owns: a container's or image's own folder, never a top folder such as
    /var/lib/lxc or /openstack/log itself (what a path with an empty name would be)."""
    if len(Path(path).parts) < 3 or Path(path).name in TOP_FOLDERS or ".." in Path(path).parts:
        raise HostError(f"refusing to remove {path}", hint="a bug: a container or image name was empty")
    runner.run(["rm", "-rf", "--one-file-system", str(path)])


def clone(source: str, name: str, runner: Runner = LOCAL) -> str:
    """A copy-on-write clone (an overlayfs snapshot) of a stopped container, or a full copy where
    overlayfs cannot; returns which."""
    remove_tree(LXC_PATH / name, runner)  # a half-made container from an interrupted run is in the way
    if runner.run(["lxc-copy", "-n", source, "-N", name, "-s", "-B", "overlayfs"], check=False, timeout=600).ok:
        return "overlayfs snapshot"
    remove_tree(LXC_PATH / name, runner)
    if runner.run(["lxc-copy", "-n", source, "-N", name], check=False, timeout=1800).ok:
        return "full copy"
    remove_tree(LXC_PATH / name, runner)
    raise ContainerError(f"LXC could not clone {source}", file=name,
                         hint="see /var/log/osa-aio/osa-aio.log and `lxc-copy` for details")


CONFIG_MARK = "# ---- osa-aio: the container's own settings (rewritten from its spec) ----"


def config_with(current: str, items: list[tuple[str, str]], cleared: tuple[str, ...]) -> str:
    """An LXC config file with ``items`` set (pure), as liblxc's set_config_item would: the image's
    lines stay (a key that takes many values, lxc.cgroup2.devices.allow, keeps the image's and
    gains the spec's; for a single-valued key LXC takes the last line, the spec's) except keys
    starting with one of ``cleared``, which are wholly the spec's. The spec's lines follow a mark
    and are rewritten each time, so configuring again gives the same file."""
    head = current.split(f"{CONFIG_MARK}\n", 1)[0].splitlines()
    def owned(line: str) -> bool:
        return "=" in line and not line.lstrip().startswith("#") and line.split("=", 1)[0].strip().startswith(cleared)

    kept = [line for line in head if not owned(line)]
    return "\n".join([*kept, CONFIG_MARK, *(f"{key} = {value}" for key, value in items)]) + "\n"


def configure(name: str, items: list[tuple[str, str]], cleared: tuple[str, ...], runner: Runner = LOCAL) -> None:
    path = LXC_PATH / name / "config"
    current = read_text(path, runner)
    if current is None:
        raise ContainerError("its LXC config is missing", file=str(path), hint="`osa-aio rebuild` remakes it")
    put(runner, str(path), config_with(current, items, cleared))


def start(name: str, timeout: float, runner: Runner = LOCAL) -> None:
    started = runner.run(["lxc-start", "-n", name], check=False, timeout=timeout + 30)
    if not started.ok or not runner.run(["lxc-wait", "-n", name, "-s", "RUNNING", "-t", str(int(timeout))],
                                        check=False, timeout=timeout + 30).ok:
        raise ContainerError("LXC could not start the container", file=name,
                             hint=f"try `lxc-start -n {name} -F` to see why")


def stop(name: str, runner: Runner = LOCAL) -> None:
    """Stop at once (a kill, as a rebuild or a config change wants)."""
    if running(name, runner):
        runner.run(["lxc-stop", "-n", name, "-k"], check=False, timeout=120)


def destroy(name: str, runner: Runner = LOCAL) -> None:
    """Stop and destroy a container (its snapshots too) and its directory."""
    if defined(name, runner):
        stop(name, runner)
        done = runner.run(["lxc-destroy", "-n", name, "-s"], check=False, timeout=600)
        if not done.ok and defined(name, runner):
            raise HostError(f"LXC could not destroy {name}", file=str(LXC_PATH / name),
                            hint=f"look at `lxc-destroy -n {name}`")
    remove_tree(LXC_PATH / name, runner)
