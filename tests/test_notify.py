"""Alerts told through Apprise (issue 21): a real HTTP server receiving Apprise's json:// and
form:// notifications, and aiosmtpd receiving its mailto:// e-mails."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from lpsectl.config import load_config_file
from tests.fixtures.common import free_port, run_cli

WIB = ZoneInfo("Asia/Jakarta")
SECRET = "RahasiaToken123"  # a token in a target's URL: must never be shown or stored


class Receiver:
    """A webhook receiver (what a WhatsApp gateway or a Telegram-like relay is to Apprise)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[tuple[str, str, dict]] = []
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                kind = self.headers.get("Content-Type", "")
                body = (
                    json.loads(raw)
                    if "json" in kind
                    else {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
                )
                received.append((self.path, kind, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def titles(self, path: str) -> list[str]:
        return [body.get("title", "") for p, _kind, body in self.received if p.startswith(path)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()


def write_setup(
    tmp_path: Path, web, receiver: Receiver, smtp, extra: str = "", lines: str = ""
) -> str:
    urls = tmp_path / "notify.urls"
    urls.write_text(
        lines
        or (
            "# the admins' group: everything; the head's relay: criticals only\n"
            f"json://lpsectl:{SECRET}@127.0.0.1:{receiver.port}/grup\n"
            f"critical form://127.0.0.1:{receiver.port}/kepala\n"
            f"mailto://127.0.0.1:{smtp.port}?from=lpsectl@lpse.test&to=admin@lpse.test&mode=insecure\n"
        )
    )
    urls.chmod(0o600)
    path = tmp_path / "lpsectl.toml"
    path.write_text(
        f'[lpse]\nname = "LPSE Uji"\ndata_dir = "{tmp_path / "data"}"\n\n'
        '[[hosts]]\nname = "spse-app"\nrole = "app"\naddress = "local"\n\n'
        f'[[checks]]\nname = "spse"\nurl = "{web.url(path="/eproc4/state")}"\n'
        f'ca_file = "{web.pki.ca}"\ntimeout = 5\n\n'
        f'[notify]\nurls_file = "{urls}"\n{extra}',
        encoding="utf-8",
    )
    return str(path)


def step(config: str, web, frozen, moment: datetime, status: int) -> dict:
    """One cron turn at ``moment``: the check, then notify run."""
    web.state.status = status
    frozen.move_to(moment)
    run_cli("--config", config, "check")
    result = run_cli("--config", config, "notify", "run", "--format", "json")
    assert result.exit_code in (0, 3), result.stderr
    return result.json()


def at(hour: int, minute: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=WIB)


def test_open_once_then_silence_then_recover(tmp_path, web_servers, receiver, smtp_server):
    web = web_servers
    config = write_setup(tmp_path, web, receiver, smtp_server)
    with freeze_time(at(8), tick=True) as frozen:
        assert step(config, web, frozen, at(8), 200)["changes"] == []
        step(config, web, frozen, at(8, 5), 500)  # one failed check: not yet an outage
        opened = step(config, web, frozen, at(8, 10), 500)
        assert [c["kind"] for c in opened["changes"]] == ["open"]
        for minute in (15, 20, 25):  # the same alert on the next three runs: nothing new
            assert step(config, web, frozen, at(8, minute), 500)["changes"] == []
        recovered = step(config, web, frozen, at(8, 30), 200)
        assert [c["kind"] for c in recovered["changes"]] == ["recover"]
    web.state.status = 200

    group = receiver.titles("/grup")
    assert group == ["[LPSE Uji] KRITIS: spse", "[LPSE Uji] PULIH: spse"]
    assert receiver.titles("/kepala") == group  # critical: the head's relay gets it too
    bodies = [b["message"] for p, _k, b in receiver.received if p == "/grup"]
    assert "tidak dapat diakses sejak" in bodies[0] and "Langkah berikut" in bodies[0]
    assert "sudah pulih" in bodies[1]
    mails = [m.message for m in smtp_server.received]
    assert [m["Subject"] for m in mails] == group
    assert all(m["To"] == "admin@lpse.test" for m in mails)


def test_escalation_reminder_and_quiet_hours(tmp_path, web_servers, receiver, smtp_server):
    web = web_servers
    config = write_setup(
        tmp_path,
        web,
        receiver,
        smtp_server,
        extra='quiet_hours = "22:00-06:00"\nremind_hours = 12\n\n'
        "[thresholds.web]\ncertificate_warning_days = 400\n",
    )
    with freeze_time(at(23), tick=True) as frozen:
        # a warning at 23.00 waits for the end of the quiet hours
        assert [c["kind"] for c in step(config, web, frozen, at(23), 200)["changes"]] == ["open"]
        assert receiver.titles("/grup") == []
        listed = run_cli("--config", config, "notify", "list", "--format", "json").json()
        assert {n["status"] for n in listed["notifications"]} == {"held"}
        # a critical goes out at once, quiet hours or not
        step(config, web, frozen, at(23, 5), 500)
        step(config, web, frozen, at(23, 10), 500)
        assert receiver.titles("/grup") == ["[LPSE Uji] KRITIS: spse"]
        step(config, web, frozen, at(23, 15), 200)
        # 06.00: the held warning is delivered
        step(config, web, frozen, at(6, 0, day=8), 200)
        assert receiver.titles("/grup")[-1] == "[LPSE Uji] PERINGATAN: spse"
        # the warning escalates when the limits say the certificate is now critical
        path = Path(config)
        path.write_text(
            path.read_text().replace(
                "certificate_warning_days = 400",
                "certificate_warning_days = 500\ncertificate_critical_days = 400",
            )
        )
        step(config, web, frozen, at(7, 0, day=8), 200)
        assert receiver.titles("/grup")[-1] == "[LPSE Uji] KRITIS (memburuk): spse"
        # still open 12 hours later: one reminder
        step(config, web, frozen, at(19, 5, day=8), 200)
        assert receiver.titles("/grup")[-1] == "[LPSE Uji] Masih KRITIS: spse"
        count = len(receiver.titles("/grup"))
        step(config, web, frozen, at(19, 10, day=8), 200)
        assert len(receiver.titles("/grup")) == count


def test_a_planned_outage_is_not_told(tmp_path, web_servers, receiver, smtp_server):
    from lpsectl.store import Store

    web = web_servers
    config = write_setup(tmp_path, web, receiver, smtp_server)
    run_cli("--config", config, "notify", "list")  # makes the history
    with Store.open_sqlite(tmp_path / "data" / "history.sqlite3") as store:
        store.insert(
            "maintenance_windows",
            {
                "uid": "mw-1",
                "start_at": at(22).isoformat(),
                "end_at": at(23).isoformat(),
                "reason": "Pembaruan SPSE",
                "services": "[]",
                "status": "announced",
                "created_at": at(8, day=3).isoformat(),
            },
        )
    with freeze_time(at(22), tick=True) as frozen:
        for minute in (0, 5, 10):
            step(config, web, frozen, at(22, minute), 500)
        step(config, web, frozen, at(22, 30), 200)
        assert receiver.titles("/grup") == []
        # down again inside the window and still down after it: told then, saying so
        step(config, web, frozen, at(22, 50), 500)
        step(config, web, frozen, at(22, 55), 500)
        assert receiver.titles("/grup") == []
        step(config, web, frozen, at(23, 5), 500)
    web.state.status = 200
    assert receiver.titles("/grup") == ["[LPSE Uji] KRITIS setelah pemeliharaan: spse"]


def test_an_unreachable_target_is_retried_and_listed(tmp_path, web_servers, smtp_server):
    web = web_servers
    late = Receiver()  # its port is known, but nobody listens yet
    config = write_setup(
        tmp_path,
        web,
        late,
        smtp_server,
        lines=f"json://lpsectl:{SECRET}@127.0.0.1:{late.port}/grup\n",
    )
    with freeze_time(at(8), tick=True) as frozen:
        step(config, web, frozen, at(8), 500)
        result = step(config, web, frozen, at(8, 5), 500)
        [delivery] = result["deliveries"]
        assert delivery["status"] == "deferred"
        listed = run_cli("--config", config, "notify", "list", "--format", "json").json()
        [waiting] = listed["notifications"]
        assert waiting["status"] == "deferred" and waiting["attempts"] == 1
        assert waiting["last_error"]
        table = run_cli("--config", config, "notify", "list")
        assert "deferred" in table.stdout
        late.start()
        try:
            again = step(config, web, frozen, at(8, 10), 500)
            assert [d["status"] for d in again["deliveries"]] == ["sent"]
        finally:
            late.stop()
    web.state.status = 200
    assert late.titles("/grup") == ["[LPSE Uji] KRITIS: spse"]


def test_the_secret_is_never_shown_nor_stored(tmp_path, web_servers, receiver, smtp_server):
    web = web_servers
    bad = Receiver()  # never started: its failures are reported
    config = write_setup(
        tmp_path,
        web,
        receiver,
        smtp_server,
        lines=f"json://lpsectl:{SECRET}@127.0.0.1:{receiver.port}/grup?-token={SECRET}\n"
        f"json://lpsectl:{SECRET}@127.0.0.1:{bad.port}/{SECRET}\n",
    )
    outputs = []
    with freeze_time(at(8), tick=True) as frozen:
        for minute in (0, 5):
            web.state.status = 500
            frozen.move_to(at(8, minute))
            run_cli("--config", config, "check")
            for args in (("notify", "run"), ("-vv", "notify", "run", "--format", "json")):
                result = run_cli("--config", config, *args)
                outputs += [result.stdout, result.stderr]
    web.state.status = 200
    for args in (
        ("notify", "list", "--all"),
        ("notify", "list", "--all", "--format", "json"),
        ("notify", "test"),
    ):
        result = run_cli("--config", config, *args)
        outputs += [result.stdout, result.stderr]
    assert receiver.titles("/grup")  # it did send
    leaks = [text for text in outputs if SECRET in text]
    assert not leaks, [t[max(0, t.find(SECRET) - 300) : t.find(SECRET) + 50] for t in leaks]
    with sqlite3.connect(tmp_path / "data" / "history.sqlite3") as db:
        dump = "\n".join(db.iterdump())
    assert SECRET not in dump
    assert SECRET not in Path(config).read_text()  # the config names the file, not the URL


def test_notify_test_and_the_urls_file_rules(tmp_path, web_servers, receiver, smtp_server):
    web = web_servers
    config = write_setup(tmp_path, web, receiver, smtp_server)
    result = run_cli("--config", config, "notify", "test", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert [r["ok"] for r in result.json()] == [True, True, True]
    assert len(smtp_server.received) == 1 and len(receiver.received) == 2
    urls = tmp_path / "notify.urls"
    urls.chmod(0o644)
    loose = run_cli("--config", config, "notify", "test")
    assert loose.exit_code == 4 and "chmod 600" in loose.stderr
    urls.chmod(0o600)
    urls.write_text("json://127.0.0.1:1/ok\nnot a url at all\n")
    wrong = run_cli("--config", config, "notify", "run")
    assert wrong.exit_code == 4 and "notify.urls:2" in wrong.stderr
    assert "not a url" not in wrong.stderr  # a line may hold a secret: named, never shown
    urls.write_text(f"json://127.0.0.1:{free_port()}/nobody\n")
    down = run_cli("--config", config, "notify", "test")
    assert down.exit_code == 5 and "FAILED" in down.stdout


def test_urls_from_the_environment(tmp_path, web_servers, receiver, smtp_server, monkeypatch):
    web = web_servers
    config = write_setup(tmp_path, web, receiver, smtp_server)
    text = (
        Path(config)
        .read_text()
        .replace(f'urls_file = "{tmp_path / "notify.urls"}"', 'urls_env = "LPSECTL_NOTIFY_URLS"')
    )
    Path(config).write_text(text)
    missing = run_cli("--config", config, "notify", "test")
    assert missing.exit_code == 4 and "LPSECTL_NOTIFY_URLS" in missing.stderr
    monkeypatch.setenv("LPSECTL_NOTIFY_URLS", f"json://127.0.0.1:{receiver.port}/env\n")
    assert run_cli("--config", config, "notify", "test").exit_code == 0
    assert receiver.titles("/env") == ["[LPSE Uji] Uji notifikasi lpsectl"]
    assert os.environ["LPSECTL_NOTIFY_URLS"]


def test_a_host_down_and_back(tmp_path, sshd_factory, ssh_client_key, receiver, smtp_server):
    """Done when (issue 21): a host going down and coming back gives exactly one "down"
    and one "recovered" message on each target, in Indonesian."""
    from tests.fixtures.sshd import ssh_config_text

    host = sshd_factory.start("notify-host")
    text = ssh_config_text([host], ssh_client_key, tmp_path / "known_hosts", tmp_path / "data")
    urls = tmp_path / "notify.urls"
    urls.write_text(
        f"json://127.0.0.1:{receiver.port}/grup\n"
        f"mailto://127.0.0.1:{smtp_server.port}?from=lpsectl@lpse.test&to=admin@lpse.test&mode=insecure\n"
    )
    urls.chmod(0o600)
    path = tmp_path / "lpsectl.toml"
    path.write_text(text + f'\n[notify]\nurls_file = "{urls}"\n')
    config = str(path)

    def turn() -> None:
        run_cli("--config", config, "collect")
        assert run_cli("--config", config, "notify", "run").exit_code == 0

    turn()
    assert receiver.received == []
    host.stop()
    for _ in range(3):
        turn()
    restarted = sshd_factory.start("notify-host", address=host.address, port=host.port)
    assert restarted.known_hosts_line == host.known_hosts_line
    turn()
    turn()
    titles = receiver.titles("/grup")
    lpse = load_config_file(path).lpse.name
    assert titles == [f"[{lpse}] KRITIS: {host.name}", f"[{lpse}] PULIH: {host.name}"]
    assert [m.message["Subject"] for m in smtp_server.received] == titles
    body = [b["message"] for _p, _k, b in receiver.received][0]
    assert "tidak terjangkau" in body and "lpsectl hosts check" in body


class Trickler:
    """A target that answers a byte a second and never finishes."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(8)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100:
                conn.sendall(bytes([byte]))
                time.sleep(1)
        except OSError:
            pass
        finally:
            conn.close()


def test_a_trickling_target_holds_up_neither_the_others_nor_the_process(
    tmp_path, web_servers, receiver, smtp_server
):
    web = web_servers
    slow = Trickler()
    config = write_setup(
        tmp_path,
        web,
        receiver,
        smtp_server,
        extra="timeout = 2\n",
        lines=f"json://127.0.0.1:{slow.port}/lambat\njson://127.0.0.1:{receiver.port}/grup\n",
    )
    began = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "lpsectl", "--config", config, "notify", "test", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - began
    assert proc.returncode == 3, proc.stderr
    results = json.loads(proc.stdout)
    assert [r["ok"] for r in results] == [False, True]
    assert "did not finish within 7 s" in results[0]["error"]
    assert elapsed < 15  # 2 s timeout + 5 s grace, and the process ends with it
    assert receiver.titles("/grup") == ["[LPSE Uji] Uji notifikasi lpsectl"]


def test_a_recovery_supersedes_the_notice_still_waiting(tmp_path, web_servers, smtp_server):
    web = web_servers
    late = Receiver()
    config = write_setup(
        tmp_path, web, late, smtp_server, lines=f"json://127.0.0.1:{late.port}/grup\n"
    )
    with freeze_time(at(3), tick=True) as frozen:
        step(config, web, frozen, at(3), 500)
        step(config, web, frozen, at(3, 5), 500)  # open: the target is down, deferred
        step(config, web, frozen, at(3, 15), 200)  # recovered before it could be told
        late.start()
        try:
            step(config, web, frozen, at(3, 30), 200)
            step(config, web, frozen, at(3, 45), 200)
        finally:
            late.stop()
    assert late.titles("/grup") == ["[LPSE Uji] PULIH: spse"]  # never a KRITIS after it
    listed = run_cli("--config", config, "notify", "list", "--all", "--format", "json").json()
    assert sorted(n["status"] for n in listed["notifications"]) == ["sent", "superseded"]


def test_a_check_removed_from_the_config_closes_without_recovered(
    tmp_path, web_servers, receiver, smtp_server
):
    web = web_servers
    config = write_setup(tmp_path, web, receiver, smtp_server)
    with freeze_time(at(8), tick=True) as frozen:
        step(config, web, frozen, at(8), 500)
        step(config, web, frozen, at(8, 5), 500)
        web.state.status = 200
        path = Path(config)
        text = path.read_text()
        start = text.index("[[checks]]")
        path.write_text(text[:start] + text[text.index("[notify]") :])
        frozen.move_to(at(8, 10))
        assert run_cli("--config", config, "notify", "run").exit_code == 0
    assert receiver.titles("/grup") == ["[LPSE Uji] KRITIS: spse"]


def test_one_url_per_line(tmp_path, web_servers, receiver, smtp_server):
    web = web_servers
    config = write_setup(
        tmp_path,
        web,
        receiver,
        smtp_server,
        lines=f"json://127.0.0.1:{receiver.port}/a, mailto://u:p@127.0.0.1:25?to=x@y.test\n",
    )
    result = run_cli("--config", config, "notify", "test")
    assert result.exit_code == 4 and "one Apprise URL per line" in result.stderr
    assert receiver.received == []


def test_a_redirect_is_not_followed(tmp_path, web_servers, receiver, smtp_server):
    """A gateway answering 302 elsewhere: the key in the headers must not travel there."""
    web = web_servers
    other = receiver  # where the redirect points: it must get nothing

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{other.port}/stolen")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = write_setup(
            tmp_path,
            web,
            receiver,
            smtp_server,
            lines=f"json://127.0.0.1:{server.server_address[1]}/r?+X-Api-Key={SECRET}\n",
        )
        result = run_cli("--config", config, "notify", "test", "--format", "json")
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 5
    [row] = result.json()
    assert not row["ok"] and "302" in (row["error"] or "")
    assert other.received == []
