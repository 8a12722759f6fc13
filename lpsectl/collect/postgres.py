"""PostgreSQL statistics, read through ``psql`` on the database host.

Each item group is one psql call returning one JSON document, so a group that
fails (``pg_stat_statements`` absent, a view we may not read) is reported in
``unavailable`` while the others are still collected. The SQL is static text
on stdin; the only variable parts are the database name (its own argv element)
and column names chosen by server version. The shape of ``data`` is documented
in docs/database.md.

Also here, pure: :func:`classify_psql_error`. The statistics arithmetic
(counter deltas, ratios, units) lives in :mod:`lpsectl.pgstats`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lpsectl import messages
from lpsectl.collect.base import Collected
from lpsectl.collect.schemas import POSTGRES, POSTGRES_GROUPS, BadAnswer, loads_answer, problem
from lpsectl.config import HostConfig
from lpsectl.errors import RemoteError
from lpsectl.pgstats import add_setting_values, cache_hit_ratio, dead_ratio
from lpsectl.remote.runner import COMMAND_NOT_FOUND, Runner

KIND = "postgres"

PSQL_OPTIONS = ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"]
PSQL_TIMEOUT = 60.0
TOP_STATEMENTS = 10
#: statements whose cumulative counters each snapshot keeps (by calls, and by time)
TRACKED_STATEMENTS = 250
#: starts every statement lpsectl sends, so pg_stat_statements' lists can leave them out
OWN_MARKER = "/* lpsectl */ "
LARGEST_TABLES = 10
#: transaction ids wrap around after 2^31; age is measured against that
XID_LIMIT = 2**31

SETTING_NAMES = (
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "maintenance_work_mem",
    "max_connections",
    "superuser_reserved_connections",
    "log_min_duration_statement",
    "logging_collector",
    "log_destination",
    "log_directory",
    "log_filename",
    "log_line_prefix",
    "log_lock_waits",
    "log_temp_files",
    "log_checkpoints",
    "log_connections",
    "log_disconnections",
    "log_autovacuum_min_duration",
    "shared_preload_libraries",
    "track_activity_query_size",
    "random_page_cost",
    "effective_io_concurrency",
    "max_wal_size",
    "checkpoint_timeout",
    "autovacuum",
    "autovacuum_freeze_max_age",
    "deadlock_timeout",
    "idle_in_transaction_session_timeout",
    "statement_timeout",
    "TimeZone",
    "lc_messages",
    "server_encoding",
)

ENABLE_STATEMENTS_HINT = messages.ENABLE_STATEMENTS

# -- SQL ---------------------------------------------------------------------------

SERVER_SQL = """
SELECT json_build_object(
  'version', current_setting('server_version'),
  'version_num', current_setting('server_version_num')::int,
  'started_at', pg_postmaster_start_time(),
  'now', now(),
  'uptime_s', extract(epoch FROM now() - pg_postmaster_start_time()),
  'in_recovery', pg_is_in_recovery(),
  'user', current_user)
"""

SETTINGS_SQL = """
SELECT coalesce(json_object_agg(name, json_build_object(
  'shown', current_setting(name), 'setting', setting, 'unit', unit, 'source', source)), '{}')
FROM pg_settings WHERE name IN ({names})
""".replace("{names}", ", ".join(f"'{name}'" for name in SETTING_NAMES))

DATABASE_STATS_SQL = """
SELECT row_to_json(s) FROM (
  SELECT datname, numbackends, xact_commit, xact_rollback, blks_read, blks_hit,
         tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, conflicts,
         temp_files, temp_bytes, deadlocks, blk_read_time, blk_write_time, stats_reset,
         pg_database_size(datid) AS size_bytes
  FROM pg_stat_database WHERE datname = current_database()) AS s
"""

STATEMENTS_SQL = """
WITH raw AS (
  SELECT * FROM pg_stat_statements
  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND query NOT LIKE '/* lpsectl */%'),
s AS (
  -- one row per statement: pg_stat_statements splits it per user and per toplevel
  SELECT queryid::text AS queryid, left(min(query), 1000) AS query, sum(calls)::bigint AS calls,
         sum(rows)::bigint AS rows, sum({total}) AS total_ms,
         sum({total}) / nullif(sum(calls), 0) AS mean_ms, min({min}) AS min_ms, max({max}) AS max_ms,
         max({stddev}) AS stddev_ms, sum(shared_blks_hit)::bigint AS shared_blks_hit,
         sum(shared_blks_read)::bigint AS shared_blks_read
  FROM raw GROUP BY queryid),
