"""`lpsectl outbox list | show | flush` with a real SMTP server (plain and STARTTLS + AUTH)."""

from __future__ import annotations

from pathlib import Path

from freezegun import freeze_time

from lpsectl import mail
from lpsectl.config import load_config_file
from lpsectl.lock import job_lock
from lpsectl.store import open_store
from tests.fixtures.common import run_cli
from tests.fixtures.smtp import TLS_PASSWORD

DATA = Path(__file__).parent / "data"
REAL_CLOCK = ["asyncio", "aiosmtpd", "smtplib", "ssl", "socket", "selectors"]
NOW = "2026-12-01 02:00:00+00:00"


def write_config(
    tmp_path: Path, server, password_file: Path | None = None, starttls: str = ""
) -> str:
    path = tmp_path / "lpsectl.toml"
    path.write_text(
        "[lpse]\n"
        'name = "LPSE Kabupaten Uji"\n'
        f'data_dir = "{tmp_path / "data"}"\n\n'
        + server.mail_toml(
            password_file=password_file,
            extra=f'committees_file = "{DATA / "pokja.csv"}"\n' + starttls,
        )
        + f'\n[maintenance]\noutput_dir = "{tmp_path / "out"}"\n',
        encoding="utf-8",
    )
    return str(path)


def spool(config_path: str, count: int) -> list[int]:
    """Put messages in the outbox the way any feature does: build + enqueue."""
    config = load_config_file(Path(config_path))
    with open_store(config) as store:
        return [
            mail.queue_message(
                store,
                mail.build_message(
                    config, to=[f"p{i}@uji.example"], subject=f"Laporan {i}", text=f"isi {i}"
                ),
                "report-daily",
            ).id
            for i in range(count)
        ]


def test_list_shows_what_waits_and_why(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server)
    ids = spool(config, 2)
    smtp_server.stop()
    failed = run_cli("--config", config, "outbox", "flush")
    listed = run_cli("--config", config, "outbox", "list", "--format", "json")
    table = run_cli("--config", config, "outbox", "list")
    assert failed.exit_code == 5
    assert "2 message(s) wait in the outbox" in failed.stderr
    rows = listed.json()
    assert [r["id"] for r in rows] == ids
    assert set(rows[0]) >= {
        "id",
        "message_id",
        "purpose",
        "ref",
        "recipients",
        "subject",
        "status",
        "attempts",
        "created_at",
        "last_attempt_at",
        "last_error",
        "sent_at",
    }
    assert [r["address"] for r in rows[0]["recipients"]] == ["p0@uji.example"]
    assert rows[0]["status"] == "queued" and rows[0]["recipients"][0]["status"] == "queued"
    assert rows[0]["last_attempt_at"].endswith("+07:00")  # ISO 8601 with offset, LPSE zone
    assert "cannot use the SMTP server" in table.stdout and "Laporan 0" in table.stdout


def test_flush_dry_run_shows_exactly_what_would_go_and_sends_nothing(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server)
    spool(config, 2)
    text = run_cli("--config", config, "outbox", "flush", "--dry-run")
    data = run_cli("--config", config, "outbox", "flush", "--dry-run", "--format", "json").json()
    assert "2 message(s) would be sent now" in text.stdout
    assert "To: p1@uji.example" in text.stdout and "isi 1" in text.stdout
    assert [d["message"]["subject"] for d in data] == ["Laporan 0", "Laporan 1"]
    assert smtp_server.received == []
    shown = run_cli("--config", config, "outbox", "show", "1")
    assert "Subject: Laporan 0" in shown.stdout and "Message-ID: <" in shown.stdout


def test_flush_is_serialised_by_a_lock(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server)
    spool(config, 1)
    with job_lock(tmp_path / "data", "outbox"):
        blocked = run_cli("--config", config, "outbox", "flush")
    assert blocked.exit_code == 6 and "another 'outbox' run" in blocked.stderr
    assert smtp_server.received == []
    assert run_cli("--config", config, "outbox", "flush").exit_code == 0
    assert len(smtp_server.received) == 1


def test_announce_over_starttls_with_auth(smtp_tls_server, tmp_path):
    secret = tmp_path / "smtp.secret"
    secret.write_text(TLS_PASSWORD)
    config = write_config(tmp_path, smtp_tls_server, password_file=secret)
    with freeze_time(NOW, ignore=REAL_CLOCK):
        scheduled = run_cli(
            "--config",
            config,
            "maintenance",
            "schedule",
            "--start",
            "2026-12-08 07:00",
            "--duration",
            "2h",
            "--reason",
            "Ganti server",
            "--format",
            "json",
        )
        announced = run_cli(
            "--config", config, "maintenance", "announce", str(scheduled.json()["id"])
        )
    assert announced.exit_code == 0, announced.stderr
    assert len(smtp_tls_server.received) == 6
    assert TLS_PASSWORD not in announced.stdout + announced.stderr


def test_plain_smtp_against_a_tls_only_server_waits_with_the_servers_reason(
    smtp_tls_server, tmp_path
):
    config = write_config(tmp_path, smtp_tls_server, starttls="")
    # mail_toml turns starttls and login on for a TLS server; drop both to play a wrong config
    text = Path(config).read_text().replace("starttls = true", "starttls = false")
    text = text.replace('username = "lpse"', "")
    Path(config).write_text(text)
    spool(config, 1)
    result = run_cli("--config", config, "outbox", "flush")
    assert result.exit_code == 4  # the config must change (STARTTLS), not the message
    assert "530" in result.stderr and "1 message(s) wait in the outbox" in result.stderr
