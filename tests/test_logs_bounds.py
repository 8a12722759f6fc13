"""The log summariser's memory stays bounded on logs of many distinct long statements
(an ORM's IN lists of every length, one bulk INSERT after another), and what it cannot
list is still counted in the totals, with a warning."""

from __future__ import annotations

import json
import re
import sys

import pytest

from lpsectl.i18n import localize
from lpsectl.logs import summarize_remote as engine

PREFIX = "%m [%p] %q%u@%d "


def execute_line(i: int, statement: str, ms: str = "0.512") -> bytes:
    return (
        f"2026-12-01 08:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d} UTC [4{i % 97}] "
        f"spse@epns LOG:  duration: {ms} ms  execute <unnamed>: {statement}\n"
    ).encode()


def distinct_update(i: int) -> str:
    """A long JDBC statement with $n parameters that no other line repeats (keyed by its
    text), whose fingerprint is long too (no list to fold)."""
    columns = ", ".join(f"kolom_{k} = ${k}" for k in range(2, 700))
    return f"UPDATE paket_{i} SET {columns} WHERE id = $1"[:9500]


def summarize(path, **extra) -> dict:
    request = {
        "files": [{"path": str(path), "format": "stderr", "prefix": PREFIX}],
        "cursors": {},
        "quiet_seconds": 0,
        **extra,
    }
    return engine.run_request(request)["files"][str(path)]


@pytest.mark.parametrize("keyed_by", ["text", "shape"])
def test_the_statement_caches_keep_a_bounded_amount_of_text(keyed_by, monkeypatch):
    """Distinct statements of 7-10 KB through one cache: the memory it holds afterwards,
    measured by tracemalloc, stays near its bound."""
    import tracemalloc

    def statement(i: int) -> bytes:
        if keyed_by == "text":  # $n parameters: keyed by the text itself
            return distinct_update(i).encode()
        # no digit glued to a name: keyed by its shape without digits
        word = "x" if i < 1000 else "y"
        return (
            "SELECT * FROM t WHERE a IN (" + ", ".join([word] * (3290 - i % 1000)) + ")"
        ).encode()

    # a small bound (8 MiB by default) and three times its text either way (a fingerprint
    # is kept with its key, and by text it is long)
    monkeypatch.setattr(engine, "MAX_CACHE_BYTES", 1024 * 1024)
    count = 200 if keyed_by == "text" else 330
    tracemalloc.start()
    try:
        cache = engine.FingerprintCache()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(count):
            cache.get(statement(i))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < engine.MAX_CACHE_BYTES * 1.5, held
    # the cache still answers: a statement seen again gets its fingerprint back
    again = statement(count - 1)
    assert cache.get(again) == engine.fingerprint(again.decode())


def test_many_distinct_long_statements_are_all_counted_within_the_kept_text(tmp_path, monkeypatch):
    # the kept text is made small so that a small log fills it (the default is 32 MiB)
    monkeypatch.setattr(engine, "MAX_KEPT_BYTES", 2 * 1024 * 1024)
    log = tmp_path / "postgresql.log"
    with log.open("wb") as handle:
        for i in range(600):
            handle.write(execute_line(i, distinct_update(i), ms=f"{i % 7 + 1}.250"))
    grep_count = log.read_bytes().count(b"LOG:  duration: ")  # the reference: every line
    grep_ms = sum(i % 7 + 1.25 for i in range(600))
    out = summarize(log)
    summary = out["summary"]
    assert summary["query_count"] == grep_count == 600
    listed = sum(q["count"] for q in summary["queries"])
    assert listed + summary["other"]["queries"] == grep_count
    assert summary["other"]["query_ms"] + sum(q["total_ms"] for q in summary["queries"]) == (
        pytest.approx(grep_ms, abs=0.01)
    )
    (warning,) = [w for w in summary["warnings"] if "not listed" in w]
    found = re.fullmatch(
        r"queries counted in the totals but not listed: (\d+) \(more distinct statements "
        r"than one read keeps; (\d+) fingerprints listed\)",
        warning,
    )
    assert found, warning
    dropped, listed_fingerprints = int(found[1]), int(found[2])
    # each listed fingerprint is one statement (all distinct); the rest were dropped
    assert listed_fingerprints + dropped == 600
    assert summary["truncated"]["queries"] == listed_fingerprints - 50 + dropped  # top 50 shown
    # what is kept of each: its fingerprint and its example (2,000 characters)
    each = len(engine.fingerprint(distinct_update(0))) + engine.MAX_EXAMPLE + engine.ENTRY_COST
    assert (listed_fingerprints - 1) * each < 2 * 1024 * 1024 <= listed_fingerprints * each
    # read in Indonesian in the daily report
    assert localize(warning, "id") == (
        f"kueri yang dihitung dalam total tetapi tidak dirinci: {dropped} (pernyataan yang "
        "berbeda lebih banyak daripada yang dapat disimpan satu kali baca; "
        f"{listed_fingerprints} pola kueri dirinci)"
    )


