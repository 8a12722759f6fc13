"""E-mailing a rendered report through the outbox (``report daily`` and ``report monthly``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lpsectl import mail
from lpsectl.config import Config
from lpsectl.errors import ConfigError
from lpsectl.store import Store


@dataclass
class Emailed:
    """A report delivered: its outbox message, to whom, and whether this run sent it."""

    outbox_id: int
    recipients: str
    sent_now: bool


def email_report(
    store: Store,
    config: Config,
    *,
    purpose: str,
    key: str,
    subject: str,
    text: str,
    html: str,
    attachment_name: str,
    to: list[str],
    generated_at: datetime,
) -> Emailed:
    """Queue the report (text body, HTML attached) and send it.

    One message per report, day and set of recipients: a re-run the same day
    to the same people sends nothing again (``sent_now`` False); other
    recipients (``--to``) get a message of their own. Raises ``ConfigError``
    when there is nobody to send to, and the outbox's error when it was not
    delivered (exit 5 deferred/unreachable, 1 refused for good; it stays in the
    outbox).
    """
    if not to:
        raise ConfigError(
            f"{config.source}: mail.head is empty: no address to send the {purpose} to"
        )
    recipients = mail.addresses(to, "--to")
    message = mail.build_message(
        config,
        to=recipients,
        subject=subject,
        text=text,
        attachments=[
            mail.Attachment(
                attachment_name, html.encode("utf-8"), "text/html", {"charset": "utf-8"}
            )
        ],
        message_id=mail.message_key(
            config, purpose, key, generated_at.date(), mail.recipients_key(recipients)
        ),
        now=generated_at,
    )
    queued = mail.queue_message(
        store, message, purpose=purpose, ref=f"report:{key}", now=generated_at
    )
    if queued.new or queued.status in mail.WAITING:
        mail.flush(store, config, generated_at, ids=[queued.id]).raise_for_status()
    row = mail.outbox_rows(store, include_done=True, ids=[queued.id])[0]
    if row["status"] != mail.SENT:
        raise mail.not_delivered_error(row)
    return Emailed(queued.id, ", ".join(a.addr_spec for a in recipients), queued.new)
