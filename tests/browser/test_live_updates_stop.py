"""A page whose live updates break says so and heals by itself (issue 19).

The dashboard reaches Redis through a proxy the test takes down: the channel layer then fails
under the open socket and refuses every new one's set-up. The socket is closed with 4013
(1013 "try again later" in the range daphne may send), the page shows that live updates
stopped and keeps reconnecting with backoff, the failure is one log line and a count on the
health page; when Redis is back the page's socket opens again and fragments pushed to it
arrive.
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from accounts.live import user_group
from dashboard.channel_layer import ScaledChannelLayer
from tests import services
from tests.fixtures.dashboard_server import DashboardServer
from tests.fixtures.tcp_proxy import TcpProxy

pytestmark = pytest.mark.browser

REDIS_DB = 12


def _push_to_user(redis_url: str, user_id: int, html: str) -> None:
    async def send() -> None:
        layer = ScaledChannelLayer(hosts=[{"address": redis_url}], pool_size=2)
        await layer.group_send(user_group(user_id), {"type": "push", "html": html})
        await layer.close_pools()

    # Playwright's sync API holds this thread's event loop: send from a thread of its own.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, send()).result(10)


def test_the_page_shows_stopped_live_updates_and_reconnects_when_redis_is_back(tmp_path, chromium):
    services.require(services.redis_available(), "Redis is not reachable")
    redis = urlsplit(services.redis_url())
    direct_url = f"redis://{redis.hostname}:{redis.port or 6379}/{REDIS_DB}"
    with TcpProxy(redis.hostname or "127.0.0.1", redis.port or 6379) as proxy:
        server = DashboardServer(
            tmp_path / "state",
            env={
                "REDIS_URL": f"redis://127.0.0.1:{proxy.port}/{REDIS_DB}",
                "DASHBOARD_RELAY": "off",
                "DASHBOARD_ENCRYPTION_KEYS": base64.b64encode(secrets.token_bytes(32)).decode(),
            },
        )
        server.state_dir.mkdir()
        context = chromium.new_context(viewport={"width": 1280, "height": 860})
        context.set_default_timeout(10_000)
        try:
            server.start()
            server.create_user("erin", "a long demo password 1")
            user_id = int(server.manage("shell", "-c", _USER_ID).split()[-1])
            page = context.new_page()
            page.goto(server.url + "/")
            page.fill("#id_username", "erin")
            page.fill("#id_password", "a long demo password 1")
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r"/$"))
            banner = page.locator("#live-banner")
            _push_until_shown(page, direct_url, user_id, "probe before")
            assert banner.is_hidden()

            proxy.down()

            page.locator("#live-banner[data-close-code='4013']").wait_for(timeout=30_000)
            assert banner.inner_text() == (
                "Live updates stopped: the desk could not set them up. Reconnecting…"
            )
            page.screenshot(path=str(services.output_dir() / "live-updates-stopped.png"))
            health = context.new_page()
            health.goto(server.url + "/trading/health/")
            failures = health.locator("#health-live-sockets tr[data-cause='channel_layer']")
            assert int(failures.locator("td.num").first.inner_text()) >= 1
            assert "channel layer" in failures.inner_text()

            proxy.up()

            banner.wait_for(state="hidden", timeout=60_000)
            _push_until_shown(page, direct_url, user_id, "probe after")
            log = server.log()
            assert "live updates stopped for erin on /ws/account/: channel layer failed" in log
            assert "Traceback" not in log
        finally:
            context.close()
            server.stop()


_USER_ID = (
    "from django.contrib.auth import get_user_model; "
    "print(get_user_model().objects.get(username='erin').pk)"
)


def _push_until_shown(page, redis_url: str, user_id: int, text: str) -> None:
    """Push a bell fragment to the user's group until the page shows it (the socket may still
    be joining its groups when the first one goes out)."""
    bell = page.locator("#alerts-bell")
    for _ in range(50):
        _push_to_user(redis_url, user_id, f'<div id="alerts-bell" class="alerts-bell">{text}</div>')
        try:
            page.wait_for_function(
                "text => document.getElementById('alerts-bell').textContent === text",
                arg=text,
                timeout=200,
            )
            return
        except Exception:  # noqa: BLE001 - playwright's timeout: push again
            continue
    assert bell.inner_text() == text
