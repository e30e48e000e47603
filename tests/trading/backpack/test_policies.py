"""Rate budgets, retry policy, clock offset and the market cache."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from tests import services
from tests.waiting import eventually
from trading.backpack import Budget, ExchangeSession, RetryPolicy
from trading.backpack.clock import ExchangeClock
from trading.backpack.errors import (
    AuthenticationError,
    ExchangeUnavailableError,
    RateLimitedError,
    ServerError,
)
from trading.backpack.ratelimit import LocalRateLimiter

from .conftest import credentials_of


async def test_local_budget_makes_callers_wait_instead_of_failing() -> None:
    limiter = LocalRateLimiter({"standard": Budget(5, 0.3)}, max_wait_s=2.0)
    started = time.monotonic()
    for _ in range(12):
        await limiter.acquire("key")
    assert 0.55 <= time.monotonic() - started < 1.5
    assert limiter.remaining("key") < 5


async def test_local_budget_wait_is_bounded_with_a_clear_message() -> None:
    limiter = LocalRateLimiter({"historical": Budget(2, 60.0)}, max_wait_s=0.1)
    await limiter.acquire("key", "historical")
    await limiter.acquire("key", "historical")
    with pytest.raises(RateLimitedError) as info:
        await limiter.acquire("key", "historical")
    assert str(info.value).startswith(
        "The historical request budget (2 per 60s) for this key is used up; next slot in "
    )
    assert info.value.retry_after > 59
    await limiter.acquire("another key", "historical")


async def test_the_budget_of_unsigned_requests_is_not_called_a_keys() -> None:
    # a script reading klines through the desk without a key was told "for this key"
    limiter = LocalRateLimiter({"historical": Budget(1, 60.0)}, max_wait_s=0.1)
    await limiter.acquire("public", "historical")
    with pytest.raises(RateLimitedError) as info:
        await limiter.acquire("public", "historical")
    assert str(info.value).startswith(
        "The historical request budget (1 per 60s) of unsigned (public) requests is used up; "
    )


async def test_the_client_stays_inside_the_exchange_budget(sandbox_factory) -> None:
    exchange = sandbox_factory(rate_standard=20)
    async with ExchangeSession(
        api_url=exchange.api_url, budgets={"standard": Budget(20, 60.0)}, max_rate_wait_s=0.2
    ) as session:
        client = session.client(credentials_of(exchange), label="A")
        for _ in range(20):
            await client.balances()
        with pytest.raises(RateLimitedError, match="budget"):
            await client.balances()
        assert [r.status for r in session.metrics.recent if r.route == "balances"] == [None] * 21
        assert session.status()["budgets"][(client.credentials.api_key, "standard")] == 0


async def test_redis_budget_is_shared_between_sessions(sandbox) -> None:
    services.require(services.redis_available(), "Redis is not reachable at 127.0.0.1:6379")
    url = services.redis_url()
    prefix = f"bpx:test:{uuid.uuid4().hex}"
    options = {
        "budgets": {"standard": Budget(6, 60.0)},
        "redis_url": url,
        "redis_prefix": prefix,
        "max_rate_wait_s": 0.2,
    }
    async with (
        ExchangeSession(api_url=sandbox.api_url, **options) as one,
        ExchangeSession(api_url=sandbox.api_url, **options) as two,
    ):
        first = one.client(credentials_of(sandbox), label="A")
        second = two.client(credentials_of(sandbox), label="A")
        for _ in range(3):
            await first.balances()
            await second.balances()
        with pytest.raises(
            RateLimitedError, match="The shared standard request budget for this key is used up"
        ):
            await first.balances()
        assert await one.limiter.remaining_async(first.credentials.api_key) == 0

        # A 429 seen by one process pauses the key for the others too.
        one.limiter.penalize("other key", 0.15)  # written to Redis in the background
        await eventually(
            lambda: two.limiter.redis.exists(f"{prefix}:penalty:other key"),
            what="the pause written to Redis",
            every_s=0.002,
        )
        started = time.monotonic()
        await two.limiter.acquire("other key")
        assert time.monotonic() - started >= 0.08


def test_retry_policy_is_bounded_and_only_retries_transient_errors() -> None:
    policy = RetryPolicy(attempts=3, base_s=0.1, cap_s=0.15, total_s=1.0)
    transient = ServerError("boom")
    assert policy.should_retry(transient, 1, 0.0)
    assert not policy.should_retry(transient, 3, 0.0)
    assert not policy.should_retry(transient, 1, 1.5)
    assert not policy.should_retry(AuthenticationError("no"), 1, 0.0)
    assert policy.should_retry(ExchangeUnavailableError("down"), 2, 0.0)
    assert all(0 <= policy.delay(n) <= 0.15 for n in range(1, 10))
    assert policy.delay(1, RateLimitedError("slow", retry_after=0.25)) == 0.25


async def test_clock_offset_is_measured_from_the_round_trip_midpoint() -> None:
    local = iter([1_000, 1_100])
    clock = ExchangeClock(local_ms=lambda: next(local), refresh_s=60)
    assert clock.is_stale()

    async def server_ms() -> int:
        return 31_050

    assert await clock.resync(server_ms) == 30_000
    assert not clock.is_stale()
    clock.local_ms = lambda: 2_000
    assert clock.now_ms() == 32_000


async def test_market_cache_loads_once_and_refreshes_when_stale(sandbox, session) -> None:
    markets = await asyncio.gather(*(session.markets.get("SOL_USDC") for _ in range(5)))
    assert len({id(m) for m in markets}) == 1
    loads = [r for r in session.metrics.recent if r.route == "markets"]
    assert len(loads) == 1
    session.markets.refresh_s = 0.0
    await session.markets.get("SOL_USDC")
    assert len([r for r in session.metrics.recent if r.route == "markets"]) == 2


async def test_a_429_pauses_the_key_briefly_not_for_the_whole_window() -> None:
    limiter = LocalRateLimiter({"standard": Budget(100, 60.0)}, max_wait_s=1.0)
    await limiter.acquire("key")
    limiter.penalize("key", 0.2)
    started = time.monotonic()
    await limiter.acquire("key")
    assert 0.15 <= time.monotonic() - started < 0.5


async def test_invalid_market_from_the_exchange_refreshes_the_market_cache(client, session) -> None:
    from trading.backpack.errors import InvalidOrderError

    await session.markets.load()
    with pytest.raises(InvalidOrderError) as info:
        await client.place_order(
            "NOPE_USDC", "Bid", "Limit", quantity="1", price="1", validate=False
        )
    assert info.value.code == "INVALID_MARKET" and info.value.field == "symbol"
    assert session.markets.fresh("SOL_USDC") is None  # reloaded on next use
    assert (await session.markets.get("SOL_USDC")).symbol == "SOL_USDC"


async def test_unknown_symbols_reload_the_market_list_at_most_every_ten_seconds(session) -> None:
    from trading.backpack.errors import InvalidOrderError

    for _ in range(5):
        with pytest.raises(InvalidOrderError, match="There is no market 'SOL_USDX'"):
            await session.markets.get("SOL_USDX")
    assert len([r for r in session.metrics.recent if r.route == "markets"]) == 2
