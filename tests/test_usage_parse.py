"""Access logs (issue 19): formats, route folding, activities, visitors, merging runs.

Expected figures come from an independent reading of the same lines in the test
(``shlex``-free field splitting written here), not from the parser under test.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsectl.logs import summarize_remote as engine
from lpsectl.logs.access_remote import (
    HLL_M,
    VISITOR_EXACT,
    AccessSummary,
    Visitors,
    access_format,
    parse_statuses,
    route_of,
    visitor_hash,
)
from lpsectl.logs.summary import remote_script, summarize_local
from lpsectl.logs.usage import hours, merge_days, peak_hour, peak_minute

DATA = Path(__file__).parent / "data"
APACHE_FORMAT = '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D'
NGINX_TIMED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" $request_time $request_length'
)
MONTHS = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}


def independent(line: str) -> dict | None:
    """One combined/Apache line read without the parser under test: split at the
    brackets and the first three quotes."""
    m = re.match(
        r'(\S+) \S+ \S+ \[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):\d\d [^\]]+\] "(.*?)(?<!\\)" (\d{3}) (\S+)',
        line,
    )
    if not m:
        return None
    ip, dd, mon, yyyy, hh, mm, request, status, size = m.groups()
    parts = request.split(" ")
    return {
        "ip": ip,
        "day": f"{yyyy}-{MONTHS[mon]:02d}-{dd}",
        "minute": f"{hh}:{mm}",
        "method": parts[0] if len(parts) == 3 else "",
        "path": parts[1].split("?")[0] if len(parts) == 3 else None,
        "status": int(status),
        "bytes": 0 if size == "-" else int(size),
        "micros": int(line.rsplit(" ", 1)[1]),
    }


def test_apache_fixture_with_d_directive_matches_an_independent_count(tmp_path):
    lines = (DATA / "apache-access.log").read_text().splitlines()
    expected = [x for x in map(independent, lines) if x is not None]
    result = summarize_local([str(DATA / "apache-access.log")], "apache", APACHE_FORMAT)
    assert result["format"] == "access"
    assert result["unparsed"] == len(lines) - len(expected) == 1
    for day in {x["day"] for x in expected}:
        mine = [x for x in expected if x["day"] == day]
        figures = result["days"][day]
        assert figures["requests"] == len(mine)
        assert figures["visitors"] == len({x["ip"] for x in mine}) and figures["visitors_exact"]
        assert figures["bytes_out"] == sum(x["bytes"] for x in mine)
        classes = Counter(f"{x['status'] // 100}xx" for x in mine)
        assert figures["status"] == dict(classes)
        assert figures["minutes"] == dict(Counter(x["minute"] for x in mine))
        by_route = Counter(route_of(x["path"]) if x["path"] else "(invalid)" for x in mine)
        assert {r["route"]: r["count"] for r in figures["routes"]} == dict(by_route)
        slowest = max(x["micros"] for x in mine) / 1000
        assert max(r["max_ms"] for r in figures["routes"]) == pytest.approx(slowest, abs=0.001)
        logins = [x for x in mine if x["method"] == "POST" and x["path"] == "/eproc4/login"]
        if logins:
            assert figures["activities"]["login"] == {
                "ok": sum(300 <= x["status"] < 400 for x in logins),
                "failed": sum(not 300 <= x["status"] < 400 for x in logins),
            }
    # the whole: the days merged
    assert result["total"]["requests"] == len(expected)
    assert result["total"]["visitors"] == len({(x["ip"]) for x in expected})


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/eproc4/lelang/12345/pengumumanlelang", "/eproc4/lelang/{id}/pengumumanlelang"),
        ("/eproc4/dokumen/77/unduh?versi=2", "/eproc4/dokumen/{id}/unduh"),
        ("/eproc4/nontender/9/jadwal#x", "/eproc4/nontender/{id}/jadwal"),
        ("/eproc4/dt/lelang", "/eproc4/dt/lelang"),
        (
            "/eproc4/rekanan/3f2a9c1e-0b1d-4c4e-9a53-5e4a2c7d8e9f/profil",
            "/eproc4/rekanan/{id}/profil",
        ),
        ("/eproc4/file/a1b2c3d4e5f60718293a", "/eproc4/file/{id}"),
        ("/eproc4/s/Xk9qZ2VyYWtzdGFuZGFyZDEyMw", "/eproc4/s/{id}"),
        ("/eproc4/lelang", "/eproc4/lelang"),
        ("/eproc4/public/js/app.8f3a.min.js", "/eproc4/*.js"),
        ("/favicon.ico", "/*.ico"),
        ("/", "/"),
        ("/eproc4/jsessionid;jsessionid=ABC", "/eproc4/jsessionid"),
        ("relative/path", "(invalid)"),
    ],
)
def test_route_folding(path, route):
    assert route_of(path) == route


def test_a_deep_or_long_path_is_cut_not_kept_whole():
    assert route_of("/a" * 50).endswith("/…") and route_of("/x" + "y" * 500).__len__() <= 200


@pytest.mark.parametrize("spec", ["$remote_addr $status", "%h %>s %b", "[$time_local] $status"])
def test_a_format_without_time_request_or_status_is_refused(spec):
    with pytest.raises(ValueError, match="needs the time"):
        access_format(spec)


def test_nginx_custom_format_with_times_and_request_length(tmp_path):
    log = tmp_path / "access.log"
    log.write_text(
        '10.1.1.1 - - [01/Dec/2026:10:00:00 +0700] "GET /eproc4/lelang/1/pengumumanlelang HTTP/1.1" 200 500 '
        '"-" "ua" 0.120 350\n'
        '10.1.1.2 - - [01/Dec/2026:10:00:30 +0700] "GET /eproc4/lelang/2/pengumumanlelang HTTP/1.1" 200 700 '
        '"-" "ua" 0.480 410\n'
        '10.1.1.2 - - [01/Dec/2026:10:01:00 +0700] "POST /eproc4/login HTTP/1.1" 200 90 "-" "ua" - 120\n'
    )
    result = summarize_local([str(log)], "access", NGINX_TIMED)
    day = result["days"]["2026-12-01"]
    assert day["bytes_in"] == 350 + 410 + 120 and day["bytes_out"] == 1290
    (route,) = [r for r in day["routes"] if r["route"] == "/eproc4/lelang/{id}/pengumumanlelang"]
    assert route["timed"] == 2 and route["max_ms"] == pytest.approx(480.0)
    assert route["total_ms"] == pytest.approx(600.0)
    # p50/p95 are histogram buckets (at most 12.5 % wide), never above the max
    assert 120.0 <= route["p50_ms"] <= 120.0 * 1.125 and route["p95_ms"] == pytest.approx(480.0)
    (login,) = [r for r in day["routes"] if r["route"] == "/eproc4/login"]
    assert login["timed"] == 0  # '-': no time, not a zero
    assert day["activities"]["login"] == {"ok": 0, "failed": 1}  # 200: the form again, not in


def test_upstream_response_time_with_several_upstreams_is_their_sum(tmp_path):
    log = tmp_path / "access.log"
    spec = '$remote_addr [$time_local] "$request" $status $upstream_response_time'
    log.write_text('10.0.0.1 [01/Dec/2026:10:00:00 +0700] "GET /a HTTP/1.1" 502 0.250, 0.750\n')
    result = summarize_local([str(log)], "access", spec)
    (route,) = result["days"]["2026-12-01"]["routes"]
    assert route["max_ms"] == pytest.approx(1000.0) and route["errors_5xx"] == 1


def test_iso_time_and_common_format(tmp_path):
    log = tmp_path / "access.log"
    log.write_text('10.0.0.1 - - [31/Dec/2026:23:59:59 +0700] "GET / HTTP/1.0" 304 -\n')
    result = summarize_local([str(log)], "access", "common")
    assert result["days"]["2026-12-31"]["status"] == {"3xx": 1}
    iso = tmp_path / "iso.log"
    iso.write_text('2026-12-01T07:05:00+07:00 10.0.0.9 "GET /eproc4 HTTP/1.1" 200\n')
    result = summarize_local([str(iso)], "access", '$time_iso8601 $remote_addr "$request" $status')
    assert result["days"]["2026-12-01"]["minutes"] == {"07:05": 1}


def test_detected_and_gzip_rotations_read_as_one(tmp_path):
    lines = (DATA / "apache-access.log").read_bytes()
    (tmp_path / "access.log.2.gz").write_bytes(gzip.compress(lines))
    (tmp_path / "access.log").write_bytes(lines)
    one = summarize_local([str(tmp_path / "access.log")], None, APACHE_FORMAT)
    assert one["format"] == "access"  # detected from the lines
    both = summarize_local(
        [str(tmp_path / "access.log"), str(tmp_path / "access.log.2.gz")], "access", APACHE_FORMAT
    )
    assert both["total"]["requests"] == 2 * one["total"]["requests"]
    assert both["total"]["visitors"] == one["total"]["visitors"]  # the same addresses, once


def test_statuses_list():
    codes = parse_statuses("200-299, 302")
    assert 250 in codes and 302 in codes and 301 not in codes
    with pytest.raises(ValueError):
        parse_statuses("2xx")


def test_visitors_exact_then_estimated_within_the_hyperloglog_error():
    key = b"k" * 16
    visitors = Visitors()
    for i in range(VISITOR_EXACT):
        visitors.add(visitor_hash(f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}".encode(), key))
    count, exact = visitors.count()
    # 32-bit hashes may collide: a handful in 20,000 at most
    assert exact and VISITOR_EXACT - 5 <= count <= VISITOR_EXACT
    for i in range(VISITOR_EXACT, 200_000):
        visitors.add(visitor_hash(f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}".encode(), key))
    count, exact = visitors.count()
    assert not exact
    assert abs(count - 200_000) / 200_000 < 4 * 1.04 / HLL_M**0.5  # four standard errors
    again = Visitors.from_json(json.loads(json.dumps(visitors.to_json())))
    assert again.count() == (count, False)


def test_a_sketch_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError):
        Visitors.from_json({"registers": "AAAA"})
    with pytest.raises(ValueError):
        Visitors.from_json({"hashes": "AAA="})  # 2 bytes: not 32-bit values
    with pytest.raises(ValueError):
        Visitors.from_json("not an object")


def test_addresses_beyond_the_top_list_never_leave_the_summary(tmp_path):
    log = tmp_path / "access.log"
    log.write_text(
        "".join(
            f'10.0.0.{i} - - [01/Dec/2026:10:00:00 +0700] "GET / HTTP/1.1" 200 1\n' * (i + 1)
            for i in range(1, 30)
        )
    )
    result = summarize_local([str(log)], "access", None, access={"top_clients": 3})
    text = json.dumps(result)
    day = result["days"]["2026-12-01"]
    assert day["top_clients"] == [["10.0.0.29", 30], ["10.0.0.28", 29], ["10.0.0.27", 28]]
    assert "10.0.0.26" not in text and day["visitors"] == 29
    none = summarize_local([str(log)], "access", None, access={"top_clients": 0})
    assert "10.0.0." not in json.dumps(none)


def _day_lines(rng: random.Random, count: int) -> list[str]:
    out = []
    for i in range(count):
        minute = i * 1440 // count
        out.append(
            f"10.0.{rng.randrange(4)}.{rng.randrange(200)} - - [0{1 + i * 3 // count}/Dec/2026:"
            f'{minute // 60:02d}:{minute % 60:02d}:00 +0700] "{rng.choice(["GET", "POST"])} '
            f'/eproc4/{rng.choice(["lelang", "dokumen", "login"])}/{rng.randrange(50)}/x HTTP/1.1" '
            f'{rng.choice([200, 302, 404, 500])} {rng.randrange(5000)} "-" "ua" {rng.random():.3f}\n'
        )
    return out


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32), st.lists(st.integers(0, 600), min_size=1, max_size=4))
def test_runs_split_anywhere_add_up_to_one_read(seed, cuts):
    """The server reads a log over several runs (a cursor between them): merged, the runs'
    days give the figures of one read of the whole, visitors included."""
    rng = random.Random(seed)
    lines = _day_lines(rng, 600)
    key = b"0123456789abcdef"
    spec = NGINX_TIMED.rsplit(" ", 1)[0]
    whole = AccessSummary(key=key)
    engine.summarize_handle(io.BytesIO("".join(lines).encode()), "access", whole, prefix=spec)
    parts = []
    bounds = sorted(set([0, *cuts, 600]))
    for start, end in zip(bounds, bounds[1:], strict=False):
        part = AccessSummary(key=key)
        engine.summarize_handle(
            io.BytesIO("".join(lines[start:end]).encode()), "access", part, prefix=spec
        )
        parts.append(part.day_results())
    for day, figures in whole.day_results().items():
        merged = merge_days([p[day] for p in parts if day in p])
        for field in ("requests", "bytes_out", "status", "minutes", "activities", "visitors"):
            assert merged[field] == figures[field], field
        assert {r["route"]: (r["count"], r["histogram"]) for r in merged["routes"]} == {
            r["route"]: (r["count"], r["histogram"]) for r in figures["routes"]
        }


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=30))
def test_any_bytes_are_lines_or_unparsed_never_a_crash(chunks):
    data = b"\n".join(chunks) + b"\n"
    summary = AccessSummary(key=b"x" * 16)
    engine.summarize_handle(io.BytesIO(data), "access", summary, prefix="combined")
    days = summary.day_results()
    counted = sum(d["requests"] for d in days.values())
    nonblank = sum(1 for line in data.split(b"\n") if line.strip())
    assert counted + summary.unparsed == nonblank


@settings(max_examples=100, deadline=None)
@given(
    st.from_regex(r"\A[0-9a-f.:]{3,39}\Z"),
    st.sampled_from(["GET", "POST", "HEAD"]),
    st.text(
        alphabet=st.characters(blacklist_characters=' "\\\n\r', blacklist_categories=("Cs",)),
        max_size=80,
    ),
    st.integers(100, 599),
)
def test_generated_combined_lines_are_read_as_written(address, method, path, status):
    line = f'{address} - - [02/Dec/2026:13:14:15 +0700] "{method} /{path} HTTP/1.1" {status} 12 "-" "ua"\n'
    summary = AccessSummary(key=b"x" * 16)
    engine.summarize_handle(io.BytesIO(line.encode()), "access", summary, prefix="combined")
    (day,) = summary.day_results().values()
    assert day["requests"] == 1 and day["minutes"] == {"13:14": 1}
    assert day["status"] == {f"{status // 100}xx": 1}
    assert day["routes"][0]["route"] == route_of("/" + path)


def test_hours_and_peaks():
    day = {"minutes": {"08:01": 5, "08:59": 5, "09:00": 9, "23:30": 1}}
    assert hours(day)["08"] == 10 and hours(day)["09"] == 9 and len(hours(day)) == 24
    assert peak_hour(day) == ("08", 10) and peak_minute(day) == ("09:00", 9)
    assert peak_hour({"minutes": {}}) is None and peak_minute({}) is None


def test_shipped_script_runs_as_one_program_on_stdin(tmp_path):
    """What collect sends: access_remote's text then summarize_remote's, one script."""
    log = tmp_path / "access.log"
    log.write_bytes((DATA / "apache-access.log").read_bytes())
    request = {
        "files": [{"path": str(log), "format": "access", "prefix": APACHE_FORMAT}],
        "cursors": {},
        "access": {"visitor_key": "00" * 16, "top_clients": 2},
    }
    proc = subprocess.run(
        [sys.executable, "-", json.dumps(request)],
        input=remote_script(),
        capture_output=True,
        check=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    answer = json.loads(proc.stdout)
    item = answer["files"][str(log)]
    assert item["error"] is None and item["cursor"]["offset"] == log.stat().st_size
    assert sum(d["requests"] for d in item["days"].values()) == 61  # the TLS hello (400) too
    assert all(len(d["top_clients"]) <= 2 for d in item["days"].values())


def test_impossible_times_and_giant_numbers_are_bad_lines_not_data(tmp_path):
    log = tmp_path / "access.log"
    good = '10.0.0.1 - - [01/Dec/2026:08:00:00 +0700] "GET / HTTP/1.1" 200 5 "-" "ua" 0.1\n'
    log.write_text(
        good
        + good.replace("01/Dec", "99/Dec")  # no such day
        + good.replace("08:00:00", "25:61:00")  # no such time
        + good.replace(
            " 5 ", " " + "9" * 5000 + " "
        )  # no size a server writes (and int() refuses it)
        + good.replace("0.1\n", "1" * 5000 + "\n")
    )
    result = summarize_local([str(log)], "access", NGINX_TIMED.rsplit(" ", 1)[0])
    assert list(result["days"]) == ["2026-12-01"] and result["total"]["requests"] == 1
    assert result["unparsed"] == 4
    msec = tmp_path / "msec.log"
    msec.write_text(
        '999999999999.5 10.0.0.1 "GET / HTTP/1.1" 200\n1764547200.250 10.0.0.1 "GET / HTTP/1.1" 200\n'
    )
    result = summarize_local([str(msec)], "access", '$msec $remote_addr "$request" $status')
    assert result["total"]["requests"] == 1 and result["unparsed"] == 1


# -- review findings (each failed before its fix) ---------------------------------------


def _read(text: str, spec: str = "combined", access: dict | None = None) -> AccessSummary:
    summary = engine.new_summary("access", access=access or {})
    engine.summarize_handle(io.BytesIO(text.encode()), "access", summary, prefix=spec)
    return summary


LINE = '10.0.0.{n} - - [{d}/Dec/2026:{t} +0700] "{req}" {status} 10 "-" "ua"\n'


def test_a_long_static_path_gives_a_route_the_snapshot_schema_accepts():
    from lpsectl.collect.access import from_answer
    from lpsectl.collect.schemas import ACCESS, problem

    summary = _read(
        LINE.format(
            n=1, d="01", t="10:00:00", req="GET /" + "a" * 450 + "/x.js HTTP/1.1", status=200
        )
        + LINE.format(n=1, d="01", t="10:00:01", req="GET /12345/app.js HTTP/1.1", status=200)
    )
    days = summary.day_results()
    routes = [r["route"] for r in days["2026-12-01"]["routes"]]
    assert all(len(r) <= 200 for r in routes) and "/{id}/*.js" in routes
    answer = {
        "files": {
            "/a.log": {
                "summary": summary.result(days=days),
                "days": days,
                "cursor": None,
                "warnings": [],
                "error": None,
            }
        }
    }
    assert problem(from_answer(answer, "00" * 16).data, ACCESS) is None


def test_a_malformed_request_line_does_not_hide_later_good_ones():
    text = LINE.format(n=1, d="01", t="10:00:00", req="/eproc4/login", status=400)
    text += (
        LINE.format(n=2, d="01", t="10:00:01", req="POST /eproc4/login HTTP/1.1", status=302) * 3
    )
    day = _read(text).day_results()["2026-12-01"]
    assert {r["route"]: r["count"] for r in day["routes"]} == {"(invalid)": 1, "/eproc4/login": 3}
    assert day["activities"]["login"] == {"ok": 3, "failed": 0}


def test_the_example_of_an_unparsed_line_names_no_address_nor_query():
    summary = _read(
        '10.9.8.7 garbage "GET /eproc4/x?token=rahasia" 2001:db8::1\n', access={"top_clients": 0}
    )
    assert summary.unparsed == 1
    assert "10.9.8.7" not in summary.unparsed_example and "rahasia" not in summary.unparsed_example
    assert "2001:db8::1" not in summary.unparsed_example


def test_the_two_shipped_parts_define_no_name_twice():
    """One script: a constant of summarize_remote must not overwrite access_remote's."""
    import ast

    parts = []
    for name in ("access_remote.py", "summarize_remote.py"):
        tree = ast.parse((Path(engine.__file__).parent / name).read_text())
        defined = set()
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                defined.add(node.name)
            elif isinstance(node, ast.Assign):
                defined |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        parts.append(defined)
    assert parts[0] & parts[1] == set()


