"""Documents for people (notices, the year-end list), private files and masking."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from lpsectl import nip as nip_rules
from lpsectl.access.base import STEPS, AccessSettings, _local, label
from lpsectl.access.records import stored_problems
from lpsectl.access.yearend import YearEndAccount
from lpsectl.config import Config
from lpsectl.render import render
from lpsectl.store import Store

# -- documents for people ------------------------------------------------------------------


NOTICE_TEMPLATES = {
    "ack": "access_ack.txt.j2",
    "return": "access_return.txt.j2",
    "result": "access_result.txt.j2",
    "year-end": "access_year_end_notice.txt.j2",
}


def render_notice(
    kind: str,
    request: Mapping[str, Any],
    config: Config,
    settings: AccessSettings,
    lang: str,
    now: datetime,
    **extra: Any,
) -> str:
    """The applicant's notice: acknowledgement, return (what is missing), result, or year-end."""
    tz = config.tz
    context = {
        "lpse": config.lpse,
        "request": request,
        "action_label": label(request["action"], lang),
        "role_label": label(request["role"], lang),
        "received_at": _local(request.get("received_at"), tz),
        "decided_at": _local(request.get("decided_at"), tz),
        "now": now.astimezone(tz),
        "problems": [p.message(lang, public=True) for p in stored_problems(request)],
        "documents": [
            {"label": label(d["kind"], lang), **d} for d in request.get("documents") or []
        ],
        "limits": {step: int(settings.limit(step).total_seconds() // 60) for step in STEPS},
        **extra,
    }
    return render(NOTICE_TEMPLATES[kind], lang, config.lpse.templates_dir, **context)


def render_year_end_list(
    accounts: list[YearEndAccount],
    year: int,
    config: Config,
    lang: str,
    fmt: str,
    now: datetime,
    recorded: dict[str, int] | None = None,
    full: bool = False,
) -> str:
    rows = [
        {
            **asdict(a),
            "nip": a.nip if full else nip_rules.mask(a.nip),
            "role_label": label(a.role, lang),
            "request": (recorded or {}).get(a.nip),
            "sources": [label(source, lang) for source in a.sources],
        }
        for a in accounts
    ]
    return render(
        f"access_year_end_list.{fmt}.j2",
        lang,
        config.lpse.templates_dir,
        lpse=config.lpse,
        year=year,
        accounts=rows,
        now=now.astimezone(config.tz),
        year_end=date(year, 12, 31),
    )


def notice_subject(kind: str, request: Mapping[str, Any], config: Config, lang: str) -> str:
    """The e-mail subject of a notice, from its own template (``access_<kind>_subject.txt.j2``,
    overridable like the notices): a custom notice's first line is never taken for it."""
    source = str(request.get("source") or "")
    year = source.split(":", 1)[1] if source.startswith("year-end:") else ""
    template = NOTICE_TEMPLATES[kind].replace(".txt.j2", "_subject.txt.j2")
    text = render(
        template,
        lang,
        config.lpse.templates_dir,
        lpse=config.lpse,
        request=request,
        action_label=label(request["action"], lang),
        role_label=label(request["role"], lang),
        year=year,
    )
    return " ".join(text.split())  # one line, whatever the template holds


_LETTER_SUBJECT = re.compile(r"^(Perihal|Subject|Hal)\s*:", re.I)


def queue_notice_email(
    store: Store,
    config: Config,
    request: dict[str, Any],
    text: str,
    kind: str,
    now: datetime,
    lang: str = "id",
) -> int:
    """Queue a notice as an e-mail to the requester, its subject from
    :func:`notice_subject`; returns the outbox id. ``lpsectl outbox flush`` (or the
    scheduler) sends it. A letter's own "Perihal:" line is not repeated in the body."""
    from lpsectl import mail  # imported only when asked: the outbox belongs to the mail feature

    first, _, rest = text.partition("\n")
    body = rest.lstrip("\n") if _LETTER_SUBJECT.match(first) else text
    message = mail.build_message(
        config,
        to=[request["email"]],
        subject=notice_subject(kind, request, config, lang),
        text=body,
        message_id=mail.message_key(config, "access", request["id"], kind),
        now=now,
    )
    queued = mail.queue_message(
        store, message, purpose=f"access-{kind}", ref=f"access:{request['id']}", now=now
    )
    return queued.id
