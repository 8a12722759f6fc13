"""TOML configuration → validated dataclasses.

Every error names the file, the key and what is wrong. Feature sections
(``[maintenance]``, ``[tickets]``, ...) are declared by the feature module as
a dataclass and read with :func:`load_section`, so this module does not need
to know every feature.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import tomllib
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lpsectl.errors import ConfigError, UsageError

ROLES = ("app", "db")
LANGUAGES = ("id", "en")
LOCAL_ADDRESS = "local"

#: Sections owned by feature modules; their content is validated by them.
FEATURE_SECTIONS = (
    "maintenance",
    "tickets",
    "access",
    "schedule",
    "thresholds",
    "analysis",
    "logs",
    "cron",
    "store",
    "checks",
    "notify",
    "usage",
)
#: feature sections that are arrays of tables ([[checks]])
ARRAY_SECTIONS = ("checks",)


@dataclass
class LpseSettings:
    name: str = "LPSE"
    timezone: str = "Asia/Jakarta"
    language: str = "id"
    data_dir: str = ""
    database_url: str = ""
    templates_dir: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass
class SshSettings:
    known_hosts: str = "~/.ssh/known_hosts"
    key_file: str = ""
    user: str = ""
    connect_timeout: float = 10.0
    #: a command with no output for this long is given up (idle timeout, seconds)
    command_timeout: float = 120.0
    #: the whole conversation with one host in one run, connect included (deadline, seconds)
    host_timeout: float = 300.0
    #: a command's stdout (and its stderr, each) may not exceed this many bytes
    max_output_bytes: int = 16 * 1024 * 1024
    parallel: int = 16
    ssh_config: str = "~/.ssh/config"
    #: a file holding the passphrase of an encrypted key_file (the ssh-agent is the better way)
    key_passphrase_file: str = ""


@dataclass
class PostgresSettings:
    database: str = "epns_prod"
    psql: list[str] = field(default_factory=lambda: ["psql"])
    user: str = ""
    port: int = 0


@dataclass
class HostConfig:
    name: str
    role: list[str] = field(default_factory=list)
    address: str = LOCAL_ADDRESS
    port: int = 22
    user: str = ""
    key_file: str = ""
    python: str = "python3"
    app_home: str = "/home/appserv/spse"
    logs: list[str] = field(default_factory=list)
    log_line_prefix: str = ""
    log_format: str = ""
    log_stale_minutes: int = 60
    #: how much of each log file one collect run reads at most (MiB); the rest the next runs
    log_read_mib: int = 512
    #: how long one collect run reads the host's logs at most (seconds, all files)
    log_read_seconds: float = 60.0
    postgres: PostgresSettings | None = None
    #: the proxy's access logs (files, globs, strftime patterns), read for SPSE's usage
    access_logs: list[str] = field(default_factory=list)
    #: their layout: combined, common, or the server's nginx log_format / Apache LogFormat
    access_log_format: str = "combined"
    #: the [usage] settings the access logs are read with (filled from the section)
    usage: dict[str, Any] = field(default_factory=dict, metadata={"config": False})

    @property
    def is_local(self) -> bool:
        return self.address == LOCAL_ADDRESS

    def has_role(self, role: str) -> bool:
        return role in self.role


@dataclass
class MailSettings:
    smtp_host: str = "localhost"
    smtp_port: int = 25
    starttls: bool = False
    ssl: bool = False
    #: AUTH over an unencrypted connection only when this is set explicitly
    allow_plain_auth: bool = False
    username: str = ""
    password_file: str = ""
    #: PEM file of the CA (or the self-signed certificate) the mail server's TLS is checked against
    ca_file: str = ""
    timeout: float = 30.0
    #: a message the server keeps deferring (4xx) is given up (``failed``) after this many hours
    retry_hours: float = 72.0
    sender: str = "lpsectl <lpsectl@localhost>"
    helpdesk: list[str] = field(default_factory=list)
    head: list[str] = field(default_factory=list)
    committees_file: str = ""


@dataclass
class Config:
    lpse: LpseSettings = field(default_factory=LpseSettings)
    ssh: SshSettings = field(default_factory=SshSettings)
    hosts: list[HostConfig] = field(default_factory=list)
    mail: MailSettings = field(default_factory=MailSettings)
    #: raw feature sections, read through :func:`load_section`
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: where the config came from ("<embedded default>" when none)
    source: str = "<embedded default>"

    @property
    def tz(self) -> ZoneInfo:
        return self.lpse.tz

    def host(self, name: str) -> HostConfig:
        for host in self.hosts:
            if host.name == name:
                return host
        known = ", ".join(h.name for h in self.hosts) or "none"
        raise UsageError(f"no host named {name!r} in {self.source} (known hosts: {known})")

    @property
    def data_dir(self) -> Path:
        if self.lpse.data_dir:
            return Path(self.lpse.data_dir).expanduser()
        return default_data_dir()


def default_data_dir() -> Path:
    if os.geteuid() == 0 and not os.environ.get("XDG_DATA_HOME"):
        return Path("/var/lib/lpsectl")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lpsectl"


def config_search_path(explicit: str | None = None) -> list[Path]:
    """Where a config is looked for, in order (the first that exists wins)."""
    if explicit:
        return [Path(explicit).expanduser()]
    paths = []
    if os.environ.get("LPSECTL_CONFIG"):
        paths.append(Path(os.environ["LPSECTL_CONFIG"]).expanduser())
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    paths.append(Path(xdg) / "lpsectl" / "lpsectl.toml")
    paths.append(Path("/etc/lpsectl/lpsectl.toml"))
    return paths


def embedded_default() -> Config:
    """No config file at all: the local host only, history in the data dir."""
    return Config(hosts=[HostConfig(name=socket.gethostname() or "localhost")])


def load_config(explicit: str | None = None) -> Config:
    paths = config_search_path(explicit)
    for path in paths:
        if path.exists():
            return load_config_file(path)
    if explicit or os.environ.get("LPSECTL_CONFIG"):
        raise ConfigError(f"{paths[0]}: config file not found")
    return embedded_default()


def load_config_file(path: Path) -> Config:
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read config file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: config file is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from exc
    return parse_config(raw, source)


def parse_config(raw: dict[str, Any], source: str = "<config>") -> Config:
    known = {"lpse", "ssh", "hosts", "mail", *FEATURE_SECTIONS}
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"{source}: unknown section [{key}] (known: {', '.join(sorted(known))})"
            )
    config = Config(source=source)
    config.lpse = _build(LpseSettings, raw.get("lpse", {}), source, "lpse")
    config.ssh = _build(SshSettings, raw.get("ssh", {}), source, "ssh")
    config.mail = _build(MailSettings, raw.get("mail", {}), source, "mail")
    _check_lpse(config.lpse, source)
    _check_ssh(config.ssh, source)
    _check_mail(config.mail, source)
    hosts_raw = raw.get("hosts", None)
    if hosts_raw is None:
        config.hosts = embedded_default().hosts
    else:
        if not isinstance(hosts_raw, list):
            raise ConfigError(f"{source}: 'hosts' must be an array of tables ([[hosts]])")
        config.hosts = [_parse_host(h, source, i) for i, h in enumerate(hosts_raw)]
        _check_unique_names(config.hosts, source)
    config.sections = {name: raw[name] for name in FEATURE_SECTIONS if name in raw}
    for name, value in config.sections.items():
        if name in ARRAY_SECTIONS:
            if not isinstance(value, list):
                raise ConfigError(f"{source}: '{name}' must be an array of tables ([[{name}]])")
        elif not isinstance(value, dict):
            raise ConfigError(f"{source}: [{name}] must be a table")
    if config.sections:
        # each feature section through its own schema, now rather than when first used
        from lpsectl.sections import check_feature_sections

        check_feature_sections(config)
    if any(host.access_logs for host in config.hosts):
        from dataclasses import asdict

        from lpsectl.usage import usage_settings

        settings = asdict(usage_settings(config))
        # $msec logs carry no zone: their days are taken in the LPSE's
        offset = datetime.now(config.lpse.tz).utcoffset() or timedelta(0)
        settings["utc_offset_minutes"] = int(offset.total_seconds() // 60)
        for host in config.hosts:
            host.usage = settings
    return config


S = TypeVar("S")


def load_section(config: Config, name: str, cls: type[S]) -> S:
    """Read feature section ``[name]`` into dataclass ``cls`` (defaults when absent).

    A dotted name reads a sub-table: ``"thresholds.host"`` is ``[thresholds.host]``.
    """
    top, *rest = name.split(".")
    raw: Any = config.sections.get(top, {})
    for part in rest:
        raw = raw.get(part, {}) if isinstance(raw, dict) else raw
    return _build(cls, raw, config.source, name)


def _parse_host(raw: Any, source: str, index: int) -> HostConfig:
    where = f"hosts[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {where} must be a table")
    if "name" not in raw:
        raise ConfigError(f"{source}: {where}.name is required")
    raw = dict(raw)
    if isinstance(raw.get("role"), str):
        raw["role"] = [raw["role"]]
    if isinstance(raw.get("postgres"), dict):
        pg = dict(raw["postgres"])
        if isinstance(pg.get("psql"), str):
            # an argv written as one string is split, never handed to a shell
            import shlex

            pg["psql"] = shlex.split(pg["psql"])
        raw["postgres"] = _build(PostgresSettings, pg, source, f"{where}.postgres")
    elif "postgres" in raw:
        raise ConfigError(f"{source}: {where}.postgres must be a table")
    host = _build(HostConfig, raw, source, where, skip={"postgres"})
    host.postgres = raw.get("postgres")
    name_where = f"{where} ({host.name!r})"
    if not host.name or not all(c.isalnum() or c in "-_." for c in host.name):
        raise ConfigError(
            f"{source}: {where}.name {host.name!r} may contain only letters, digits, '-', '_' and '.'"
        )
    for role in host.role:
        if role not in ROLES:
            raise ConfigError(
                f"{source}: {name_where}.role: unknown role {role!r} (expected one of: {', '.join(ROLES)})"
            )
    if not 1 <= host.port <= 65535:
        raise ConfigError(
            f"{source}: {name_where}.port: {host.port} is not a port number (1-65535)"
        )
    if not host.address:
        raise ConfigError(f'{source}: {name_where}.address is empty (use "local" for this machine)')
    if not (host.log_read_mib >= 1 and 1 <= host.log_read_seconds < float("inf")):  # nan fails too
        raise ConfigError(
            f"{source}: {name_where}.log_read_mib and log_read_seconds must be at least 1"
        )
    if host.access_logs:
        from lpsectl.logs.access_remote import access_format

        try:
            access_format(host.access_log_format)
        except ValueError as exc:
            raise ConfigError(f"{source}: {name_where}.access_log_format: {exc}") from None
    if host.has_role("db") and host.postgres is None:
        host.postgres = PostgresSettings()
    if host.postgres is not None and not host.postgres.psql:
        raise ConfigError(f"{source}: {name_where}.postgres.psql is empty")
    return host


def _check_unique_names(hosts: list[HostConfig], source: str) -> None:
    seen: set[str] = set()
    for host in hosts:
        if host.name in seen:
            raise ConfigError(f"{source}: host name {host.name!r} appears twice in [[hosts]]")
        seen.add(host.name)


def _check_lpse(lpse: LpseSettings, source: str) -> None:
    try:
        ZoneInfo(lpse.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{source}: lpse.timezone: unknown time zone {lpse.timezone!r} "
            "(use Asia/Jakarta, Asia/Makassar or Asia/Jayapura)"
        ) from exc
    if lpse.language not in LANGUAGES:
        raise ConfigError(f"{source}: lpse.language: {lpse.language!r} is not one of: id, en")


def _check_ssh(ssh: SshSettings, source: str) -> None:
    if ssh.parallel < 1:
        raise ConfigError(f"{source}: ssh.parallel must be at least 1")
    if ssh.connect_timeout <= 0:
        raise ConfigError(f"{source}: ssh.connect_timeout must be positive")
    if ssh.command_timeout <= 0 or ssh.host_timeout <= 0:
        raise ConfigError(f"{source}: ssh.command_timeout and ssh.host_timeout must be positive")
    if not 64 * 1024 <= ssh.max_output_bytes <= 1024**3:
        raise ConfigError(f"{source}: ssh.max_output_bytes must be between 65536 and 1073741824")


def _check_mail(mail: MailSettings, source: str) -> None:
    from lpsectl.addresses import AddressError, describe, encode_domain, is_ascii, parse_address

    for key in ("sender", "helpdesk", "head"):
        value = getattr(mail, key)
        for index, text in enumerate(value if isinstance(value, list) else [value]):
            where = f"mail.{key}" + (f"[{index}]" if isinstance(value, list) else "")
            try:
                parse_address(text)
            except AddressError as exc:
                raise ConfigError(f"{source}: {where}: {exc}") from exc
    if not is_ascii(parse_address(mail.sender)):
        raise ConfigError(
            f"{source}: mail.sender: {describe(mail.sender)} has non-ASCII letters before "
            "the '@'; many mail servers cannot carry that (no SMTPUTF8): use an ASCII address"
        )
    try:
        host_ok = bool(mail.smtp_host) and (
            _is_ip(mail.smtp_host) or bool(encode_domain(mail.smtp_host))
        )
    except AddressError:
        host_ok = False
    if not host_ok:
        raise ConfigError(
            f"{source}: mail.smtp_host: {describe(mail.smtp_host)} is not a host name or IP address"
        )
    if mail.ca_file:
        path = Path(mail.ca_file).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"{source}: mail.ca_file: {path} is not a readable file "
                "(a PEM certificate of the CA that signed the mail server's certificate)"
            )
    if mail.ssl and mail.starttls:
        raise ConfigError(
            f"{source}: mail.ssl and mail.starttls are both true; "
            "use ssl for port 465 or starttls for port 587, not both"
        )
    if mail.username and not (mail.ssl or mail.starttls or mail.allow_plain_auth):
        raise ConfigError(
            f"{source}: mail.username is set but neither mail.starttls nor mail.ssl is: the SMTP "
            "password would cross the network in clear text; set starttls = true (port 587) or "
            "ssl = true (port 465), or allow_plain_auth = true if the server is on this machine"
        )
    if not 0 < mail.timeout <= 600:
        raise ConfigError(f"{source}: mail.timeout must be between 0 and 600 seconds")
    if not 0 < mail.retry_hours <= 24 * 30:
        raise ConfigError(f"{source}: mail.retry_hours must be between 0 and 720")
    if not 1 <= mail.smtp_port <= 65535:
        raise ConfigError(
            f"{source}: mail.smtp_port: {mail.smtp_port} is not a port number (1-65535)"
        )


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _build(
    cls: type[S], raw: Any, source: str, where: str, skip: frozenset[str] | set[str] = frozenset()
) -> S:
    """Instantiate dataclass ``cls`` from ``raw``, checking names and types."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [{where}] must be a table")
    hints = typing.get_type_hints(cls)
    # a field with metadata {"config": False} is filled by code, never a key of the file
    fields = {
        f.name: f
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.metadata.get("config", True)
    }
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            raise ConfigError(
                f"{source}: {where}.{key}: unknown key (known: {', '.join(sorted(fields))})"
            )
        if key in skip:
            continue
        kwargs[key] = _coerce(value, hints[key], source, f"{where}.{key}")
    missing = [
        name
        for name, f in fields.items()
        if name not in kwargs
        and name not in skip
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{source}: {where}.{missing[0]} is required")
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, source: str, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, non_none[0], source, where)
    if origin is list:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ConfigError(f"{source}: {where}: expected a list, got {_tname(value)}")
        return [
            _coerce(v, args[0] if args else Any, source, f"{where}[{i}]")
            for i, v in enumerate(value)
        ]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {where}: expected a table, got {_tname(value)}")
        return value
    if hint is Any:
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{source}: {where}: expected a number, got {_tname(value)}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: {where}: expected a whole number, got {_tname(value)}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {where}: expected true or false, got {_tname(value)}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: {where}: expected a string, got {_tname(value)}")
        return value
    return value


def _tname(value: Any) -> str:
    return {
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__) + f" ({value!r})"[:60]