def test_top_clients_are_complete_across_midnight_and_files_of_one_read(tmp_path):
    # Apache's %t is the request's start: lines around midnight interleave days
    lines = []
    for i in range(30):
        lines.append(
            LINE.format(n=1 + i % 3, d="01", t=f"23:59:5{i % 10}", req="GET / HTTP/1.1", status=200)
        )
        lines.append(
            LINE.format(n=9, d="02", t=f"00:00:0{i % 10}", req="GET / HTTP/1.1", status=200)
        )
    (tmp_path / "a.log").write_text("".join(lines[:31]))
    (tmp_path / "a.log.1").write_text("".join(lines[31:]))
    result = summarize_local(
        [str(tmp_path / "a.log"), str(tmp_path / "a.log.1")],
        "access",
        None,
        access={"top_clients": 1},
    )
    first = result["days"]["2026-12-01"]
    assert first["top_clients"] == [["10.0.0.1", 10]] and first["top_clients_complete"]
    assert result["days"]["2026-12-02"]["top_clients"] == [["10.0.0.9", 30]]


def test_msec_days_are_taken_at_the_lpse_offset():
    text = (
        '1764522000.000 10.0.0.1 "GET / HTTP/1.1" 200\n'  # 2025-11-30 17:00 UTC = 12-01 00:00 WIB
    )
    spec = '$msec $remote_addr "$request" $status'
    assert list(_read(text, spec).day_results()) == ["2025-11-30"]  # UTC without an offset
    wib = _read(text, spec, {"utc_offset_minutes": 420}).day_results()
    assert list(wib) == ["2025-12-01"] and wib["2025-12-01"]["first"].endswith("+07:00")


