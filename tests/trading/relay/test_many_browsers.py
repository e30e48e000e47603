"""Hundreds of browsers on one dashboard process all get live data (issue 19).

In the scaled mode redis-py's default pool failed every Redis command past 100 in flight, so
when a hundred browsers connected at once every later one was left open and silent. Here 300
sockets connect at once to one daphne process (embedded relay, the run's mode: SQLite and the
in-memory layer, or PostgreSQL and Redis); each must receive a book fragment published after
all of them were connected, and in the scaled mode the process must hold a bounded number of
Redis connections (its connections are named ``desk-<role>:<host>:<pid>`` in CLIENT LIST).
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import time

import redis
import websockets

from tests import services
from tests.fixtures.dashboard_server import DashboardServer
from tests.waiting import eventually

BROWSERS = 300
POOL_SIZE = 10
SYMBOLS = ["SOL_USDC", "BTC_USDC", "SOL_USDC_PERP"]
STAMP = re.compile(r"<!--E:(\d+)-->")


class Browser:
    def __init__(self) -> None:
        self.frames = 0
        self.newest_stamp_us = 0


async def _watch(url: str, cookie: str, symbol: str, browser: Browser) -> None:
    headers = {"Cookie": f"sessionid={cookie}", "Origin": url}
    ws_url = url.replace("http://", "ws://") + f"/ws/market/{symbol}/"
    async with websockets.connect(ws_url, additional_headers=headers, max_size=2**22) as socket:
        async for frame in socket:
            browser.frames += 1
            stamp = STAMP.search(frame)
            if stamp:
                browser.newest_stamp_us = max(browser.newest_stamp_us, int(stamp.group(1)))


async def _open_many(url: str, cookie: str) -> int:
    browsers = [Browser() for _ in range(BROWSERS)]
    tasks = [
        asyncio.create_task(_watch(url, cookie, SYMBOLS[i % len(SYMBOLS)], browser))
        for i, browser in enumerate(browsers)
    ]
    try:
        await eventually(
            lambda: all(b.frames for b in browsers) or any(t.done() for t in tasks),
            within_s=60,
            what=f"a first fragment on each of {BROWSERS} sockets",
        )
        failed = [t for t in tasks if t.done()]
        assert not failed, f"{len(failed)} sockets closed: {failed[0].exception()!r}"
        silent = sum(1 for b in browsers if not b.frames)
        assert silent == 0, f"{silent} of {BROWSERS} sockets received nothing"
        all_connected_us = int(time.time() * 1e6)
        await eventually(
            lambda: all(b.newest_stamp_us > all_connected_us for b in browsers),
            within_s=30,
            what="a fragment published after all sockets were connected, on every socket",
        )
        return sum(b.frames for b in browsers)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _redis_connections_of(pid: int) -> list[str]:
    client = redis.Redis.from_url(services.redis_url())
    try:
        names = [entry.get("name", "") for entry in client.client_list()]
    finally:
        client.close()
    return [name for name in names if name.startswith("desk-") and name.endswith(f":{pid}")]


def test_three_hundred_browsers_on_one_process_all_receive_live_fragments(tmp_path, sandbox_live):
    if services.mode() == "scaled":
        services.require(services.redis_available(), "Redis is not reachable")
    server = DashboardServer(
        tmp_path / "state",
        api_url=sandbox_live.api_url,
        ws_url=sandbox_live.ws_url,
        env={
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
            "DASHBOARD_ENCRYPTION_KEYS": base64.b64encode(secrets.token_bytes(32)).decode(),
            "DASHBOARD_RELAY": "embedded",
            "DASHBOARD_REDIS_POOL_SIZE": str(POOL_SIZE),
        },
    )
    server.state_dir.mkdir()
    try:
        server.start()
        server.create_user("wall", "a long wall screen password")
        cookie = server.sign_in("wall", "a long wall screen password")["sessionid"]

        frames = asyncio.run(_open_many(server.url, cookie))

        assert frames >= 2 * BROWSERS
        assert "MaxConnectionsError" not in server.log()
        if services.mode() == "scaled":
            held = _redis_connections_of(server.pid)
            assert held, "the dashboard's Redis connections carry no desk-<role> name"
            # channel layer, relay and rate budgets: at most POOL_SIZE each, however many
            # browsers the process serves
            assert len(held) <= 3 * POOL_SIZE, held
    finally:
        server.stop()
