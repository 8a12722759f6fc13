"""The history store: SQLite by default (WAL), PostgreSQL when a URL is given.

Schema changes are SQL files in ``lpsectl/migrations`` named ``NNNN_what.sql``;
each is applied once, in name order, inside a transaction, and recorded in
``schema_migrations``. The SQL is written once for both engines: ``{{id}}``
stands for an auto-increment primary key column, ``?`` for a parameter, and
column types are limited to INTEGER, BIGINT (a reference to an ``{{id}}``
column), REAL and TEXT (timestamps as ISO 8601 text with offset, structured
data as JSON text).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from lpsectl.errors import ConfigError, UnavailableError

ID_COLUMN = {
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgres": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
}


def migration_scripts() -> list[tuple[str, str]]:
    """All shipped migrations as (name, sql), in order."""
    folder = resources.files("lpsectl") / "migrations"
    scripts = [
        (entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(scripts)


class Store:
    """A thin, engine-neutral wrapper; rows come back as dicts."""

    def __init__(self, connection: Any, engine: str, location: str) -> None:
        self._conn = connection
        self.engine = engine
        self.location = location
        self._depth = 0

    # -- opening -------------------------------------------------------------
    @classmethod
    def open_sqlite(cls, path: Path, new_store: bool = False) -> Store:
        """Open (or create) the SQLite history at ``path``.

        Refuses — never silently starts an empty history — when history
        existed before (``MARKER`` beside it) but the file is now missing or
        empty, unless ``new_store``; a damaged file is refused with what
        SQLite said. Disk full, read-only or unwritable: :class:`UnavailableError`
        naming the path.
        """
        marker = path.with_name(MARKER)
        existed = path.exists()
        empty = existed and path.stat().st_size == 0
        if marker.exists() and (not existed or empty) and not new_store:
            state = "is missing" if not existed else "is empty (0 bytes)"
            raise UnavailableError(
                f"{path}: the history file {state}, but lpsectl kept its history there before; "
                "restore it from a backup, or start a new, empty history with "
                "`lpsectl --new-store ...`"
            )
        try:
            # the history holds personal data (account requests): owner only
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not existed:
                os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
            elif path.stat().st_mode & 0o077:
                path.chmod(0o600)  # our own file, made readable by hand: private again
            conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except OSError as exc:
            raise UnavailableError(
                f"{path}: cannot open the history database: {exc.strerror or exc}"
            ) from exc
        except sqlite3.DatabaseError as exc:
            raise sqlite_error(str(path), exc) from exc
        store = cls(conn, "sqlite", str(path))
        store.migrate()
        try:
            marker.touch(exist_ok=True)
        except OSError as exc:
            raise UnavailableError(
                f"{marker}: cannot write beside the history file: {exc.strerror}"
            ) from exc
        return store

    @classmethod
    def open_url(cls, url: str) -> Store:
        if not url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(
                f"lpse.database_url: {url.split('@')[-1]!r} is not a postgresql:// URL"
            )
        try:
            import psycopg
            from psycopg.rows import dict_row
        except ImportError as exc:
            raise ConfigError(
                "lpse.database_url needs the PostgreSQL driver: pip install 'lpsectl[postgres]'"
            ) from exc
        try:
            conn = psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=10)
        except psycopg.Error as exc:
            where = url.split("@")[-1]  # never echo the password part of the URL
            raise UnavailableError(
                f"{where}: cannot connect to the history database: {exc}"
            ) from exc
        store = cls(conn, "postgres", url.split("@")[-1])
        store.migrate()
        return store

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Nestable; only the outermost level commits or rolls back."""
        if self._depth == 0:
            self._raw_execute("BEGIN IMMEDIATE" if self.engine == "sqlite" else "BEGIN")
        self._depth += 1
        try:
            yield self
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._raw_execute("ROLLBACK")
            raise
        self._depth -= 1
        if self._depth == 0:
            self._raw_execute("COMMIT")

    # -- statements --------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return the number of rows it changed."""
        cur = self._raw_execute(sql, params)
        return cur.rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self._raw_execute(sql, params)
        return [dict(row) for row in cur.fetchall()]

    def iterate(
        self, sql: str, params: Sequence[Any] = (), batch: int = 200
    ) -> Iterator[dict[str, Any]]:
        """The rows of ``sql`` one by one, fetched ``batch`` at a time: a month of snapshots
        is never all in memory at once. Do not use the store for anything else meanwhile."""
        cur = self._raw_execute(sql, params)
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            for row in rows:
                yield dict(row)

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def insert(self, table: str, values: Mapping[str, Any]) -> int:
        """Insert one row (values JSON-encoded when dict/list); return its id."""
        columns = list(values)
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)}) RETURNING id"
        )
        cur = self._raw_execute(sql, [encode(values[c]) for c in columns])
        row = cur.fetchone()
        return int(row["id"] if isinstance(row, Mapping) else row[0])

    def update(self, table: str, row_id: int, values: Mapping[str, Any]) -> int:
        columns = list(values)
        assignments = ", ".join(f"{c} = ?" for c in columns)
        params = [encode(values[c]) for c in columns] + [row_id]
        return self.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", params)

    # -- schema ----------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply pending migrations; return the names applied."""
        self._raw_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        done = {r["name"] for r in self.query("SELECT name FROM schema_migrations")}
        return [
            name
            for name, sql in migration_scripts()
            if name not in done and self.apply_migration(name, sql)
        ]

    def apply_migration(self, name: str, sql: str) -> bool:
        """Apply one migration unless it is recorded; False when it was (by another process
        upgraded at the same time: cron's collect and a report). The check and the change
        are one step under a lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: a table lock)."""
        with self.transaction():
            if self.engine == "postgres":
                self._raw_execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
            if self.query("SELECT name FROM schema_migrations WHERE name = ?", [name]):
                return False
            for statement in _split_statements(sql.replace("{{id}}", ID_COLUMN[self.engine])):
                self._raw_execute(statement)
            self._raw_execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, CURRENT_TIMESTAMP)",
                [name],
            )
        return True

    def has_table(self, name: str) -> bool:
        """Whether table ``name`` exists (a feature's table is made when it is first used)."""
        if self.engine == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?"
        else:
            sql = "SELECT table_name AS name FROM information_schema.tables WHERE table_name = ?"
        return self.query_one(sql, [name]) is not None

    # -- housekeeping -------------------------------------------------------------
    def size_bytes(self) -> int | None:
        """Bytes the history takes: SQLite, the file and its WAL; PostgreSQL, the database
        (``pg_database_size``). None when it cannot be told."""
        if self.engine == "postgres":
            row = self.query_one("SELECT pg_database_size(current_database()) AS n")
            return int(row["n"]) if row else None
        total = 0
        for suffix in ("", "-wal"):
            try:
                total += os.stat(self.location + suffix).st_size
            except OSError:
                pass
        return total

    def housekeeping(self, vacuum_free_percent: float) -> bool:
        """Refresh the planner's statistics and give back space; True when the file was
        rewritten. SQLite: ``PRAGMA optimize``, the WAL checkpointed, and ``VACUUM`` when at
        least ``vacuum_free_percent`` of the pages are free (it needs as much free disk as
        the file, and holds off writers meanwhile). PostgreSQL: ``VACUUM (ANALYZE)`` of the
        snapshots. Raises :class:`UnavailableError` (disk full, locked too long)."""
        if self.engine == "postgres":
            self._raw_execute("VACUUM (ANALYZE) snapshots")
            return False
        self._raw_execute("PRAGMA optimize")
        pages = self.query_one("PRAGMA page_count")
        free = self.query_one("PRAGMA freelist_count")
        count = int(next(iter(pages.values()))) if pages else 0
        unused = int(next(iter(free.values()))) if free else 0
        rewrite = count > 0 and unused * 100 >= count * vacuum_free_percent
        if rewrite:
            self._raw_execute("VACUUM")
        self._raw_execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return rewrite

    @property
    def schema_version(self) -> str:
        row = self.query_one("SELECT max(name) AS v FROM schema_migrations")
        return row["v"] if row else ""

    def _raw_execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self.engine == "postgres":
            sql = sql.replace("?", "%s")
            return self._conn.execute(sql, list(params))
        try:
            return self._conn.execute(sql, list(params))
        except sqlite3.OperationalError as exc:
            if _is_bug(exc):
                raise
            raise sqlite_error(self.location, exc) from exc
        except sqlite3.DatabaseError as exc:
            if isinstance(
                exc, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.InterfaceError
            ):
                raise  # our SQL or our data: a bug, exit 70
            raise sqlite_error(self.location, exc) from exc