def test_upstream_times_of_an_internal_redirect_and_a_failed_upstream():
    spec = '$remote_addr [$time_local] "$request" $status $upstream_response_time'
    text = (
        '10.0.0.1 [01/Dec/2026:10:00:00 +0700] "GET /a HTTP/1.1" 200 0.001 : 0.002\n'
        '10.0.0.1 [01/Dec/2026:10:00:00 +0700] "GET /a HTTP/1.1" 502 -, 0.500\n'
    )
    (route,) = _read(text, spec).day_results()["2026-12-01"]["routes"]
    assert route["total_ms"] == pytest.approx(503.0) and route["timed"] == 2


def test_an_untimed_route_has_no_percentiles_not_zero():
    day = _read(
        LINE.format(n=1, d="01", t="10:00:00", req="GET /x HTTP/1.1", status=200)
    ).day_results()
    (route,) = day["2026-12-01"]["routes"]
    assert route["p50_ms"] is None and route["p95_ms"] is None


def test_impossible_calendar_days_are_bad_lines():
    summary = _read(
        LINE.format(n=1, d="31", t="10:00:00", req="GET / HTTP/1.1", status=200).replace(
            "Dec", "Feb"
        )
    )
    assert summary.day_results() == {} and summary.unparsed == 1


def test_stored_days_of_the_wrong_shape_are_refused_at_the_boundary():
    from lpsectl.collect.schemas import ACCESS, problem

    good = _read(
        LINE.format(n=1, d="01", t="10:00:00", req="GET /x HTTP/1.1", status=200)
    ).day_results()
    day = good["2026-12-01"]
    for bad in (
        {"2026-12-01": {**day, "routes": [{**day["routes"][0], "histogram": {"x": 1}}]}},
        {"2026-12-01": {**day, "top_clients": [["10.0.0.1"]]}},
        {"2026-12-01": {**day, "activities": {"login": {"ok": 1}}}},
        {"2026-13-01": day},
    ):
        assert problem({"files": {"/a.log": {"days": bad}}}, ACCESS) is not None
    assert problem({"files": {"/a.log": {"days": good}}}, ACCESS) is None


