"""Minor / major classification of a change, from its own words (SOP 003 step 5).

A *minor* change touches settings and configuration only and is handled inside
the LPSE. A *major* change touches a physical feature of the infrastructure
(adding or replacing disk, RAM, CPU, servers, network devices, storage), a
major-version upgrade of the OS, PostgreSQL or SPSE, or SPSE itself (its code
or database schema: SPSE is LKPP's software, so the LPSE cannot change it on
its own). Major changes are consulted with LKPP's IT Operations team (ITO).

The text may be Indonesian or English, in any case, with typos: each word is
matched against the vocabulary below, exactly or (for words of 5+ letters)
by close spelling. Text with no signal at all is "unknown", and the caller
asks the administrator for ``--class``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from lpsectl import messages

MINOR = "minor"
MAJOR = "major"
UNKNOWN = "unknown"
CLASSES = (MINOR, MAJOR)

# Routes, SOP 003 steps 5-6
ROUTE_INTERNAL = "internal"
ROUTE_CONSULT = "consult_lkpp"
ROUTE_ASSISTANCE = "lkpp_assistance"
ROUTE_VENDOR = "vendor_proposal"
ROUTE_UNDECIDED = "undecided"

ROUTE_DESCRIPTIONS = {
    ROUTE_INTERNAL: "handled inside the LPSE (change request form)",
    ROUTE_CONSULT: "consult the LKPP IT Operations team (ITO) with the consultation form",
    ROUTE_ASSISTANCE: "request technical assistance from LKPP",
    ROUTE_VENDOR: "propose the activity (third-party vendor) to the Kepala LPSE",
    ROUTE_UNDECIDED: "class unknown: give --class minor or --class major",
}


def route_for(change_class: str) -> str:
    """Step 5: minor stays inside the LPSE, major goes to LKPP ITO first."""
    return {MINOR: ROUTE_INTERNAL, MAJOR: ROUTE_CONSULT}.get(change_class, ROUTE_UNDECIDED)


# -- vocabulary ---------------------------------------------------------------
# Physical devices, with the concept each word stands for.
HARDWARE = {
    **dict.fromkeys(["ram", "memori", "memory", "dimm", "ddr4", "ddr5"], messages.WORD_MEMORY_RAM),
    **dict.fromkeys(
        [
            "disk",
            "disks",
            "harddisk",
            "hdd",
            "ssd",
            "nvme",
            "storage",
            "penyimpanan",
            "san",
            "nas",
            "cakram",
            "partisi_baru",
        ],
        messages.WORD_DISK_STORAGE,
    ),
    **dict.fromkeys(["cpu", "cpus", "vcpu", "prosesor", "processor", "processors"], "CPU"),
    **dict.fromkeys(["power_supply", "psu", "catu_daya"], messages.WORD_POWER_SUPPLY),
    **dict.fromkeys(["raid", "raid_controller", "hba"], messages.WORD_DISK_CONTROLLER),
    "server_baru": messages.WORD_SERVER_HARDWARE,
    **dict.fromkeys(
        ["server", "servers", "peladen", "hardware", "perangkat_keras", "mesin"],
        messages.WORD_SERVER_HARDWARE,
    ),
    **dict.fromkeys(
        [
            "switch",
            "router",
            "firewall",
            "perangkat_jaringan",
            "network_device",
            "nic",
            "ups",
            "jaringan",
            "network",
            "bandwidth",
            "rack",
            "rak",
        ],
        messages.WORD_NETWORK_INFRASTRUCTURE_DEVICE,
    ),
}

# Acting on a device: adding, replacing, buying, expanding it.
HARDWARE_ACTIONS = set(
    """tambah menambah menambahkan penambahan ditambah tambahkan tambahan add adding added
    upgrade upgrading upgraded mengupgrade diupgrade ganti mengganti penggantian diganti gantikan
    replace replacing replaced replacement swap beli membeli pembelian dibeli purchase buy buying
    pengadaan procure procurement pasang memasang pemasangan dipasang install installing
    expand expanding expansion perluas memperluas perluasan extend extending tingkatkan
    meningkatkan peningkatan increase increasing naikkan menaikkan perbesar memperbesar
    migrasi migrate migrating pindah memindahkan""".split()
)

# Software whose *version* change is major (OS, PostgreSQL, SPSE).
VERSIONED = {
    **dict.fromkeys(["postgresql", "postgres", "pg", "pgsql", "pg_upgrade"], "PostgreSQL"),
    **dict.fromkeys(
        [
            "os",
            "centos",
            "ubuntu",
            "debian",
            "rhel",
            "redhat",
            "rocky",
            "almalinux",
            "linux",
            "kernel",
        ],
        messages.WORD_OPERATING_SYSTEM,
    ),
    "spse": "SPSE",
    **dict.fromkeys(["java", "jdk", "jre", "openjdk", "tomcat"], messages.WORD_JAVA_PLATFORM),
}
VERSION_ACTIONS = set(
    """upgrade upgrading upgraded mengupgrade diupgrade pembaruan perbarui memperbarui diperbarui
    update updating mutakhirkan pemutakhiran migrasi migrate migration versi version
    naik_versi pg_upgrade dist_upgrade release_upgrade""".split()
)
# An OS/package update without a version jump is patching: a setting-level change.
PATCH_WORDS = set(
    "patch patches paket package packages security keamanan tambalan errata patch_release".split()
)

# SPSE's code or schema: LKPP's software.
APPLICATION = {
    **dict.fromkeys(
        ["index", "indeks", "indexes", "indices"], messages.WORD_DATABASE_INDEX_ON_SPSE_S_SCHEMA
    ),
    **dict.fromkeys(["query", "queries", "kueri", "sql"], messages.WORD_SPSE_QUERY),
    **dict.fromkeys(
        [
            "bug",
            "bugs",
            "kode",
            "code",
            "source",
            "fitur",
            "feature",
            "features",
            "modul",
            "module",
            "aplikasi",
            "application",
            "skema",
            "schema",
        ],
        messages.WORD_SPSE_APPLICATION,
    ),
}
APPLICATION_ACTIONS = set(
    """ubah mengubah perubahan diubah change changing modify modifying modification perbaiki
    memperbaiki perbaikan diperbaiki fix fixing optimasi optimalkan mengoptimalkan optimize
    optimise optimizing rewrite tulis buat membuat dibuat create add tambah menambah menambahkan
    penambahan tambahkan kembangkan pengembangan develop hapus drop""".split()
)

CONFIG_WORDS = {
    **dict.fromkeys(
        [
            "konfigurasi",
            "config",
            "configuration",
            "configure",
            "konfig",
            "conf",
            "setting",
            "settings",
            "pengaturan",
            "atur",
            "mengatur",
            "diatur",
            "setel",
            "parameter",
            "parameters",
            "param",
            "postgresql.conf",
            "pg_hba.conf",
            "set",
            "tuning",
            "tune",
        ],
        messages.WORD_CONFIGURATION_SETTING,
    ),
    **dict.fromkeys(
        ["restart", "restarting", "reboot", "reload", "mulai_ulang", "muat_ulang", "start_ulang"],
        messages.WORD_SERVICE_RESTART_RELOAD,
    ),
    **dict.fromkeys(
        ["log", "logs", "logging", "logrotate", "log_rotation"], messages.WORD_LOG_SETTING
    ),
    **dict.fromkeys(
        ["vacuum", "reindex", "autovacuum", "cron", "crontab", "jadwal"],
        messages.WORD_MAINTENANCE_JOB_SETTING,
    ),
    **dict.fromkeys(
        ["heap", "xmx", "xms", "timezone", "extension", "ekstensi", "pg_stat_statements"],
        messages.WORD_CONFIGURATION_SETTING,
    ),
    **dict.fromkeys(
        [
            "timeout",
            "gzip",
            "kompresi",
            "compression",
            "aktifkan",
            "nonaktifkan",
            "enable",
            "disable",
            "swap_file",
        ],
        messages.WORD_CONFIGURATION_SETTING,
    ),
    **dict.fromkeys(
        ["sertifikat", "certificate", "ssl", "tls", "https"],
        messages.WORD_TLS_CERTIFICATE_A_FILE_NOT_A_DEVICE,
    ),
    **dict.fromkeys(
        [
            "port",
            "ssh",
            "dns",
            "resolver",
            "ip",
            "hostname",
            "user",
            "pengguna",
            "akun",
            "sudo",
            "akses",
            "quota",
            "kuota",
            "disk_quota",
            "disk_space",
            "monitoring",
            "exporter",
            "agent",
        ],
        messages.WORD_SYSTEM_SETTING_ACCOUNTS_NAMES_ADDRESSES_,
    ),
}

# Words that join two-word phrases into one token before matching.
PHRASES = {
    "sistem operasi": "os",
    "operating system": "os",
    "hard disk": "harddisk",
    "hard drive": "harddisk",
    "perangkat keras": "perangkat_keras",
    "perangkat jaringan": "perangkat_jaringan",
    "network device": "network_device",
    "network switch": "switch",
    "mulai ulang": "mulai_ulang",
    "muat ulang": "muat_ulang",
    "start ulang": "start_ulang",
    "naik versi": "naik_versi",
    "dist upgrade": "dist_upgrade",
    "release upgrade": "release_upgrade",
    "partisi baru": "partisi_baru",
    "red hat": "redhat",
    "power supply": "power_supply",
    "catu daya": "catu_daya",
    "swap file": "swap_file",
    "file swap": "swap_file",
    "swap space": "swap_file",
    "partisi swap": "swap_file",
    "disk quota": "disk_quota",
    "kuota disk": "disk_quota",
    "disk space": "disk_space",
    "ruang disk": "disk_space",
    "nama host": "hostname",
    "rilis perbaikan": "patch_release",
    "patch release": "patch_release",
    "raid controller": "raid_controller",
    "mesin baru": "server_baru",
    "server baru": "server_baru",
    "new server": "server_baru",
    "new machine": "server_baru",
}
#: a device and its acquisition in one word ("mesin baru"): no other action needed
NEW_HARDWARE = {"server_baru": "server hardware"}

PARAM_PREFIXES = (
    "log_",
    "autovacuum_",
    "max_",
    "min_",
    "shared_",
    "work_",
    "maintenance_",
    "effective_",
    "checkpoint_",
    "wal_",
    "random_",
    "seq_",
    "idle_",
    "statement_",
    "lock_",
    "deadlock_",
    "track_",
    "default_",
    "temp_",
    "huge_",
    "listen_",
    "bgwriter_",
    "vacuum_",
)

# Filler words skipped when judging how close an action is to its object.
STOPWORDS = set(
    """the a an of to for on in at with from by its this that into yang dan di ke dari
    untuk pada dengan sebesar sebanyak menjadi jadi agar supaya akan perlu harus please tolong""".split()
)

WINDOW_BEFORE = 4
WINDOW_AFTER = 2
FUZZY_MIN_LENGTH = 5
FUZZY_CUTOFF = 0.8

_TOKEN = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")
_VERSION = re.compile(r"^\d+(?:\.\d+)*$")


@dataclass
class Classification:
    change_class: str
    route: str
    reasons: list[str] = field(default_factory=list)
    signals: dict[str, list[str]] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.change_class in CLASSES

    def to_dict(self) -> dict[str, object]:
        return {
            "class": self.change_class,
            "route": self.route,
            "route_description": ROUTE_DESCRIPTIONS[self.route],
            "reasons": list(self.reasons),
            "signals": {k: list(v) for k, v in self.signals.items()},
        }


#: where a clause ends: a sentence's stop, a semicolon, a blank line (title, description
#: and plan are joined by one); a dot inside a word ("postgresql.conf", "15.4") is none,
#: and a single line break is a wrapped line, not a boundary
_CLAUSE_END = re.compile(r"[.;!?](?=\s|$)|\n\s*\n")


def clauses(text: str) -> list[str]:
    """The clauses of ``text``: sentences, and the title, description and plan apart."""
    return [part for part in _CLAUSE_END.split(text) if part.strip()]


def classify(text: str) -> Classification:
    """Minor / major / unknown for a change described in ``text``, with reasons.

    Each clause (:func:`clauses`) is judged on its own: words are never joined across a
    sentence or from the title into the plan ("… di web server. Pasang konfigurasi baru"
    is no server being installed). The change is major when some clause adds or
    replaces a device, upgrades a version or changes SPSE; else minor when some clause
    names a setting; else unknown."""
    major: list[str] = []
    minor: list[str] = []
    every: list[str] = []
    for clause in clauses(text):
        tokens = tokenize(clause)
        every += tokens
        major += _hardware_reasons(tokens) + _version_reasons(tokens) + _application_reasons(tokens)
        minor += _config_reasons(tokens) + _patch_reasons(tokens)
    major, minor = _unique(major), _unique(minor)
    tokens = every
    signals = {"major": major, "minor": minor}
    if major:
        reasons = list(major)
        if minor:
            reasons.append(
                "it also touches settings (" + "; ".join(minor) + "), "
                "but the physical/version/application part makes the whole change major"
            )
        return Classification(MAJOR, route_for(MAJOR), reasons, signals)
    if minor:
        reasons = minor + [messages.NO_MAJOR_SIGNAL]
        return Classification(MINOR, route_for(MINOR), reasons, signals)
    return Classification(UNKNOWN, ROUTE_UNDECIDED, [_unknown_reason(tokens)], signals)


# -- tokens ------------------------------------------------------------------------
def normalize(text: str) -> str:
    """Lower case, accents dropped, whitespace folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().split())


