"""Incremental reading: real appends, renames, gzip, copytruncate, truncation, deletion.

Every sequence writes known entries, runs the summariser between file
operations exactly as ``collect`` does (cursor in, cursor out), and checks
that the runs together counted every entry exactly once.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

from lpsectl.logs import summarize_remote as engine
from lpsectl.logs.summary import merge_summaries

PREFIX = "%m [%p] %q%u@%d "


class Follower:
    """Runs the summariser on one path like successive ``collect`` runs would."""

    def __init__(self, path: Path, fmt: str = "stderr") -> None:
        self.path = path
        self.fmt = fmt
        self.cursor: dict | None = None
        self.summaries: list[dict] = []
        self.warnings: list[str] = []

    def step(self) -> dict:
        request = {
            "files": [{"path": str(self.path), "format": self.fmt, "prefix": PREFIX}],
            "cursors": {str(self.path): self.cursor} if self.cursor else {},
            "top": 1000,
        }
        item = engine.run_request(request)["files"][str(self.path)]
        assert item["error"] is None, item["error"]
        self.cursor = item["cursor"]
        self.warnings += item["warnings"]
        self.summaries.append(item["summary"])
        return item["summary"]

    def settle(self) -> dict:
        """A run after the file stayed unchanged: its last entry is complete now."""
        stamp = self.path.stat().st_mtime - 1000
        os.utime(self.path, (stamp, stamp))
        return self.step()

    def total(self) -> dict:
        return merge_summaries(self.summaries, top=1000)


class Writer:
    """Writes numbered PostgreSQL stderr entries; remembers how many of each kind."""

    def __init__(self) -> None:
        self.queries = 0
        self.errors = 0

    def entries(self, count: int, with_error: bool = True) -> str:
        out = []
        for _ in range(count):
            self.queries += 1
            n = self.queries
            out.append(
                f"2026-11-21 05:{n // 60 % 60:02d}:{n % 60:02d}.000 UTC [{n}] u@epns LOG:  "
                f"duration: 1.500 ms  statement: SELECT * FROM paket\n\tWHERE id = {n}\n"
            )
            if with_error and n % 4 == 0:
                self.errors += 1
                out.append(
                    f'2026-11-21 05:00:00.000 UTC [{n}] u@epns ERROR:  relation "t{n}" does not exist\n'
                    f"2026-11-21 05:00:00.000 UTC [{n}] u@epns STATEMENT:  SELECT * FROM t{n}\n"
                )
        return "".join(out)


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def assert_counted_once(follower: Follower, writer: Writer) -> None:
    total = follower.total()
    assert total["query_count"] == writer.queries
    assert total["error_count"] == writer.errors
    assert total["unparsed"] == 0
    assert [q["fingerprint"] for q in total["queries"]] == ["select * from paket where id = ?;"]


def age(path: Path, seconds: float) -> None:
    """Make rotation order unambiguous (logrotate runs seconds apart in real life)."""
    stamp = path.stat().st_mtime - seconds
    os.utime(path, (stamp, stamp))


def test_appends_partial_lines_and_pending_entries(tmp_path):
    log, writer = tmp_path / "pg.log", Writer()
    follow = Follower(log)
    log.write_text(writer.entries(10))
    follow.step()
    # a line being written: only complete lines count, the rest waits
    text = writer.entries(3)
    append(log, text[:-25])
    follow.step()
    append(log, text[-25:])
    follow.step()
    # a statement whose continuation line is not written yet is not counted half
    entry = writer.entries(1, with_error=False)
    first_line, rest = entry.split("\n", 1)
    append(log, first_line + "\n")
    assert follow.step()["query_count"] == 1  # the entry before it, now complete
    append(log, rest)
    follow.step()
    follow.settle()
    assert_counted_once(follow, writer)
    assert follow.warnings == []
    example = next(q["example"] for s in follow.summaries for q in s["queries"])
    assert "\nWHERE id = " in example  # the multi-line statement was joined


def test_nothing_new_reads_nothing(tmp_path):
    log, writer = tmp_path / "pg.log", Writer()
    log.write_text(writer.entries(20))
    follow = Follower(log)
    follow.step()
    again = follow.step()
    # the last entry (an error's STATEMENT line) stays pending: re-read, never counted twice
    assert (again["lines"], again["bytes"], again["query_count"], again["error_count"]) == (
        0,
        0,
        0,
        0,
    )
    assert_counted_once(follow, writer)
    assert follow.settle()["lines"] == 1  # quiet now: the pending last line is complete
    assert follow.step()["lines"] == 0


def test_rotation_by_rename(tmp_path):
    log, writer = tmp_path / "pg.log", Writer()
    follow = Follower(log)
    log.write_text(writer.entries(8))
    follow.step()
    append(log, writer.entries(5))  # written after the last run, before rotation
    log.rename(tmp_path / "pg.log.1")
    age(tmp_path / "pg.log.1", 60)
    log.write_text(writer.entries(7))
    follow.step()
    append(log, writer.entries(2))
    log.rename(tmp_path / "pg.log.1")  # the second rotation replaces the first .1
    log.write_text("")
    follow.step()
    follow.settle()
    assert_counted_once(follow, writer)
    assert follow.warnings == []


def test_rotation_then_gzip(tmp_path):
    log, writer = tmp_path / "pg.log", Writer()
    follow = Follower(log)
    log.write_text(writer.entries(30))
    follow.step()
    append(log, writer.entries(6))
    rotated = tmp_path / "pg.log.1"
    log.rename(rotated)
    with open(rotated, "rb") as src, gzip.open(tmp_path / "pg.log.1.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    rotated.unlink()  # logrotate's compress: only the .gz is left
    log.write_text(writer.entries(4))
    follow.step()
    follow.settle()
    assert_counted_once(follow, writer)


def test_copytruncate(tmp_path):
    log, writer = tmp_path / "pg.log", Writer()
    follow = Follower(log)
    log.write_text(writer.entries(12))
    follow.step()
    append(log, writer.entries(5))
    shutil.copyfile(log, tmp_path / "pg.log.1")  # logrotate copytruncate
    age(tmp_path / "pg.log.1", 60)
    with open(log, "r+") as handle:
        handle.truncate(0)
    append(log, writer.entries(3))
    follow.step()
    follow.settle()
    assert_counted_once(follow, writer)
    assert follow.warnings == []  # the copy held the unread part: nothing is missing


def test_truncation_without_a_copy_warns_and_starts_over(tmp_path):
    log, writer = tmp_path / "pg.log", Writer()
    follow = Follower(log)
    log.write_text(writer.entries(12))
    follow.step()
    with open(log, "r+") as handle:
        handle.truncate(0)
    fresh = Writer()
    append(log, fresh.entries(3))
    summary = follow.step()
    assert summary["query_count"] == 2  # the new file from its start (last entry pending)
    assert any("truncated" in w for w in follow.warnings)


def test_rotated_twice_between_runs(tmp_path):
    log, writer = tmp_path / "pg.log", Writer()
    follow = Follower(log)
    log.write_text(writer.entries(10))
    follow.step()
    append(log, writer.entries(4))
    log.rename(tmp_path / "pg.log.1")
    age(tmp_path / "pg.log.1", 120)
    log.write_text(writer.entries(6))
    (tmp_path / "pg.log.1").rename(tmp_path / "pg.log.2")
    log.rename(tmp_path / "pg.log.1")
    age(tmp_path / "pg.log.1", 60)
    log.write_text(writer.entries(5))
    follow.step()
    follow.settle()
    assert_counted_once(follow, writer)
    assert any("rotated more than once" in w for w in follow.warnings)


def test_rotated_file_gone_is_reported(tmp_path):
    log, writer = tmp_path / "pg.log", Writer()
    follow = Follower(log)
    log.write_text(writer.entries(10))
    follow.step()
    # a new file in place of the old one, the old one deleted (not kept as .1)
    replacement = tmp_path / "pg.log.new"
    replacement.write_text(writer.entries(3))
    log.unlink()
    replacement.rename(log)
    follow.step()
    assert any("previous file was not found" in w for w in follow.warnings)


def test_deleted_file(tmp_path):
    log, writer = tmp_path / "pg.log", Writer()
    follow = Follower(log)
    log.write_text(writer.entries(10))
    follow.step()
    append(log, writer.entries(2))
    log.rename(tmp_path / "pg.log.1")  # rotated away and not recreated (yet)
    follow.step()
    assert follow.cursor is None
    assert any("no longer exists" in w for w in follow.warnings)
    assert_counted_once(follow, writer)


def test_spse_rotation_keeps_stack_traces_whole(tmp_path):
    sample = (Path(__file__).parent / "data" / "spse-application.log").read_bytes()
    cut = sample.index(b"\tat play.mvc.ActionInvoker.invoke", 5000)  # inside an ERROR's stack trace
    log = tmp_path / "application.log"
    follow = Follower(log, fmt="spse")
    log.write_bytes(sample[:cut])
    follow.step()
    log.rename(tmp_path / "application.log.1")
    log.write_bytes(sample[cut:])  # the rest arrives in the new file (a continuation, not an entry)
    follow.step()
    follow.settle()
    total = follow.total()
    assert total["error_count"] == 705  # every ERROR and WARN entry once
    codes = [c["code"] for s in follow.summaries for c in s["error_codes"]]
    assert len(codes) == len(set(codes)) == 330  # each Kode Error exactly once
    # the tail of the trace that crossed the rotation has no entry to belong to
    assert 0 < total["unparsed"] < 10


def test_real_postgres_log_read_while_the_server_writes(pg_cluster_factory):
    cluster = pg_cluster_factory(preload=False, workload=False)
    path = cluster.log_files()["stderr"]
    follow = Follower(path)
    cluster.pgbench("-i", "-s", "1", "-q")
    follow.step()
    for _ in range(3):
        cluster.pgbench("-t", "40", "-c", "2")
        follow.step()
    cluster.psql("SELECT * FROM tabel_yang_tidak_ada", check=False)
    cluster.stop()
    follow.step()
    follow.settle()
    total = follow.total()
    whole = engine.result_of(engine.summarize_files([str(path)], "stderr", PREFIX, 1000)["stderr"])
    assert total["query_count"] == whole["query_count"] > 3 * 80 * 5
    assert {q["fingerprint"]: q["count"] for q in total["queries"]} == {
        q["fingerprint"]: q["count"] for q in whole["queries"]
    }
    assert total["error_count"] == whole["error_count"] >= 1
    assert total["lines"] == whole["lines"]
