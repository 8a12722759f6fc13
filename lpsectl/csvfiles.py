"""CSV files as people save them (Excel on Windows, an Indonesian locale): one home
for decoding and dialect detection, shared by ticket exports and the committee
and tender-schedule files.
"""

from __future__ import annotations

import csv

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
