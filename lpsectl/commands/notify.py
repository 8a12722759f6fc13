"""`lpsectl notify run | list | test` — alerts told where the team is (Apprise)."""

from __future__ import annotations

from typing import Any

import click

from lpsectl import alerts, notify
from lpsectl.commands._common import dump_json, emit, format_option, pass_app, table
from lpsectl.context import AppContext
from lpsectl.errors import ConfigError, ExitCode
from lpsectl.i18n import gettext
from lpsectl.lock import job_lock


@click.group("notify")
def command() -> None:
    """Tell the team when an alert opens, gets worse, stays open long, or recovers:
    Telegram, WhatsApp gateways, e-mail, webhooks — any Apprise URL.

    The URLs hold secrets, so they live in a file of their own ([notify]
    urls_file, mode 600) or an environment variable, one per line, optionally
    after the least severity it wants: "critical tgram://BOT_TOKEN/CHAT_ID".

    \b
    Examples:
      lpsectl notify test                  a test message to every target
      lpsectl notify run                   tell what changed (cron: every 5 minutes)
      lpsectl notify list                  open alerts; notifications waiting or failed
      lpsectl notify list --all --format json
    """


def _targets(app: AppContext) -> tuple[notify.NotifySettings, list[notify.Target]]:
    settings = notify.notify_settings(app.config)
    targets = notify.load_targets(settings, app.config.source)
    if not targets:
        raise ConfigError(
            f"{app.config.source}: no notification target: set [notify] urls_file (a file of "
            "Apprise URLs, mode 600) or urls_env; see docs/notify.md"
        )
    return settings, targets


@command.command("run")
@format_option("text", "json")
@pass_app
def run_cmd(app: AppContext, fmt: str) -> None:
    """Find the alerts that hold now, tell each target what changed since the last
    run (opened, worse, a reminder, recovered), and send what is due.

    \b
    Exit status:
      0  everything due was delivered (or nothing changed)
      3  a target could not be reached: retried later, see `notify list`
      4  [notify] is wrong, or its urls_file unreadable or readable by others
      6  another `notify run` is running

    \b
    Examples:
      lpsectl notify run
      lpsectl notify run --format json
    """
    settings, targets = _targets(app)
    now = app.now()
    with job_lock(app.config.data_dir, "notify"):
        live = alerts.live_alerts(app.store, app.config, now, app.lang)
        with app.store.transaction():  # a change is told, or it is not yet a change
            changes = notify.reconcile(
                app.store, live, now, settings, alerts.watched_by(app.config)
            )
            notify.enqueue(
                app.store, changes, targets, now, settings, app.config.lpse.name, app.lang
            )
        sent = notify.deliver(app.store, targets, now, settings)
    if fmt == "json":
        emit(
            dump_json(
                {
                    "open": len(live),
                    "changes": [
                        {"kind": c.kind, "key": c.key, "severity": c.severity} for c in changes
                    ],
                    "deliveries": sent,
                }
            )
        )
    else:
        emit(
            f"{len(live)} alert(s) open, {len(changes)} change(s) to tell, "
            f"{sum(1 for d in sent if d.status == 'sent')} notification(s) sent"
        )
        for d in sent:
            if d.status != "sent":
                emit(f"  {d.status}: {d.target}: {d.error}")
    if any(d.status != "sent" for d in sent):
        click.get_current_context().exit(int(ExitCode.PARTIAL))


@command.command("list")
@click.option("--all", "include_done", is_flag=True, help="Include notifications sent.")
@format_option("table", "json")
@pass_app
def list_cmd(app: AppContext, include_done: bool, fmt: str) -> None:
    """The alerts open now, and the notifications waiting, held (quiet hours),
    deferred (a target unreachable: retried) or failed — with the reason.

    \b
    Examples:
      lpsectl notify list
      lpsectl notify list --all --format json
    """
    open_alerts = notify.open_alerts(app.store)
    rows = notify.pending(app.store, include_done)
    if fmt == "json":
        emit(dump_json({"alerts": open_alerts, "notifications": rows}))
        return
    emit(
        table(
            [
                [
                    a["severity"],
                    a["subject"],
                    _short(a["message"], 70),
                    a["since"] or "",
                    "planned" if a["planned"] else "",
                ]
                for a in open_alerts
            ],
            ["severity", "subject", "alert", "since", "maintenance"],
        )
    )
    emit("")
    emit(
        table(
            [
                [
                    r["id"],
                    r["status"],
                    r["kind"],
                    _short(r["target_shown"], 40),
                    _short(r["title"], 50),
                    r["attempts"],
                    _short(r["last_error"] or "", 60),
                ]
                for r in rows
            ],
            ["id", "status", "kind", "target", "title", "tries", "why"],
        )
    )


@command.command("test")
@format_option("text", "json")
@pass_app
def test_cmd(app: AppContext, fmt: str) -> None:
    """Send a test message to every target now and say, per target, whether it
    arrived (as far as the service says). Nothing is queued or stored.

    \b
    Exit status:
      0  every target took it
      3  some did not
      5  none did

    \b
    Example:
      lpsectl notify test
    """
    settings, targets = _targets(app)
    _ = gettext(app.lang)
    title = f"[{app.config.lpse.name}] " + _("lpsectl notification test")
    results: list[dict[str, Any]] = []
    for target in targets:
        ok, reason = notify.send(
            target,
            title,
            _(
                "A test message from lpsectl: this target receives the alerts of severity "
                "{severity} and above"
            ).format(severity=_(target.min_severity)),
            "test",
            "warning",
            settings,
        )
        results.append(
            {
                "target": target.shown,
                "min_severity": target.min_severity,
                "ok": ok,
                "error": notify.scrub(reason, targets) if reason else None,
            }
        )
    if fmt == "json":
        emit(dump_json(results))
    else:
        emit(
            table(
                [
                    [
                        r["target"],
                        r["min_severity"],
                        "ok" if r["ok"] else "FAILED",
                        r["error"] or "",
                    ]
                    for r in results
                ],
                ["target", "from severity", "result", "why"],
            )
        )
    failed = sum(1 for r in results if not r["ok"])
    if failed == len(results):
        click.get_current_context().exit(int(ExitCode.UNAVAILABLE))
    if failed:
        click.get_current_context().exit(int(ExitCode.PARTIAL))


def _short(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"
