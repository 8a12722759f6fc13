"""`lpsectl logs summarize` — PostgreSQL and SPSE log summaries, no config needed."""

from __future__ import annotations

import click

from lpsectl.commands._common import dump_json, emit, format_option, output_option, warn
from lpsectl.logs.summary import (
    ACCESS_NAMES,
    DEFAULT_TOP,
    LOG_FORMATS,
    summarize_local,
    text_summary,
)
from lpsectl.logs.usage import usage_text


@click.group("logs")
def command() -> None:
    """Summarise PostgreSQL, SPSE application and web server access logs."""


@command.command("summarize")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format-log",
    "log_format",
    type=click.Choice(list(LOG_FORMATS + ACCESS_NAMES)),
    help="Log format (default: detected from the first lines); nginx and apache are access logs.",
)
@click.option(
    "--access-format",
    metavar="FORMAT",
    help="Layout of an access log: combined (default), common, or the server's own "
    "nginx log_format / Apache LogFormat string.",
)
@click.option(
    "--top-clients",
    type=click.IntRange(0, 1000),
    default=10,
    show_default=True,
    help="Access logs: client addresses listed per day (0: none; addresses are personal data).",
)
@click.option(
    "--prefix",
    metavar="PREFIX",
    help="PostgreSQL log_line_prefix of a stderr log, e.g. '%m [%p] %q%u@%d ' (default: detected).",
)
@click.option(
    "--top",
    type=click.IntRange(1, 10000),
    default=DEFAULT_TOP,
    show_default=True,
    help="How many queries and errors to list.",
)
@format_option("text", "json")
@output_option
def summarize(
    files: tuple[str, ...],
    log_format: str | None,
    prefix: str | None,
    access_format: str | None,
    top_clients: int,
    top: int,
    fmt: str,
    output: str | None,
) -> None:
    """Summarise log FILEs: top queries by count, top errors, deadlocks, and more.

    \b
    Reads PostgreSQL logs (stderr with any log_line_prefix, csvlog, jsonlog),
    SPSE application logs (log4j2 'ddMMyy HH:mm:ss LEVEL ~ message', with
    stack traces and the 9-character error code "Kode Error") and web server
    access logs (nginx/Apache combined or common, or the layout given with
    --access-format; see docs/usage.md). Rotated files
    compressed with gzip are read as they are. Several files of the same
    format (e.g. today's log and yesterday's .1.gz) make one summary.
    Works without any lpsectl configuration.

    \b
    Queries are grouped by fingerprint (literals, numbers and IN-lists
    replaced, like pgBadger), errors by signature (quoted names and numbers
    replaced). JSON fields: format, lines, bytes, start, end, query_count,
    queries[fingerprint, count, total_ms, mean_ms, max_ms, example],
    error_count, errors[severity, signature, count, example, first, last],
    unparsed; PostgreSQL: deadlocks, lock_waits, temp_files, checkpoints,
    connections; SPSE: levels, exceptions, error_codes.

    \b
    Examples:
      lpsectl logs summarize /var/log/postgresql/postgresql-15-main.log
      lpsectl logs summarize --prefix '%m [%p] %q%u@%d ' pg.log pg.log.1.gz
      lpsectl logs summarize --format-log spse logs/application.log --format json
      lpsectl logs summarize postgresql.csv --format json -o summary.json
      lpsectl logs summarize --format-log nginx /var/log/nginx/access.log*
      lpsectl logs summarize --format-log access --access-format \\
        '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent \\
        "$http_referer" "$http_user_agent" $request_time' access.log --format json

    \b
    Access logs, JSON: days{YYYY-MM-DD: requests, visitors, visitors_exact,
    bytes_out, bytes_in, status, minutes, routes[route, count, p50_ms,
    p95_ms, max_ms, errors_5xx], activities, top_clients}, and total (the
    same fields over all days).
    """
    if access_format is not None:
        if log_format not in (None, "access", *ACCESS_NAMES):
            raise click.UsageError(
                f"--access-format is the layout of an access log, not of a {log_format} log"
            )
        log_format = log_format or "access"
        if prefix is not None:
            raise click.UsageError("--prefix is a PostgreSQL log's; give --access-format alone")
    access = {"top_clients": top_clients}
    result = summarize_local(list(files), log_format, access_format or prefix, top, access)
    if fmt == "json":
        emit(dump_json(result), output)
    elif result["format"] == "access":
        emit(usage_text(result, top=min(top, 20)), output)
    else:
        emit(text_summary(result, top=min(top, 20)), output)
    for warning in result.get("warnings", []):
        warn(warning)
