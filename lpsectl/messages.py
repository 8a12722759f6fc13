"""The messages lpsectl stores before a document shows them, each with its msgid.

A collector's error, an item it could not read, a service's state: they are kept in
the history as English text (the CLI, the JSON output and ``lpsectl.log`` show them
as they are), and a report shows them in its own language through
:func:`lpsectl.i18n.localize`, which matches the stored text back against these
msgids. Texts sent by the remote scripts (Python 3.6 on the servers, no catalogs
there) are matched the same way. Each is one home: the code that stores a message
formats it from here, so the stored text and its pattern cannot drift apart.
"""

from __future__ import annotations

from lpsectl.i18n import N_, stored

# -- SSH (lpsectl.remote.runner) --------------------------------------------------------
HOST_TIMEOUT = stored(
    N_(
        "did not finish within ssh.host_timeout ({seconds} s); "
        "the rest of this host was not collected this run"
    )
)
KNOWN_HOSTS_UNREADABLE = stored(N_("cannot read known_hosts {path}: {reason}"))
KEY_ENCRYPTED = stored(
    N_(
        "the key {keys} is encrypted: load it into ssh-agent (ssh-add) or set "
        "ssh.key_passphrase_file"
    )
)
HOST_KEY_CHANGED = stored(
    N_(
        "host key CHANGED for {host} (got {key}); refusing to connect. If the server was "
        "really reinstalled, verify the new key with its administrator, then run "
        "`{command}` and add the verified key"
    )
)
HOST_KEY_UNKNOWN = stored(
    N_(
        "host key of {host} is unknown (not in {path}); refusing to connect. Verify the key "
        "with the server's administrator, then add it: {command} (and compare the fingerprint)"
    )
)
AUTHENTICATION_FAILED = stored(N_("authentication failed for user {user} with key {keys}"))
SSH_ERROR = stored(N_("SSH error: {reason}"))
NO_ANSWER = stored(N_("no answer from {target} within {seconds} s (unreachable or filtered)"))
CANNOT_CONNECT = stored(N_("cannot connect to {target}: {reason}"))
HOST_KEY_REVOKED = stored(N_("the host key {key} is marked @revoked in {path}; refusing to use it"))

# -- the system probe (lpsectl.collect.system, lpsectl/remote/probe.py) -------------------
PYTHON_NOT_FOUND = stored(N_("{python} not found on the host"))
PYTHON_FAILED = stored(N_("{python} failed ({reason})"))
SHELL_FALLBACK_FAILED = stored(N_("{why}, and the shell fallback failed: {reason}"))
SHELL_FALLBACK_USED = stored(N_("{why}: collected the basics with shell commands"))
NOT_READ = stored(N_("could not read {name} ({reason})"))
LOG_MISSING = stored(N_("log file {path} does not exist"))
LOG_UNREADABLE = stored(N_("log file {path} is not readable ({reason})"))
# a file and what the system said of it (the log readers' "path: No such file or
# directory"); the shortest pattern, tried last: the reason is translated when known
PATH_REASON = stored(N_("{path}: {reason}"))
# probe.py writes these (Python 3.6, "%s" formatting there)
PID_RUNNING = stored(N_("{path}: pid {pid} running"))
PID_STALE = stored(N_("{path}: pid {pid} NOT running (stale pid file)"))
JAVA_UNDER = stored(N_("java process under {path}"))
NO_JAVA_UNDER = stored(N_("no java process under {path}"))
NO_PID_FILE_NO_JAVA = stored(N_("{detail}; no java process under {path}"))
PID_FILE_UNREADABLE = stored(N_("no readable {path} ({reason})"))
NO_POSTMASTER = stored(N_("no postgres/postmaster process"))
NO_MESSAGE = stored(N_("no message"))
EXIT_STATUS = stored(N_("exit status {code}"))

# -- the log summariser (lpsectl.collect.logs) -----------------------------------------
SUMMARISER_NO_PYTHON = stored(
    N_(
        "{python} is not installed on {host}; log summaries need Python 3.6 or newer there "
        "(set hosts.python to its path if it is elsewhere)"
    )
)
SUMMARISER_OLD_PYTHON = stored(
    N_("{python} is too old for the log summariser (Python 3.6 or newer needed): {reason}")
)
SUMMARISER_FAILED = stored(N_("the log summariser failed: {reason}"))