top AS (SELECT * FROM s WHERE query !~* '{noise}')
SELECT json_build_object(
  'count', (SELECT count(*) FROM s),
  'total_calls', (SELECT coalesce(sum(calls), 0) FROM s),
  'total_ms', (SELECT coalesce(sum(total_ms), 0) FROM s),
  'stats_reset', {reset},
  'top_by_calls', (SELECT coalesce(json_agg(t), '[]') FROM
      (SELECT * FROM top ORDER BY calls DESC, total_ms DESC LIMIT {limit}) AS t),
  'top_by_total_time', (SELECT coalesce(json_agg(t), '[]') FROM
      (SELECT * FROM top ORDER BY total_ms DESC, calls DESC LIMIT {limit}) AS t),
  -- cumulative counters of the busiest statements, for the day's deltas
  'by_query', (SELECT coalesce(json_agg(t), '[]') FROM (
      SELECT queryid, calls, total_ms, rows, max_ms, left(query, 300) AS query FROM top
      WHERE queryid IN (SELECT queryid FROM top ORDER BY calls DESC LIMIT {tracked})
         OR queryid IN (SELECT queryid FROM top ORDER BY total_ms DESC LIMIT {tracked})) AS t),
  'tracked_all', (SELECT count(*) FROM top) <= 2 * {tracked})
"""

ACTIVITY_SQL = """
WITH a AS (SELECT * FROM pg_stat_activity
           WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())
SELECT json_build_object(
  'max_connections', current_setting('max_connections')::int,
  'superuser_reserved_connections', current_setting('superuser_reserved_connections')::int,
  'total', (SELECT count(*) FROM a) + 1,
  'by_state', (SELECT coalesce(json_object_agg(st, n), '{}') FROM
      (SELECT coalesce(state, 'unknown') AS st, count(*) AS n FROM a GROUP BY 1) AS x),
  'sessions', (SELECT coalesce(json_agg(t), '[]') FROM (
      SELECT pid, usename, datname, application_name, client_addr::text AS client_addr, state,
             wait_event_type, wait_event, pg_blocking_pids(pid) AS blocked_by,
             extract(epoch FROM now() - query_start) AS query_seconds,
             extract(epoch FROM now() - xact_start) AS xact_seconds,
             extract(epoch FROM now() - state_change) AS state_seconds,
             left(query, 500) AS query
      FROM a WHERE state IS DISTINCT FROM 'idle'
      ORDER BY coalesce(xact_start, query_start) NULLS LAST LIMIT 50) AS t))
"""

REPLICATION_SQL = """
SELECT json_build_object(
  'in_recovery', pg_is_in_recovery(),
  'replay_lag_s', CASE WHEN pg_is_in_recovery()
      THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END,
  'replicas', (SELECT coalesce(json_agg(t), '[]') FROM (
      SELECT application_name, client_addr::text AS client_addr, state, sync_state,
             extract(epoch FROM write_lag) AS write_lag_s,
             extract(epoch FROM flush_lag) AS flush_lag_s,
             extract(epoch FROM replay_lag) AS replay_lag_s,
             CASE WHEN pg_is_in_recovery() THEN NULL
                  ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint END AS lag_bytes
      FROM pg_stat_replication) AS t))
"""

WRAPAROUND_SQL = """
SELECT json_build_object(
  'databases', (SELECT coalesce(json_agg(t ORDER BY t.age DESC), '[]') FROM
      (SELECT datname, age(datfrozenxid) AS age FROM pg_database WHERE datallowconn) AS t),
  'autovacuum_freeze_max_age', current_setting('autovacuum_freeze_max_age')::bigint)
"""

TABLES_SQL = """
SELECT coalesce(json_agg(t), '[]') FROM (
  SELECT schemaname AS schema, relname AS name, pg_total_relation_size(relid) AS total_bytes,
         n_live_tup AS live_tuples, n_dead_tup AS dead_tuples, last_vacuum, last_autovacuum,
         last_analyze, last_autoanalyze, vacuum_count, autovacuum_count
  FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC LIMIT {limit}) AS t
