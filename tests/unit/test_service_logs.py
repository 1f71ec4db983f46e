"""`osa-aio logs`: parsing and merging (pure); reading is tested on the real deployment."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from osa_aio.roles import ROLES
from osa_aio.service_logs import (FILES_MARK, Line, format_line, is_health_check, line_time, merge, parse_file,
                                  parse_journal, parse_poll, poll_script)


def at(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()


def test_times_of_the_formats_the_services_write():
    oslo = "2026-12-02 18:40:01.123 1234 INFO heat.engine.service [-] Starting"
    assert line_time(oslo) == (at("2026-12-02 18:40:01.123"), "1234 INFO heat.engine.service [-] Starting")
    iso = "2026-12-02T18:40:01.500000+00:00 [info] <0.1.0> started"
    assert line_time(iso) == (at("2026-12-02 18:40:01.5"), "[info] <0.1.0> started")
    uwsgi_own = "Wed Dec  2 18:40:01 2026 - *** Starting uWSGI 2.0.21 ***"
    assert line_time(uwsgi_own) == (at("2026-12-02 18:40:01.0"), "*** Starting uWSGI 2.0.21 ***")
    request = ("[pid: 194|app: 0|req: 65/127] 172.29.236.100 () {18 vars in 226 bytes} [Wed Dec  2 18:43:00 2026] "
               "GET /v3 => generated 0 bytes in 8 msecs (HTTP/1.1 200) 4 headers in 164 bytes")
    assert line_time(request) == (at("2026-12-02 18:43:00.0"), request)  # the time stays in the middle
    nginx = '172.29.236.55 - - [02/Dec/2026:18:40:01 +0000] "GET /keystone-30.0.0.whl HTTP/1.1" 200 1'
    assert line_time(nginx)[0] == at("2026-12-02 18:40:01.0")
    assert line_time("Traceback (most recent call last):") == (None, "Traceback (most recent call last):")


def test_a_traceback_keeps_the_time_of_the_line_it_belongs_to_and_since_cuts_by_time():
    text = ("  continued from before the first time\n"
            "2026-12-02 18:40:01.000 7 ERROR heat.api boom\n"
            "Traceback (most recent call last):\n"
            '  File "x.py", line 1\n'
            "\n"
            "2026-12-02 18:40:03.000 7 INFO heat.api fine\n")
    lines = parse_file("c1", "/var/log/heat/heat-api-uwsgi.log", text)
    assert [line.time for line in lines] == [at("2026-12-02 18:40:01.0")] * 4 + [at("2026-12-02 18:40:03.0")]
    assert {line.source for line in lines} == {"heat-api-uwsgi.log"}
    later = parse_file("c1", "/var/log/heat/heat-api-uwsgi.log", text, since=at("2026-12-02 18:40:02.0"))
    assert [line.text for line in later] == ["7 INFO heat.api fine"]


def test_journal_entries_become_lines_with_their_unit_and_the_last_cursor():
    entries = [
        {"__CURSOR": "s=1", "__REALTIME_TIMESTAMP": "1796150401000000", "_SYSTEMD_UNIT": "heat-engine.service",
         "MESSAGE": "2026-12-02 18:40:01.000 9 INFO heat.engine first\nsecond line"},
        {"__CURSOR": "s=2", "__REALTIME_TIMESTAMP": "1796150402000000", "SYSLOG_IDENTIFIER": "systemd",
         "MESSAGE": [104, 105]},  # not UTF-8 safe: journald gives numbers
    ]
    lines, cursor = parse_journal("c2", "\n".join(json.dumps(e) for e in entries) + "\nnot json\n")
    assert cursor == "s=2"
    assert [(line.source, line.text) for line in lines] == [
        ("heat-engine", "9 INFO heat.engine first"), ("heat-engine", "second line"), ("systemd", "hi")]
    assert lines[0].time == 1796150401.0


def test_one_poll_gives_journal_and_files_with_their_sizes_and_merge_orders_by_time():
    journal = json.dumps({"__CURSOR": "c", "__REALTIME_TIMESTAMP": str(int(at("2026-12-02 18:40:02.0") * 1e6)),
                          "_SYSTEMD_UNIT": "heat-engine.service", "MESSAGE": "engine"})
    output = (f"{journal}\n{FILES_MARK} /var/log/heat/a.log 120\n2026-12-02 18:40:03.000 1 INFO a\n\n"
              f"{FILES_MARK} /var/log/heat/b.log 7\n2026-12-02 18:40:01.000 1 INFO b\n\n")
    lines, position = parse_poll("c3", output, since=None)
    assert position.cursor == "c" and position.offsets == {"/var/log/heat/a.log": 120, "/var/log/heat/b.log": 7}
    other = [Line(at("2026-12-02 18:40:02.5"), "c4", "x.log", "other container")]
    assert [line.text for line in merge([lines, other])] == ["1 INFO b", "engine", "other container", "1 INFO a"]


def test_health_checks_are_known_by_their_mark_and_lines_carry_time_and_container():
    marked = Line(0.0, "c", "keystone-uwsgi.log", "[pid: 1|app: 0] ... GET /healthcheck?from=haproxy => 200")
    assert is_health_check(marked)
    assert not is_health_check(Line(0.0, "c", "keystone-uwsgi.log", "GET /healthcheck => 200"))
    assert format_line(Line(at("2026-12-02 18:40:01.25"), "aio1-x", "heat-engine", "hello"), 8) == \
        "2026-12-02 18:40:01.250 aio1-x   heat-engine: hello"


def test_every_openstack_service_has_logs_and_the_script_reads_its_units_and_files():
    for role in ROLES.values():
        if role.dev is not None:
            assert set(role.log_units) == set(role.dev.units) and role.log_files, role.name
    heat = ROLES["heat"]
    first = poll_script(heat, None, 50, None)
    assert "--unit=heat-engine" in first and "--lines=50" in first and "/var/log/heat/*.log" in first[2]
    since = poll_script(heat, None, 50, 1796150401.0)
    assert "--since=@1796150401" in since
