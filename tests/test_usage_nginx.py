"""SPSE usage end to end (issue 19): a real nginx in front of an SPSE-like application,
a scripted load from five client addresses, logrotate's rename + ``nginx -s reopen``
between two collect runs over real SSH, then the daily and monthly reports.

The expected figures are counted by the test from the load it sent and the
answers it got, not by lpsectl.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from lpsectl.logs.access_remote import route_of
from tests.fixtures.common import free_port
from tests.fixtures.sshd import ssh_config_text
from tests.fixtures.web import NGINX, _wait_listening

pytestmark = pytest.mark.services

ZONE = ZoneInfo("Asia/Jakarta")
LOG_FORMAT = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" $request_time $request_length'
)
CLIENTS = [f"127.0.0.{n}" for n in range(150, 155)]


class SpseLike(BaseHTTPRequestHandler):
    """The routes the shipped activity patterns know, answering as SPSE would."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _send(
        self, status: int, body: bytes = b"ok", headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = self.path.split("?")[0].split("/")
        if self.path.startswith("/eproc4/lelang/") and parts[-1] == "pengumumanlelang":
            self._send(200, b"<h1>Pengumuman</h1>" * 20)
        elif self.path.startswith("/eproc4/dokumen/") and parts[-1] == "unduh":
            self._send(200, b"%PDF" + b"x" * 5000)
        elif self.path.startswith("/eproc4/error"):
            self._send(500, b"Internal Server Error")
        else:
            self._send(404, b"not found")

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/eproc4/login":
            if b"password=benar" in body:
                self._send(302, b"", {"Location": "/eproc4/dashboard"})
            else:
                self._send(200, b"<p>Password salah</p>")
        elif self.path.startswith("/eproc4/penawaran/") and self.path.endswith("/kirim"):
            self._send(200, b"diterima")
        else:
            self._send(404)


