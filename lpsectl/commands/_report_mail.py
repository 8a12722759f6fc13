"""`--email` of `report daily` and `report monthly`: the core delivers, this says so."""

from __future__ import annotations

from typing import Any

from lpsectl.commands._common import info
from lpsectl.context import AppContext
from lpsectl.reports import mailing


def email_report(app: AppContext, **report: Any) -> None:
    """:func:`lpsectl.reports.mailing.email_report`, and one line on stderr."""
    done = mailing.email_report(app.store, app.config, **report)
    again = "" if done.sent_now else " earlier; not sent again"
    info(
        app,
        f"{report['purpose']} {report['key']} e-mailed to {done.recipients} (outbox {done.outbox_id}){again}",
    )
