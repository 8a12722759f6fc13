"""Streaming summariser for PostgreSQL (stderr, csvlog, jsonlog) and SPSE logs.

This one module is both the local parser (imported by ``lpsectl logs
summarize``) and the script shipped to the servers: ``python3 - ARGS_JSON``
with this file on stdin prints a JSON document with the summaries and the new
read cursors. It must therefore stay stdlib-only and run on Python 3.6 (no
dataclasses, no walrus, no ``from __future__ import annotations``); the test
suite checks it with ``vermin --target=3.6-``.

Design notes (why it looks the way it does):
- lines are bytes, read in big blocks; a cheap ``startswith``/``find`` runs
  before any regex, because the hot path (a ``duration:`` line) is most of a
  busy log;
- query fingerprints follow pgBadger's ``normalize_query`` so both tools agree
  on "the same query"; they are cached by the statement's text, or by the
  statement with its digits removed where that is safe (no digit glued to a
  name, no quoted identifier);
- memory is bounded: per-entry and per-table caps, never the whole file.
"""

import csv
import errno
import gzip
import hashlib
import io
import json
import os
import re
import signal
import stat
import sys
import time
import zlib
from datetime import datetime, timedelta, timezone

if "parse_access" not in globals():
    # imported (lpsectl logs summarize, the tests): from its own module; shipped to a
    # server, access_remote.py's text comes first in the one script (summary.remote_script)
    from lpsectl.logs.access_remote import (  # noqa: F401 (the histogram is used by callers too)
        PRESETS,
        AccessSummary,
        access_format,
        bucket_upper,
        duration_bucket,
        parse_access,
        percentile,
    )

VERSION = 1
BLOCK = 4 * 1024 * 1024
HEAD_BYTES = 1024
#: longest line kept; longer ones are counted as unparsed and skipped
MAX_LINE = 16 * 1024 * 1024
MAX_ENTRY_LINES = 400
MAX_EXAMPLE = 2000
MAX_FINGERPRINTS = 20000
MAX_SIGNATURES = 5000
MAX_CODES = 1000
MAX_CACHE = 50000
#: text kept by the statement caches (keys up to MAX_STATEMENT bytes each): a log of
#: many distinct long statements (IN lists of every length) must not grow memory
MAX_CACHE_BYTES = 8 * 1024 * 1024
#: text of the fingerprints and examples one read of a file keeps (all its days): past
#: it, new statements are counted in the totals, not listed
MAX_KEPT_BYTES = 32 * 1024 * 1024
#: the same for error signatures and examples (their own budget: a flood of distinct
#: statements never hides the errors)
MAX_KEPT_ERROR_BYTES = 16 * 1024 * 1024
#: what a listed entry of a day costs beyond its text (its list, numbers, histogram),
#: charged to the same budgets: many days of distinct entries stay bounded too
ENTRY_COST = 512
#: entries each day lists whatever the budgets (a catch-up run's newest days too)
DAY_FLOOR = 50
#: an entry's continuation lines are kept up to this many bytes (a statement is
#: fingerprinted from its first 10 KiB, an example is 2,000 characters)
MAX_ENTRY_BYTES = 1024 * 1024
#: a csvlog record (its fields may span lines) is read whole up to this size
MAX_CSV_RECORD = 16 * 1024 * 1024


class Kept(object):
    """What the summaries of one read keep of statement and error text, shared by its
    days: a fingerprint's example is kept once however many days list it (one string),
    the fingerprints and examples within MAX_KEPT_BYTES, the errors' within
    MAX_KEPT_ERROR_BYTES."""

    def __init__(self):
        #: fingerprint -> its example, for every day that lists it
        self.examples = {}
        self.query_bytes = 0
        self.error_bytes = 0
#: files of one log set (a glob) read in one run; the rest wait for the next run
MAX_SET_FILES = 50
#: entries listed per event day and file in a collect run; the rest are counted as "other"
DAY_TOP = 2000
#: entries past the first this many keep only a short example (the answer stays small)
FULL_EXAMPLES = 50
#: statements longer than this are fingerprinted from their first 10 KiB (VALUES lists
#: folded, a marker at the end): a 15 MB multi-row INSERT costs no more than a small one
MAX_STATEMENT = 10 * 1024
DEFAULT_TOP = 50
#: a live log unchanged this long is complete: its last entry is counted
QUIET_SECONDS = 120

PG_SEVERITIES = (
    "DEBUG5", "DEBUG4", "DEBUG3", "DEBUG2", "DEBUG1", "DEBUG", "INFO", "NOTICE",
    "WARNING", "ERROR", "LOG", "FATAL", "PANIC", "DETAIL", "HINT", "CONTEXT",
    "STATEMENT", "QUERY", "LOCATION",
)
ERROR_SEVERITIES = ("WARNING", "ERROR", "FATAL", "PANIC")
ATTACHED = ("DETAIL", "HINT", "CONTEXT", "STATEMENT", "QUERY", "LOCATION")
SPSE_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SPSE_ERROR_LEVELS = {"WARN": "WARNING", "ERROR": "ERROR", "FATAL": "FATAL"}
FORMATS = ("stderr", "csvlog", "jsonlog", "spse", "access")
#: names an access log format may also be given by (its preset layout)
ACCESS_NAMES = ("nginx", "apache")

# ---------------------------------------------------------------------------
# normalisation


_ENDS_WITH_SEMICOLON = re.compile(r";\s*$")
_COMMENT_BLOCK = re.compile(r"/\*(.*?)\*/", re.S)
_DQUOTED = re.compile(r'("[^"]+")')
_OBJNAME = re.compile(r"%%objname(\d+)%%")
_STRING = re.compile(r"'[^']*'")
_QMARKS = re.compile(r"\?(\?)+")
_LINE_COMMENT = re.compile(r"\s*--[^\n]+[\n]")
_SPACES = re.compile(r"\s+")
_LEADING_BEGIN = re.compile(r"^\s*begin\s*;\s*")
_ONLY_BEGIN = re.compile(r"^\s*begin\s*;\s*$")
_QUOTED_ALIAS = re.compile(r'AS\s+"([^"]+)"', re.I | re.S)
_EQ_NULL = re.compile(r"=\s*null")
_IDENT = re.compile(r'"([^"]+)"')
_SQLIDENT = re.compile(r"%sqlident(\d+)%")
_NUMBER = re.compile(r"([^a-z0-9_\$\-])-?\d+")
_HEX = re.compile(r"([^a-z_\$-])0x[0-9a-f]{1,10}")
_BIND = re.compile(r"\$\d+")
_IN_LIST = re.compile(r"\bin\s*\([\'0x,\s\?]*\)")
_CURSOR_NAMES = re.compile(r'\b(declare|in|deallocate|close)\s+"[^"]+"')
_DECLARE = re.compile(r'\bdeclare\s+[^"\s]+\s+cursor')
_FETCH = re.compile(r"\b(fetch\s+next\s+from)\s+[^\s]+")
_DEALLOC = re.compile(r'\b(deallocate|close)\s+[^"\s]+')
_SPACE_SEMI = re.compile(r"\s+;")


def fingerprint(query):
    """pgBadger's ``normalize_query`` (v12), ported: the query's shape, literals gone."""
    if not _ENDS_WITH_SEMICOLON.search(query):
        query += ";"  # pgBadger terminates every query before normalising it
    q = _COMMENT_BLOCK.sub("", query)
    names = []

    def keep_name(match):
        names.append(match.group(1))
        return "%%OBJNAME" + str(len(names) - 1) + "%%"

    q = _DQUOTED.sub(keep_name, q).lower()
    q = _OBJNAME.sub(lambda m: names[int(m.group(1))], q)
    q = q.replace("\\'", "")
    q = _STRING.sub("?", q)
    q = _QMARKS.sub("?", q)
    q = _LINE_COMMENT.sub("\n", q)
    q = _SPACES.sub(" ", q)
    if not _ONLY_BEGIN.match(q):
        q = _LEADING_BEGIN.sub("", q)
    q = _QUOTED_ALIAS.sub(lambda m: 'AS "' + m.group(1).replace("'", "") + '"', q)
    q = _EQ_NULL.sub("= ?", q)
    idents = []

    def keep_ident(match):
        idents.append(match.group(1))
        return "%sqlident" + str(len(idents) - 1) + "%"

    q = _IDENT.sub(keep_ident, q)
    q = _NUMBER.sub(r"\1?", q)
    q = _HEX.sub(r"\1?", q)
    q = _BIND.sub("?", q)
    q = _SQLIDENT.sub(lambda m: '"' + idents[int(m.group(1))] + '"', q)
    q = _IN_LIST.sub("in (...)", q)
    q = _CURSOR_NAMES.sub(r'\1 "..."', q)
    q = _DECLARE.sub('declare "..." cursor', q)
    q = _FETCH.sub(r'\1 "..."', q)
    q = _DEALLOC.sub(r'\1 "..."', q)
    return _SPACE_SEMI.sub(";", q.strip(), count=1)


_DIGITS = b"0123456789"
_DIGIT_BYTES = frozenset(bytes([d]) for d in _DIGITS)


def _class_table():
    table = bytearray(b" " * 256)
    for char in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_":
        table[char] = ord("a")
    for char in _DIGITS:
        table[char] = ord("0")
    for char in b"-$":
        table[char] = char
    # a quoted identifier keeps its digits in pgBadger ("tabel 1" and "tabel 2" differ):
    # statements with one are keyed by their text, like those with $1 parameters
    table[ord('"')] = ord("$")
    return bytes(table)


# letters and '_' → 'a', digits → '0', '"' → '$': a digit glued to a name (t1, x-1,
# 0x1f) shows up as a plain substring, which C-level searches spot faster than a regex
_CLASSES = _class_table()
# a digit inside a quoted identifier; a match may also span two identifiers ("a" 1 "b"):
# then the text is the key, only slower
_QUOTED_DIGIT = re.compile(rb'"[^"]*[0-9][^"]*"')


def _quotes_only(statement):
    """Whether the '$' classes of a statement all come from quoted identifiers without a
    digit inside ("auth_user"."id": Django, Rails), not from $1 parameters: then its
    shape without digits is as good a key as for a statement with no quotes."""
    return b"$" not in statement and not _QUOTED_DIGIT.search(statement)


