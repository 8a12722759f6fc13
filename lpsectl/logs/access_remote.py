"""Web server access logs (nginx, Apache): the usage of SPSE, per event day.

Part of the script shipped to the servers: :func:`lpsectl.logs.summary.remote_script`
sends this file's text first, then ``summarize_remote.py``'s, as one program on
``python3``'s standard input. It must therefore stay stdlib-only and run on
Python 3.6 (the test suite checks it with ``vermin --target=3.6-``), and it
imports nothing from lpsectl: ``summarize_remote`` uses it, never the reverse.
It also holds the duration histogram both parsers share.

Design notes:
- one regex per line, compiled from the server's ``log_format`` (nginx
  ``$variables``) or ``LogFormat`` (Apache ``%`` directives); the timestamp, the
  route of a path and the activities of a route are looked up in bounded caches,
  because busy logs repeat them;
- IP addresses are personal data: a day's addresses live in memory only while the
  day is being read; what leaves the server is their count, a sketch of keyed
  32-bit hashes (exact up to ``VISITOR_EXACT`` addresses, a HyperLogLog of 4,096
  registers beyond) and at most ``top_clients`` addresses with their counts;
- memory is bounded: routes, clients and caches are capped, the rest is counted
  as "other".
"""

import base64
import hashlib
import math
import os
import re
import struct
from datetime import date as _date

# ---------------------------------------------------------------------------
# the duration histogram (shared with the PostgreSQL parser)


def duration_bucket(ms):
    """A log-scale histogram bucket of a duration: 8 per power of two of microseconds (each
    at most 12.5 % wide), integer arithmetic only (the hot path inlines it), so histograms
    add up across runs and days and give percentiles (p95)."""
    micro = int(ms * 1000.0) + 1
    width = micro.bit_length()
    return (width << 3) | ((micro >> (width - 4)) & 7) if width > 3 else width << 3


def bucket_upper(bucket):
    """The upper bound (ms) of a :func:`duration_bucket`."""
    if bucket < 0:
        return 0.0  # not a bucket of this scheme
    width, sub = bucket >> 3, bucket & 7
    if width <= 3:
        return ((1 << width) - 1) / 1000.0
    return (((9 + sub) << (width - 4)) - 1) / 1000.0