def test_an_activity_pattern_the_server_cannot_compile_is_that_files_error():
    request = {
        "files": [
            {"path": str(DATA / "apache-access.log"), "format": "access", "prefix": APACHE_FORMAT}
        ],
        "cursors": {},
        "access": {"activities": {"x": {"route": "(unclosed"}}},
    }
    answer = engine.run_request(request)
    item = answer["files"][str(DATA / "apache-access.log")]
    assert item["summary"] is None and "cannot be used here" in item["error"]


def test_the_roll_up_keeps_the_counts_and_drops_the_top_clients():
    from lpsectl.retention import rollup, rollup_problem

    day = _read(
        LINE.format(n=1, d="01", t="10:00:00", req="GET /x HTTP/1.1", status=200)
    ).day_results()
    data = {
        "files": {"/a.log": {"summary": {}, "days": day}},
        "cursors": {"/a.log": {"offset": 1}},
        "visitor_key": "00" * 16,
    }
    rolled = rollup("access", data)
    assert rollup_problem("access", rolled) is None
    assert "10.0.0.1" not in json.dumps(rolled) and "visitor_key" not in json.dumps(rolled)
    assert '"top_clients"' not in json.dumps(rolled)
    assert rolled["files"]["/a.log"]["days"]["2026-12-01"]["requests"] == 1