class FingerprintCache(object):
    """Fingerprints keyed by the statement's text, or by its shape without digits.

    The text is looked up first: what a Java (JDBC) server sends has ``$1``
    parameters and repeats verbatim. Otherwise, whenever no digit is glued to a
    name, pgBadger replaces every digit run, so statements that differ only in
    digits share a fingerprint: pgbench-like traffic costs two ``translate``
    calls per statement.
    """

    def __init__(self):
        self.by_shape = {}
        self.by_text = {}
        #: bytes of the keys in by_shape and by_text (each cleared past MAX_CACHE_BYTES)
        self.shape_bytes = 0
        self.text_bytes = 0

    def get(self, statement):
        found = self.by_text.get(statement)
        if found is not None:
            return found
        if len(statement) > MAX_STATEMENT:
            return fingerprint_long(statement)
        classes = statement.translate(_CLASSES)
        if (
            b"a0" not in classes
            and classes[:1] != b"0"
            and (b"-0" not in classes or classes.count(b"-0") == classes.count(b" -0"))
            and (b"$" not in classes or _quotes_only(statement))
        ):
            key = statement.translate(None, _DIGITS)
            found = self.by_shape.get(key)
            if found is None:
                if len(self.by_shape) >= MAX_CACHE or self.shape_bytes >= MAX_CACHE_BYTES:
                    self.by_shape.clear()
                    self.shape_bytes = 0
                found = self.by_shape[key] = fingerprint(statement.decode("utf-8", "replace"))
                self.shape_bytes += len(key) + len(found)
            if len(key) != len(statement):
                return found  # with digits: its text is unlikely to come again
        else:
            found = fingerprint(statement.decode("utf-8", "replace"))
        if len(self.by_text) >= MAX_CACHE or self.text_bytes >= MAX_CACHE_BYTES:
            self.by_text.clear()
            self.text_bytes = 0
        self.by_text[statement] = found
        self.text_bytes += len(statement) + len(found)
        return found


_TUPLE = r"\((?:[^()]|\([^()]*\))*\)"  # a tuple, now() and to_date(...) inside allowed
_TUPLES = re.compile("(" + _TUPLE + r")(?:\s*,\s*" + _TUPLE + ")+")


def fingerprint_long(statement):
    """The fingerprint of a statement over :data:`MAX_STATEMENT` bytes: its first 10 KiB,
    cut after the last complete ``(...),`` so the cut point does not change it, a
    ``VALUES (...), (...), ...`` list folded to its first tuple, and a marker."""
    head = statement[:MAX_STATEMENT]
    cut = max(head.rfind(b"), ("), head.rfind(b"),("))  # between two tuples, not inside one
    if cut > 0:
        head = head[:cut + 1]
    text = fingerprint(head.decode("utf-8", "replace"))
    text = _TUPLES.sub(r"\1, ...", text)
    return text.rstrip(";") + " [... cut at 10 KiB];"


_SIG_DQUOTED = re.compile(r'"[^"]*"')
_SIG_SQUOTED = re.compile(r"'[^']*'")
_SIG_AT_CHAR = re.compile(r" at character \d+$")
# Numbers are values, except inside a name: "sql2o", "eproc4" stay; a run of 2+
# digits ending a word ("penyedia882", "pokja01") is an id and is replaced.
_SIG_NUMBER = re.compile(
    r"(?<![\dA-Za-z_])(?:0x[0-9a-fA-F]+|\d+(?:[.,]\d+)*)(?![\dA-Za-z_])"
    r"|(?<=[A-Za-z_])\d{2,}(?![\dA-Za-z_])"
)


def error_signature(message):
    """Group messages that differ only by names and numbers: 'relation "..." does not exist'."""
    text = message.strip().split("\n", 1)[0]
    text = _SIG_AT_CHAR.sub("", text)
    text = _SIG_DQUOTED.sub('"..."', text)
    text = _SIG_SQUOTED.sub("'...'", text)
    text = _SIG_NUMBER.sub("?", text)
    return text[:300]


# ---------------------------------------------------------------------------
# timestamps

ZONE_OFFSETS = {"UTC": 0, "GMT": 0, "Z": 0, "WIB": 7 * 60, "WITA": 8 * 60, "WIT": 9 * 60}
_PG_TS = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d+)?\s*([A-Za-z]+|[+-]\d\d(?::?\d\d)?)?$"
)


_EPOCH = re.compile(r"^\d{9,}\.\d+$")