""".replace("{limit}", str(LARGEST_TABLES))


#: statements left out of the top lists: transaction control and session settings are
#: the most frequent "queries" of any pooled application but tell nothing about it
TRANSACTION_CONTROL = (
    "^[[:space:]]*(begin|commit|rollback|end|start transaction|savepoint|release|set |reset |"
    "show |discard|deallocate)"
)


def statements_sql(version_num: int) -> str:
    """pg_stat_statements renamed its time columns in PostgreSQL 13."""
    prefix = "exec_" if version_num >= 130000 else ""
    return STATEMENTS_SQL.format(
        total=f"total_{prefix}time",
        mean=f"mean_{prefix}time",
        min=f"min_{prefix}time",
        max=f"max_{prefix}time",
        stddev=f"stddev_{prefix}time",
        limit=TOP_STATEMENTS,
        tracked=TRACKED_STATEMENTS,
        reset="(SELECT stats_reset FROM pg_stat_statements_info)"
        if version_num >= 140000
        else "NULL",
        noise=TRANSACTION_CONTROL,
    )


# -- collector -----------------------------------------------------------------------


class PsqlFailed(Exception):
    """One psql call failed; the message is already meant for the user."""


def applies(host: HostConfig) -> bool:
    return host.has_role("db") and host.postgres is not None


def collect(runner: Runner, host: HostConfig, previous: dict | None) -> Collected:
    assert host.postgres is not None
    result = Collected(KIND, data={"database": host.postgres.database})

    def query(sql: str) -> Any:
        return run_json(runner, host, sql)

    try:
        server = query(SERVER_SQL)
    except PsqlFailed as exc:
        result.error = str(exc)
        return result
    shape = problem(server, POSTGRES_GROUPS["server"])
    if shape is not None:
        result.error = f"psql's answer about the server was refused: {shape}"
        return result
    result.data["server"] = server
    try:
        version_num = int(server.get("version_num") or 0)
    except ValueError:
        result.error = (
            f"psql reported a server version that is not a number: {server.get('version_num')!r}"
        )
        return result
    groups: list[tuple[str, str, Callable[[Any], Any]]] = [
        ("settings", SETTINGS_SQL, add_setting_values),
        ("database_stats", DATABASE_STATS_SQL, add_cache_hit_ratio),
        ("statements", statements_sql(version_num), _same),
        ("activity", ACTIVITY_SQL, summarize_activity),
        ("replication", REPLICATION_SQL, _same),
        ("wraparound", WRAPAROUND_SQL, summarize_wraparound),
        ("tables", TABLES_SQL, add_dead_ratio),
    ]
    for name, sql, finish in groups:
        try:
            raw = query(sql)
        except PsqlFailed as exc:
            result.unavailable[name] = str(exc)
            continue
        shape = problem(raw, POSTGRES_GROUPS[name])
        if shape is not None:
            result.unavailable[name] = f"psql's answer was refused: {shape}"
            continue
        try:
            result.data[name] = finish(raw)
        except PsqlFailed as exc:
            result.unavailable[name] = str(exc)
        except (TypeError, ValueError, KeyError, AttributeError, ZeroDivisionError) as exc:
            # a field of the wrong type inside a well-formed answer: this group only
            result.unavailable[name] = (
                f"psql's answer could not be used ({type(exc).__name__}: {exc})"
            )
    shape = problem(result.data, POSTGRES)
    if shape is not None:  # the groups fit, their sum does not: a bug of ours, said as such
        result.error = f"the postgres snapshot does not fit its schema: {shape}"
        result.error_type = "BadAnswer"
    result.shape_checked = shape is None
    return result


def _same(value: Any) -> Any:
    return value


def psql_argv(host: HostConfig) -> list[str]:
    """The configured psql argv, plus [hosts.postgres] user/port when given, plus our options."""
    pg = host.postgres
    assert pg is not None
    extra = (["-U", pg.user] if pg.user else []) + (["-p", str(pg.port)] if pg.port else [])
    # application_name in the conninfo: it survives sudo, which drops PGAPPNAME
    return [
        *pg.psql,
        *extra,
        *PSQL_OPTIONS,
        "-d",
        f"dbname='{_conninfo_quote(pg.database)}' application_name=lpsectl",
    ]


def _conninfo_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def run_json(runner: Runner, host: HostConfig, sql: str) -> Any:
    """Run one statement that returns one JSON value; raise PsqlFailed with a clear reason."""
    argv = psql_argv(host)
    try:
        outcome = runner.run(argv, stdin=(OWN_MARKER + sql.lstrip()).encode(), timeout=PSQL_TIMEOUT)
    except RemoteError as exc:
        raise PsqlFailed(exc.message) from exc
    if not outcome.ok:
        raise PsqlFailed(classify_psql_error(host, outcome.returncode, outcome.error_text))
    text = outcome.text.strip()
    try:
        return loads_answer(text)
    except BadAnswer as exc:
        raise PsqlFailed(
            f"psql on {host.name} answered with something lpsectl does not store: {exc} "
            f"({text[:120]!r})"
        ) from exc


# -- pure helpers ----------------------------------------------------------------------


def classify_psql_error(host: HostConfig, returncode: int, stderr: str) -> str:
    """One sentence naming the host and what went wrong (psql, sudo, database, rights)."""
    assert host.postgres is not None
    program = host.postgres.psql[0]
    db = host.postgres.database
    lowered = stderr.lower()
    first_line = (
        stderr.strip().splitlines()[0]
        if stderr.strip()
        else messages.EXIT_STATUS.format(code=returncode)
    )
    if "pg_stat_statements must be loaded" in lowered:
        return messages.STATEMENTS_NOT_PRELOADED.format(
            host=host.name, hint=ENABLE_STATEMENTS_HINT.format(db=db)
        )
    if 'relation "pg_stat_statements" does not exist' in lowered:
        return messages.STATEMENTS_NOT_INSTALLED.format(
            db=db, host=host.name, hint=ENABLE_STATEMENTS_HINT.format(db=db)
        )
    if program == "sudo" and _sudo_refused(lowered):
        return messages.SUDO_REFUSED.format(host=host.name, reason=first_line)
    if returncode == COMMAND_NOT_FOUND or "command not found" in lowered:
        missing = "psql" if program == "sudo" or "psql" in program else program
        return messages.PSQL_NOT_FOUND.format(
            program=missing, host=host.name, setting=repr(program)
        )
    if f'database "{db.lower()}" does not exist' in lowered:
        return messages.DATABASE_MISSING.format(db=db, host=host.name)
    if "permission denied" in lowered:
        return messages.PG_PERMISSION_DENIED.format(host=host.name, reason=_strip_level(first_line))
    if "role" in lowered and "does not exist" in lowered:
        return messages.PG_ROLE_MISSING.format(host=host.name, reason=_strip_level(first_line))
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return messages.PG_LOGIN_REFUSED.format(host=host.name, reason=_strip_level(first_line))
    if "could not connect" in lowered or "connection to server" in lowered:
        return messages.PG_CANNOT_CONNECT.format(host=host.name, reason=_strip_level(first_line))
    return messages.PSQL_FAILED.format(host=host.name, reason=_strip_level(first_line))


def _sudo_refused(lowered: str) -> bool:
    return any(
        sign in lowered
        for sign in (
            "a password is required",
            "a terminal is required",
            "not in the sudoers",
            "is not allowed to execute",
            "may not run sudo",
        )
    )


def _strip_level(line: str) -> str:
    for prefix in ("psql: error: ", "psql: ", "ERROR:  ", "FATAL:  "):
        if line.startswith(prefix):
            line = line[len(prefix) :]
    return line


def add_cache_hit_ratio(stats: dict | None) -> dict:
    if not stats:
        raise PsqlFailed("pg_stat_database has no row for this database")
    stats["cache_hit_ratio"] = cache_hit_ratio(stats.get("blks_hit"), stats.get("blks_read"))
    return stats


def summarize_activity(activity: dict) -> dict:
    by_state = activity.get("by_state") or {}
    # the collecting session itself is active; count it so totals match max_connections use
    by_state["active"] = by_state.get("active", 0) + 1
    activity["by_state"] = by_state
    limit = activity.get("max_connections") or 0
    activity["usage_ratio"] = activity["total"] / limit if limit else None
    activity["idle_in_transaction"] = sum(
        n for state, n in by_state.items() if state.startswith("idle in transaction")
    )
    activity["waiting_on_locks"] = sum(1 for s in activity["sessions"] if s.get("blocked_by"))
    return activity


def summarize_wraparound(wrap: dict) -> dict:
    databases = wrap.get("databases") or []
    oldest: dict[str, Any] = databases[0] if databases else {"datname": None, "age": 0}
    wrap["max_age"] = oldest["age"]
    wrap["oldest_database"] = oldest["datname"]
    wrap["percent_of_limit"] = 100.0 * oldest["age"] / XID_LIMIT
    return wrap


def add_dead_ratio(tables: list[dict]) -> list[dict]:
    for table in tables:
        table["dead_ratio"] = dead_ratio(table.get("live_tuples"), table.get("dead_tuples"))
    return tables
