"""The scaled mode end to end: PostgreSQL, Redis, two daphne processes and relay workers.

A browser connection on the second dashboard process receives book and order updates that a
relay worker (a third process) publishes; when that worker is killed, a new one takes the
streams over and the updates resume.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import websockets

from tests import services
from tests.fixtures.dashboard_server import ROOT, DashboardServer, migrated_template
from trading.backpack import Credentials, ExchangeSession


@pytest.fixture
def shared_database():
    services.require(services.redis_available(), "Redis is not reachable")
    services.require(services.postgres_available(), "PostgreSQL is not reachable")
    migrated = migrated_template("postgres")  # a copy of the database migrated once
    with services.fresh_postgres_database("desk_scaled", template=migrated) as url:
        yield url


@pytest.fixture
def private_redis():
    """A Redis database of this test's own: no lease, interest or group of another test's
    processes (the scaled run shares the server) can stand in its way."""
    services.require(services.redis_available(), "Redis is not reachable")
    url = urlunsplit(urlsplit(services.redis_url())._replace(path="/15"))
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


class RelayWorker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "relay", "--lease-ms", "2000"],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


async def frame_matching(socket, pattern: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            frame = await asyncio.wait_for(socket.recv(), deadline - time.monotonic())
        except TimeoutError:
            break
        if re.search(pattern, frame):
            return frame
    raise AssertionError(f"no frame matching {pattern!r} within {seconds} s")


def test_a_browser_on_another_dashboard_gets_updates_from_a_relay_worker_that_fails_over(
    tmp_path, shared_database, private_redis, sandbox_live
):
    env = {
        "DATABASE_URL": shared_database,
        "REDIS_URL": private_redis,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DASHBOARD_ENCRYPTION_KEYS": base64.b64encode(secrets.token_bytes(32)).decode(),
        "DASHBOARD_RELAY": "worker",
        "DASHBOARD_LOG_LEVEL": "INFO",
    }
    servers = [
        DashboardServer(
            tmp_path / name, api_url=sandbox_live.api_url, ws_url=sandbox_live.ws_url, env=env
        )
        for name in ("first", "second")
    ]
    for server in servers:
        server.state_dir.mkdir()
    workers: list[RelayWorker] = []
    try:
        servers[0].start(migrate=False)
        servers[1].start(migrate=False)
        keys = tmp_path / "keys.json"
        keys.write_text(json.dumps(sandbox_live.keys))
        servers[0].manage("seed_demo", "--keys", str(keys))
        worker_env = {**servers[0].env}
        workers.append(RelayWorker(worker_env, tmp_path / "relay.log"))
        cookie = servers[1].sign_in("trader", "trader-demo-password")["sessionid"]

        asyncio.run(
            _watch_and_trade(servers[1], cookie, sandbox_live, workers, worker_env, tmp_path)
        )
    finally:
        for worker in workers:
            worker.kill()
        for server in servers:
            server.stop()


async def _watch_and_trade(server, cookie, sandbox_live, workers, worker_env, tmp_path):
    ws_base = server.url.replace("http://", "ws://")
    headers = {"Cookie": f"sessionid={cookie}", "Origin": server.url}
    async with (
        websockets.connect(f"{ws_base}/ws/market/SOL_USDC/", additional_headers=headers) as market,
        websockets.connect(f"{ws_base}/ws/account/", additional_headers=headers) as account,
    ):
        await frame_matching(market, r'id="book-SOL_USDC"', 20)

        session = ExchangeSession(api_url=sandbox_live.api_url)
        key = sandbox_live.keys[0]  # the trader trades on the first two demo subaccounts
        client = session.client(Credentials(api_key=key["api_key"], api_secret=key["api_secret"]))
        try:
            best_bid = max(price for price, _ in (await client.depth("SOL_USDC")).bids)
            price = (best_bid * Decimal("0.97")).quantize(Decimal("0.01"))  # rests, in the band
            # The worker pushes each subaccount's first state once its private streams are live.
            await frame_matching(account, r'id="open-orders-\d+"', 20)
            order = await client.place_order(
                "SOL_USDC", "Bid", "Limit", quantity="0.37", price=price, post_only=True
            )
            try:
                await frame_matching(
                    account, rf'id="open-orders-\d+"[\s\S]*data-order-id="{order.id}"', 15
                )
            finally:
                await client.cancel_order("SOL_USDC", order_id=order.id)
        finally:
            await session.aclose()

        workers[0].kill()
        # What was in flight drains; then nothing comes while no worker runs...
        while True:
            try:
                await asyncio.wait_for(market.recv(), 0.5)
            except TimeoutError:
                break
        with pytest.raises(AssertionError):
            await frame_matching(market, r'id="book-SOL_USDC"', 2)
        # ...until a new worker takes the streams over.
        workers.append(RelayWorker(worker_env, tmp_path / "relay2.log"))
        await frame_matching(market, r'id="book-SOL_USDC"', 25)