def _zone(name):
    if not name:
        return None
    if name[0] in "+-":
        digits = name[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
        return timezone(timedelta(minutes=minutes if name[0] == "+" else -minutes))
    if name.upper() in ZONE_OFFSETS:
        return timezone(timedelta(minutes=ZONE_OFFSETS[name.upper()]))
    return None


def _sort_key(iso):
    """A comparable key for an ISO timestamp, with or without an offset (naive = as written)."""
    moment = datetime.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")
    rest = iso[19:]
    sign_at = max(rest.rfind("+"), rest.rfind("-"))
    if sign_at >= 0 and ":" in rest[sign_at:]:
        hours, minutes = rest[sign_at + 1:].split(":")[:2]
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        moment = moment - delta if rest[sign_at] == "+" else moment + delta
    fraction = rest.split(".", 1)[1][:6] if "." in rest else ""
    digits = "".join(c for c in fraction if c.isdigit())
    return moment, int((digits + "000000")[:6])


def _timing(text, cache):
    """(ms, :func:`duration_bucket`) of a duration's text (b'0.275'), remembered in ``cache``
    while it is small; None when the text is no duration (nan, inf, negative, garbage)."""
    try:
        ms = float(text)
    except ValueError:
        return None
    if not 0.0 <= ms < 1e12:
        return None
    timing = (ms, duration_bucket(ms))
    if len(cache) < MAX_CACHE:
        cache[text] = timing
    return timing


_SPSE_DAY = re.compile(r"^(\d\d)(\d\d)(\d\d) ")


def day_of(stamp):
    """'YYYY-MM-DD' of a raw timestamp as the log writes it (the server's own clock and
    zone): PostgreSQL text or epoch, SPSE ddMMyy; '' when there is none."""
    if not stamp:
        return ""
    if isinstance(stamp, bytes):
        stamp = stamp[:32].decode("ascii", "replace")
    if len(stamp) >= 10 and stamp[4:5] == "-" and stamp[7:8] == "-":
        day = stamp[:10]
        return day if _real_day(day) else ""
    if _EPOCH.match(stamp):
        try:
            return datetime.fromtimestamp(float(stamp)).strftime("%Y-%m-%d")
        except (ValueError, OverflowError, OSError):
            return ""
    m = _SPSE_DAY.match(stamp)
    if m:
        day = "20" + m.group(3) + "-" + m.group(2) + "-" + m.group(1)
        return day if _real_day(day) else ""
    return ""


_REAL_DAYS = {}  # type: dict


def _real_day(day):
    """'2026-11-30' is a calendar day (a stray '2026-13-45' is not): cached, days repeat."""
    known = _REAL_DAYS.get(day)
    if known is None:
        try:
            datetime.strptime(day, "%Y-%m-%d")
            known = True
        except ValueError:
            known = False
        if len(_REAL_DAYS) < 10000:
            _REAL_DAYS[day] = known
    return known


def pg_timestamp(text):
    """'2026-11-21 05:36:01.433 UTC' → ISO 8601 with offset (without one when the zone is unknown)."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if _EPOCH.match(text):
        return epoch_timestamp(text)
    m = _PG_TS.match(text.strip())
    if m is None:
        return text.strip() or None
    y, mo, d, h, mi, s, frac, zone = m.groups()
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    try:
        moment = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, _zone(zone))
    except (ValueError, OverflowError):
        return None  # "2026-13-45": not a time (a line some other program wrote)
    return moment.isoformat()


def epoch_timestamp(text):
    try:
        value = float(text)
        datetime.fromtimestamp(value, timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    return datetime.fromtimestamp(value, timezone.utc).isoformat()


def spse_timestamp(text):
    """'011026 07:00:21' (ddMMyy, server-local time) → ISO 8601 with the server's offset."""
    if not text:
        return None
    try:
        moment = datetime.strptime(text, "%d%m%y %H:%M:%S")
    except ValueError:
        return None
    stamp = time.mktime(moment.timetuple())
    offset = time.localtime(stamp).tm_gmtoff
    return moment.replace(tzinfo=timezone(timedelta(seconds=offset))).isoformat()


# ---------------------------------------------------------------------------
# the summary being built


class Summary(object):
    """Counters for one log format; ``result()`` gives the JSON-ready dict."""

    def __init__(self, fmt, top=DEFAULT_TOP):
        self.format = fmt
        self.top = top
        self.lines = 0
        self.bytes = 0
        self.unparsed = 0
        self.unparsed_example = None
        self.start = None
        self.end = None
        #: (first, last) raw timestamps of each file read
        self.ranges = []
        #: lines that did not match the configured prefix and were read with the generic one
        self.prefix_fallback = 0
        #: the text kept, shared by the summaries of one read (see for_day)
        self.kept = Kept()
        #: a day's part of a splitting summary: what it cannot list is said once, by the
        #: caller, for all the days (not_listed)
        self.day_part = False
        self.queries = {}
        #: queries of statements past MAX_FINGERPRINTS (or MAX_KEPT_BYTES): counted in
        #: the totals, not listed
        self.queries_dropped = 0
        self.queries_dropped_ms = 0.0
        self.errors = {}
        #: error events past MAX_SIGNATURES (or MAX_KEPT_BYTES), by severity: counted in
        #: the totals, not listed
        self.errors_dropped = {}
        self.deadlocks = 0
        self.lock_waits = 0
        self.temp_files = {"count": 0, "total_bytes": 0, "max_bytes": 0}
        self.checkpoints = {"count": 0, "buffers_written": 0, "max_total_s": 0.0, "warnings": 0}
        self.connections = {"received": 0, "authorized": 0, "disconnections": 0}
        self.exceptions = {}
        self.error_codes = {}
        self.levels = {}
        #: what could not be read (a damaged .gz, ...): said in the result, never silent
        self.warnings = []
        #: the read budget ran out before the end of the file (the rest is for the next run)
        self.cut = False
        #: per event day ('YYYY-MM-DD', '' when a line has no time): the counting summaries,
        #: when this one splits by day (collect); None counts here (logs summarize)
        self.days = None
        self.day_top = top

    def split_by_day(self, day_top):
        self.days = {}
        self.day_top = day_top
        return self

    def for_day(self, day):
        """The summary that counts entries of ``day`` (this one when not splitting)."""
        if self.days is None:
            return self
        found = self.days.get(day)
        if found is None:
            found = self.days[day] = Summary(self.format, self.day_top)
            found.kept = self.kept
            found.day_part = True
        return found

    # -- recording ---------------------------------------------------------------
    def seen_range(self, first, last):
        """The first and last timestamp of one file's lines just read."""
        if first is not None or last is not None:
            self.ranges.append((first, last if last is not None else first))

    def seen(self, stamp):
        """A record's timestamp (csvlog, jsonlog, SPSE): first and last per file."""
        if stamp is None:
            return
        if self.start is None:
            self.start = stamp
        self.end = stamp

    def close_file(self):
        """One file is done: its range joins the others (files may come in any order)."""
        if self.start is not None:
            self.ranges.append((self.start, self.end))
        self.start = self.end = None

    def period(self, timestamp):
        """(earliest, latest) ISO timestamps over every file read: not first and last read."""
        self.close_file()
        stamps = [timestamp(t) for pair in self.ranges for t in pair if t is not None]
        keyed = []
        for stamp in stamps:
            if not stamp:
                continue
            try:
                keyed.append((_sort_key(stamp), stamp))
            except ValueError:
                continue
        if not keyed:
            return None, None
        keyed.sort()
        return keyed[0][1], keyed[-1][1]

    def bad_line(self, line):
        self.unparsed += 1
        if self.unparsed_example is None:
            self.unparsed_example = line[:200].decode("utf-8", "replace")

    def query(self, fp, duration_ms, statement):
        entry = self.queries.get(fp)
        if entry is None:
            kept = self.kept
            # past the budget a day still lists its first DAY_FLOOR, up to twice the budget
            # (hundreds of days of a never rotated log)
            if len(self.queries) >= MAX_FINGERPRINTS or (
                kept.query_bytes >= MAX_KEPT_BYTES
                and (len(self.queries) >= DAY_FLOOR or kept.query_bytes >= 2 * MAX_KEPT_BYTES)
            ):
                self.queries_dropped += 1
                self.queries_dropped_ms += duration_ms
                return
            example = kept.examples.get(fp)
            if example is None:
                example = kept.examples[fp] = statement[:MAX_EXAMPLE].decode("utf-8", "replace").strip()
                kept.query_bytes += len(fp) + len(example)
            kept.query_bytes += ENTRY_COST
            self.queries[fp] = [1, duration_ms, duration_ms, example, {duration_bucket(duration_ms): 1}]
            return
        entry[0] += 1
        entry[1] += duration_ms
        if duration_ms > entry[2]:
            entry[2] = duration_ms
        histogram = entry[4]
        bucket = duration_bucket(duration_ms)
        histogram[bucket] = histogram.get(bucket, 0) + 1

    def error(self, severity, message, stamp, example=None):
        """Count one error event; returns its entry so DETAIL/STATEMENT can enrich the example."""
        key = (severity, error_signature(message))
        if severity == "ERROR" and key[1] == "deadlock detected":
            self.deadlocks += 1  # counted even when the error itself cannot be listed
        entry = self.errors.get(key)
        if entry is None:
            kept = self.kept
            if len(self.errors) >= MAX_SIGNATURES or (
                kept.error_bytes >= MAX_KEPT_ERROR_BYTES
                and (len(self.errors) >= DAY_FLOOR or kept.error_bytes >= 2 * MAX_KEPT_ERROR_BYTES)
            ):
                self.errors_dropped[severity] = self.errors_dropped.get(severity, 0) + 1
                return None
            # its example may grow to MAX_EXAMPLE (DETAIL lines)
            kept.error_bytes += len(key[1]) + MAX_EXAMPLE + ENTRY_COST
            entry = {
                "severity": severity,
                "signature": key[1],
                "count": 0,
                "example": (example or message)[:MAX_EXAMPLE],
                "first": stamp,
                "last": stamp,
            }
            self.errors[key] = entry
        entry["count"] += 1
        entry["last"] = stamp
        return entry

    # -- output --------------------------------------------------------------------
    def result(self, timestamp=pg_timestamp):
        """The summary as JSON-ready data (see :func:`fit_answer` for its lists' size)."""
        queries = [
            {
                "fingerprint": fp,
                "count": e[0],
                "total_ms": round(e[1], 3),
                "mean_ms": round(e[1] / e[0], 3),
                "max_ms": round(e[2], 3),
                "p95_ms": min(percentile(e[4], 0.95), round(e[2], 3)),
                "histogram": dict((str(b), n) for b, n in e[4].items()),
                "example": e[3],
            }
            for fp, e in self.queries.items()
        ]
        queries.sort(key=lambda q: (-q["count"], -q["total_ms"], q["fingerprint"]))
        for query in queries[FULL_EXAMPLES:self.top]:
            query["example"] = query["example"][:200]
        errors = []
        for entry in self.errors.values():
            item = dict(entry)
            item["first"] = timestamp(item["first"])
            item["last"] = timestamp(item["last"])
            errors.append(item)
        errors.sort(key=lambda e: (-e["count"], e["severity"], e["signature"]))
        by_severity = dict(self.errors_dropped)
        for entry in errors:
            by_severity[entry["severity"]] = by_severity.get(entry["severity"], 0) + entry["count"]
        errors_dropped = sum(self.errors_dropped.values())
        start, end = self.period(timestamp)
        out = {
            "format": self.format,
            "lines": self.lines,
            "bytes": self.bytes,
            "start": start,
            "end": end,
            "query_count": sum(q["count"] for q in queries) + self.queries_dropped,
            "queries": queries[: self.top],
            "error_count": sum(e["count"] for e in errors) + errors_dropped,
            "errors": errors[: self.top],
            "by_severity": by_severity,
            "unparsed": self.unparsed,
            "unparsed_example": self.unparsed_example,
            "truncated": {
                "queries": max(0, len(queries) - self.top) + self.queries_dropped,
                "errors": max(0, len(errors) - self.top) + errors_dropped,
            },
            # what the lists leave out is counted, not dropped
            "other": {
                "queries": sum(q["count"] for q in queries[self.top:]) + self.queries_dropped,
                "query_ms": round(sum(q["total_ms"] for q in queries[self.top:])
                                  + self.queries_dropped_ms, 3),
                "errors": sum(e["count"] for e in errors[self.top:]) + errors_dropped,
            },
        }
        warnings = list(self.warnings)
        if not self.day_part:
            warnings += not_listed([self])
        if warnings:
            out["warnings"] = warnings
        if self.format == "spse":
            out["levels"] = dict(sorted(self.levels.items()))
            exceptions = sorted(self.exceptions.items(), key=lambda kv: (-kv[1], kv[0]))
            out["exceptions"] = [{"class": k, "count": v} for k, v in exceptions[: self.top]]
            codes = sorted(self.error_codes.items(), key=lambda kv: kv[1]["time"] or "")
            out["error_codes"] = [
                dict(v, code=k, time=timestamp(v["time"])) for k, v in codes
            ]
        else:
            out["deadlocks"] = self.deadlocks
            out["lock_waits"] = self.lock_waits
            out["temp_files"] = dict(self.temp_files)
            out["checkpoints"] = dict(self.checkpoints)
            out["connections"] = dict(self.connections)
        return out


# ---------------------------------------------------------------------------
# PostgreSQL events (shared by stderr, csvlog and jsonlog)

_TEMP_SIZE = re.compile(rb"size (\d+)")
_CKPT_BUFFERS = re.compile(rb"wrote (\d+) buffers")
_CKPT_TOTAL = re.compile(rb"total=([\d.]+) s")


class PgEvents(object):
    """Turns (timestamp, pid, severity, message) records into summary counts."""

    def __init__(self, summary):
        self.root = summary
        # splitting: entries count in a day's summary; '' holds those without a time
        self.summary = summary.for_day("") if summary.days is not None else summary
        self.day = "" if summary.days is not None else None
        self.fingerprints = FingerprintCache()
        self.last_error = None
        self.last_error_pid = None
        self.statements = {}
        self.statement_bytes = 0
        #: duration text → (ms, bucket): :func:`_timing`'s cache, shared with the fast path
        self.durations = {}

    def route(self, stamp):
        """Count what follows in the summary of ``stamp``'s day (when the root splits);
        an entry without a (valid) time goes to day ''."""
        if self.root.days is None:
            return
        day = day_of(stamp)
        if day != self.day:
            self.day = day
            self.summary = self.root.for_day(day)

    def record(self, stamp, pid, severity, message):
        """``message`` is bytes: the text after 'SEVERITY:  ', continuation lines joined by \\n."""
        self.route(stamp)
        summary = self.summary
        if severity == "LOG":
            if message.startswith(b"duration: "):
                self.duration(pid, message)
            else:
                self.log_event(pid, message)
            return
        if severity in ATTACHED:
            self.attach(pid, severity, message)
            return
        if severity in ERROR_SEVERITIES:
            text = message.decode("utf-8", "replace")
            self.last_error = summary.error(severity, text, stamp)
            self.last_error_pid = pid
            return
        if severity is None:
            summary.bad_line(message)

    def duration(self, pid, message):
        """'duration: 1.2 ms  statement: ...' (or execute/parse/bind, or no text at all)."""
        self.last_error = None  # a DETAIL that follows belongs to this entry, not to an error
        end = message.find(b" ms", 10)
        timing = _timing(message[10:end], self.durations)
        if timing is None:
            self.summary.bad_line(message)
            return
        duration_ms = timing[0]
        if message.startswith(b"  statement: ", end + 3):
            statement = message[end + 16:]
        else:
            statement = self.other_duration(pid, message[end + 3:])
            if statement is None:
                return
        if not statement:
            return
        self.summary.query(self.fingerprints.get(statement), duration_ms, statement)

    def other_duration(self, pid, rest):
        """The statement timed by a duration line that is not 'statement:' (None: not a query)."""
        if not rest.strip():
            # log_duration without the text: the statement came on its own line before
            statement = self.statements.pop(pid, None)
            if statement is not None:
                self.statement_bytes -= len(statement)
            return statement
        rest = rest.lstrip()
        if rest.startswith(b"parse ") or rest.startswith(b"bind "):
            return None  # pgBadger times only statement/execute as queries
        colon = rest.find(b": ")
        if not rest.startswith(b"execute ") or colon < 0:
            self.summary.bad_line(rest)
            return None
        return rest[colon + 2:]

    def log_event(self, pid, message):
        summary = self.summary
        head = message[:24]
        if head.startswith(b"statement: ") or head.startswith(b"execute "):
            # log_statement with log_duration: the text waits for its duration line; cut
            # as the fingerprint reads it, and all waiting texts bounded in bytes
            text = message[message.find(b":") + 1:].strip()[:MAX_STATEMENT + 1]
            waiting = self.statements.pop(pid, None)  # the process's earlier text: replaced
            if waiting is not None:
                self.statement_bytes -= len(waiting)
            if len(self.statements) > 10000 or self.statement_bytes >= MAX_CACHE_BYTES:
                # more sessions waiting than a log can plausibly hold: start afresh
                self.statements.clear()
                self.statement_bytes = 0
            self.statements[pid] = text
            self.statement_bytes += len(text)
        elif head.startswith(b"temporary file: "):
            m = _TEMP_SIZE.search(message)
            size = int(m.group(1)) if m else 0
            temp = summary.temp_files
            temp["count"] += 1
            temp["total_bytes"] += size
            temp["max_bytes"] = max(temp["max_bytes"], size)
        elif head.startswith(b"checkpoint complete"):
            ckpt = summary.checkpoints
            ckpt["count"] += 1
            m = _CKPT_BUFFERS.search(message)
            ckpt["buffers_written"] += int(m.group(1)) if m else 0
            m = _CKPT_TOTAL.search(message)
            if m:
                ckpt["max_total_s"] = max(ckpt["max_total_s"], float(m.group(1)))
        elif head.startswith(b"checkpoints are occurring"):
            summary.checkpoints["warnings"] += 1
        elif head.startswith(b"connection received"):
            summary.connections["received"] += 1
        elif head.startswith(b"connection authorized"):
            summary.connections["authorized"] += 1
        elif head.startswith(b"disconnection"):
            summary.connections["disconnections"] += 1
        elif head.startswith(b"process ") and b" still waiting for " in message:
            summary.lock_waits += 1

    def attach(self, pid, severity, message):
        """DETAIL/HINT/CONTEXT/STATEMENT belong to the error just before them (same process)."""
        entry = self.last_error
        if entry is None or pid != self.last_error_pid or entry["count"] != 1:
            return
        if len(entry["example"]) < MAX_EXAMPLE:
            text = message.decode("utf-8", "replace")
            entry["example"] = (entry["example"] + "\n" + severity + ": " + text)[:MAX_EXAMPLE]


# ---------------------------------------------------------------------------
# reading: blocks → lines with offsets


#: what a damaged gzip member raises while it is read
DAMAGED = (EOFError, zlib.error)


def open_log(path):
    """Binary file object; gzip-compressed rotated files are read transparently.

    Only regular files are read: the file is opened non-blocking (a FIFO can
    never hang the run) and checked with ``fstat`` (FIFOs, devices, sockets
    are refused). The last path component is not followed when it is a
    symlink (``O_NOFOLLOW``), unless it is one on purpose: a symlinked log is
    followed only when its target belongs to the owner of the link's
    directory — so a link planted by another user (e.g. to /etc/shadow) is
    refused, with the reason. Raises ``OSError`` with a sentence.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0)
    owner = None
    if os.path.islink(path):
        path, owner = _check_symlink(path)  # the target, opened without following links again
    if os.path.realpath(path).startswith(("/proc/", "/sys/")):
        # kernel pseudo-files look regular but block or never end (/proc/kmsg)
        raise OSError(errno.EINVAL, "is a kernel pseudo-file, not a log file; not read", path)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "is (or became) a symlink; not followed", path)
        if exc.errno == errno.ENXIO:
            raise OSError(errno.ENXIO, "is a socket, not a regular log file; not read", path)
        raise
    try:
        info = os.fstat(fd)
        mode = info.st_mode
        if not stat.S_ISREG(mode):
            kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                    else "a socket" if stat.S_ISSOCK(mode) else "a directory" if stat.S_ISDIR(mode)
                    else "not a regular file")
            raise OSError(errno.EINVAL, "is " + kind + ", not a regular log file; not read", path)
        if owner is not None and info.st_uid != owner:
            raise OSError(errno.EPERM, "changed while it was opened; not read", path)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    magic = handle.read(2)
    handle.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=handle, mode="rb")
    return handle


def _check_symlink(path):
    """(target, owner) for a symlinked log that may be followed; OSError with the reason if not.

    Followed only when the link itself and its target both belong to the owner
    of the link's directory (root may own the link: as the kernel's
    ``protected_symlinks`` trusts it) — a link planted by another user, or one
    pointing at somebody else's file (/etc/shadow), is refused.
    """
    target = os.path.realpath(path)
    try:
        link_uid = os.lstat(path).st_uid
        target_uid = os.stat(target).st_uid
        folder_uid = os.stat(os.path.dirname(os.path.abspath(path)) or ".").st_uid
    except OSError as exc:
        raise OSError(exc.errno, "is a symlink to " + target + ", which cannot be read (" +
                      (exc.strerror or "") + ")", path)
    if link_uid not in (folder_uid, 0):
        raise OSError(errno.EPERM, "is a symlink made by uid " + str(link_uid) + ", not by the owner of "
                      "its directory (uid " + str(folder_uid) + "); not followed", path)
    if target_uid != folder_uid:
        raise OSError(errno.EPERM, "is a symlink to " + target + " (owned by uid " + str(target_uid) +
                      "), not owned by the owner of the link's directory (uid " + str(folder_uid) +
                      "); not followed", path)
    return target, target_uid


def summarize_path(path, fmt, summary, offset, final, prefix, warnings, budget=None):
    """Open ``path`` and summarise it from ``offset``; a damaged gzip ends that file with a warning.

    Returns the safe offset (as :func:`summarize_handle`), or None when the
    file was damaged (what was read before the damage is counted, but for at most
    the last 64 KiB decompressed before it).
    """
    with open_log(path) as handle:
        try:
            return summarize_handle(handle, fmt, summary, offset, final, prefix, budget)
        except DAMAGED as exc:
            warnings.append(path + ": the compressed file is damaged (" + str(exc) +
                            "); read up to the damage, the rest skipped")
            return None


def _positive(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf")


class Budget(object):
    """How much one run of the summariser may read: ``max_bytes`` per file, and
    ``seconds`` for the whole run (every file), on the monotonic clock. What is
    left is read by the next runs, from a cursor at an entry boundary."""

    def __init__(self, max_bytes=None, seconds=None):
        # anything but a positive number means no bound of that kind
        self.max_bytes = int(max_bytes) if _positive(max_bytes) else None
        self.stop_at = time.monotonic() + float(seconds) if _positive(seconds) else None

    def spent(self, read_bytes):
        if self.max_bytes is not None and read_bytes >= self.max_bytes:
            return True
        return self.stop_at is not None and time.monotonic() >= self.stop_at


class Reader(object):
    """Iterates lines of one file and knows the offset where each starts.

    The last line is only a complete line if it ends with a newline; for a
    live file (``final=False``) an unterminated last line is left for next time.
    """

    def __init__(self, handle, offset, final, budget=None):
        self.handle = handle
        self.start = offset
        self.final = final
        self.end = offset
        self.bytes = 0
        self.budget = budget
        #: the budget ran out before the end of the file: the rest is for the next run
        self.cut = False
        #: the error of a damaged compressed file, which ended the reading there
        self.damaged = None
        # a gzip member's read loses what it decompressed before the damage: small reads
        # keep all but the last 64 KiB of a cut .gz
        self.chunk = 65536 if isinstance(handle, gzip.GzipFile) else BLOCK

    def lines(self):
        """Yield (line, start_offset)."""
        for body, pos in self.blocks():
            for line in body:
                yield line, pos
                pos += len(line) + 1

    def blocks(self):
        """Yield (complete lines, offset of the first): big blocks, few Python steps."""
        handle = self.handle
        if self.start:
            handle.seek(self.start)
        pos = self.start  # offset of data[0]
        tail = b""
        skipping = False  # inside an overlong line whose head was already yielded
        budget = self.budget
        while True:
            if budget is not None and not skipping and budget.spent(pos - self.start):
                if not handle.read(1):
                    break  # the end of the file, exactly where the budget ran out: no cut
                # stop at a line boundary (pos is where the unfinished line starts); the
                # parser leaves the entry in progress for the next run, as for a live file
                self.cut = True
                self.final = False
                tail = b""
                break
            size = self.chunk
            if budget is not None and budget.max_bytes is not None:
                size = min(size, max(8192, budget.max_bytes - (pos - self.start)))
            try:
                block = handle.read(size)
            except DAMAGED as exc:
                # nothing more will come out of it: what was read is complete as it stands
                self.damaged = exc
                self.final = True
                block = b""
            if not block:  # b"" at the end (None: nothing to read now, as good as the end)
                break
            data = tail + block if tail else block
            cut = data.rfind(b"\n")
            if cut < 0:
                if len(data) > MAX_LINE:
                    if not skipping:
                        yield [data[:MAX_LINE]], pos
                    skipping = True
                    pos += len(data)
                    tail = b""
                else:
                    tail = data
                continue
            # split all and pop the tail: no 4 MB copies of data[:cut]
            body = data.split(b"\n")
            tail = body.pop()
            first = pos
            if skipping:
                first += len(body[0]) + 1
                body = body[1:]
                skipping = False
            if body:
                yield body, first
            pos += cut + 1
        if tail and self.final and not skipping:
            yield [tail], pos
            pos += len(tail)
        elif skipping:
            pos += len(tail)
        self.end = pos
        self.bytes = pos - self.start


# ---------------------------------------------------------------------------
# parsers: each consumes a Reader, feeds a Summary, returns the safe offset
# (everything before it is fully counted; a pending entry starts there)

_PREFIX_ESCAPES = {
    "m": r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+(?: [A-Za-z]+| ?[+-]\d\d(?::?\d\d)?)?)",
    "t": r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: [A-Za-z]+| ?[+-]\d\d(?::?\d\d)?)?)",
    "n": r"(?P<epoch>\d+\.\d+)",
    "p": r"(?P<pid>\d+)",
    "c": r"(?:[0-9a-f]+\.[0-9a-f]+)",
    "l": r"(?:\d+)",
    "s": r"(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: [A-Za-z]+| ?[+-]\d\d(?::?\d\d)?)?)",
    "v": r"(?:[\d/]*)",
    "x": r"(?:\d*)",
    "e": r"(?:[0-9A-Z]{5})",
    "i": r"(?:.*?)",  # command tag: "SELECT", "idle in transaction"
    "u": r"(?:.*?)",  # user and database names may hold spaces (quoted identifiers)
    "d": r"(?:.*?)",
    "a": r"(?:.*?)",  # application_name: anything, spaces included
    "r": r"(?:[^\s]*)",
    "h": r"(?:[^\s]*)",
    "L": r"(?:[^\s]*)",  # local address (PostgreSQL 16+)
    "b": r"(?:[a-z][a-z ]*?)",  # backend type: "client backend", "autovacuum worker"
    "P": r"(?:\d*)",  # parallel group leader's pid
    "Q": r"(?:-?\d*)",
    "%": "%",
}
_SEVERITY_GROUP = "(?P<sev>" + "|".join(PG_SEVERITIES) + "):  "


def prefix_regex(prefix):
    """A log_line_prefix ('%m [%p] %q%u@%d ') → bytes regex with ts/pid/sev groups."""
    parts = []
    optional = False
    seen = set()
    i = 0
    # trailing blanks separate the prefix from the severity: matched by \s* below
    prefix = prefix.rstrip()
    while i < len(prefix):
        char = prefix[i]
        if char == "%" and i + 1 < len(prefix):
            code = prefix[i + 1]
            i += 2
            if code == "q":
                # %q: what follows is only written for session processes
                parts.append("(?:")
                optional = True
                continue
            pattern = _PREFIX_ESCAPES.get(code, r"(?:\S*)")
            if "?P<" in pattern:
                name = pattern[4:pattern.index(">")]
                if name in seen:
                    pattern = pattern.replace("?P<" + name + ">", "?:")
                seen.add(name)
            parts.append(pattern)
            continue
        parts.append(re.escape(char))
        i += 1
    if optional:
        parts.append(")?")
    body = "".join(parts)
    return re.compile(("^" + body + r"\s*" + _SEVERITY_GROUP).encode())


#: common prefixes tried (in order) when none is given; pgBadger's list plus distro defaults
KNOWN_PREFIXES = (
    "%m [%p] %q%u@%d ",
    "%m [%p] ",
    "%t [%p] %q%u@%d ",
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: [%l-1] user=%u,db=%d ",
    "%t [%p]: [%l-1] ",
    "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: ",
    "%m [%p]: ",
    "%t [%p-%l] %q%u@%d ",
    "%m [%p-%l] %q%u@%d ",
    "%m %u@%d [%p] ",
    "%t %u@%d [%p] ",
    "%m [%p] %q[user=%u,db=%d,app=%a] ",
    "%m ",
    "%t ",
    "%n [%p] ",
    "",
)
#: last resort: anything, then a severity, with a timestamp and a [pid] if present
_GENERIC = re.compile(
    rb"^(?P<pre>.{0,300}?)\b(?P<sev>" + "|".join(PG_SEVERITIES).encode() + rb"):  "
)
_GENERIC_TS = re.compile(
    rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [A-Za-z]+| ?[+-]\d\d(?::?\d\d)?)?"
)
_GENERIC_PID = re.compile(rb"\[(\d+)(?:-\d+)?\]")


def detect_prefix(sample_lines):
    """The first known prefix that parses most of the sample's prefixed lines."""
    candidates = [line for line in sample_lines if line[:1] not in (b"\t", b" ") and line.strip()]
    if not candidates:
        return None
    best = None
    best_hits = 0
    for prefix in KNOWN_PREFIXES:
        regex = prefix_regex(prefix)
        hits = sum(1 for line in candidates if regex.match(line))
        if hits > best_hits:
            best, best_hits = prefix, hits
        if hits == len(candidates):
            return prefix
    if best is not None and best_hits * 10 >= len(candidates) * 9:
        return best
    return None


