"""E-mail a rendered report through the outbox (shared by `report daily` and `report monthly`)."""

from __future__ import annotations

from datetime import datetime

from lpsectl import mail
from lpsectl.commands._common import info
from lpsectl.context import AppContext
from lpsectl.errors import ConfigError


def email_report(
    app: AppContext,
    *,
    purpose: str,
    key: str,
    subject: str,
    text: str,
    html: str,
    attachment_name: str,
    to: list[str],
    generated_at: datetime,
) -> None:
    """Queue the report (text body, HTML attached) and send it.

    One message per report, day and set of recipients: a re-run the same day
    to the same people sends nothing again and says so; other recipients
    (``--to``) get a message of their own. Not delivered → the flush's exit
    code (5 deferred/unreachable, 1 refused for good; it stays in the outbox).
    """
    if not to:
        raise ConfigError(
            f"{app.config.source}: mail.head is empty: no address to send the {purpose} to"
        )
    recipients = mail.addresses(to, "--to")
    message = mail.build_message(
        app.config,
        to=recipients,
        subject=subject,
        text=text,
        attachments=[
            mail.Attachment(
                attachment_name, html.encode("utf-8"), "text/html", {"charset": "utf-8"}
            )
        ],
        message_id=mail.message_key(
            app.config, purpose, key, generated_at.date(), mail.recipients_key(recipients)
        ),
        now=generated_at,
    )
    queued = mail.queue_message(
        app.store, message, purpose=purpose, ref=f"report:{key}", now=generated_at
    )
    names = ", ".join(a.addr_spec for a in recipients)
    if queued.new or queued.status in mail.WAITING:
        mail.flush(app.store, app.config, generated_at, ids=[queued.id]).raise_for_status()
    row = mail.outbox_rows(app.store, include_done=True, ids=[queued.id])[0]
    if row["status"] == mail.SENT:
        again = "" if queued.new else " earlier; not sent again"
        info(app, f"{purpose} {key} e-mailed to {names} (outbox {queued.id}){again}")
        return
    raise mail.not_delivered_error(row)
