"""`osa-aio logs SERVICE`: a service's logs from all its containers, its units' journal and its
log files, interleaved by time, each line prefixed with its container (what
`journalctl -u 'devstack@*'` gives devstack users). ``follow`` polls every second for what is
new (a journal cursor and a byte offset per file), so nothing keeps running in a container after
Ctrl-C. HAProxy's health checks (requests marked ``from=haproxy``) are left out unless asked for.

Reading and parsing are apart: ``parse_*`` and ``merge`` are pure (unit-tested); ``poll`` is
the only function that runs anything."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator

from osa_aio.errors import ConfigError, ContainerError, UnknownTarget
from osa_aio.inventory.query import resolve
from osa_aio.roles import ROLES
from osa_aio.roles.base import Role
from osa_aio.roles.openstack import HEALTH_CHECK_MARK
from osa_aio.steps import sh
from osa_aio.transport import LocalRunner, Runner

FILES_MARK = "@@osa-aio-file@@"     # separates the files in one poll's output
MAX_LINES_PER_FILE = 20000          # with --since, what one file gives at most


@dataclass(frozen=True, order=True)
class Line:
    time: float
    container: str
    source: str      # the unit or the log file's name
    text: str


@dataclass
class Position:
    """Where the last poll of one container stopped: its journal cursor and each file's size."""

    cursor: str | None = None
    offsets: dict[str, int] = field(default_factory=dict)
    polled: float = field(default_factory=time.time)


# ---- timestamps ----------------------------------------------------------------------------------

# Each: the pattern at the start of a line (after an optional "["), and how to read it (UTC).
_STAMPS: tuple[tuple[re.Pattern, Callable[[re.Match], float]], ...] = (
    # oslo.log, rabbitmq, ISO: 2026-12-02 18:40:01.123 / 2026-12-02T18:40:01.123456+00:00
    (re.compile(r"^\[?(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:[.,](\d+))?(?:Z|[+-]\d\d:?\d\d)?\]?\s*"),
     lambda m: _epoch(f"{m[1]} {m[2]}", "%Y-%m-%d %H:%M:%S") + float(f"0.{m[3] or 0}")),
    # uWSGI: "Wed Dec  2 18:40:01 2026 - ..." at the start of its own lines
    (re.compile(r"^\[?(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]?(?: - )?\s*"),
     lambda m: _epoch(" ".join(m[1].split()), "%a %b %d %H:%M:%S %Y")),
    # nginx's access log: 172.29.236.100 - - [02/Dec/2026:18:40:01 +0000] "GET ..."
    (re.compile(r"^\S+ \S+ \S+ \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d) [+-]\d{4}\] "),
     lambda m: _epoch(m[1], "%d/%b/%Y:%H:%M:%S")),
)
# uWSGI's request lines carry the time in the middle: [pid: 12|app: 0|req: 3/9] ... [Wed Dec  2 18:40:01 2026] GET
_UWSGI_REQUEST = re.compile(r"^\[pid: .*?\] .*? \[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\] ")


def _epoch(text: str, fmt: str) -> float:
    return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).timestamp()


def line_time(text: str) -> tuple[float | None, str]:
    """(the time a log line starts with, the line without it); (None, line) when it has none
    (a traceback's continuation). A time in the middle (uWSGI's requests) stays in the text."""
    for pattern, read in _STAMPS:
        match = pattern.match(text)
        if match:
            try:
                return read(match), text[match.end():]
            except ValueError:
                break
    match = _UWSGI_REQUEST.match(text)
    if match:
        try:
            return _epoch(" ".join(match[1].split()), "%a %b %d %H:%M:%S %Y"), text
        except ValueError:
            pass
    return None, text


# ---- parsing one poll's output ---------------------------------------------------------------------

def parse_journal(container: str, output: str) -> tuple[list[Line], str | None]:
    """`journalctl -o json` lines as Lines, and the last cursor."""
    lines, cursor = [], None
    for raw in output.splitlines():
        try:
            entry = json.loads(raw)
        except json.JSONDecodeError:
            continue
        cursor = entry.get("__CURSOR", cursor)
        message = entry.get("MESSAGE")
        if isinstance(message, list):  # journald gives bytes that are not UTF-8 as numbers
            message = bytes(message).decode(errors="replace")
        if message is None:
            continue
        source = entry.get("_SYSTEMD_UNIT") or entry.get("SYSLOG_IDENTIFIER") or "journal"
        stamp = int(entry.get("__REALTIME_TIMESTAMP", 0)) / 1e6
        # A message that starts with its own time (mariadb's) is shown with the journal's alone.
        lines += [Line(stamp, container, source.removesuffix(".service"), line_time(part)[1])
                  for part in str(message).splitlines()]
    return lines, cursor


def parse_file(container: str, path: str, text: str, since: float | None = None) -> list[Line]:
    """A log file's lines; a line without a time of its own takes the one before it (the lines
    of a traceback stay together); lines before any time take the first time found."""
    source = path.rsplit("/", 1)[-1]
    parsed = [line_time(raw) for raw in text.splitlines() if raw.strip()]
    first = next((stamp for stamp, _ in parsed if stamp is not None), 0.0)
    lines, current = [], first
    for stamp, rest in parsed:
        current = stamp if stamp is not None else current
        if since is None or current >= since:
            lines.append(Line(current, container, source, rest))
    return lines


def parse_poll(container: str, output: str, since: float | None) -> tuple[list[Line], Position]:
    """One poll's output (see ``poll_script``): the lines and where the next poll starts."""
    journal, *files = output.split(FILES_MARK + " ")
    lines, cursor = parse_journal(container, journal)
    position = Position(cursor)
    for block in files:
        header, _, text = block.partition("\n")
        path, _, size = header.rpartition(" ")
        position.offsets[path] = int(size)
        lines += parse_file(container, path, text, since)
    return lines, position