def test_what_collect_cannot_list_reaches_the_daily_reports_warnings(tmp_path, monkeypatch):
    """collect counts per event day: the warning is the file's, said once for its days."""
    from lpsectl.collect.logs import from_answer

    monkeypatch.setattr(engine, "MAX_KEPT_BYTES", 1024 * 1024)
    log = tmp_path / "postgresql.log"
    with log.open("wb") as handle:
        for i in range(300):
            line = execute_line(i, distinct_update(i))
            day = b"2026-11-30" if i < 150 else b"2026-12-01"  # two event days
            handle.write(day + line[10:])
    answer = engine.run_request(
        {
            "files": [{"path": str(log), "format": "stderr", "prefix": PREFIX}],
            "cursors": {},
            "quiet_seconds": 0,
            "by_day": True,
        }
    )
    item = answer["files"][str(log)]
    counted = {
        day: part["query_count"] for day, part in item["days"].items() if part["query_count"]
    }
    assert counted == {"2026-11-30": 150, "2026-12-01": 150}
    assert sum(day["query_count"] for day in item["days"].values()) == 300
    # the days say nothing themselves; the file says it once
    assert all("warnings" not in day for day in item["days"].values())
    (warning,) = [w for w in item["warnings"] if "not listed" in w]
    collected = from_answer(answer)
    assert warning in collected.data["warnings"]
    assert collected.data["files"][str(log)]["summary"]["query_count"] == 300


def test_a_statement_seen_every_day_is_kept_once_and_listed_on_each_day(monkeypatch):
    """A backlog of a week: the same statements every day must not use up the kept text
    on the first days and leave the newest days unlisted."""
    monkeypatch.setattr(engine, "MAX_KEPT_BYTES", 400_000)
    root = engine.Summary("stderr")
    root.split_by_day(50)
    statements = [distinct_update(i)[:300].encode() for i in range(60)]
    for day in range(7):
        part = root.for_day(f"2026-11-{day + 1:02d}")
        for statement in statements:
            part.query(engine.fingerprint(statement.decode()), 1.0, statement)
    # 60 fingerprints of about 1 KB with their examples fit once, not seven times
    assert 60 * 600 < 400_000 < 7 * 60 * 1000
    assert [len(part.queries) for part in root.days.values()] == [60] * 7
    assert engine.not_listed(list(root.days.values())) == []


def test_a_deadlock_is_counted_even_when_its_error_cannot_be_listed(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "MAX_SIGNATURES", 2)
    log = tmp_path / "postgresql.log"
    lines = [
        f"2026-12-01 09:00:{i:02d}.000 UTC [77{i}] spse@epns ERROR:  column kolom_{chr(97 + i)} "
        "of paket is missing\n"
        for i in range(5)
    ]
    lines.append("2026-12-01 09:01:00.000 UTC [78] spse@epns ERROR:  deadlock detected\n")
    log.write_text("".join(lines))
    summary = summarize(log)["summary"]
    assert summary["deadlocks"] == log.read_text().count("deadlock detected") == 1
    assert summary["error_count"] == 6 and len(summary["errors"]) == 2