_SEVERITY_NAMES = dict((name.encode("ascii"), name) for name in PG_SEVERITIES)


def parse_stderr(reader, summary, prefix=None):
    """PostgreSQL stderr log: prefixed lines, continuation lines start with a tab.

    The loop is the hot path of the whole tool, hence the local names and the
    inlined duration check.
    """
    regex = prefix_regex(prefix) if prefix is not None else _GENERIC
    groups = regex.groupindex
    ts_name = "ts" if "ts" in groups else ("epoch" if "epoch" in groups else None)
    has_pid = "pid" in groups
    names = (ts_name or "sev", "pid" if has_pid else "sev", "sev")
    generic = regex is _GENERIC
    match = regex.match
    generic_match = _GENERIC.match
    severities = _SEVERITY_NAMES
    events = PgEvents(summary)
    record = events.record
    duration = events.duration
    # Fast path: a "duration: ... ms  statement|execute|parse|bind" line needs neither its
    # time (only the first and last line's are kept) nor its pid, so the prefix regex is
    # skipped when the prefix starts with a timestamp and the line starts with a digit;
    # its counting is PgEvents.duration and FingerprintCache.get inlined (a call per line
    # costs ~10 % here). It is taken only when the next line of the block is known not to
    # continue the entry (no tab): a block's last line goes the general way.
    fast = prefix is not None and prefix[:2] in ("%m", "%t", "%n")
    digits = _DIGIT_BYTES
    fingerprint_of = events.fingerprints.get
    by_shape = events.fingerprints.by_shape
    by_text = events.fingerprints.by_text
    char_classes = _CLASSES
    digit_chars = _DIGITS
    durations = events.durations
    queries = summary.queries
    count_query = summary.query
    # per event day (collect): the fast path compares the line's first 10 bytes (its date,
    # for %m/%t prefixes); other entries route by their parsed timestamp
    splitting = summary.days is not None
    day_key = None
    if splitting:
        queries = events.summary.queries
        count_query = events.summary.query
    if splitting and prefix is not None and prefix[:2] == "%n":
        fast = False  # epoch stamps: the date is not the line's first bytes
    first = last_line = None
    ready = False  # the fast path is taken once the first timestamp is known
    # the entry being assembled (its continuation lines may follow); p_msg None: none
    p_stamp = p_pid = p_sev = p_msg = None
    p_offset = p_lines = 0
    lines = 0
    erred = True  # events.last_error may be set: an error that DETAIL lines belong to
    for block, pos in reader.blocks():
        lines += len(block)
        following = block[1:]
        following.append(b"\t")  # what follows the last line is not known yet
        for line, after in zip(block, following):
            offset = pos
            pos += len(line) + 1
            if p_msg is not None:
                if line[:1] == b"\t":
                    p_lines += 1
                    if p_lines < MAX_ENTRY_LINES and len(p_msg) < MAX_ENTRY_BYTES:
                        p_msg = p_msg + b"\n" + line[1:]
                    continue
                erred = True  # an entry the general way: an error maybe, DETAILs are its
                if p_sev == "LOG" and p_msg[:10] == b"duration: ":
                    if splitting:
                        events.route(p_stamp)
                        queries = events.summary.queries
                        count_query = events.summary.query
                        day_key = None
                    duration(p_pid, p_msg)
                else:
                    record(p_stamp, p_pid, p_sev, p_msg)
                p_msg = None
            if ready and line[:1] in digits and after[:1] != b"\t":
                # the line's own severity is its first "X:  ": text inside another entry's
                # message (an ERROR quoting a log line, a DETAIL parameter holding one) is not
                colon = line.find(b":  ")
                at = colon - 3 if line[colon - 3:colon + 13] == b"LOG:  duration: " else -1
                if at > 0:
                    ms_at = line.find(b" ms  ", at + 16)
                    kind = line[ms_at + 5:ms_at + 16]
                    if kind == b"statement: ":
                        begin = ms_at + 16
                    elif kind[:8] == b"execute ":
                        begin = line.find(b": ", ms_at + 13)
                        begin = begin + 2 if begin > 0 else 0
                    elif kind[:6] == b"parse " or kind[:5] == b"bind ":
                        begin = -1  # pgBadger times only statement/execute as queries
                    else:
                        begin = 0
                    if ms_at > 0 and begin:
                        last_line = line
                        if erred:
                            # a duration after an error: a DETAIL that follows is not the error's
                            events.last_error = None
                            erred = False
                        if splitting and line[:10] != day_key:
                            day_key = line[:10]
                            # '2026-11-30…' is its own day; an epoch stamp (a prefix changed
                            # to %n mid-file) is read whole
                            events.route(day_key if day_key[4:5] == b"-" else line[:line.find(b" ")])
                            queries = events.summary.queries
                            count_query = events.summary.query
                        # a log holds few distinct durations ('0.275'): their float and
                        # histogram bucket are looked up, not computed
                        text = line[at + 16:ms_at]
                        timing = durations.get(text)
                        if timing is None:
                            timing = _timing(text, durations)
                            if timing is None:
                                summary.bad_line(line)
                                continue
                        if begin < 0:
                            continue
                        # bounded: a giant statement is never copied whole (FingerprintCache.get cuts it)
                        statement = line[begin:begin + 1 + MAX_STATEMENT]
                        if not statement:
                            continue
                        # FingerprintCache.get inlined for its common cases
                        key = by_text.get(statement)
                        if key is None:
                            classes = statement.translate(char_classes)
                            if len(statement) > MAX_STATEMENT:
                                pass  # left to fingerprint_of: cut, folded, marked
                            elif (b"a0" not in classes and classes[:1] != b"0"
                                    and (b"-0" not in classes
                                         or classes.count(b"-0") == classes.count(b" -0"))
                                    and (b"$" not in classes or _quotes_only(statement))):
                                key = by_shape.get(statement.translate(None, digit_chars))
                            if key is None:
                                key = fingerprint_of(statement)
                        duration_ms = timing[0]
                        entry = queries.get(key)
                        if entry is None:
                            count_query(key, duration_ms, statement)
                        else:
                            entry[0] += 1
                            entry[1] += duration_ms
                            if duration_ms > entry[2]:
                                entry[2] = duration_ms
                            try:
                                entry[4][timing[1]] += 1
                            except KeyError:
                                entry[4][timing[1]] = 1
                        continue
                elif not erred and line[colon - 6:colon + 15] == b"DETAIL:  parameters: " and colon > 6:
                    # extended protocol: the bound parameters of the execute just counted;
                    # nothing to count (no error to attach them to), only a line read
                    last_line = line
                    continue
            m = match(line)
            if m is None and not generic and line.strip():
                # the prefix changed mid-file (ALTER SYSTEM + reload), or the config's is
                # wrong: read the line with the generic prefix rather than lose it
                m = generic_match(line)
                if m is not None:
                    summary.prefix_fallback += 1
                    p_stamp, p_pid = _generic_prefix(m.group("pre"))
                    p_sev = severities[m.group("sev")]
                    if p_stamp is not None and first is None:
                        first = p_stamp
                        ready = fast
                    p_msg = line[m.end():]
                    p_offset = offset
                    p_lines = 1
                    continue
            if m is None:
                if line.strip():
                    summary.bad_line(line)
                continue
            if generic:
                p_stamp, p_pid = _generic_prefix(m.group("pre"))
                p_sev = severities[m.group("sev")]
            else:
                values = m.group(*names)
                p_stamp = values[0] if ts_name else None
                p_pid = values[1] if has_pid else None
                p_sev = severities[values[2]]
            if p_stamp is not None:
                last_line = line
                if first is None:
                    first = p_stamp
                    ready = fast
            p_msg = line[m.end():]
            p_offset = offset
            p_lines = 1
    summary.lines += lines
    pending = None if p_msg is None else [p_stamp, p_pid, p_sev, p_msg, p_offset, p_lines]
    safe = _finish(reader, summary, pending, record)
    last = None
    if last_line is not None:
        m = match(last_line)
        if m is not None:
            last = _generic_prefix(m.group("pre"))[0] if generic else (m.group(ts_name) if ts_name else None)
        else:
            m = generic_match(last_line)
            last = _generic_prefix(m.group("pre"))[0] if m is not None else None
    summary.seen_range(first, last)
    return safe


