"""E-mail a rendered report through the outbox (shared by `report daily` and `report monthly`)."""

from __future__ import annotations

from datetime import datetime

from lpsectl import mail
from lpsectl.commands._common import info
from lpsectl.commands.outbox import raise_if_unsent
from lpsectl.context import AppContext
from lpsectl.errors import ConfigError


def email_report(app: AppContext, *, purpose: str, key: str, subject: str, text: str, html: str,
                 attachment_name: str, to: list[str], generated_at: datetime) -> None:
    """Queue the report (text body, HTML attached) and send it; unsent → exit 5 (it stays queued)."""
    if not to:
        raise ConfigError(f"{app.config.source}: mail.head is empty: no address to send the {purpose} to")
    message = mail.build_message(
        app.config, to=to, subject=subject, text=text,
        attachments=[mail.Attachment(attachment_name, html.encode("utf-8"), "text/html", {"charset": "utf-8"})],
        # one message per report and day: a re-run the same day is not sent twice
        message_id=mail.deterministic_message_id(app.config, purpose, key, generated_at.date()),
        now=generated_at,
    )
    outbox_id = mail.enqueue(app.store, message, purpose=purpose, ref=f"report:{key}", now=generated_at)
    result = mail.flush(app.store, app.config, generated_at, ids=[outbox_id])
    raise_if_unsent(result)
    info(app, f"{purpose} {key} e-mailed to {', '.join(to)} (outbox {outbox_id})")