def tokenize(text: str) -> list[str]:
    """Words of ``text``, typos corrected towards the vocabulary, phrases joined."""
    words = [_correct(word) for word in _TOKEN.findall(normalize(text))]
    return [w for w in _join_phrases(words) if w not in STOPWORDS]


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[str, ...]:
    words: set[str] = set()
    for group in (
        HARDWARE,
        HARDWARE_ACTIONS,
        VERSIONED,
        VERSION_ACTIONS,
        PATCH_WORDS,
        APPLICATION,
        APPLICATION_ACTIONS,
        CONFIG_WORDS,
    ):
        words.update(w for w in group if "_" not in w)
    for phrase in PHRASES:
        words.update(phrase.split())
    return tuple(sorted(words))


@lru_cache(maxsize=4096)
def _correct(word: str) -> str:
    vocab = _vocabulary()
    if word in vocab or len(word) < FUZZY_MIN_LENGTH or _VERSION.match(word) or "_" in word:
        return word
    # a typo changes a letter or two; a different length is another word ("setelah")
    close = [
        c
        for c in difflib.get_close_matches(word, vocab, n=3, cutoff=FUZZY_CUTOFF)
        if abs(len(c) - len(word)) <= 1
    ]
    return close[0] if close else word


def _join_phrases(words: list[str]) -> list[str]:
    joined: list[str] = []
    i = 0
    while i < len(words):
        pair = " ".join(words[i : i + 2])
        if pair in PHRASES:
            joined.append(PHRASES[pair])
            i += 2
        else:
            joined.append(words[i])
            i += 1
    return joined