#: beside the SQLite file: "lpsectl has kept history here" (a missing history is then an error)
MARKER = ".lpsectl-history"


def sqlite_error(location: str, exc: sqlite3.Error) -> UnavailableError:
    """One sentence for an SQLite failure that is the machine's, not lpsectl's (exit 5)."""
    text = str(exc)
    lowered = text.lower()
    if "disk is full" in lowered or ("disk i/o" in lowered and _free_bytes(location) < 1024 * 1024):
        # SQLite reports a WAL that cannot grow as an I/O error: the free space tells which
        return UnavailableError(
            f"{location}: cannot write the history: the disk is full ({text}); "
            "free some space, the next run goes on"
        )
    if "disk i/o" in lowered:
        return UnavailableError(f"{location}: cannot write the history: {text} (check the disk)")
    if (
        "readonly" in lowered
        or "read-only" in lowered
        or "unable to open" in lowered
        or "permission" in lowered
    ):
        return UnavailableError(
            f"{location}: cannot write the history: {text} "
            "(check the permissions and that the file system is writable)"
        )
    if "locked" in lowered or "busy" in lowered:
        return UnavailableError(
            f"{location}: the history is locked by another program for too long ({text})"
        )
    return UnavailableError(
        f"the history file {location} is damaged (sqlite: {text}); "
        "restore it from a backup or move it aside"
    )


def _free_bytes(location: str) -> int:
    try:
        info = os.statvfs(os.path.dirname(location) or ".")
    except OSError:
        return 1 << 62
    return info.f_bavail * info.f_frsize


def _is_bug(exc: sqlite3.OperationalError) -> bool:
    """SQL lpsectl got wrong (no such table/column, syntax): exit 70, not the disk's fault."""
    text = str(exc).lower()
    return any(
        part in text
        for part in (
            "no such table",
            "no such column",
            "syntax error",
            "has no column",
            "already exists",
        )
    )


def encode(value: Any) -> Any:
    """Values for a column: dicts and lists become JSON text."""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def decode_json(text: str | Any, default: Any = None) -> Any:
    """A JSON column's value; one already decoded (by a reader that checked it) as it is."""
    if text is None or text == "":
        return default
    if not isinstance(text, str):
        return text
    return json.loads(text)


def _split_statements(sql: str) -> list[str]:
    # migrations hold plain DDL; no semicolons inside string literals
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def open_store(config: Any, new_store: bool = False) -> Store:
    """The store named by the config: ``lpse.database_url`` or SQLite in the data dir."""
    if config.lpse.database_url:
        return Store.open_url(config.lpse.database_url)
    return Store.open_sqlite(config.data_dir / "history.sqlite3", new_store=new_store)