def percentile(histogram, fraction):
    """The ``fraction`` percentile (0..1) of a ``{bucket: count}`` histogram, as the upper bound of
    its bucket (an estimate stated as such: within one bucket, at most 12.5 %); None when
    empty. Buckets may be ints or their JSON text ('144')."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = fraction * total
    seen = 0
    for bucket, count in sorted((int(b), n) for b, n in histogram.items()):
        seen += count
        if seen >= rank:
            return round(bucket_upper(bucket), 3)
    return None


# ---------------------------------------------------------------------------
# visitors: exact keyed hashes up to a bound, then HyperLogLog (Flajolet et al. 2007,
# with the small-range correction of linear counting; HLL++'s sparse mode in spirit)

#: distinct addresses a day's sketch keeps exactly (as keyed 32-bit hashes)
VISITOR_EXACT = 20000
HLL_BITS = 12
HLL_M = 1 << HLL_BITS
_HLL_ALPHA = 0.7213 / (1 + 1.079 / HLL_M)


def visitor_hash(address, key):
    """The keyed 32-bit hash of a client address (bytes): not reversible without ``key``."""
    return struct.unpack(">I", hashlib.blake2b(address, digest_size=4, key=key).digest())[0]


def _register(value):
    """(index, rank) of a 32-bit hash in the HyperLogLog registers."""
    rest = value & ((1 << (32 - HLL_BITS)) - 1)
    return value >> (32 - HLL_BITS), (32 - HLL_BITS) - rest.bit_length() + 1


class Visitors(object):
    """A set of keyed hashes, or (beyond ``VISITOR_EXACT``) HyperLogLog registers."""

    def __init__(self):
        self.hashes = set()
        self.registers = None  # bytearray(HLL_M) once estimated

    def add(self, value):
        if self.registers is None:
            self.hashes.add(value)
            if len(self.hashes) > VISITOR_EXACT:
                self._to_registers()
            return
        index, rank = _register(value)
        if rank > self.registers[index]:
            self.registers[index] = rank

    def _to_registers(self):
        self.registers = bytearray(HLL_M)
        for value in self.hashes:
            index, rank = _register(value)
            if rank > self.registers[index]:
                self.registers[index] = rank
        self.hashes = set()

    def merge(self, other):
        if other.registers is None:
            for value in other.hashes:
                self.add(value)
            return
        if self.registers is None:
            self._to_registers()
        registers = self.registers
        for index, rank in enumerate(other.registers):
            if rank > registers[index]:
                registers[index] = rank

    def count(self):
        """(count, exact): exact while the hashes are kept, an estimate (±1.6 %) beyond."""
        if self.registers is None:
            return len(self.hashes), True
        zeros = self.registers.count(0)
        estimate = _HLL_ALPHA * HLL_M * HLL_M / sum(2.0 ** -r for r in self.registers)
        if estimate <= 2.5 * HLL_M and zeros:
            estimate = HLL_M * math.log(float(HLL_M) / zeros)
        elif estimate > (1 << 32) / 30.0:
            estimate = -(1 << 32) * math.log(1 - estimate / (1 << 32))
        # known to be more than the exact bound: an estimate below it would be wrong for sure
        return max(int(round(estimate)), VISITOR_EXACT + 1), False

    def to_json(self):
        """{"hashes": base64 of sorted big-endian uint32} or {"registers": base64 of HLL_M bytes}."""
        if self.registers is None:
            packed = struct.pack(">%dI" % len(self.hashes), *sorted(self.hashes))
            return {"hashes": base64.b64encode(packed).decode("ascii")}
        return {"registers": base64.b64encode(bytes(self.registers)).decode("ascii")}

    @classmethod
    def from_json(cls, data):
        """The inverse of :meth:`to_json`; ValueError on anything else."""
        visitors = cls()
        if not isinstance(data, dict):
            raise ValueError("a visitors sketch is an object")
        if "registers" in data:
            raw = base64.b64decode(str(data["registers"]), validate=True)
            if len(raw) != HLL_M or max(raw) > 32 - HLL_BITS + 1:
                raise ValueError("a visitors sketch has %d registers, not %d" % (len(raw), HLL_M))
            visitors.registers = bytearray(raw)
            return visitors
        raw = base64.b64decode(str(data.get("hashes", "")), validate=True)
        if len(raw) % 4:
            raise ValueError("a visitors sketch's hashes are not 32-bit values")
        for value in struct.unpack(">%dI" % (len(raw) // 4), raw):
            visitors.add(value)
        return visitors


# ---------------------------------------------------------------------------
# formats: nginx log_format / Apache LogFormat → one regex with named groups

#: preset formats (nginx's and Apache's "combined" are the same line)
PRESETS = {
    "combined": '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                '"$http_referer" "$http_user_agent"',
    "common": '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent',
}
PRESETS["nginx"] = PRESETS["combined"]
PRESETS["apache"] = PRESETS["combined"]

#: nginx variable → (group, regex); variables not named here match one field
_NGINX_VARS = {
    "remote_addr": ("client", r"[^\s,]+"),
    "binary_remote_addr": (None, r"\S+"),
    "time_local": ("time", r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}"),
    "time_iso8601": ("iso", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d\d:\d\d|Z)"),
    "msec": ("msec", r"\d{9,11}\.\d{1,6}(?![\d.])"),
    "request": ("request", None),
    "status": ("status", r"\d{3}(?!\d)"),
    # numbers of at most 15 digits: a longer one is no size or time a server writes
    "body_bytes_sent": ("out", r"\d{1,15}(?![\d.])|-"),
    "bytes_sent": ("out", r"\d{1,15}(?![\d.])|-"),
    "request_length": ("in", r"\d{1,15}(?![\d.])|-"),
    "request_time": ("seconds", r"\d{1,9}(?:\.\d{1,6})?(?![\d.])|-"),
    # several upstreams: "0.250, 0.750", an internal redirect: "0.001 : 0.002", a failed one "-"
    "upstream_response_time": ("upstream", r"(?:[\d.]{1,16}|-)(?: ?[,:] ?(?:[\d.]{1,16}|-)){0,9}(?![\d.])"),
    "request_method": ("method", r"[A-Z]+|-"),
    "request_uri": ("uri", None),
    "uri": ("uri", None),
}
#: Apache directive → nginx variable (or a regex for what lpsectl does not use)
_APACHE_DIRECTIVES = {
    "h": "$remote_addr", "a": "$remote_addr", "t": "[$time_local]", "r": "$request",
    "s": "$status", ">s": "$status", "<s": "$status", "b": "$body_bytes_sent",
    "B": "$body_bytes_sent", "O": "$bytes_sent", "I": "$request_length",
    "D": "$apache_micro", "T": "$request_time", "m": "$request_method", "U": "$uri",
}
_NGINX_VAR = re.compile(r"\$(\w+)|\$\{(\w+)\}")
_APACHE_DIRECTIVE = re.compile(r"%(?:\{[^}]*\})?([<>]?[a-zA-Z%])")


def apache_to_nginx(log_format):
    """An Apache ``LogFormat`` string in nginx terms (``%h`` → ``$remote_addr``);
    ``%{Referer}i``-style headers become single fields lpsectl does not read."""
    def one(match):
        code = match.group(1)
        if code == "%":
            return "%"
        if match.group(0).startswith("%{"):
            if code == "t":
                raise ValueError("a custom Apache time layout (%{…}t) is not read: log the time with "
                                 "%t (its default layout) for lpsectl")
            return "$header_field"
        return _APACHE_DIRECTIVES.get(code, "$" + "apache_" + code.strip("<>"))

    return _APACHE_DIRECTIVE.sub(one, log_format)


def access_format(spec):
    """A preset name or a format string → (compiled bytes regex, set of group names).

    ValueError when the format lacks what a usage summary needs (the time, the
    request line or path, the status)."""
    text = PRESETS.get(spec, spec)
    if "%" in text and "$" not in text:
        text = apache_to_nginx(text)
    parts = []
    groups = set()
    pos = 0
    for match in _NGINX_VAR.finditer(text):
        literal = text[pos:match.start()]
        parts.append(re.escape(literal))
        name = match.group(1) or match.group(2)
        pos = match.end()
        group, pattern = _NGINX_VARS.get(name, (None, None))
        if name == "apache_micro":
            group, pattern = "micro", r"\d{1,15}(?!\d)|-"
        quoted = literal.endswith('"')
        if pattern is None:
            # a field lpsectl does not read, or the request: up to the closing quote
            # (escaped quotes allowed, as Apache writes them) or the next blank
            pattern = r'[^"\\]*(?:\\.[^"\\]*)*' if quoted else r"\S*"
        if group is not None and group not in groups:
            parts.append("(?P<" + group + ">" + pattern + ")")
            groups.add(group)
        else:
            parts.append("(?:" + pattern + ")")
    parts.append(re.escape(text[pos:]).rstrip())
    if not ({"time", "iso", "msec"} & groups) or not ({"request", "uri"} & groups) or "status" not in groups:
        raise ValueError("an access log format needs the time ($time_local, $time_iso8601 or $msec; "
                         "Apache %t), the request ($request; %r) and the status ($status; %>s): "
                         + repr(spec[:200]))
    return re.compile(("^" + "".join(parts)).encode("utf-8")), groups


# ---------------------------------------------------------------------------
# routes and activities

#: folded away: numbers, UUIDs, long hex, long tokens with digits (session ids, hashes)
_ID_SEGMENT = re.compile(
    r"(?<=/)(?:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{16,}|(?=[^/]*\d)[A-Za-z0-9_=+.~-]{20,})(?=/|$)"
)
_STATIC = re.compile(r"\.(css|js|map|png|jpe?g|gif|ico|svg|webp|woff2?|ttf|eot)$", re.I)
MAX_ROUTE = 200
MAX_SEGMENTS = 12


def route_of(path):
    """A request path folded to its route: query string gone, ids as ``{id}``
    (``/eproc4/lelang/12345/pengumumanlelang`` → ``/eproc4/lelang/{id}/pengumumanlelang``),
    static files as ``/first/segment/*.ext``."""
    for stop in ("?", "#", ";"):
        cut = path.find(stop)
        if cut >= 0:
            path = path[:cut]
    if path.startswith(("http://", "https://")):
        # the absolute form a proxy may be sent: its path is the route
        slash = path.find("/", path.find("//") + 2)
        path = path[slash:] if slash > 0 else "/"
    if not path.startswith("/"):
        return "(invalid)"
    static = _STATIC.search(path)
    segments = path.split("/")[1:]
    if static:
        # one route per top folder and type: /eproc4/*.js, not every script and version
        head = "/" + segments[0] if len(segments) > 1 else ""
        return _ID_SEGMENT.sub("{id}", head + "/*." + static.group(1).lower())[:MAX_ROUTE]
    if len(segments) > MAX_SEGMENTS:
        path = "/" + "/".join(segments[:MAX_SEGMENTS]) + "/…"
    return _ID_SEGMENT.sub("{id}", path)[:MAX_ROUTE]


#: SPSE 4 activities recognised by default: name → (method, route regex, statuses that
#: count as done; the others are failed). The config's [usage.activities] replaces them.
DEFAULT_ACTIVITIES = {
    "login": {"method": "POST", "route": r"^/eproc4/(do)?login$", "ok": "300-399"},
    "bid_upload": {"method": "POST", "route": r"^/eproc4/penawaran/\{id\}/kirim$", "ok": "200-399"},
    "download": {"method": "GET", "route": r"^/eproc4/dokumen/\{id\}/unduh$", "ok": "200-399"},
    "announcement": {"method": "GET", "route": r"^/eproc4/(lelang|nontender)/\{id\}/pengumuman",
                     "ok": "200-399"},
}


def parse_statuses(text):
    """'200-399,401' → the set of status codes it names; ValueError on anything else."""
    codes = set()
    for part in str(text).split(","):
        part = part.strip()
        low, _, high = part.partition("-")
        if (not low.isdigit() or (high and not high.isdigit()) or not 100 <= int(low) <= int(high or low) <= 599):
            raise ValueError("a status list is like '200-399,401' (statuses 100-599, low to high), not "
                             + repr(text))
        codes.update(range(int(low), int(high or low) + 1))
    return frozenset(codes)


def compile_activities(spec):
    """{name: {"method", "route", "ok"?}} → [(name, method or None, route regex, ok codes)]."""
    compiled = []
    for name, rule in sorted((spec or {}).items()):
        method = rule.get("method")
        compiled.append((
            name,
            method.upper() if method else None,
            re.compile(rule["route"]),
            parse_statuses(rule.get("ok") or "100-599"),
        ))
    return compiled


# ---------------------------------------------------------------------------
# the summary of one day, and of a file

_MONTHS = dict((name, "%02d" % (i + 1)) for i, name in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()))
MAX_ROUTES = 1000
MAX_CLIENTS = 50000
#: entries of each look-up cache (time stamps, paths, durations); a full cache starts
#: again empty: a log is read in time order, so what repeats is recent
ACCESS_CACHE = 8192
#: longer request paths are folded to their route each time, not kept in the route cache
MAX_CACHED_PATH = 2048
DEFAULT_TOP_CLIENTS = 10
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


def capped(value, limit):
    """A percentile never above the maximum it estimates (None stays None: no time)."""
    return None if value is None else min(value, limit)


class AccessDay(object):
    """One event day's counts. ``routes``: route → [count, total_ms, max_ms, {bucket: n},
    5xx count, timed count]."""

    def __init__(self):
        self.requests = 0
        self.bytes_out = 0
        self.bytes_in = 0
        self.status = {}
        self.minutes = {}
        self.routes = {}
        self.routes_dropped = 0
        self.activities = {}
        self.clients = {}  # address → requests, while the day is being read
        self.clients_dropped = 0
        self.visitors = Visitors()
        self.top = []
        #: the addresses were settled more than once (the day's lines were read in parts
        #: apart: the list's counts are lower bounds)
        self.top_partial = False
        self.settled = False
        self.first = None
        self.last = None

    def settle(self, key, top_clients):
        """The day's addresses become hashes and a top list (at the end of the read, or
        earlier when too many addresses are held: then the list may be partial)."""
        if not self.clients:
            return
        if self.settled:
            self.top_partial = True
        self.settled = True
        for address in self.clients:
            self.visitors.add(visitor_hash(address, key))
        merged = dict((a.encode("utf-8"), n) for a, n in self.top)
        for address, count in self.clients.items():
            merged[address] = merged.get(address, 0) + count
        best = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:top_clients]
        self.top = [[a.decode("utf-8", "replace"), n] for a, n in best]
        self.clients = {}

    def result(self, has_in, timed_format):
        count, exact = self.visitors.count()
        routes = []
        for route, e in self.routes.items():
            routes.append({
                "route": route, "count": e[0], "total_ms": round(e[1], 3),
                "max_ms": round(e[2], 3), "p50_ms": capped(percentile(e[3], 0.5), round(e[2], 3)),
                "p95_ms": capped(percentile(e[3], 0.95), round(e[2], 3)),
                "histogram": dict((str(b), n) for b, n in e[3].items()),
                "errors_5xx": e[4], "timed": e[5],
            })
        routes.sort(key=lambda r: (-r["count"], r["route"]))
        return {
            "requests": self.requests,
            "bytes_out": self.bytes_out,
            "bytes_in": self.bytes_in if has_in else None,
            "status": dict(sorted(self.status.items())),
            "minutes": dict(sorted(self.minutes.items())),
            "routes": routes,
            "routes_dropped": self.routes_dropped,
            "activities": dict(sorted(self.activities.items())),
            "visitors": count,
            "visitors_exact": exact and not self.clients_dropped,
            "visitor_sketch": self.visitors.to_json(),
            "top_clients": self.top,
            "top_clients_complete": not self.top_partial,
            "timed": timed_format,
            "first": self.first,
            "last": self.last,
        }


class AccessSummary(object):
    """The summary of access log files: per event day (local time as the log writes it).

    Quacks like ``summarize_remote.Summary`` where the file machinery needs it
    (lines, bytes, unparsed, cut, warnings, ranges, close_file, days)."""

    def __init__(self, fmt="access", top=None, key=None, top_clients=DEFAULT_TOP_CLIENTS,
                 activities=None, utc_offset_minutes=0):
        self.format = fmt
        self.lines = 0
        self.bytes = 0
        self.unparsed = 0
        self.unparsed_example = None
        self.prefix_fallback = 0
        self.warnings = []
        self.cut = False
        self.ranges = []
        self.days = None
        self.by_day = {}
        self.key = key if key is not None else os.urandom(16)  # one read: no run to agree with
        self.top_clients = max(0, int(top_clients))
        self.activities = compile_activities(DEFAULT_ACTIVITIES if activities is None else activities)
        self.has_in = False
        self.has_time = False
        #: $msec is seconds since the epoch: its day is taken at this offset (the LPSE's)
        self.utc_offset_minutes = int(utc_offset_minutes)

    def split_by_day(self, day_top):
        return self  # always per day

    def close_file(self):
        pass

    def seen_range(self, first, last):
        pass

    def bad_line(self, line):
        self.unparsed += 1
        if self.unparsed_example is None:
            # an address or a query string is personal data: neither leaves the server
            text = _QUERY.sub("?…", line[:200].decode("utf-8", "replace"))
            self.unparsed_example = _ADDRESS.sub("…", text)

    def open_clients(self):
        return sum(len(day.clients) for day in self.by_day.values())

    def settle_others(self, current):
        """Too many addresses held: every day but ``current`` is settled now (a log is read
        in time order, so those days are done)."""
        for key, day in self.by_day.items():
            if key != current:
                day.settle(self.key, self.top_clients)

    def settle(self):
        for day in self.by_day.values():
            day.settle(self.key, self.top_clients)

    def day_results(self):
        self.settle()
        return dict((d, self.by_day[d].result(self.has_in, self.has_time)) for d in sorted(self.by_day))

    def result(self, timestamp=None, days=None):
        """The whole read: its size, period and requests (``days`` holds the figures)."""
        days = self.day_results() if days is None else days
        out = {
            "format": self.format,
            "lines": self.lines,
            "bytes": self.bytes,
            "start": min((d["first"] for d in days.values() if d["first"]), default=None),
            "end": max((d["last"] for d in days.values() if d["last"]), default=None),
            "requests": sum(d["requests"] for d in days.values()),
            "unparsed": self.unparsed,
            "unparsed_example": self.unparsed_example,
            "days": sorted(days),
        }
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def _real_date(day):
    """'2026-02-31' is no date: the check a day key passes before it is counted."""
    try:
        _date(int(day[0:4]), int(day[5:7]), int(day[8:10]))
    except ValueError:
        return False
    return True


_ADDRESS = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}\b")
_QUERY = re.compile(r"\?[^\s\"]*")


def _day_of_time_local(stamp, cache):
    """'01/Dec/2026:08:05:09 +0700' → ('2026-12-01', '08:05', ISO time) via ``cache``."""
    found = cache.get(stamp)
    if found is None:
        text = stamp.decode("ascii")
        month = _MONTHS.get(text[3:6])
        # '99/Dec/2026:25:61:00' is no time: a bad line, never a day '2026-12-99'
        if month is None or not ("01" <= text[0:2] <= "31" and text[12:14] <= "23" and text[15:17] <= "59"
                                 and text[18:20] <= "60" and text[22:24] <= "14" and text[24:26] <= "59"):
            return None
        day = text[7:11] + "-" + month + "-" + text[0:2]
        if not _real_date(day):
            return None  # 31/Feb
        zone = text[21:24] + ":" + text[24:26]
        found = (day, text[12:17], day + "T" + text[12:20] + zone)
        if len(cache) >= ACCESS_CACHE:
            cache.clear()
        cache[stamp] = found
    return found


def _day_of_iso(stamp, cache):
    found = cache.get(stamp)
    if found is None:
        text = stamp.decode("ascii")
        if not (_real_date(text[:10]) and text[11:13] <= "23" and text[14:16] <= "59"):
            return None
        found = (text[:10], text[11:16], text)
        if len(cache) >= ACCESS_CACHE:
            cache.clear()
        cache[stamp] = found
    return found


def _day_of_msec(stamp, cache, offset_minutes=0):
    import time as _time

    second = stamp.split(b".")[0]
    found = cache.get(second)
    if found is None:
        try:
            when = _time.gmtime(int(second) + offset_minutes * 60)
        except (ValueError, OverflowError, OSError):
            return None
        day = _time.strftime("%Y-%m-%d", when)
        sign = "-" if offset_minutes < 0 else "+"
        zone = "%s%02d:%02d" % (sign, abs(offset_minutes) // 60, abs(offset_minutes) % 60)
        found = (day, _time.strftime("%H:%M", when), _time.strftime("%Y-%m-%dT%H:%M:%S", when) + zone)
        if len(cache) >= ACCESS_CACHE:
            cache.clear()
        cache[second] = found
    return found


def parse_access(reader, summary, spec):
    """Read an access log into ``summary`` (an :class:`AccessSummary`); returns the offset
    after the last complete line (an access log has no multi-line entries)."""
    regex, groups = access_format(spec or "combined")
    summary.has_in = summary.has_in or "in" in groups
    summary.has_time = summary.has_time or bool({"seconds", "micro", "upstream"} & groups)
    match = regex.match
    if "time" in groups:
        stamp_group, day_of = "time", _day_of_time_local
    elif "iso" in groups:
        stamp_group, day_of = "iso", _day_of_iso
    else:
        stamp_group = "msec"
        offset = summary.utc_offset_minutes

        def day_of(stamp, cache, offset=offset):
            return _day_of_msec(stamp, cache, offset)
    names = [stamp_group, "client" if "client" in groups else stamp_group,
             "request" if "request" in groups else "uri", "status",
             "out" if "out" in groups else "status", "in" if "in" in groups else "status"]
    timing = "seconds" if "seconds" in groups else ("micro" if "micro" in groups else
                                                    ("upstream" if "upstream" in groups else None))
    has_client = "client" in groups
    has_request = "request" in groups
    has_method = "method" in groups
    has_out, has_in = "out" in groups, "in" in groups
    times = {}
    routes = {}
    activity_rules = summary.activities
    activities_of = {}
    by_day = summary.by_day
    durations = {}
    current = None
    current_key = None
    lines = 0
    pos = reader.start
    for block, pos in reader.blocks():
        lines += len(block)
        for line in block:
            m = match(line)
            if m is None:
                if line.strip():
                    summary.bad_line(line)
                continue
            stamp, client, request, status, out, size_in = m.group(*names)
            when = day_of(stamp, times)
            if when is None:
                summary.bad_line(line)
                continue
            day_key, minute, iso = when
            if day_key != current_key:
                if summary.open_clients() > MAX_CLIENTS:
                    summary.settle_others(day_key)
                current = by_day.get(day_key)
                if current is None:
                    current = by_day[day_key] = AccessDay()
                current_key = day_key
            day = current
            day.requests += 1
            if day.first is None or iso < day.first:
                day.first = iso
            if day.last is None or iso > day.last:
                day.last = iso
            try:
                day.minutes[minute] += 1
            except KeyError:
                day.minutes[minute] = 1
            code = int(status)
            klass = STATUS_CLASSES[code // 100 - 1] if 100 <= code < 600 else "other"
            try:
                day.status[klass] += 1
            except KeyError:
                day.status[klass] = 1
            if has_out and out != b"-":
                day.bytes_out += int(out)
            if has_in and size_in != b"-":
                day.bytes_in += int(size_in)
            if has_client:
                clients = day.clients
                count = clients.get(client)
                if count is not None:
                    clients[client] = count + 1
                elif len(clients) < MAX_CLIENTS:
                    clients[client] = 1
                else:
                    day.clients_dropped += 1
                    day.visitors.add(visitor_hash(client, summary.key))
            # the route: from the request line ("GET /path HTTP/1.1") or $request_uri
            if has_request:
                first_space = request.find(b" ")
                method = request[:first_space] if first_space > 0 else b""
                path = request[first_space + 1:request.rfind(b" ")] if request.count(b" ") >= 2 \
                    else request[first_space + 1:]
            else:
                path = request
                method = m.group("method") if has_method else b""
            cut = path.find(b"?")
            if cut >= 0:
                path = path[:cut]
            if has_request and not method:
                route = "(invalid)"  # not "METHOD PATH PROTOCOL": never cached as the path's route
            else:
                route = routes.get(path)
                if route is None:
                    route = route_of(path.decode("utf-8", "replace"))
                    if len(routes) >= ACCESS_CACHE:
                        routes.clear()  # a cache, not a record: ids make most paths unique
                    if len(path) <= MAX_CACHED_PATH:  # 8,192 paths of a hostile megabyte each: no
                        routes[path] = route
            # the time the server took (ms), when the format has it
            ms = None
            if timing is not None:
                raw = m.group(timing)
                if raw != b"-":
                    cached = durations.get(raw)
                    if cached is None:
                        cached = _duration_ms(raw, timing)
                        if len(durations) >= ACCESS_CACHE:
                            durations.clear()
                        durations[raw] = cached
                    ms = cached
            entry = day.routes.get(route)
            if entry is None:
                if len(day.routes) < MAX_ROUTES:
                    entry = day.routes[route] = [0, 0.0, 0.0, {}, 0, 0]
                else:
                    day.routes_dropped += 1
                    entry = day.routes.get("(other)")
                    if entry is None:
                        entry = day.routes["(other)"] = [0, 0.0, 0.0, {}, 0, 0]
            entry[0] += 1
            if 500 <= code < 600:
                entry[4] += 1
            if ms is not None:
                entry[1] += ms[0]
                if ms[0] > entry[2]:
                    entry[2] = ms[0]
                entry[5] += 1
                try:
                    entry[3][ms[1]] += 1
                except KeyError:
                    entry[3][ms[1]] = 1
            # SPSE activities of this route and method
            key = (route, method)
            matched = activities_of.get(key)
            if matched is None:
                text_method = method.decode("ascii", "replace")
                matched = tuple(
                    (name, ok) for name, want, pattern, ok in activity_rules
                    if (want is None or want == text_method) and pattern.search(route)
                )
                if len(activities_of) >= ACCESS_CACHE:
                    activities_of.clear()
                activities_of[key] = matched
            for name, ok in matched:
                counts = day.activities.get(name)
                if counts is None:
                    counts = day.activities[name] = {"ok": 0, "failed": 0}
                counts["ok" if code in ok else "failed"] += 1
    summary.lines += lines
    return reader.end  # the addresses are settled once, when the whole read is done


def _duration_ms(raw, kind):
    """(ms, bucket) of a response time field; None when it is no duration."""
    try:
        if kind == "micro":
            ms = int(raw) / 1000.0
        elif kind == "upstream":
            parts = [part.strip() for part in raw.replace(b":", b",").split(b",")]
            times = [float(part) for part in parts if part and part != b"-"]
            if not times:
                return None
            ms = sum(times) * 1000.0
        else:
            ms = float(raw) * 1000.0
    except ValueError:
        return None
    if not 0.0 <= ms < 1e12:
        return None
    return (ms, duration_bucket(ms))