_GENERIC_EPOCH = re.compile(rb"^\d{9,11}\.\d+")


def _generic_prefix(pre):
    ts_match = _GENERIC_TS.search(pre) or _GENERIC_EPOCH.match(pre)
    pid_match = _GENERIC_PID.search(pre)
    return (ts_match.group(0) if ts_match else None), (pid_match.group(1) if pid_match else None)


def _finish(reader, summary, pending, record):
    """Count the last entry when the file is complete; otherwise leave it for next time."""
    safe = reader.end
    if pending is not None:
        if reader.final:
            record(pending[0], pending[1], pending[2], pending[3])
        else:
            safe = pending[4]
            summary.lines -= pending[5]
    return safe


def _csv_row(raw):
    """One csvlog record's fields. A record longer than csv's field limit (128 KiB by
    default: a long statement) is read with the limit raised for it alone (the limit is
    the process's: lpsectl's own CSV imports keep theirs)."""
    text = raw.decode("utf-8", "replace")
    limit = csv.field_size_limit()
    if len(text) <= limit:
        return next(csv.reader([text]))
    csv.field_size_limit(MAX_CSV_RECORD)
    try:
        return next(csv.reader([text]))
    finally:
        csv.field_size_limit(limit)


def parse_csvlog(reader, summary):
    """PostgreSQL csvlog: one CSV record per event; quoted fields may span lines."""
    events = PgEvents(summary)
    parts = []
    quotes = 0
    size = 0
    start = None
    lines = 0
    for line, offset in reader.lines():
        lines += 1
        if not parts:
            if not _CSV_START.match(line):
                # a record starts with its timestamp; anything else is junk, and must not
                # open a quoted field that would swallow the records after it
                if line.strip():
                    summary.bad_line(line)
                continue
            start = offset
        parts.append(line)
        size += len(line)
        quotes += line.count(b'"')
        if quotes % 2:
            # a quoted field open for this long is no record (a 15 MB bulk INSERT fits)
            if len(parts) > MAX_ENTRY_LINES * 10 or size > MAX_CSV_RECORD:
                summary.bad_line(parts[0])
                parts, quotes, size = [], 0, 0
            continue
        _csv_record(events, summary, b"\n".join(parts))
        parts, quotes, size = [], 0, 0
    summary.lines += lines
    if parts:
        if reader.final:
            _csv_record(events, summary, b"\n".join(parts))
        else:
            summary.lines -= len(parts)
            return start
    return reader.end


