"""In a real daphne process the embedded relay starts with the server's first request, so a
subaccount's private stream (and with it alerts and balance snapshots) runs while nobody has
the dashboard open."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

import httpx

from tests.fixtures.dashboard_server import DashboardServer
from tests.waiting import eventually

TOKEN = "scrape-token-for-the-relay-test"

SETUP = """
from accounts import crypto
from accounts.models import Subaccount
desk = Subaccount.objects.create(name="Desk A", api_public_key={api_key!r},
                                 api_secret_sealed=crypto.seal({api_secret!r}))
print(desk.pk)
"""


def _stream_connected(metrics: str, name: str) -> bool:
    return (
        re.search(rf'desk_stream_connected\{{stream="{re.escape(name)}"\}} 1', metrics) is not None
    )


def test_a_subaccounts_stream_runs_with_no_browser_open(tmp_path, _sandbox_still) -> None:
    _sandbox_still.reset()
    server = DashboardServer(tmp_path, api_url=_sandbox_still.api_url, ws_url=_sandbox_still.ws_url)
    server.env["DASHBOARD_RELAY"] = "embedded"
    server.env["DASHBOARD_MONITORING_FLUSH_S"] = "0.5"
    server.env["DASHBOARD_METRICS_TOKEN"] = TOKEN
    if os.environ.get("REDIS_URL"):
        # Leases of its own: a server an earlier test stopped may still hold "subaccount.1".
        parts = urlsplit(os.environ["REDIS_URL"])
        server.env["REDIS_URL"] = urlunsplit(parts._replace(path="/14"))
        import redis

        redis.Redis.from_url(server.env["REDIS_URL"]).flushdb()
    key = _sandbox_still.keys[1]
    metrics = ""
    try:
        server.start()  # its /healthz probe is the only request so far; no socket ever opens
        output = server.manage(
            "shell", "-c", SETUP.format(api_key=key["api_key"], api_secret=key["api_secret"])
        )
        stream = f"subaccount.{int(output.strip().splitlines()[-1])}"
        with httpx.Client(base_url=server.url, timeout=10) as scraper:

            def scraped() -> bool:
                nonlocal metrics
                metrics = scraper.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
                return _stream_connected(metrics, stream)

            try:
                eventually(scraped, within_s=20, every_s=0.5).blocking()
            except AssertionError:
                pass  # the assertion below shows what the last scrape said
    finally:
        server.stop()
    assert _stream_connected(metrics, stream), metrics[-2000:]
