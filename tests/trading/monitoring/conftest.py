"""Fixtures: a monitoring agent with short windows, a session on the sandbox it watches, a
local webhook receiver (a real aiohttp server on a free port)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from tests.factories import SubaccountFactory
from trading.backpack import Credentials, ExchangeSession, RetryPolicy
from trading.monitoring.agent import MonitoringAgent
from trading.monitoring.alerts import AlertRules
from trading.monitoring.webhooks import Backoff

NO_RETRY = RetryPolicy(attempts=1)


class ShiftedClock:
    """The real time plus what a test moved it forward by (`advance`), in epoch seconds."""

    def __init__(self) -> None:
        self.shift_s = 0.0

    def __call__(self) -> float:
        return time.time() + self.shift_s

    def advance(self, seconds: float) -> None:
        self.shift_s += seconds


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
def agent(clock) -> MonitoringAgent:
    """An agent with 1 s buckets, a 2 s alert window, quick webhook retries, and the test's
    clock."""
    return MonitoringAgent(
        clock=clock,
        bucket_s=1,
        rules=AlertRules(window_s=2),
        backoff=Backoff(base_s=0.05, cap_s=0.2, max_attempts=3, lease_s=1.0, timeout_s=1.0),
    )


@pytest.fixture
def desk(sandbox):
    """Subaccount "Desk A" holding the sandbox's key of subaccount 1."""
    key = sandbox.keys[1]
    return SubaccountFactory(name="Desk A", keypair=(key["api_key"], key["api_secret"]))


@pytest.fixture
async def session(sandbox, agent) -> AsyncIterator[ExchangeSession]:
    """A session on the sandbox whose calls the agent counts (no retries: each call counts)."""
    async with ExchangeSession(api_url=sandbox.api_url, timeout_s=2.0, retry=NO_RETRY) as s:
        agent.attach(s)
        yield s


def good_client(session, sandbox, desk):
    key = sandbox.keys[1]
    return session.client(Credentials(key["api_key"], key["api_secret"]), label=str(desk.pk))


@dataclass
class Receiver:
    """A local Slack-compatible webhook: `statuses` are answered in turn (then 200)."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    received: list[dict] = field(default_factory=list)
    attempts: int = 0


async def _start_receiver(receiver: Receiver) -> web.AppRunner:
    async def hook(request: web.Request) -> web.Response:
        receiver.attempts += 1
        if receiver.delay_s:
            await asyncio.sleep(receiver.delay_s)
        status = receiver.statuses.pop(0) if receiver.statuses else 200
        if status == 200:
            receiver.received.append(await request.json())
        return web.Response(status=status, text="ok" if status == 200 else "broken")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}/hook"
    return runner


@pytest.fixture
async def receivers() -> AsyncIterator:
    """`await receivers(statuses=[500], delay_s=0)` starts a receiver; all stop afterwards."""
    runners: list[web.AppRunner] = []

    async def start(**options) -> Receiver:
        receiver = Receiver(**options)
        runners.append(await _start_receiver(receiver))
        return receiver

    yield start
    for runner in runners:
        await runner.cleanup()
