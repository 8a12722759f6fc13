"""`lpsectl report monthly` (placeholder until the tickets/monthly work lands)."""

from __future__ import annotations

import click

from lpsectl.errors import UsageError


@click.command("monthly")
@click.option("--month", metavar="YYYY-MM", help="Month to report (default: last month).")
def monthly(month: str | None) -> None:
    """The monthly report (Laporan Kinerja Aplikasi SPSE)."""
    raise UsageError("the monthly report is not available in this version yet")