def is_parameter(token: str) -> bool:
    """A PostgreSQL-style setting name such as work_mem or log_min_duration_statement."""
    return "_" in token and token.startswith(PARAM_PREFIXES)


# -- signals ---------------------------------------------------------------------
def _near(tokens: list[str], index: int, words: set[str] | dict[str, str]) -> int | None:
    """Index of a word from ``words`` close to ``tokens[index]`` (before it first:
    "tambah RAM", then after: "RAM upgrade"); a setting name in between means the
    words are about that setting ("naikkan shared_buffers ... RAM"), not the device."""
    for direction, reach in ((-1, WINDOW_BEFORE), (1, WINDOW_AFTER)):
        for step in range(1, reach + 1):
            j = index + direction * step
            if (
                not 0 <= j < len(tokens)
                or is_parameter(tokens[j])
                or tokens[j] in CONFIG_WORDS
                or tokens[j] in PATCH_WORDS
            ):
                break
            if tokens[j] in words:
                return j
    return None


def _hardware_reasons(tokens: list[str]) -> list[str]:
    reasons = []
    used: set[int] = set()  # one reason per action: "tambah RAM server" is one change
    for i, token in enumerate(tokens):
        if token not in HARDWARE:
            continue
        actions = HARDWARE_ACTIONS
        if HARDWARE[token] == "server hardware" and any(t in VERSIONED for t in tokens):
            # "upgrade server ke Ubuntu 22.04": the OS is upgraded (a version reason), so a
            # server is hardware only with an action of its own ("... ke mesin baru")
            actions = HARDWARE_ACTIONS - VERSION_ACTIONS
        j = i if token in NEW_HARDWARE else _near(tokens, i, actions)
        if j is not None and j not in used:
            used.add(j)
            phrase = _phrase(tokens, i, j)
            reasons.append(messages.HARDWARE_REASON.format(phrase=phrase, what=HARDWARE[token]))
    return _unique(reasons)