@pytest.fixture
def proxy(sshd_factory, request):
    """nginx (Debian's) on loopback in front of SpseLike, logging in LOG_FORMAT to a folder
    the sshd test user can read; its clock in Asia/Jakarta, as the LPSE's server."""
    app = ThreadingHTTPServer(("127.0.0.1", 0), SpseLike)
    app.daemon_threads = True
    threading.Thread(target=app.serve_forever, daemon=True).start()
    folder = Path(sshd_factory.root) / f"nginx-{request.node.name}"
    folder.mkdir(mode=0o755)
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format spse '{LOG_FORMAT}';
    access_log {folder}/access.log spse;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://127.0.0.1:{app.server_address[1]}; }}
    }}
}}
"""
    )
    env = dict(os.environ, TZ="Asia/Jakarta")
    command = [NGINX, "-p", str(folder), "-c", str(conf)]
    proc = subprocess.Popen(
        [*command, "-g", "daemon off;"], stderr=subprocess.PIPE, start_new_session=True, env=env
    )
    try:
        _wait_listening([port], proc)
        yield {"port": port, "folder": folder, "reopen": [*command, "-s", "reopen"], "env": env}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        app.shutdown()
        app.server_close()
        shutil.rmtree(folder, ignore_errors=True)


def send_load(port: int, rng: random.Random, count: int) -> list[dict]:
    """``count`` requests from the five clients; what was sent and what came back."""
    sent = []
    sessions = {
        c: httpx.Client(
            transport=httpx.HTTPTransport(local_address=c), follow_redirects=False, timeout=10
        )
        for c in CLIENTS
    }
    try:
        for _ in range(count):
            client = rng.choice(CLIENTS)
            kind = rng.choices(
                ["announce", "download", "login", "bid", "error", "missing"], [8, 4, 3, 2, 1, 1]
            )[0]
            base = f"http://127.0.0.1:{port}"
            if kind == "announce":
                method, path, data = (
                    "GET",
                    f"/eproc4/lelang/{rng.randrange(1, 500)}/pengumumanlelang",
                    None,
                )
            elif kind == "download":
                method, path, data = (
                    "GET",
                    f"/eproc4/dokumen/{rng.randrange(1, 500)}/unduh?v=1",
                    None,
                )
            elif kind == "login":
                method, path = "POST", "/eproc4/login"
                data = {"user": "pokja", "password": rng.choice(["benar", "benar", "salah"])}
            elif kind == "bid":
                method, path, data = (
                    "POST",
                    f"/eproc4/penawaran/{rng.randrange(1, 500)}/kirim",
                    {"file": "x" * 300},
                )
            elif kind == "error":
                method, path, data = "GET", "/eproc4/error", None
            else:
                method, path, data = "GET", "/eproc4/tidak-ada", None
            response = sessions[client].request(method, base + path, data=data)
            sent.append(
                {
                    "client": client,
                    "method": method,
                    "path": path,
                    "status": response.status_code,
                    "bytes": len(response.content),
                }
            )
    finally:
        for session in sessions.values():
            session.close()
    return sent


def test_real_nginx_log_collected_over_ssh_across_a_reopen_gives_true_monthly_figures(
    sshd_factory, ssh_client_key, proxy, tmp_path, cli
):
    rng = random.Random(19)
    folder: Path = proxy["folder"]
    host = sshd_factory.start("spse-proxy")
    config_text = ssh_config_text(
        [host],
        ssh_client_key,
        tmp_path / "known_hosts",
        tmp_path / "data",
        host_extra={
            "spse-proxy": {
                "role": "[]",
                "access_logs": f'["{folder}/access.log"]',
                "access_log_format": "'"
                + LOG_FORMAT
                + "'",  # a TOML literal string: it holds quotes
            }
        },
        extra="\n[usage]\ntop_clients = 3\n",
    )
    config = tmp_path / "lpsectl.toml"
    config.write_text(config_text)

    first = send_load(proxy["port"], rng, 120)
    result = cli("--config", str(config), "collect", "--format", "json")
    assert result.exit_code == 0, result.stderr
    # logrotate: rename, then tell nginx to open a new file; more load lands in both
    (folder / "access.log").rename(folder / "access.log.1")
    second = send_load(proxy["port"], rng, 40)  # still written to access.log.1 until the reopen
    subprocess.run(proxy["reopen"], check=True, env=proxy["env"])
    deadline = time.monotonic() + 10
    while not (folder / "access.log").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    third = send_load(proxy["port"], rng, 60)
    for name in ("access.log", "access.log.1"):
        (folder / name).chmod(0o644)
    result = cli("--config", str(config), "collect", "--format", "json")
    assert result.exit_code == 0, result.stderr

    sent = first + second + third
    lines = sum(len((folder / n).read_text().splitlines()) for n in ("access.log", "access.log.1"))
    assert lines == len(sent)  # nginx wrote every request once (the test's own check)
    # the day nginx wrote (a run across midnight would make "today" the next day)
    stamp = (folder / "access.log.1").read_text().split("[", 1)[1][:11]
    today = datetime.strptime(stamp, "%d/%b/%Y").date()
    assert today in (datetime.now(ZONE).date(), datetime.now(ZONE).date() - timedelta(days=1))
    report = cli(
        "--config",
        str(config),
        "--lang",
        "en",
        "report",
        "monthly",
        "--month",
        today.strftime("%Y-%m"),
        "--format",
        "json",
    )
    assert report.exit_code == 0, report.stderr
    usage = report.json()["usage"]
    total = usage["total"]
    assert total["requests"] == len(sent)
    assert total["visitors"] == len(CLIENTS) and total["visitors_exact"]
    assert total["status"] == dict(Counter(f"{s['status'] // 100}xx" for s in sent))
    assert total["bytes_out"] == sum(s["bytes"] for s in sent)
    routes = Counter(route_of(s["path"]) for s in sent)
    top = {r["route"]: r["count"] for r in usage["top_routes"]}
    assert all(routes[route] == count for route, count in top.items())  # ties at rank 10 either way
    assert sorted(top.values(), reverse=True) == [n for _, n in routes.most_common(10)]
    logins = [s for s in sent if s["path"] == "/eproc4/login"]
    assert usage["activities"]["login"] == {
        "ok": sum(s["status"] == 302 for s in logins),
        "failed": sum(s["status"] != 302 for s in logins),
    }
    assert usage["activities"]["bid_upload"]["ok"] == sum("/penawaran/" in s["path"] for s in sent)
    assert usage["activities"]["download"]["ok"] == sum("/unduh" in s["path"] for s in sent)
    (day,) = [d for d in usage["daily"] if d["day"] == today.isoformat()]
    assert day["requests"] == len(sent) and day["errors_5xx"] == sum(
        s["status"] == 500 for s in sent
    )
    assert sum(usage["hours"].values()) == len(sent)

    daily = cli(
        "--config",
        str(config),
        "--lang",
        "en",
        "report",
        "daily",
        "--date",
        today.isoformat(),
        "--format",
        "json",
    )
    assert daily.exit_code == 0, daily.stderr
    section = daily.json()["sections"]["usage"]
    assert section["figures"]["requests"] == len(sent)
    assert section["alerts"] == []
    # IP addresses are personal data: only each run's top three (config) leave the server;
    # summed over two runs they are lower bounds, and said to be
    tops = section["figures"]["top_clients"]
    clients = Counter(s["client"] for s in sent)
    assert len(tops) == 3 and not section["figures"]["top_clients_complete"]
    assert all(count <= clients[address] for address, count in tops)
    assert tops[0] == list(clients.most_common(1)[0])  # the busiest is in every run's list
    html = cli(
        "--config",
        str(config),
        "report",
        "monthly",
        "--month",
        today.strftime("%Y-%m"),
        "--format",
        "html",
    )
    assert html.exit_code == 0 and "Penggunaan SPSE" in html.stdout
    assert not any(c in html.stdout for c in CLIENTS)  # the monthly report names no address


def test_configured_access_log_that_is_missing_is_an_alert_not_a_quiet_day(
    sshd_factory, ssh_client_key, tmp_path, cli
):
    host = sshd_factory.start("spse-proxy-missing")
    config = tmp_path / "lpsectl.toml"
    config.write_text(
        ssh_config_text(
            [host],
            ssh_client_key,
            tmp_path / "known_hosts",
            tmp_path / "data",
            host_extra={
                "spse-proxy-missing": {
                    "role": "[]",
                    "access_logs": '["/var/log/nginx/tidak-ada.log"]',
                }
            },
        )
    )
    result = cli("--config", str(config), "collect", "--format", "json")
    assert result.exit_code == 3, result.stderr  # an item could not be read: partial
    daily = cli("--config", str(config), "--lang", "en", "report", "daily", "--format", "json")
    alerts = daily.json()["sections"]["usage"]["alerts"]
    messages = " ".join(a["message"] for a in alerts)
    assert "tidak-ada.log" in messages and "no access log figures" in messages
