"""The client under the sandbox's fault injection: retries, lost answers, 429s, clock skew."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from trading.backpack import ExchangeSession, OrderStatus, RetryPolicy
from trading.backpack.errors import ExchangeUnavailableError

from .conftest import FAST_RETRY, credentials_of


async def test_reads_are_retried_through_server_errors(client, sandbox, session) -> None:
    sandbox.set_faults(error_rate=0.5, seed=3)
    results = [await client.balances() for _ in range(20)]
    assert all(r["USDC"].available > 0 for r in results)
    retried = [r for r in session.metrics.recent if r.route == "balances" and r.attempts > 1]
    assert retried, "with half the answers failing, some reads must have needed a retry"


async def test_reads_are_retried_through_timeouts(sandbox) -> None:
    sandbox.set_faults(latency_ms=1500)
    async with ExchangeSession(api_url=sandbox.api_url, timeout_s=0.5, retry=FAST_RETRY) as s:
        client = s.client(credentials_of(sandbox), label="A")
        loop = asyncio.get_running_loop()
        loop.call_later(0.8, sandbox.clear_faults)
        balances = await client.balances()
        assert balances["USDC"].available > 0
        record = [r for r in s.metrics.recent if r.route == "balances"][-1]
        assert record.attempts >= 2


async def test_a_dead_exchange_fails_bounded_in_time(sandbox) -> None:
    sandbox.set_faults(latency_ms=3000)
    policy = RetryPolicy(attempts=10, base_s=0.01, cap_s=0.05, total_s=1.0)
    async with ExchangeSession(api_url=sandbox.api_url, timeout_s=0.3, retry=policy) as s:
        started = time.monotonic()
        with pytest.raises(ExchangeUnavailableError, match="No answer from the exchange"):
            await s.client().markets()
        assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("mode", ["close", "504", "hang"])
async def test_an_order_whose_answer_is_lost_exists_exactly_once(sandbox, mode: str) -> None:
    async with ExchangeSession(api_url=sandbox.api_url, timeout_s=1.0, retry=FAST_RETRY) as s:
        client = s.client(credentials_of(sandbox), label="A")
        await s.markets.load()
        sandbox.set_faults(lose_order_responses=1, lost_response=mode)
        order = await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="140")
        assert order.status is OrderStatus.NEW and order.price == Decimal("140")
        open_orders = await client.open_orders("SOL_USDC")
        assert [(o.client_id, o.id) for o in open_orders] == [(order.client_id, order.id)]


async def test_lost_batch_answer_resends_nothing_that_exists(sandbox, client) -> None:
    await client.session.markets.load()
    sandbox.set_faults(lose_order_responses=1, lost_response="close")
    results = await client.place_orders(
        [
            {
                "symbol": "SOL_USDC",
                "side": "Bid",
                "order_type": "Limit",
                "quantity": "1",
                "price": p,
            }
            for p in ("140", "139")
        ]
    )
    assert sorted(r.price for r in results) == [Decimal("139"), Decimal("140")]
    lookups = [r.route for r in client.session.metrics.recent if r.label == "Desk A"]
    assert lookups.count("open_orders") == 1  # one lookup for the whole batch
    assert len(await client.open_orders("SOL_USDC")) == 2


async def test_a_429_burst_loses_no_request(sandbox, client, session) -> None:
    await session.sync_clock()
    sandbox.set_faults(burst_429=8)
    reads = await asyncio.gather(*(client.balances() for _ in range(12)))
    order = await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="140")
    assert len(reads) == 12 and all(r["USDC"].available > 0 for r in reads)
    assert [o.id for o in await client.open_orders("SOL_USDC")] == [order.id]
    assert any(r.attempts > 1 for r in session.metrics.recent)


@pytest.mark.parametrize("offset_ms", [30_000, -30_000])
async def test_a_clock_off_by_30s_still_works(sandbox, session, client, offset_ms: int) -> None:
    sandbox.set_faults(clock_offset_ms=offset_ms)
    assert (await client.balances())["USDC"].available > 0
    assert abs(session.clock.offset_ms - offset_ms) < 1000
    assert session.metrics.clock_offset_ms == session.clock.offset_ms


async def test_the_clock_moving_mid_session_is_noticed_and_the_order_goes_once(
    sandbox, session, client
) -> None:
    await client.balances()
    sandbox.set_faults(clock_offset_ms=-20_000)
    order = await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="140")
    assert abs(session.clock.offset_ms + 20_000) < 1000
    assert [o.id for o in await client.open_orders("SOL_USDC")] == [order.id]


async def test_an_order_refused_by_a_5xx_is_resent_only_after_its_window_expired(sandbox) -> None:
    async with ExchangeSession(
        api_url=sandbox.api_url, timeout_s=1.0, retry=FAST_RETRY, window_ms=1000
    ) as s:
        client = s.client(credentials_of(sandbox), label="A")
        await s.markets.load()
        await s.sync_clock()
        sandbox.set_faults(error_rate=1.0)
        asyncio.get_running_loop().call_later(0.3, sandbox.clear_faults)
        started = time.monotonic()
        order = await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="140")
        assert time.monotonic() - started >= 1.0  # waited for the first attempt to expire
        assert [o.id for o in await client.open_orders("SOL_USDC")] == [order.id]
        attempts = [r for r in s.metrics.recent if r.route == "place_order"]
        assert [r.outcome for r in attempts] == ["ServerError", "ok"]


async def test_an_order_to_an_unreachable_exchange_fails_fast_without_lookups(sandbox) -> None:
    from sandbox.process import free_port

    async with ExchangeSession(
        api_url=f"http://127.0.0.1:{free_port()}", timeout_s=1.0, retry=FAST_RETRY
    ) as s:
        client = s.client(credentials_of(sandbox), label="A")
        started = time.monotonic()
        with pytest.raises(ExchangeUnavailableError, match="Cannot connect to the exchange"):
            await client.place_order(
                "SOL_USDC", "Bid", "Limit", quantity="1", price="140", validate=False
            )
        assert time.monotonic() - started < 1.0
        assert not any(r.route in ("open_orders", "order_history") for r in s.metrics.recent)


async def test_a_lost_answer_is_never_matched_to_another_order_with_the_same_client_id(
    sandbox,
) -> None:
    async with ExchangeSession(
        api_url=sandbox.api_url, timeout_s=1.0, retry=FAST_RETRY, window_ms=1000
    ) as s:
        client = s.client(credentials_of(sandbox), label="A")
        await s.markets.load()
        other = await client.place_order(
            "SOL_USDC", "Bid", "Limit", quantity="1", price="131", client_id=77
        )
        sandbox.set_faults(error_rate=1.0)
        asyncio.get_running_loop().call_later(0.3, sandbox.clear_faults)
        mine = await client.place_order(
            "SOL_USDC", "Bid", "Limit", quantity="2", price="140", client_id=77
        )
        assert mine.id != other.id and mine.price == Decimal("140")
        open_orders = sorted((o.price, o.client_id) for o in await client.open_orders("SOL_USDC"))
        assert open_orders == [(Decimal("131"), 77), (Decimal("140"), 77)]
