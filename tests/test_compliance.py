"""The monthly report's SOP compliance table (Kepatuhan Mutu Baku SOP), from real
maintenance announcements through a real SMTP server (aiosmtpd), one of them held up by
an SMTP outage, an emergency window and one never announced; time frozen."""

from __future__ import annotations

from tests.test_maintenance_cli import NOW, at, lpsectl, schedule, write_config


def test_compliance_counts_each_window_and_flags_the_emergency(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server)
    with at(NOW):  # Selasa, 1 Desember 2026 pukul 09.00 WIB
        on_time = schedule(config, "2026-12-08 07:00")
        assert lpsectl(config, "maintenance", "announce", str(on_time)).exit_code == 0
        emergency = schedule(
            config,
            "2026-12-02 22:00",
            "2h",
            "Penggantian disk basis data",
            "--emergency",
            "--why",
            "Disk server basis data rusak",
        )
        assert lpsectl(config, "maintenance", "announce", str(emergency)).exit_code == 0
        never = schedule(config, "2026-12-10 07:00")
        held_up = schedule(config, "2026-12-15 07:00")
        smtp_server.stop()
        assert lpsectl(config, "maintenance", "announce", str(held_up)).exit_code == 5
    smtp_server.start()
    with at("2026-12-01 02:50:00+00:00"):  # the mails leave 50 minutes after announcing
        assert lpsectl(config, "outbox", "flush").exit_code == 0
    with at("2026-12-31 10:00:00+00:00"):
        shown = {
            w: lpsectl(config, "maintenance", "show", str(w), "--format", "json").json()
            for w in (on_time, emergency, held_up)
        }
        report = lpsectl(config, "report", "monthly", "--month", "2026-12", "--format", "json")
        text = lpsectl(config, "report", "monthly", "--month", "2026-12").stdout
    assert report.exit_code == 0, report.stderr
    rows = {r["step"]: r for r in report.json()["compliance"]["rows"]}

    # the notice: on time (7 days) and held up (14 days) met; the emergency not judged but
    # listed; the window never announced whose start has passed is a breach
    notice = rows["000-notice"]
    assert (notice["assessed"], notice["met"], notice["breached"]) == (3, 2, 1)
    assert notice["worst"] == f"jadwal {never} tidak diumumkan"  # [lpse] language: id
    (flagged,) = report.json()["compliance"]["emergencies"]
    assert flagged["window"] == emergency and flagged["reason"] == "Disk server basis data rusak"

    # helpdesk: one mail per announced window; the held-up one left 50 minutes after,
    # 20 minutes past the 30 (the same figures `maintenance show` gives per window)
    helpdesk = rows["000-helpdesk"]
    assert (helpdesk["assessed"], helpdesk["met"], helpdesk["breached"]) == (3, 2, 1)
    assert helpdesk["worst_minutes"] == 20 and helpdesk["worst"].startswith("terlambat 20 menit")
    per_window = [
        c for w in shown.values() for c in w["sop"] if c["check"] == "committee within 30 minutes"
    ]
    committee = rows["000-committee"]
    assert committee["assessed"] == len(per_window)
    assert committee["met"] == sum(1 for c in per_window if c["ok"])
    assert committee["breached"] == sum(1 for c in per_window if c["ok"] is False)

    # the Indonesian document shows the table and the emergency with its reason
    assert "8. Kepatuhan Mutu Baku SOP" in text
    assert (
        "| 000 | Helpdesk diberi tahu tentang pemeliharaan | 30 menit | 3 | 2 | 1 | terlambat 20 menit"
        in text
    )
    assert "Disk server basis data rusak" in text
    # no ticket export and no account requests: said, not shown as perfect compliance
    assert rows["001-response"]["note"] == "tidak ada tiket pada periode ini"
    assert rows["004-check"]["assessed"] == 0 and rows["004-check"]["note"]


def test_a_committee_address_refused_in_time_is_a_breach_without_a_negative_delay(
    scripted_smtp, tmp_path
):
    """The mails left at once, but the server answered 550 to one Pokja: the committee
    step is breached (the helpdesk must phone that Pokja), and the worst case says so —
    never "late by minus 30 minutes"."""
    server = scripted_smtp(rcpt_replies={"pokja2@contoh.example": "550 5.1.1 mailbox unavailable"})
    config = write_config(tmp_path, server)
    with at(NOW):
        window = schedule(config, "2026-12-08 07:00")
        lpsectl(config, "maintenance", "announce", str(window))
    with at("2026-12-31 10:00:00+00:00"):
        shown = lpsectl(config, "maintenance", "show", str(window), "--format", "json").json()
        report = lpsectl(config, "report", "monthly", "--month", "2026-12", "--format", "json")
    rows = {r["step"]: r for r in report.json()["compliance"]["rows"]}
    committee = next(c for c in shown["sop"] if c["check"] == "committee within 30 minutes")
    assert committee["ok"] is False and committee["actual_minutes"] is None
    assert (rows["000-committee"]["assessed"], rows["000-committee"]["breached"]) == (1, 1)
    assert rows["000-committee"]["worst"] == "belum semua e-mail terkirim"
    assert rows["000-committee"]["worst_minutes"] is None  # no duration: not a number in JSON
    assert (rows["000-helpdesk"]["met"], rows["000-helpdesk"]["breached"]) == (1, 0)


def test_worst_cases_rank_untimed_breaches_first_and_use_working_hours():
    from lpsectl.compliance import WORDS, _late, _row, _ticket_rows, _untimed

    words = {k: v for k, v in WORDS.items()}
    row = _row("000-notice", "3 days", {"000-notice": "notice"})
    _late(row, 90, "a", "en", words)
    _untimed(row, "window 7 was not announced")
    _late(row, 10_000, "b", "en", words)  # longer, but a never-announced window is worse
    _late(row, -5, "c", "en", words)  # not an overrun: ignored
    assert row["worst"] == "window 7 was not announced"

    summary = {
        "total": 1,
        "clock": {"clock": "working"},
        "limits": {"response_minutes": 30, "priority_minutes": 30, "data_reply_minutes": 15},
        "sla": {
            n: {"judged": 1, "met": 0, "breached": 1, "percent": 0.0}
            for n in ("response", "priority", "data_reply", "resolution")
        },
        "breaches": [
            {"check": "resolution", "number": "T-1", "actual_minutes": 9000, "target_minutes": 480}
        ],
    }
    labels = {f"001-{n}": n for n in ("response", "priority", "data_reply", "resolution")}
    resolution = _ticket_rows(summary, labels, words, "en")[3]
    # 8,520 working minutes past the limit: 142 working hours, not "5 days 22 hours"
    assert resolution["worst"] == "142 working hours late (T-1)"