def _csv_record(events, summary, raw):
    try:
        row = _csv_row(raw)
    except (csv.Error, StopIteration):
        summary.bad_line(raw)
        return
    if len(row) < 14 or row[11] not in PG_SEVERITIES:
        summary.bad_line(raw)
        return
    _structured_record(events, row[0], row[3], row[11], row[13], row[14], row[19] if len(row) > 19 else "")


def _structured_record(events, stamp, pid, severity, message, detail, statement):
    events.route(stamp or None)
    events.summary.seen(stamp or None)
    events.record(stamp or None, pid, severity, message.encode("utf-8", "surrogateescape"))
    if severity in ERROR_SEVERITIES:
        if detail:
            events.attach(pid, "DETAIL", detail.encode("utf-8", "surrogateescape"))
        if statement:
            events.attach(pid, "STATEMENT", statement.encode("utf-8", "surrogateescape"))


def parse_jsonlog(reader, summary):
    """PostgreSQL 15+ jsonlog: one JSON object per line."""
    events = PgEvents(summary)
    lines = 0
    for line, _offset in reader.lines():
        lines += 1
        if not line.strip():
            continue
        try:
            item = json.loads(line.decode("utf-8", "replace"))
        except ValueError:
            summary.bad_line(line)
            continue
        if not isinstance(item, dict) or item.get("error_severity") not in PG_SEVERITIES:
            summary.bad_line(line)
            continue
        message = item.get("message")
        if not isinstance(message, str):
            summary.bad_line(line)
            continue
        _structured_record(
            events,
            _text(item.get("timestamp")),
            _text(item.get("pid")),
            item["error_severity"],
            message,
            _text(item.get("detail")),
            _text(item.get("statement")),
        )
    summary.lines += lines
    return reader.end


def _text(value):
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


_SPSE_HEAD = re.compile(rb"^(\d{6} \d\d:\d\d:\d\d) (TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s* ~ ?")
_SPSE_CODE = re.compile(r"^@([0-9a-z]{9})\s*$")
_SPSE_REQUEST = re.compile(r"for request (\S+ \S+)")
_JAVA_EXCEPTION = re.compile(
    r"^(?:Caused by: )?((?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)[\w$]*)(?::\s?(.*))?$"
)


def parse_spse(reader, summary):
    """SPSE (log4j2 '%d{ddMMyy HH:mm:ss} %-5p ~ %m%n'): stack traces belong to the entry above."""
    pending = None  # [stamp, level, [lines], start_offset, line_count, bytes kept]
    lines = 0
    for line, offset in reader.lines():
        lines += 1
        m = _SPSE_HEAD.match(line) if line[:1].isdigit() else None
        if m is None:
            if pending is not None:
                pending[4] += 1
                if len(pending[2]) < MAX_ENTRY_LINES and pending[5] < MAX_ENTRY_BYTES:
                    pending[2].append(line)
                    pending[5] += len(line)
            elif line.strip():
                summary.bad_line(line)
            continue
        if pending is not None:
            _spse_entry(summary.for_day(day_of(pending[0])), pending)
        pending = [m.group(1).decode("ascii"), m.group(2).decode("ascii"), [line[m.end():]], offset, 1, len(line)]
    summary.lines += lines
    if pending is not None:
        if reader.final:
            _spse_entry(summary.for_day(day_of(pending[0])), pending)
        else:
            summary.lines -= pending[4]
            return pending[3]
    return reader.end


def _spse_entry(summary, entry):
    stamp, level, raw_lines = entry[0], entry[1], entry[2]
    summary.levels[level] = summary.levels.get(level, 0) + 1
    summary.seen(stamp)
    severity = SPSE_ERROR_LEVELS.get(level)
    if severity is None:
        return
    text_lines = [line.decode("utf-8", "replace").rstrip("\r") for line in raw_lines]
    code = None
    request = None
    root = None
    for text in text_lines:
        if code is None:
            m = _SPSE_CODE.match(text)
            if m:
                code = m.group(1)
                continue
        if request is None and "for request " in text:
            m = _SPSE_REQUEST.search(text)
            request = m.group(1) if m else None
        if text[:1] not in ("\t", " ") and ("Exception" in text or "Error" in text):
            m = _JAVA_EXCEPTION.match(text.strip())
            if m:
                root = (m.group(1), m.group(2) or "")
    headline = text_lines[0].strip() if text_lines else ""
    if root is not None:
        summary.exceptions[root[0]] = summary.exceptions.get(root[0], 0) + 1
        message = root[0] + ": " + root[1] if root[1] else root[0]
    else:
        message = headline or next((t.strip() for t in text_lines if t.strip()), "")
    example = "\n".join(t for t in text_lines if t.strip())[:MAX_EXAMPLE]
    item = summary.error(severity, message, stamp, example=example)
    if code is not None:
        if len(summary.error_codes) >= MAX_CODES:
            summary.error_codes.pop(next(iter(summary.error_codes)))
        summary.error_codes[code] = {
            "time": stamp,
            "request": request,
            "signature": item["signature"] if item else error_signature(message),
        }


# ---------------------------------------------------------------------------
# detection

_CSV_START = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [A-Za-z]+| ?[+-]\d\d(?::?\d\d)?)?,")


def sample_lines(path, limit=200):
    try:
        handle = open_log(path)
    except (IOError, OSError):
        return []
    with handle:
        try:
            data = handle.read(256 * 1024) or b""
        except (IOError, OSError) + DAMAGED:
            return []
    return data.split(b"\n")[:limit]


#: the start of a common/combined access log line: address, ident, user, [time]
_ACCESS_HEAD = re.compile(rb"^\S+ \S+ \S+ \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] \"")


def detect_access_layout(lines):
    """'combined' or 'common': the preset that reads more of an access log's first lines."""
    best, best_hits = "combined", -1
    for name in ("combined", "common"):
        match = access_format(name)[0].match
        hits = sum(1 for line in lines if match(line))
        if hits > best_hits:
            best, best_hits = name, hits
    return best


def detect_format(lines):
    """'jsonlog' | 'csvlog' | 'spse' | 'access' | 'stderr' from the first lines of a file."""
    votes = {"jsonlog": 0, "csvlog": 0, "spse": 0, "stderr": 0, "access": 0}
    for line in lines:
        if not line.strip():
            continue
        if line[:1] == b"{" and b'"error_severity"' in line:
            votes["jsonlog"] += 1
        elif _CSV_START.match(line):
            votes["csvlog"] += 1
        elif _SPSE_HEAD.match(line):
            votes["spse"] += 1
        elif _ACCESS_HEAD.match(line):
            votes["access"] += 1
        elif _GENERIC.match(line):
            votes["stderr"] += 1
    best = max(FORMATS, key=lambda name: votes[name])
    return best if votes[best] else "stderr"


# ---------------------------------------------------------------------------
# one file, from an offset


def summarize_handle(handle, fmt, summary, offset=0, final=True, prefix=None, budget=None):
    """Parse ``handle`` from ``offset``; returns the offset the next run starts at.

    With a :class:`Budget` the reading may stop before the end (``summary.cut``).
    """
    reader = Reader(handle, offset, final, budget)
    safe = _parse(reader, fmt, summary, prefix)
    size = reader.end - offset
    while reader.cut and safe == offset and reader.end > offset:
        # one entry longer than the whole budget (thousands of continuation lines): the
        # next runs would stop inside it for ever, so it is read to its end now — with a
        # byte budget doubled until one entry is complete, never the rest of the file
        # (nothing was counted: the parser only left it pending)
        size *= 2
        handle.seek(offset)
        reader = Reader(handle, offset, final, Budget(max(size, 65536)))
        safe = _parse(reader, fmt, summary, prefix)
    summary.bytes += safe - offset
    summary.cut = summary.cut or reader.cut
    summary.close_file()
    if reader.damaged is not None:
        raise reader.damaged  # counted up to the damage; summarize_path says so
    return safe


def _parse(reader, fmt, summary, prefix):
    if fmt == "stderr":
        return parse_stderr(reader, summary, prefix)
    if fmt == "csvlog":
        return parse_csvlog(reader, summary)
    if fmt == "jsonlog":
        return parse_jsonlog(reader, summary)
    if fmt == "spse":
        return parse_spse(reader, summary)
    if fmt == "access":
        return parse_access(reader, summary, prefix)
    raise ValueError("unknown log format: " + str(fmt))