def _versions(tokens: list[str]) -> list[str]:
    return [
        t for t in tokens if _VERSION.match(t) and not t.isdigit() or t.isdigit() and len(t) <= 2
    ]


def _major_number(version: str) -> str:
    parts = version.split(".")
    # PostgreSQL before 10 and SPSE/Ubuntu style numbers: the first two parts name the release
    if parts[0] in ("9", "4", "3") and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def _version_reasons(tokens: list[str]) -> list[str]:
    reasons = []
    versions = _versions(tokens)
    same_major = len(versions) >= 2 and len({_major_number(v) for v in versions}) == 1
    used: set[int] = set()
    for i, token in enumerate(tokens):
        if token not in VERSIONED:
            continue
        action = token if token == "pg_upgrade" else None
        j = _near(tokens, i, VERSION_ACTIONS)
        if (j is None and action is None) or (j is not None and j in used):
            continue
        if j is not None:
            used.add(j)
        what = VERSIONED[token]
        if same_major and what != "SPSE":
            continue  # e.g. 15.3 -> 15.4: a patch release, not a version upgrade
        if what != "SPSE" and _is_patching(tokens) and len(versions) < 2:
            continue  # "rilis perbaikan 15.8", "security patches": within the version
        if i + 1 < len(tokens) and tokens[i + 1] in CONFIG_WORDS:
            continue  # "update SPSE config ...": its settings, not its version
        phrase = _phrase(tokens, i, j if j is not None else i)
        detail = f" ({' -> '.join(versions)})" if len(versions) >= 2 else ""
        reasons.append(messages.VERSION_REASON.format(phrase=phrase, what=what, detail=detail))
    return _unique(reasons)