def test_a_run_that_reads_old_days_counts_them_in_their_own_reports(tmp_path):
    """A first read of an existing log (or a backlog after an outage) brings days long
    past: they are found in their own month's and day's reports, not lost."""
    from tests.fixtures.common import run_cli

    log = tmp_path / "access.log"
    log.write_text(
        LINE.format(n=1, d="15", t="10:00:00", req="GET /x HTTP/1.1", status=200).replace(
            "Dec", "Oct"
        )
        * 4
    )
    config = tmp_path / "lpsectl.toml"
    config.write_text(
        f'[lpse]\ndata_dir = "{tmp_path / "data"}"\n\n[[hosts]]\nname = "proxy"\naddress = "local"\n'
        f'access_logs = ["{log}"]\n'
    )
    assert run_cli("--config", str(config), "collect").exit_code in (
        0,
        3,
    )  # the local services may be absent
    monthly = run_cli(
        "--config", str(config), "report", "monthly", "--month", "2026-10", "--format", "json"
    )
    assert monthly.json()["usage"]["total"]["requests"] == 4
    daily = run_cli(
        "--config", str(config), "report", "daily", "--date", "2026-10-15", "--format", "json"
    )
    assert daily.json()["sections"]["usage"]["figures"]["requests"] == 4


# -- break-test findings ------------------------------------------------------------------