def resolve_format(path, fmt=None, prefix=None, warnings=None):
    """(format, prefix) for ``path``: given values win, else detection from its first lines.

    A given prefix that matches less than half of the file's first lines
    while a detected one matches nine in ten is replaced by the detected one,
    with a warning naming both (appended to ``warnings``): a wrong prefix in
    the config must not turn a log into "no errors".
    """
    lines = None
    if fmt in ACCESS_NAMES:
        # nginx / apache: an access log, in the layout given, else combined or common (read
        # from its first lines: Apache's default is common)
        return "access", prefix or detect_access_layout(sample_lines(path))
    if not fmt:
        lines = sample_lines(path)
        fmt = detect_format(lines)
    if fmt == "access":
        return fmt, prefix or detect_access_layout(lines if lines is not None else sample_lines(path))
    if fmt == "stderr":
        if lines is None:
            lines = sample_lines(path)
        if prefix is None:
            prefix = detect_prefix(lines)
        else:
            prefix = _checked_prefix(path, prefix, lines, warnings)
    return fmt, prefix


def _checked_prefix(path, prefix, lines, warnings):
    candidates = [line for line in lines if line[:1] not in (b"\t", b" ") and line.strip()]
    if not candidates:
        return prefix
    regex = prefix_regex(prefix)
    if sum(1 for line in candidates if regex.match(line)) * 2 >= len(candidates):
        return prefix
    detected = detect_prefix(lines)
    if detected is None:
        return prefix
    if warnings is not None:
        warnings.append(path + ": the configured log_line_prefix " + repr(prefix) + " does not match "
                        "the file; the detected " + repr(detected) + " is used (fix hosts.log_line_prefix)")
    return detected


def _quality_warnings(path, summary, prefix):
    """What a reader of the report must know about lines that could not be read well."""
    out = []
    if summary.prefix_fallback:
        out.append(path + ": " + str(summary.prefix_fallback) + " line(s) did not match the log_line_prefix " +
                   repr(prefix) + " (changed on the server?) and were read with a generic prefix")
    undated = (summary.days or {}).get("")
    if undated is not None and (undated.queries or undated.errors):
        count = sum(e[0] for e in undated.queries.values()) + sum(e["count"] for e in undated.errors.values())
        out.append(path + ": " + str(count) + " entries carry no time (log_line_prefix without %m/%t/%n); "
                   "they are counted on the day they were collected")
    if summary.format == "access" and summary.unparsed and summary.unparsed * 2 > summary.lines:
        # a layout that does not fit: said however few lines were read
        out.append(path + ": " + str(summary.unparsed) + " of " + str(summary.lines) + " lines do not match "
                   "the access log layout " + repr(prefix) + "; its figures are incomplete (check "
                   "hosts.access_log_format / --access-format)")
    elif summary.lines >= 10 and summary.unparsed * 2 > summary.lines:
        out.append(path + ": " + str(summary.unparsed) + " of " + str(summary.lines) + " lines could not be "
                   "parsed as " + str(summary.format) + "; its figures are incomplete")
    return out


def new_summary(fmt, top=DEFAULT_TOP, access=None):
    """The summary a format is counted in: :class:`Summary`, or for access logs an
    ``AccessSummary`` with ``access`` = {"visitor_key": hex, "top_clients": n,
    "activities": {name: rule}, "utc_offset_minutes": n} (each optional).
    ValueError (or re.error) when the access options cannot be used."""
    if fmt != "access":
        return Summary(fmt, top)
    access = access or {}
    key = access.get("visitor_key")
    return AccessSummary(
        fmt, top, key=bytes.fromhex(key) if key else None,
        top_clients=access.get("top_clients", 10), activities=access.get("activities"),
        utc_offset_minutes=access.get("utc_offset_minutes") or 0,
    )


def summarize_files(paths, fmt=None, prefix=None, top=DEFAULT_TOP, access=None):
    """Whole files (plain or gzip), one summary per format found: {format: Summary}."""
    summaries = {}
    for path in paths:
        notes = []
        file_fmt, file_prefix = resolve_format(path, fmt, prefix, notes)
        summary = summaries.get(file_fmt)
        if summary is None:
            summary = summaries[file_fmt] = new_summary(file_fmt, top, access)
        summary.warnings.extend(notes)
        before = (summary.lines, summary.unparsed, summary.prefix_fallback)
        summarize_path(path, file_fmt, summary, 0, True, file_prefix, summary.warnings)
        part = Summary(file_fmt)
        part.lines, part.unparsed, part.prefix_fallback = (
            summary.lines - before[0], summary.unparsed - before[1], summary.prefix_fallback - before[2])
        summary.warnings.extend(_quality_warnings(path, part, file_prefix))
    return summaries


def fit_answer(answer, limit):
    """Cut the listed queries and errors of an answer's summaries, the least important
    first and every list by the same share, until the answer's JSON (as main writes it)
    fits ``limit`` bytes: what is cut is counted in each summary's ``other`` and
    ``truncated``, so every total stays whole. Access summaries are left as they are
    (their routes are bounded). Returns the answer's size in bytes."""
    size = len(json.dumps(answer, ensure_ascii=False).encode("utf-8"))
    for _ in range(12):
        if size <= limit:
            break
        keep_share = limit * 0.9 / size
        for item in answer.get("files", {}).values():
            parts = [item.get("summary")] + list((item.get("days") or {}).values())
            for part in parts:
                if part and part.get("format") != "access":
                    _cut(part, keep_share)
        size = len(json.dumps(answer, ensure_ascii=False).encode("utf-8"))
    return size


def _cut(part, keep_share):
    """Keep the first ``keep_share`` of a summary's listed queries and errors."""
    other = part.setdefault("other", {"queries": 0, "query_ms": 0.0, "errors": 0})
    truncated = part.setdefault("truncated", {"queries": 0, "errors": 0})
    queries = part.get("queries") or []
    keep = int(len(queries) * keep_share)
    for query in queries[keep:]:
        other["queries"] = other.get("queries", 0) + query["count"]
        other["query_ms"] = round(other.get("query_ms", 0.0) + query["total_ms"], 3)
        truncated["queries"] = truncated.get("queries", 0) + 1
    del queries[keep:]
    errors = part.get("errors") or []
    keep = int(len(errors) * keep_share)
    for error in errors[keep:]:
        other["errors"] = other.get("errors", 0) + error["count"]
        truncated["errors"] = truncated.get("errors", 0) + 1
    del errors[keep:]


def not_listed(parts):
    """The warnings for what ``parts`` (the summaries of one read: a file, or its days)
    counted in their totals but could not list."""
    out = []
    queries = sum(part.queries_dropped for part in parts)
    if queries:
        listed = len(set(fp for part in parts for fp in part.queries))
        out.append("queries counted in the totals but not listed: " + str(queries)
                   + " (more distinct statements than one read keeps; " + str(listed)
                   + " fingerprints listed)")
    errors = sum(sum(part.errors_dropped.values()) for part in parts)
    if errors:
        listed = len(set(key for part in parts for key in part.errors))
        out.append("error events counted in the totals but not listed: " + str(errors)
                   + " (more distinct errors than one read keeps; " + str(listed)
                   + " signatures listed)")
    return out


def result_of(summary):
    return summary.result(spse_timestamp if summary.format == "spse" else pg_timestamp)


# ---------------------------------------------------------------------------
# incremental cursors: survive rotation, truncation and deletion


def head_hash(path, length):
    """sha1 of the first ``length`` bytes (decompressed for .gz) — a file's identity."""
    try:
        with open_log(path) as handle:
            data = handle.read(length)
    except (IOError, OSError) + DAMAGED:
        return None
    if len(data) < length:
        return None
    return hashlib.sha1(data).hexdigest()


def make_cursor(path, offset):
    st = os.stat(path)
    length = min(HEAD_BYTES, offset if offset else HEAD_BYTES, st.st_size)
    return {
        "dev": st.st_dev,
        "ino": st.st_ino,
        "offset": offset,
        "head_len": length,
        "head": head_hash(path, length) if length else None,
        # the size then: what was left unread, should the file be written afresh before
        # the next run (a read budget, a member of a weekday set)
        "size": st.st_size,
    }


def rotated_candidates(path):
    """Files logrotate / PostgreSQL may have moved ``path`` to, newest first."""
    folder = os.path.dirname(path) or "."
    base = os.path.basename(path)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    found = []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    for name in names:
        if name == base:
            continue
        if name.startswith(base + ".") or name.startswith(base + "-") or name.startswith(stem + "-"):
            full = os.path.join(folder, name)
            try:
                found.append((os.stat(full).st_mtime, full))
            except OSError:
                continue
    found.sort(reverse=True)
    return [full for _mtime, full in found]


def is_same_file(candidate, cursor):
    """Same inode (a rename) or same first bytes (a copy, or a compressed copy)."""
    try:
        st = os.stat(candidate)
    except OSError:
        return False
    if st.st_dev == cursor.get("dev") and st.st_ino == cursor.get("ino") and not candidate.endswith(".gz"):
        return head_hash(candidate, cursor.get("head_len") or 0) == cursor.get("head") or not cursor.get("head")
    if not cursor.get("head"):
        return False
    return head_hash(candidate, cursor["head_len"]) == cursor["head"]


def expand_set(pattern, limit):
    """The files of a log set, oldest first: at most ``limit``, the newest ones (the
    others wait: work per run is bounded)."""
    import glob

    found = []
    for name in glob.glob(pattern):
        try:
            info = os.lstat(name)
        except OSError:
            continue
        # a FIFO, a socket or a device named like a member is listed too: open_log refuses it
        # with its reason (an unread member is said, never dropped silently); only
        # directories are no members
        if not stat.S_ISDIR(info.st_mode):
            found.append((info.st_mtime, name))
    found.sort()
    return [name for _mtime, name in found[-limit:]]