def _is_patching(tokens: list[str]) -> bool:
    return any(t in PATCH_WORDS for t in tokens)


def _application_reasons(tokens: list[str]) -> list[str]:
    reasons = []
    for i, token in enumerate(tokens):
        if token not in APPLICATION:
            continue
        if token in ("aplikasi", "application") and not _mentions_code(tokens):
            continue  # "restart aplikasi" is about the service, not its code
        j = _near(tokens, i, APPLICATION_ACTIONS)
        if j is not None:
            phrase = _phrase(tokens, i, j)
            reasons.append(
                messages.APPLICATION_REASON.format(phrase=phrase, what=APPLICATION[token])
            )
    return _unique(reasons)


def _mentions_code(tokens: list[str]) -> bool:
    return any(
        t in ("kode", "code", "source", "fitur", "feature", "bug", "modul", "module")
        for t in tokens
    )


def _config_reasons(tokens: list[str]) -> list[str]:
    reasons = []
    for token in tokens:
        if is_parameter(token):
            reasons.append(messages.PARAMETER_REASON.format(phrase=token))
        elif token in CONFIG_WORDS:
            reasons.append(messages.WORD_REASON.format(phrase=token, what=CONFIG_WORDS[token]))
    return _unique(reasons)


def _patch_reasons(tokens: list[str]) -> list[str]:
    versions = _versions(tokens)
    same_major = len(versions) >= 2 and len({_major_number(v) for v in versions}) == 1
    if any(VERSIONED.get(t) in ("PostgreSQL", "operating system") for t in tokens) and (
        same_major or _is_patching(tokens)
    ):
        return [messages.PATCH_REASON]
    return []


def _phrase(tokens: list[str], i: int, j: int) -> str:
    lo, hi = min(i, j), max(i, j)
    return " ".join(tokens[lo : hi + 1])


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _unknown_reason(tokens: list[str]) -> str:
    dangling = [t for t in tokens if t in HARDWARE_ACTIONS | VERSION_ACTIONS]
    if dangling:
        return messages.UNKNOWN_DANGLING.format(phrase=dangling[0])
    return messages.UNKNOWN_NOTHING