def test_a_recompressed_older_file_is_not_read_again_after_a_rotation(tmp_path):
    """logrotate: .1 compressed to .2.gz (a fresh mtime), access.log renamed to .1: the
    .2.gz is older than .1 (its number says so), already read, not read again."""
    from tests.fixtures.common import run_cli

    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "access.log"

    def lines(start: int, count: int, hour: int) -> str:
        return "".join(
            LINE.format(
                n=i % 250,
                d="01",
                t=f"{hour:02d}:{i // 60 % 60:02d}:{i % 60:02d}",
                req=f"GET /x/{i} HTTP/1.1",
                status=200,
            )
            for i in range(start, start + count)
        )

    config = tmp_path / "lpsectl.toml"
    config.write_text(
        f'[lpse]\ndata_dir = "{tmp_path / "data"}"\n\n[[hosts]]\nname = "proxy"\n'
        f'address = "local"\naccess_logs = ["{log}"]\n'
    )
    log.write_text(lines(0, 100, 10))
    run_cli("--config", str(config), "collect")
    with log.open("a") as handle:
        handle.write(lines(100, 50, 11))
    log.rename(logs / "access.log.1")
    log.write_text(lines(150, 30, 12))
    run_cli("--config", str(config), "collect")
    with log.open("a") as handle:
        handle.write(lines(180, 20, 13))
    (logs / "access.log.2.gz").write_bytes(gzip.compress((logs / "access.log.1").read_bytes()))
    (logs / "access.log.1").unlink()
    log.rename(logs / "access.log.1")
    log.write_text(lines(200, 10, 14))
    run_cli("--config", str(config), "collect")
    daily = run_cli(
        "--config", str(config), "report", "daily", "--date", "2026-12-01", "--format", "json"
    )
    assert daily.json()["sections"]["usage"]["figures"]["requests"] == 210


