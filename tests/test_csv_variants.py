"""One reader for every spreadsheet export (issue 15): whatever Excel (id-ID, en-US) or
LibreOffice Calc writes when saving a CSV, the four imports read the same rows.

Each variant is made here from one table, the way those programs write it: the
delimiter (',' or ';' — id-ID Excel, where ',' is the decimal mark — or a tab for
"Unicode text"), the encoding (UTF-8 with or without a BOM, Windows-1252, UTF-16),
CRLF lines, Excel's ``sep=;`` first line, a title row and a blank row above the
header, quoted cells holding the delimiter and a line break, trailing empty columns
and rows. The expected value is the canonical variant's result.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lpsectl import access
from lpsectl import tickets as ticket_core
from lpsectl.committees import read_committees, read_tender_schedule
from lpsectl.config import parse_config
from lpsectl.csvfiles import read_table

WIB = ZoneInfo("Asia/Jakarta")


def write_variant(path: Path, rows: list[list[str]], variant: str) -> Path:
    delimiter = {"comma": ",", "semicolon": ";", "tab": "\t"}[variant.split("-")[0]]

    def cell(value: str) -> str:
        if any(c in value for c in (delimiter, '"', "\n")):
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [
        delimiter.join(cell(v) for v in row) + delimiter * ("trailing" in variant) for row in rows
    ]
    if "title" in variant:
        lines = ["Ekspor dari SPSE " + delimiter * 2, "", *lines]
    if "sep" in variant:
        lines = [f"sep={delimiter}", *lines]
    if "trailing" in variant:
        lines += [delimiter * 3, ""]
    newline = "\r\n" if "crlf" in variant else "\n"
    text = newline.join(lines) + newline
    encoding = {"bom": "utf-8-sig", "cp1252": "cp1252", "utf16": "utf-16"}.get(
        variant.split("-")[-1], "utf-8"
    )
    path.write_bytes(text.encode(encoding))
    return path


VARIANTS = [
    "comma",
    "comma-bom",  # Excel "CSV UTF-8"
    "semicolon-crlf-cp1252",  # Excel id-ID "CSV (semicolon)" on Windows
    "semicolon-sep-crlf-bom",  # Excel with its sep=; line
    "tab-crlf-utf16",  # Excel "Unicode text"
    "comma-title",  # a title row and a blank row above the header
    "semicolon-trailing-crlf",  # LibreOffice: empty columns and rows at the end
]

TICKETS = [
    ["No Tiket", "Tanggal Dibuat", "Judul", "Uraian", "Prioritas", "Status"],
    [
        "T-1",
        "02/11/2026 08.15",
        "Gagal unggah; dokumen",
        'Pesan "galat"\nbaris dua',
        "Tinggi",
        "Proses",
    ],
    ["T-2", "2026-11-03 09:00", "Lupa kata sandi", "Café Pokja", "Rendah", "Selesai"],
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_ticket_exports(tmp_path, variant):
    settings = ticket_core.ticket_settings(parse_config({}))
    canonical = ticket_core.read_export(
        write_variant(tmp_path / "a.csv", TICKETS, "comma"), settings, WIB
    )
    parsed = ticket_core.read_export(
        write_variant(tmp_path / "b.csv", TICKETS, variant), settings, WIB
    )
    assert parsed.problems == []
    assert [
        (t.number, t.opened_at, t.subject, t.description, t.priority) for t in parsed.tickets
    ] == [(t.number, t.opened_at, t.subject, t.description, t.priority) for t in canonical.tickets]
    assert parsed.tickets[0].opened_at == datetime(2026, 11, 2, 8, 15, tzinfo=WIB)
    assert parsed.tickets[1].description == "Café Pokja"


COMMITTEES = [
    ["name", "email", "satker"],
    ["Pokja Pemilihan 1", "pokja1@contoh.example", "Dinas PU; Bina Marga"],
]
SCHEDULE = [
    ["kode_tender", "nama_paket", "pokja", "tahap", "mulai", "selesai"],
    [
        "10001",
        "Paket, Rehab",
        "Pokja Pemilihan 1",
        "Pengumuman",
        "2026-12-08 08:00",
        "2026-12-11 12:00",
    ],
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_committees_and_tender_schedules(tmp_path, variant):
    committees = read_committees(write_variant(tmp_path / "c.csv", COMMITTEES, variant))
    assert [(c.name, c.emails, c.satker) for c in committees] == [
        ("Pokja Pemilihan 1", ["pokja1@contoh.example"], "Dinas PU; Bina Marga")
    ] and committees.problems == []
    (stage,) = read_tender_schedule(write_variant(tmp_path / "s.csv", SCHEDULE, variant), WIB)
    assert (stage.package, stage.end) == ("Paket, Rehab", datetime(2026, 12, 11, 12, tzinfo=WIB))


REQUESTS = [
    ["action", "role", "name", "nip", "agency", "phone", "email"],
    [
        "activate",
        "ppk",
        "Budi Santoso",
        "198502282010011003",
        "Dinas; Umum",
        "081234567890",
        "b@c.go.id",
    ],
]
ACCOUNTS = [
    ["nip", "nama", "peran", "status"],
    ["198502282010011003", "Budi Santoso", "ppk", "aktif"],
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_access_batches_and_account_exports(tmp_path, variant):
    rows, errors = access.parse_batch(write_variant(tmp_path / "r.csv", REQUESTS, variant), WIB)
    assert errors == [] and [(r.request.name, r.request.agency) for r in rows] == [
        ("Budi Santoso", "Dinas; Umum")
    ]
    accounts = access.read_accounts_csv(write_variant(tmp_path / "a.csv", ACCOUNTS, variant))
    assert accounts == [
        {"nip": "198502282010011003", "name": "Budi Santoso", "role": "ppk", "status": "aktif"}
    ]


def test_a_file_that_is_no_csv_names_the_line_and_what_to_do():
    with pytest.raises(ValueError, match=r"x.csv:2: not readable as CSV .*save the sheet again"):
        read_table(
            'a,b\n"' + "x" * 200_000 + '",z\n', "x.csv"
        )  # beyond the csv module's cell limit
    with pytest.raises(ValueError, match="is empty"):
        read_table("\n\n", "x.csv")


def test_dates_as_excel_writes_them_in_each_locale(tmp_path):
    """Break-test: en-US month-first dates were read day-first without a word."""
    settings = ticket_core.ticket_settings(parse_config({}))
    rows = [
        ["No Tiket", "Tanggal Dibuat", "Tanggal Selesai"],
        ["V-1", "11/2/2026 8:15 AM", "11/2/2026 9:15 AM"],
        ["V-2", "11/25/2026 2:05 PM", "11/26/2026 10:00 AM"],
    ]
    parsed = ticket_core.read_export(
        write_variant(tmp_path / "us.csv", rows, "comma-cp1252"), settings, WIB
    )
    assert parsed.problems == []
    assert [t.opened_at for t in parsed.tickets] == [
        datetime(2026, 11, 2, 8, 15, tzinfo=WIB),
        datetime(2026, 11, 25, 14, 5, tzinfo=WIB),
    ]
    rows = [["No Tiket", "Tanggal Dibuat"], ["D-1", "2-Nov-26 8:15"], ["D-2", "25/11/2026 08.00"]]
    parsed = ticket_core.read_export(
        write_variant(tmp_path / "id.csv", rows, "semicolon"), settings, WIB
    )
    assert [t.opened_at for t in parsed.tickets] == [
        datetime(2026, 11, 2, 8, 15, tzinfo=WIB),
        datetime(2026, 11, 25, 8, 0, tzinfo=WIB),
    ]
    schedule = [
        SCHEDULE[0],
        ["1", "Paket", "Pokja 1", "Penjelasan", "25/11/2026 08.00", "27/11/2026 15.00"],
    ]
    (stage,) = read_tender_schedule(write_variant(tmp_path / "s.csv", schedule, "semicolon"), WIB)
    assert stage.end == datetime(2026, 11, 27, 15, tzinfo=WIB)


def test_files_that_are_no_csv_and_misleading_preambles(tmp_path):
    settings = ticket_core.ticket_settings(parse_config({}))
    for name, data, words in (
        ("pdf.csv", b"%PDF-1.4\n1 0 obj", "a PDF document"),
        ("xlsx.csv", b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook"),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(Exception, match=words):
            ticket_core.read_export(path, settings, WIB)
    # a title row without delimiters, and a preamble row naming one known column
    text = "Laporan Tiket\nTanggal Dibuat;2026-11-01\nNo Tiket;Tanggal Dibuat;Judul\nT-1;2026-11-02 08:00;a\n"
    path = tmp_path / "pre.csv"
    path.write_text(text, encoding="utf-8")
    parsed = ticket_core.read_export(path, settings, WIB)
    assert [(t.number, t.subject) for t in parsed.tickets] == [("T-1", "a")]
    # an unclosed quote would swallow every later row into one cell: refused with its line
    path.write_text(
        'No Tiket,Tanggal Dibuat,Judul\nT-1,2026-11-02 08:00,"tidak ditutup\nT-2,2026-11-03 08:00,b\n'
    )
    with pytest.raises(Exception, match=r"pre.csv:2: a quote opened on this line is never closed"):
        ticket_core.read_export(path, settings, WIB)


def test_an_account_export_names_the_values_it_cannot_read():
    """Break-test: an unreadable decree end or status was taken silently."""
    import tempfile

    rows = [
        ["nip", "nama", "peran", "status", "berlaku_sampai"],
        ["198502282010011003", "Budi", "ppk", "aktif", "31-Dec-26"],
        ["198502282010011004", "Sri", "ppk", "ya ampun", "31/02/2026"],
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = write_variant(Path(folder) / "akun.csv", rows, "semicolon")
        problems: list[str] = []
        accounts = access.read_accounts_csv(path, problems)
    assert [a["name"] for a in accounts] == ["Budi", "Sri"]  # both still listed
    assert len(problems) == 2
    assert problems[0].endswith(
        "akun.csv:3: status 'ya ampun' is neither active nor inactive; listed as active"
    )
    assert "akun.csv:3: berlaku_sampai '31/02/2026' is not a date" in problems[1]
    assert access.parse_day("31-Dec-26") == datetime(2026, 12, 31).date()