# the summariser's warnings about a file (summarize_remote.py writes them, Python 3.6)
GZ_DAMAGED = stored(
    N_("{path}: the compressed file is damaged ({reason}); read up to the damage, the rest skipped")
)
PREFIX_MISMATCH = stored(
    N_(
        "{path}: the configured log_line_prefix {prefix} does not match the file; the detected "
        "{detected} is used (fix hosts.log_line_prefix)"
    )
)
FILE_GONE = stored(N_("{path}: file no longer exists (deleted or rotated away)"))
WRITTEN_AFRESH = stored(
    N_(
        "{path}: was written afresh before the last {size} of its old content could be read "
        "(read budget); those lines are missing"
    )
)
TRUNCATED = stored(
    N_(
        "{path}: file was truncated and no copy of it was found; reading it again from the "
        "start (lines written just before the truncation are missing)"
    )
)
ROTATED_LOST = stored(
    N_(
        "{path}: file was rotated and the previous file was not found; lines written to it "
        "after the last run are missing"
    )
)
BUDGET_LEFT = stored(
    N_(
        "{path}: read {size} this run, up to the read budget (hosts.log_read_mib, "
        "hosts.log_read_seconds); the next runs go on from there ({rest} left)"
    )
)
BUDGET = stored(
    N_(
        "{path}: read {size} this run, up to the read budget (hosts.log_read_mib, "
        "hosts.log_read_seconds); the next runs go on from there"
    )
)
BUDGET_ROTATED = stored(
    N_(
        "{path}: read {size} of the rotated {old} this run, up to the read budget "
        "(hosts.log_read_mib, hosts.log_read_seconds); the next runs go on from there"
    )
)
ALSO_READ = stored(N_("{path}: also read {candidate} (rotated more than once since the last run)"))
QUERIES_NOT_LISTED = stored(
    N_(
        "queries counted in the totals but not listed: {count} (more distinct statements than "
        "one read keeps; {kept} fingerprints listed)"
    )
)
ERRORS_NOT_LISTED = stored(
    N_(
        "error events counted in the totals but not listed: {count} (more distinct errors "
        "than one read keeps; {kept} signatures listed)"
    )
)

# -- psql (lpsectl.collect.postgres) -----------------------------------------------------
ENABLE_STATEMENTS = stored(
    N_(
        "add pg_stat_statements to shared_preload_libraries in postgresql.conf, restart "
        "PostgreSQL, then run CREATE EXTENSION pg_stat_statements; in database {db}"
    )
)
STATEMENTS_NOT_PRELOADED = stored(
    N_("pg_stat_statements is installed but not preloaded on {host}: {hint}")
)
STATEMENTS_NOT_INSTALLED = stored(
    N_("pg_stat_statements is not installed in database {db} on {host}: {hint}")
)
SUDO_REFUSED = stored(
    N_(
        "sudo refused to run psql without a password on {host} ({reason}); allow it in "
        "sudoers (NOPASSWD for psql) or use a role with pg_monitor over TCP in "
        "hosts.postgres.psql"
    )
)
PSQL_NOT_FOUND = stored(N_("{program} not found on {host} (hosts.postgres.psql = {setting}...)"))
DATABASE_MISSING = stored(
    N_('database "{db}" does not exist on {host} (check hosts.postgres.database)')
)
PG_PERMISSION_DENIED = stored(N_("permission denied on {host}: {reason}"))
PG_ROLE_MISSING = stored(N_("PostgreSQL role missing on {host}: {reason}"))
PG_LOGIN_REFUSED = stored(N_("PostgreSQL refused the login on {host}: {reason}"))
PG_CANNOT_CONNECT = stored(N_("cannot connect to PostgreSQL on {host}: {reason}"))
PSQL_FAILED = stored(N_("psql failed on {host}: {reason}"))