def test_a_layout_that_matches_nothing_is_said_however_short_the_file(tmp_path):
    log = tmp_path / "a.log"
    log.write_text(LINE.format(n=1, d="01", t="10:00:00", req="GET / HTTP/1.1", status=200))
    result = summarize_local([str(log)], "access", '$time_iso8601 $status "$request"')
    assert result["requests"] == 0
    assert any("do not match the access log layout" in w for w in result.get("warnings", []))


def test_odd_but_valid_requests_statuses_and_layouts():
    text = LINE.format(
        n=1,
        d="01",
        t="10:00:00",
        req="GET http://spse.example/eproc4/lelang/5/pengumumanlelang HTTP/1.1",
        status=200,
    )
    text += LINE.format(n=1, d="01", t="10:00:01", req="GET /x HTTP/1.1", status=999)
    day = _read(text).day_results()["2026-12-01"]
    routes = {r["route"]: r for r in day["routes"]}
    assert "/eproc4/lelang/{id}/pengumumanlelang" in routes  # a proxy's absolute form
    assert routes["/x"]["errors_5xx"] == 0 and day["status"].get("other") == 1  # 999 is no 5xx
    with pytest.raises(ValueError, match=r"%\{…\}t"):
        access_format('%h %{%d/%b/%Y:%H:%M:%S %z}t "%r" %>s')
    with pytest.raises(ValueError):
        parse_statuses("399-200")


def test_an_estimate_is_never_below_the_exact_bound():
    visitors = Visitors()
    for i in range(VISITOR_EXACT + 1):
        visitors.add(visitor_hash(str(i).encode(), b"k" * 16))
    count, exact = visitors.count()
    assert not exact and count > VISITOR_EXACT