def merge(batches: Iterable[list[Line]]) -> list[Line]:
    """Every line in time order (a stable sort: lines of one source keep their order)."""
    return sorted((line for batch in batches for line in batch), key=lambda line: line.time)


def is_health_check(line: Line) -> bool:
    return HEALTH_CHECK_MARK in line.text


def format_line(line: Line, width: int) -> str:
    stamp = datetime.fromtimestamp(line.time, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return f"{stamp} {line.container:<{width}} {line.source}: {line.text}"


# ---- reading --------------------------------------------------------------------------------------

def poll_script(role: Role, position: Position | None, lines: int, since: float | None) -> list[str]:
    """One shell command that prints the journal of the role's units (JSON), then each of its log
    files after FILES_MARK with its size: the first poll the last ``lines`` of each (or all since
    ``since``), the next ones what came after ``position`` (a cursor, byte offsets)."""
    if position is None:
        window = [f"--since=@{int(since)}"] if since is not None else [f"--lines={lines}"]
    elif position.cursor:
        window = [f"--after-cursor={position.cursor}"]
    else:  # the journal had nothing yet
        window = [f"--since=@{int(position.polled)}"]
    keep = MAX_LINES_PER_FILE if since is not None else lines
    units = [f"--unit={unit}" for unit in role.log_units]
    offsets = "\n".join(f"{path} {size}" for path, size in (position.offsets if position else {}).items())
    script = (
        'first=$1; offsets=$2; keep=$3; shift 3\n'
        '[ "$#" -eq 0 ] || journalctl -q -o json --no-pager "$@" 2>/dev/null\n'
        f'for f in {" ".join(role.log_files)}; do\n'
        '  [ -f "$f" ] || continue; size=$(stat -c %s "$f")\n'
        f'  printf "{FILES_MARK} %s %s\\n" "$f" "$size"\n'
        '  if [ "$first" = 1 ]; then head -c "$size" "$f" | tail -n "$keep"; else\n'
        '    o=$(printf "%s\\n" "$offsets" | grep -F -- "$f " | tail -n 1 | cut -d" " -f2)\n'
        '    { [ -z "$o" ] || [ "$o" -gt "$size" ]; } && o=0  # a new or truncated file: from its start\n'
        '    tail -c +$((o + 1)) "$f" | head -c $((size - o)); fi\n'
        '  echo\n'
        'done\n'
    ) if role.log_files else 'first=$1; shift 3\n[ "$#" -eq 0 ] || journalctl -q -o json --no-pager "$@" 2>/dev/null\n'
    return sh(script, "1" if position is None else "0", offsets, str(keep), *([*window, *units] if units else []))


def poll(runner: Runner, role: Role, position: Position | None, lines: int,
         since: float | None) -> tuple[list[Line], Position | None]:
    """What is new in one container; nothing (and the same position) while it is stopped."""
    try:
        output = runner.run(poll_script(role, position, lines, since), check=False, log_output=False).stdout
    except ContainerError:
        return [], position
    return parse_poll(runner.name, output, since if position is None else None)


# ---- the command ----------------------------------------------------------------------------------

def logs_role(service: str) -> Role:
    role = ROLES.get(service)
    if role is None:
        raise UnknownTarget(f"unknown service {service!r}", key="SERVICE", hint=f"services are: {', '.join(ROLES)}")
    if not (role.log_units or role.log_files):
        with_logs = ", ".join(name for name, r in ROLES.items() if r.log_units or r.log_files)
        raise UnknownTarget(f"{service} keeps no logs osa-aio reads", key="SERVICE", hint=f"logs exist for: {with_logs}")
    return role


def containers_of(inventory: dict, role: Role, container: str | None) -> list[str]:
    from osa_aio.inventory.query import group_members  # noqa: PLC0415

    members = sorted(group_members(inventory, role.group))
    if not members:
        raise UnknownTarget(f"the inventory has no {role.name} containers", hint="run `osa-aio run` first")
    if container is None:
        return members
    names = resolve(inventory, container)
    chosen = [name for name in names if name in members]
    if not chosen:
        raise UnknownTarget(f"{container!r} is not a {role.name} container", key="--container",
                            hint=f"{role.name} containers: {', '.join(members)}")
    return chosen


def since_epoch(since: str | None) -> float | None:
    """``--since`` as a time: anything GNU date reads ("10 min ago", "2026-12-02 18:00", "today")."""
    if since is None:
        return None
    result = LocalRunner().run(["date", "-u", "-d", since, "+%s"], check=False)
    if result.rc != 0 or not result.stdout.strip().isdigit():
        raise ConfigError(f"cannot read the time {since!r}", key="--since",
                          hint='e.g. "10 min ago", "1 hour ago", "2026-12-02 18:00", "today"')
    return float(result.stdout.strip())


def stream(runners: list[Runner], role: Role, lines: int, since: float | None, follow: bool,
           health_checks: bool, interval: float = 1.0) -> Iterator[Line]:
    """The merged lines of every container; with ``follow``, then what comes, until interrupted."""
    positions: dict[str, Position | None] = {runner.name: None for runner in runners}
    first = True
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(runners)))) as pool:
        while True:
            results = list(pool.map(lambda r: poll(r, role, positions[r.name], lines, since), runners))
            batches = []
            for runner, (found, position) in zip(runners, results):
                positions[runner.name] = position
                batches.append([line for line in found if health_checks or not is_health_check(line)])
            merged = merge(batches)
            yield from (merged[-lines:] if first and since is None else merged)
            first = False
            if not follow:
                return
            time.sleep(interval)
