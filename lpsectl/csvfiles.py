"""CSV files as people save them (Excel on Windows, id-ID or en-US; LibreOffice Calc):
one home for decoding, dialect detection and finding the header, shared by the
ticket exports, the committee and tender-schedule files, and the access
requests and account exports.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

#: what Excel writes: UTF-8 with or without a BOM, "Unicode text" (UTF-16 with a BOM),
#: else Windows-1252 ("CSV (Comma delimited)" on an Indonesian Windows)
_BOMS = ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode_text(raw: bytes) -> str:
    """Bytes of a spreadsheet export as text (never raises: CP1252 takes every byte)."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                break
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def sniff_delimiter(text: str) -> str:
    """',' ';' or tab: :class:`csv.Sniffer` on the first lines, else the most frequent in
    the header (Excel in an Indonesian locale writes ';' because ',' is the decimal mark)."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        first_line = text.split("\n", 1)[0]
        return max((",", ";", "\t"), key=first_line.count)


@dataclass
class Table:
    """A spreadsheet export read: its header (names as written), the data rows with the
    line each starts on (a quoted cell may span lines), the delimiter, and what was
    skipped before the header (Excel's ``sep=;`` line, title rows)."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    delimiter: str
    header_line: int
    preamble: int = 0


def _not_text(text: str) -> str | None:
    """What a file is when it is no text at all (a workbook, a PDF, binary)."""
    head = text[:4096]
    if head.startswith("%PDF"):
        return "a PDF document"
    if head.startswith("PK\x03\x04"):
        return "an Excel workbook (.xlsx) or another ZIP file"
    if head.startswith("\xd0\xcf\x11\xe0") or "\x00" in head:
        return "a binary file (an old .xls workbook?)"
    return None


def _delimiter(text: str, names: set[str]) -> str:
    """The delimiter under which a row of the first 20 names the most known columns (a title
    row without delimiters does not mislead it), else :func:`sniff_delimiter`'s."""
    best, best_found = None, 0
    sample = "\n".join(text.splitlines()[:20])
    if names:
        for candidate in (",", ";", "\t"):
            try:
                rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=candidate))
            except csv.Error:
                continue
            found = max((sum(1 for c in row if normal_name(c) in names) for row in rows), default=0)
            if found > best_found:
                best, best_found = candidate, found
    return best or sniff_delimiter(text)


def normal_name(name: str) -> str:
    """A header name compared as people mean it: case, blanks and a BOM ignored."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()


def read_table(text: str, source: str, wanted: Iterable[str] = ()) -> Table:
    """Rows of a CSV as Excel (id-ID or en-US) or LibreOffice Calc saves it.

    - the delimiter: Excel's own ``sep=;`` first line, else :func:`sniff_delimiter`;
    - the header: the first of the first 20 rows naming one of ``wanted`` (a title row
      or a blank row above it, as people leave them, is skipped), else the first row
      that is not empty;
    - fully empty rows (Excel's trailing ``;;;``) are dropped, trailing empty cells too.

    Raises ValueError naming the line and what to change when the file is no CSV."""
    kind = _not_text(text)
    if kind:
        raise ValueError(
            f"{source}: is not a CSV file but {kind}; open it in the spreadsheet and save it as "
            "'CSV UTF-8 (Comma delimited)'"
        )
    lines = text.split("\n", 1)
    delimiter = None
    skipped = 0
    first = lines[0].rstrip("\r\n").strip(' "').lower()
    if first.startswith("sep=") and len(first) == 5:
        delimiter = first[4]
        text = lines[1] if len(lines) > 1 else ""
        skipped = 1
    names = {normal_name(w) for w in wanted}
    if delimiter is None:
        delimiter = _delimiter(text, names)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            while row and not row[-1].strip():
                row = row[:-1]
            rows.append((start + skipped, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ValueError(
            f"{source}:{reader.line_num + skipped}: not readable as CSV ({exc}); save the sheet "
            "again as 'CSV UTF-8 (Comma delimited)'"
        ) from None
    if rows and text.count('"') % 2 and len(rows[-1][1]) and "\n" in rows[-1][1][-1]:
        raise ValueError(
            f"{source}:{rows[-1][0]}: a quote opened on this line is never closed, so every line "
            "after it would be read as one cell; close the quote (or remove it) and save again"
        )
    header_at = None
    best = 0
    for index, (_line, row) in enumerate(rows[:20]):
        # the row naming the most known columns: a title row "Tanggal;2026-11-01" names one
        found = sum(1 for cell in row if normal_name(cell) in names)
        if found > best:
            header_at, best = index, found
    if header_at is None:
        header_at = next(
            (i for i, (_l, row) in enumerate(rows) if any(c.strip() for c in row)), None
        )
    if header_at is None:
        raise ValueError(f"{source}: the file is empty")
    header_line, header = rows[header_at]
    data = [(line, row) for line, row in rows[header_at + 1 :] if any(c.strip() for c in row)]
    return Table(header, data, delimiter, header_line, skipped + header_at)