def summarize_incremental(path, cursor, fmt, summary, prefix=None, quiet_seconds=QUIET_SECONDS,
                          reused=False, budget=None):
    """Read what is new in ``path`` since ``cursor``; returns (new_cursor, warnings).

    Rotation (the inode changed): the rotated file is finished from the saved
    offset, files rotated after it are read whole, then the new file from 0.
    Truncation (same file, now shorter or different first bytes): from 0.
    The last entry of a live file waits for its continuation lines, unless the
    file has not changed for ``quiet_seconds`` (then it is complete).
    With a :class:`Budget`, the file itself (not the remainder of a rotated one,
    which is always finished) is read as far as the budget goes; the warning
    says how much is left.
    """
    warnings = []
    if not os.path.exists(path):
        if cursor:
            old = _find_rotated(path, cursor)
            if old is not None:
                stopped = _read_rotated(old, cursor, fmt, summary, prefix, path, warnings, budget)
                if stopped is not None:
                    return stopped, warnings
            warnings.append(path + ": file no longer exists (deleted or rotated away)")
            return None, warnings
        raise IOError(2, "No such file or directory", path)
    st = os.stat(path)
    offset = 0
    if cursor and cursor.get("damaged") and is_same_file(path, cursor):
        return cursor, warnings  # read up to its damage once, and said so then
    if cursor:
        same_inode = st.st_dev == cursor.get("dev") and st.st_ino == cursor.get("ino")
        head_ok = not cursor.get("head") or head_hash(path, cursor["head_len"]) == cursor["head"]
        # a .gz's size is compressed, its offset decompressed: not comparable (and a
        # compressed file is never appended to)
        grown = path.endswith(".gz") or st.st_size >= cursor.get("offset", 0)
        if same_inode and head_ok and grown:
            offset = cursor.get("offset", 0)
        elif reused and head_ok and cursor.get("head") and not same_inode:
            # a log set's member that is a copy of the file the cursor was on (logrotate's
            # compress): the same first bytes, so it continues where that file was left
            offset = cursor.get("offset", 0)
        else:
            # rotated (renamed, maybe compressed; the inode number may even be reused)
            # or copied then truncated: the old content is finished from the saved offset
            old = None if reused else _find_rotated(path, cursor)
            if old is not None:
                stopped = _read_rotated(old, cursor, fmt, summary, prefix, path, warnings, budget)
                if stopped is not None:
                    # the budget ran out in the rotated file: the next run goes on there
                    # (found again by its inode or first bytes), then reads this one
                    return stopped, warnings
            elif reused:
                # a member of a log set written afresh (log_truncate_on_rotation): from 0;
                # what the last run left unread of its old content is gone, and said so
                unread = (cursor.get("size") or 0) - (cursor.get("offset") or 0)
                if unread > 0 and not path.endswith(".gz"):
                    warnings.append(
                        path + ": was written afresh before the last " + _mib(unread) +
                        " of its old content could be read (read budget); those lines are missing"
                    )
            elif same_inode:
                warnings.append(
                    path + ": file was truncated and no copy of it was found; reading it again "
                    "from the start (lines written just before the truncation are missing)"
                )
            else:
                warnings.append(
                    path + ": file was rotated and the previous file was not found; "
                    "lines written to it after the last run are missing"
                )
    quiet = time.time() - st.st_mtime >= quiet_seconds
    safe = summarize_path(path, fmt, summary, offset, quiet, prefix, warnings, budget)
    if safe is None:  # a damaged .gz: nothing more will ever come out of it
        cursor = make_cursor(path, offset)
        cursor["damaged"] = True
        return cursor, warnings
    if summary.cut:
        left = "" if path.endswith(".gz") else " (" + _mib(st.st_size - safe) + " left)"
        warnings.append(path + ": read " + _mib(safe - offset) + " this run, up to the read budget "
                        "(hosts.log_read_mib, hosts.log_read_seconds); the next runs go on from there" + left)
    return make_cursor(path, safe), warnings


def _mib(size):
    return "%.1f MiB" % (size / 1048576.0)


def _find_rotated(path, cursor):
    for candidate in rotated_candidates(path):
        if is_same_file(candidate, cursor):
            return candidate
    return None


def _rotation_index(path, candidate):
    """logrotate's number of a rotated file (access.log.2.gz → 2), None for other names."""
    match = re.match(r"^\.(\d{1,6})(?:\.gz)?$", candidate[len(path):]) if candidate.startswith(path) else None
    return int(match.group(1)) if match else None


def _read_rotated(old, cursor, fmt, summary, prefix, path, warnings, budget=None):
    """Finish ``old`` from the saved offset, then anything rotated after it, oldest first.

    Returns None when ``old`` was finished, or the cursor (on ``old``) where the
    budget stopped it: the rest of it, and the files after it, are for the next runs.
    """
    newer = []
    old_mtime = os.stat(old).st_mtime
    old_index = _rotation_index(path, old)
    for candidate in rotated_candidates(path):
        if candidate == old or os.stat(candidate).st_mtime <= old_mtime or is_same_file(candidate, cursor):
            continue
        index = _rotation_index(path, candidate)
        if old_index is not None and index is not None and index >= old_index:
            # logrotate's numbers say which is older: a .2.gz compressed again (a fresh
            # mtime) is older than .1, already read, not a file rotated after it
            continue
        newer.append(candidate)
    before = summary.cut
    summary.cut = False
    offset = cursor.get("offset", 0)
    safe = summarize_path(old, fmt, summary, offset, True, prefix, warnings, budget)
    if summary.cut and safe is not None:
        warnings.append(path + ": read " + _mib(safe - offset) + " of the rotated " + old +
                        " this run, up to the read budget (hosts.log_read_mib, hosts.log_read_seconds);"
                        " the next runs go on from there")
        return make_cursor(old, safe)
    summary.cut = before
    for candidate in reversed(newer):
        summarize_path(candidate, fmt, summary, 0, True, prefix, warnings)
        warnings.append(path + ": also read " + candidate + " (rotated more than once since the last run)")
    return None


# ---------------------------------------------------------------------------
# the server side entry point


def run_request(request):
    """{"files": [{"path", "format"?, "prefix"?}], "cursors": {path: cursor}, "top": n,
    "quiet_seconds": s, "max_set_files": n, "read_bytes": n?, "read_seconds": s?,
    "answer_bytes": n? (the answer's lists are cut to fit: fit_answer)}
    → {"version", "files": {path: {"summary", "cursor", "warnings", "error", "member_of"?}},
       "sets": {pattern: [member, ...]}}.

    A path with ``*``, ``?`` or ``[`` is a log set: every matching file is read
    with its own cursor; a member whose first bytes changed was written afresh
    (PostgreSQL's ``log_truncate_on_rotation``) and is read from its start.
    """
    cursors = request.get("cursors") or {}
    top = int(request.get("top") or DEFAULT_TOP)
    budget = None
    if request.get("read_bytes") or request.get("read_seconds"):
        budget = Budget(request.get("read_bytes") or None, request.get("read_seconds") or None)
    out = {"version": VERSION, "files": {}, "sets": {}}
    specs = []
    for spec in request.get("files") or []:
        if any(c in spec["path"] for c in "*?["):
            members = expand_set(spec["path"], int(request.get("max_set_files") or MAX_SET_FILES))
            out["sets"][spec["path"]] = members
            specs += [dict(spec, path=member, member_of=spec["path"]) for member in members]
            if not members:  # said, never an empty "no errors"
                out["files"][spec["path"]] = {"summary": None, "cursor": None, "warnings": [],
                                              "error": spec["path"] + ": no file matches"}
        else:
            specs.append(spec)
    # log sets: a member keeps its own cursor while it is still that file; the others
    # (renamed or compressed by logrotate) continue from the cursor of the file they were
    members = [spec for spec in specs if spec.get("member_of")]
    adopted = {}
    for spec in members:
        own = cursors.get(spec["path"])
        if own and is_same_file(spec["path"], own):
            adopted[spec["path"]] = own
    for spec in members:
        if spec["path"] not in adopted:
            found = _adopt(spec["path"], spec["member_of"], cursors, adopted)
            if found is not None:
                adopted[spec["path"]] = found
    cursors = dict(cursors, **adopted)
    for spec in specs:
        path = spec["path"]
        item = {"summary": None, "cursor": cursors.get(path), "warnings": [], "error": None}
        if spec.get("member_of"):
            item["member_of"] = spec["member_of"]
        try:
            notes = []
            fmt, prefix = resolve_format(path, spec.get("format") or None, spec.get("prefix"), notes)
            try:
                summary = new_summary(fmt, top, request.get("access"))
            except (ValueError, re.error) as exc:
                # an activity pattern this server's Python cannot compile: this file's
                # error, said; the other files are read
                item["error"] = path + ": the access log options cannot be used here (" + str(exc) + ")"
                out["files"][path] = item
                continue
            if request.get("by_day"):
                summary.split_by_day(int(request.get("day_top") or DAY_TOP))
            cursor, warnings = summarize_incremental(
                path, cursors.get(path), fmt, summary, prefix,
                float(request.get("quiet_seconds", QUIET_SECONDS)), reused=bool(spec.get("member_of")),
                budget=budget,
            )
            if fmt == "access":
                item["days"] = summary.day_results()
                item["summary"] = summary.result(days=item["days"])
            else:
                item["summary"] = result_of(summary)
            if summary.days is not None:
                item["days"] = dict((day, result_of(part)) for day, part in summary.days.items())
                summary.unparsed += sum(part.unparsed for part in summary.days.values())
            item["cursor"] = cursor
            item["warnings"] = notes + warnings + _quality_warnings(path, summary, prefix)
            if fmt != "access" and summary.days is not None:
                item["warnings"] += not_listed(list(summary.days.values()))
        except (IOError, OSError) as exc:
            item["error"] = path + ": " + (exc.strerror or str(exc))
        except DAMAGED as exc:
            item["error"] = path + ": the compressed file is damaged (" + str(exc) + ")"
        out["files"][path] = item
    if request.get("answer_bytes"):
        # the caller reads at most so much back (ssh.max_output_bytes): lists are cut to
        # fit, never the counts, so that a big read never fails at the same cursor again
        fit_answer(out, int(request["answer_bytes"]))
    return out


def _adopt(path, pattern, cursors, taken):
    """The cursor a new member of a log set continues from: the one of the file it was
    renamed or compressed from (same inode, or same first bytes) — logrotate's
    application.log → application.log.1(.gz) — so a rotated file is not read twice."""
    import fnmatch

    used = [id(c) for c in taken.values()]
    for other, cursor in cursors.items():
        if not cursor or id(cursor) in used or not fnmatch.fnmatchcase(other, pattern):
            continue
        if is_same_file(path, cursor):
            return cursor
    return None


def watchdog(seconds):
    """End this process at ``seconds`` from now, whatever it is doing: the caller's
    deadline has passed by then and nobody reads the answer any more (no orphans
    on a server whose sshd cannot signal us)."""
    if seconds and hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, lambda signum, frame: os._exit(124))
        signal.alarm(max(1, int(seconds) + 1))


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: python3 - REQUEST_JSON  (the summariser on stdin)\n")
        return 2
    request = json.loads(argv[1])
    watchdog(request.get("deadline"))
    result = run_request(request)
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8") if hasattr(sys.stdout, "buffer") else sys.stdout
    json.dump(result, out, ensure_ascii=False)
    out.write("\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