def test_more_distinct_errors_than_kept_are_counted_by_severity(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "MAX_SIGNATURES", 5)
    log = tmp_path / "postgresql.log"
    lines = []
    for i in range(40):
        word = "kolom_" + chr(97 + i // 26) + chr(97 + i % 26)  # 40 distinct signatures
        severity = "FATAL" if i % 4 == 0 else "ERROR"
        lines.append(
            f"2026-12-01 09:00:{i:02d}.000 UTC [77{i}] spse@epns {severity}:  "
            f"column {word} of paket is missing\n"
        )
    log.write_text("".join(lines))
    text = log.read_text()
    out = summarize(log)
    summary = out["summary"]
    assert summary["error_count"] == text.count("ERROR:  ") + text.count("FATAL:  ") == 40
    assert summary["by_severity"] == {
        "ERROR": text.count("ERROR:  "),
        "FATAL": text.count("FATAL:  "),
    }
    assert len(summary["errors"]) == 5
    assert summary["other"]["errors"] == 35
    assert any(
        w.startswith("error events counted in the totals but not listed: 35 ")
        for w in summary["warnings"]
    )


def test_waiting_statement_texts_are_cut_and_bounded():
    """log_statement + log_duration: each process's text waits for its duration line."""
    summary = engine.Summary("stderr")
    events = engine.PgEvents(summary)
    giant = b"statement: INSERT INTO t VALUES " + b"(1, 'x'), " * 200_000  # 2 MB
    for pid in range(20):
        events.log_event(str(pid).encode(), giant)
    assert max(len(text) for text in events.statements.values()) == engine.MAX_STATEMENT + 1
    assert sum(map(len, events.statements.values())) <= engine.MAX_CACHE_BYTES + 10_241
    # the duration line still counts the statement, fingerprinted as a long one
    events.duration(b"19", b"duration: 3.000 ms")
    (fingerprint,) = summary.queries
    assert fingerprint.endswith("[... cut at 10 KiB];")
    assert sys.getsizeof(giant) > 2_000_000


def test_the_days_of_one_run_share_one_amount_of_kept_text(monkeypatch):
    """One budget for all the days of a read: the first day lists all it can, the later
    ones their DAY_FLOOR (each its own budget would list all of every day); floors stop
    at twice the budget (hundreds of days of a never rotated log)."""
    monkeypatch.setattr(engine, "MAX_KEPT_BYTES", 400_000)
    root = engine.Summary("stderr")
    root.split_by_day(50)
    for day in range(10):
        part = root.for_day(f"2026-11-{day + 1:02d}")
        for i in range(80):
            statement = distinct_update(day * 100 + i)[:1500].encode()
            part.query(engine.fingerprint(statement.decode()), 1.0, statement)
    listed = [len(part.queries) for part in root.days.values()]
    assert listed[0] == 80 and listed[1] == listed[2] == engine.DAY_FLOOR
    assert listed[-1] == 0 and sorted(listed, reverse=True) == listed
    assert root.kept.query_bytes < 2 * 400_000 + 4_000  # one entry past twice the budget
    # every query is still counted on its day
    assert [part.result()["query_count"] for part in root.days.values()] == [80] * 10


def test_hostile_long_request_paths_are_not_kept_in_the_route_cache():
    """750 requests with a distinct 40 KB path each (30 MB): the route cache would hold
    them all; the parser's memory stays near one read block."""
    import io
    import tracemalloc

    line = '10.0.0.{n} - - [01/Dec/2026:10:00:{s:02d} +0700] "GET /paket/{n}/{pad} HTTP/1.1" 200 10 "-" "ua"\n'
    text = "".join(line.format(n=i, s=i % 60, pad="x" * 40_000) for i in range(750)).encode()
    summary = engine.new_summary("access")
    tracemalloc.start()
    try:
        engine.summarize_handle(io.BytesIO(text), "access", summary, prefix="combined")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    result = summary.result()
    assert result["requests"] == text.count(b'"GET ') == 750
    # a 4 MiB read block joined to the last one's tail, its lines: 17 MB measured here,
    # 43 MB when the cache kept every path
    assert peak < 24 * 1024 * 1024, peak


def test_sessions_waiting_for_their_duration_lines_are_all_counted(monkeypatch):
    """log_statement=all with log_duration: 50 sessions take turns; a text is replaced or
    taken by its duration line, so what waits never adds up past the bound."""
    monkeypatch.setattr(engine, "MAX_CACHE_BYTES", 64 * 1024)
    summary = engine.Summary("stderr")
    events = engine.PgEvents(summary)
    count = 0
    for turn in range(400):
        for pid in range(50):
            text = f"statement: SELECT kolom FROM paket_{pid} WHERE id = {turn}".encode()
            events.log_event(str(pid).encode(), text + b" -- " + b"x" * 500)
            events.duration(str(pid).encode(), b"duration: 1.000 ms")
            count += 1
    assert sum(entry[0] for entry in summary.queries.values()) == count == 20_000
    assert events.statement_bytes == 0 and events.statements == {}


def test_many_days_of_distinct_statements_stay_bounded_and_each_day_lists_some(monkeypatch):
    """A catch-up read of 40 days, 3,000 distinct statements a day: the entries' own cost
    counts against the budget, and every day still lists its first DAY_FLOOR."""
    import tracemalloc

    monkeypatch.setattr(engine, "MAX_KEPT_BYTES", 2 * 1024 * 1024)
    tracemalloc.start()
    try:
        root = engine.Summary("stderr")
        root.split_by_day(50)
        for day in range(40):
            part = root.for_day(f"2026-10-{day + 1:02d}")
            for i in range(3000):
                text = f"select kolom_{day}_{i} from paket"
                part.query(text, 1.0, text.encode())
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    listed = [len(part.queries) for part in root.days.values()]
    assert min(listed) >= engine.DAY_FLOOR and sum(listed) < 40 * 3000
    assert sum(part.result()["query_count"] for part in root.days.values()) == 40 * 3000
    # 120,000 entries unbounded would hold well over 50 MB
    assert held < 12 * 1024 * 1024, held


@pytest.mark.parametrize("fmt", ["stderr", "spse"])
def test_an_entry_with_megabyte_continuation_lines_is_kept_to_a_megabyte(tmp_path, fmt):
    import io
    import tracemalloc

    head = {
        "stderr": b"2026-12-01 08:00:00.000 UTC [7] spse@epns ERROR:  kolom hilang\n",
        "spse": b"011226 08:00:00 ERROR ~ NullPointerException di LelangCtr.view\n",
    }[fmt]
    tail = {
        "stderr": b"2026-12-01 08:00:01.000 UTC [7] spse@epns LOG:  checkpoint starting: time\n",
        "spse": b"011226 08:00:01 INFO ~ selesai\n",
    }[fmt]
    prefix = b"\t" if fmt == "stderr" else b"\tat "
    data = head + b"".join(prefix + b"x" * (1024 * 1024) + b"\n" for _ in range(24)) + tail
    summary = engine.new_summary(fmt)
    tracemalloc.start()
    try:
        engine.summarize_handle(io.BytesIO(data), fmt, summary, prefix="%m [%p] %q%u@%d ")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    result = engine.result_of(summary)
    assert result["error_count"] == 1 and result["lines"] == data.count(b"\n")
    # the 24 MB entry is never joined whole: read blocks, their lines, one MiB kept
    # (21 MB measured here; 77-86 MB when every line was joined)
    assert peak < 32 * 1024 * 1024, peak


def test_an_answer_fits_its_bound_with_short_statements_of_many_durations(tmp_path):
    """3,000 short distinct statements, each with its own spread of durations (wide
    histograms): the answer's JSON fits answer_bytes, and every query still counts."""
    log = tmp_path / "postgresql.log"
    with log.open("w") as handle:
        for i in range(3000):
            for j in range(6):
                ms = f"{(i * 7 + j * 131) % 9000 + 0.5:.3f}"
                handle.write(
                    f"2026-12-01 08:{i // 60 % 60:02d}:{i % 60:02d}.000 UTC [4] spse@epns LOG:  "
                    f"duration: {ms} ms  execute <unnamed>: SELECT kolom_{i} FROM paket WHERE id = $1\n"
                )
    request = {
        "files": [{"path": str(log), "format": "stderr", "prefix": PREFIX}],
        "cursors": {},
        "quiet_seconds": 0,
        "by_day": True,
        "answer_bytes": 150_000,
    }
    answer = engine.run_request(request)
    assert len(json.dumps(answer, ensure_ascii=False).encode()) <= 150_000
    day = answer["files"][str(log)]["days"]["2026-12-01"]
    expected = log.read_text().count("LOG:  duration: ")
    assert day["query_count"] == expected == 18_000
    listed = sum(q["count"] for q in day["queries"])
    assert 0 < len(day["queries"]) < 3000 and listed + day["other"]["queries"] == expected
    assert day["truncated"]["queries"] == 3000 - len(day["queries"])
    # without the bound the same answer is many times larger
    del request["answer_bytes"]
    assert len(json.dumps(engine.run_request(request), ensure_ascii=False).encode()) > 450_000


def test_idle_members_of_a_log_set_do_not_starve_the_active_ones_list(tmp_path):
    for day in range(1, 21):  # a week-old set of daily files with nothing to read
        (tmp_path / f"postgresql-2026-11-{day:02d}.log").write_text("")
    active = tmp_path / "postgresql-2026-11-30.log"
    active.write_text(
        "".join(
            f"2026-11-30 09:00:{i % 60:02d}.000 UTC [4] spse@epns LOG:  duration: 1.000 ms  "
            f"execute <unnamed>: SELECT kolom_{i} FROM paket WHERE id = $1\n"
            for i in range(300)
        )
    )
    answer = engine.run_request(
        {
            "files": [
                {"path": str(tmp_path / "postgresql-*.log"), "format": "stderr", "prefix": PREFIX}
            ],
            "cursors": {},
            "quiet_seconds": 0,
            "by_day": True,
            "answer_bytes": 1024 * 1024,
        }
    )
    day = answer["files"][str(active)]["days"]["2026-11-30"]
    assert len(day["queries"]) == 300 and day["other"]["queries"] == 0


def test_a_csvlog_record_with_a_long_statement_is_counted(tmp_path):
    """csv's default field limit (128 KiB) made such a record unreadable."""
    log = tmp_path / "postgresql.csv"
    statement = "INSERT INTO t VALUES " + ", ".join(f"({i}, 'nilai')" for i in range(14000))
    assert len(statement) > 140_000
    # a record as PostgreSQL 15 writes it (tests/data/pg/postgresql.csv), the statement long
    log.write_text(
        '2026-12-01 08:00:00.629 UTC,"spse","epns",7402,"[local]",6b012dc7.1cea,3,"INSERT",'
        "2026-12-01 08:00:00 UTC,3/0,0,LOG,00000,"
        f'"duration: 12.000 ms  statement: {statement}",,,,,,,,,"psql","client backend",,0\n'
    )
    summary = engine.new_summary("csvlog")
    with log.open("rb") as handle:
        engine.summarize_handle(handle, "csvlog", summary)
    result = engine.result_of(summary)
    assert result["unparsed"] == 0 and result["query_count"] == 1