# -- the operating system's own words (strerror) inside the messages above ---------------
STRERRORS = [
    stored(N_("Connection refused")),
    stored(N_("Connection timed out")),
    stored(N_("Connection reset by peer")),
    stored(N_("No route to host")),
    stored(N_("Network is unreachable")),
    stored(N_("Name or service not known")),
    stored(N_("Temporary failure in name resolution")),
    stored(N_("Permission denied")),
    stored(N_("permission denied")),
    stored(N_("No such file or directory")),
    stored(N_("No space left on device")),
    # paramiko's NoValidConnectionsError, when every address of the host refused
    stored(N_("Unable to connect to port {port} on {address}")),
]

# -- the change classifier's vocabulary: what a recognised word stands for --------------
WORD_MEMORY_RAM = stored(N_("memory (RAM)"))
WORD_DISK_STORAGE = stored(N_("disk / storage"))
WORD_POWER_SUPPLY = stored(N_("power supply"))
WORD_DISK_CONTROLLER = stored(N_("disk controller"))
WORD_SERVER_HARDWARE = stored(N_("server hardware"))
WORD_NETWORK_INFRASTRUCTURE_DEVICE = stored(N_("network / infrastructure device"))
WORD_OPERATING_SYSTEM = stored(N_("operating system"))
WORD_JAVA_PLATFORM = stored(N_("Java platform"))
WORD_DATABASE_INDEX_ON_SPSE_S_SCHEMA = stored(N_("database index on SPSE's schema"))
WORD_SPSE_QUERY = stored(N_("SPSE query"))
WORD_SPSE_APPLICATION = stored(N_("SPSE application"))
WORD_CONFIGURATION_SETTING = stored(N_("configuration / setting"))
WORD_SERVICE_RESTART_RELOAD = stored(N_("service restart / reload"))
WORD_LOG_SETTING = stored(N_("log setting"))
WORD_MAINTENANCE_JOB_SETTING = stored(N_("maintenance job / setting"))
WORD_TLS_CERTIFICATE_A_FILE_NOT_A_DEVICE = stored(N_("TLS certificate (a file, not a device)"))
WORD_SYSTEM_SETTING_ACCOUNTS_NAMES_ADDRESSES_ = stored(
    N_("system setting (accounts, names, addresses, monitoring)")
)

# -- change classification (lpsectl.analysis.classify, lpsectl.changes; SOP 003 steps 5-6)
# the quoted phrase is the administrator's own words, kept as written
HARDWARE_REASON = stored(
    N_('"{phrase}": adds or replaces {what}, a physical device of the infrastructure')
)
VERSION_REASON = stored(
    N_('"{phrase}": {what} version upgrade{detail}, a major change to the platform')
)
APPLICATION_REASON = stored(
    N_(
        '"{phrase}": changes the {what}, which is LKPP\'s software and cannot be changed '
        "inside the LPSE alone"
    )
)
PARAMETER_REASON = stored(N_('"{phrase}": a configuration parameter'))
WORD_REASON = stored(N_('"{phrase}": {what}'))
PATCH_REASON = stored(N_("a patch/minor release update within the same major version"))
NO_MAJOR_SIGNAL = stored(N_("no hardware, version upgrade or SPSE code change is mentioned"))
UNKNOWN_DANGLING = stored(
    N_(
        '"{phrase}" is mentioned but not what it applies to; the text does not say whether '
        "it is a setting or a device/version change: give --class minor or --class major"
    )
)
UNKNOWN_NOTHING = stored(
    N_(
        "no setting, device, version upgrade or application change was recognised: "
        "give --class minor or --class major"
    )
)
SET_BY_ADMINISTRATOR = stored(N_("set by the administrator with --class {change_class}"))
CLASSIFIER_WOULD_SAY = stored(N_("the classifier would say {change_class}, because:"))
# the form before 2026-12 (one reason holding the classifier's reasons joined by "; ")
CLASSIFIER_WOULD_SAY_OLD = stored(N_("the classifier would say {change_class}: {reasons}"))
FROM_RECOMMENDATION = stored(
    N_("from recommendation {id} ({rule}): the analysis classes it {change_class}")
)
# the change classes as the reasons name them
CLASS_NAMES = [stored(N_("minor")), stored(N_("major"))]
