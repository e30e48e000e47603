"""TWAP strategies through the client, against the sandbox exchange over real sockets."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from trading.backpack import Side, StrategyStatus, StrategyType
from trading.backpack.errors import BackpackError, InvalidOrderError

from .conftest import credentials_of


async def step(sandbox) -> int:
    async with httpx.AsyncClient(base_url=sandbox.api_url) as http:
        return (await http.post("/_sandbox/strategies/step")).json()["slices"]


async def offer(client, sandbox, quantity: str = "10") -> None:
    other = client.session.client(credentials_of(sandbox, 1), label="Desk B")
    await other.place_order("SOL_USDC", "Ask", "Limit", quantity=quantity, price="150")


async def test_a_twap_runs_typed_to_completion(client, sandbox) -> None:
    await offer(client, sandbox)
    twap = await client.create_twap(
        "SOL_USDC", Side.BID, quantity=Decimal("3"), duration_ms=3000, interval_ms=1000
    )
    assert (twap.strategy_type, twap.status, twap.remaining_quantity) == (
        StrategyType.SCHEDULED,
        StrategyStatus.RUNNING,
        Decimal("3"),
    )
    assert twap.client_strategy_id is not None
    assert [s.id for s in await client.open_strategies()] == [twap.id]

    await step(sandbox)
    running = await client.strategy("SOL_USDC", strategy_id=twap.id)
    assert (running.executed_quantity, running.average_price) == (Decimal("1"), Decimal("150"))
    await step(sandbox)
    await step(sandbox)

    (done,) = await client.strategy_history(symbol="SOL_USDC")
    assert (done.id, done.status, done.executed_quantity) == (
        twap.id,
        StrategyStatus.COMPLETED,
        Decimal("3"),
    )
    assert done.status.is_final and done.created_at is not None
    slices = await client.order_history(symbol="SOL_USDC")
    assert {o.strategy_id for o in slices} == {twap.id}


async def test_cancel_a_twap_and_cancel_again_returns_its_final_state(client, sandbox) -> None:
    await offer(client, sandbox)
    twap = await client.create_twap(
        "SOL_USDC", "Bid", quantity="2", duration_ms=600_000, interval_ms=60_000, randomized=True
    )
    cancelled = await client.cancel_strategy("SOL_USDC", strategy_id=twap.id)
    assert (cancelled.status, cancelled.randomized_interval_quantity) == (
        StrategyStatus.CANCELLED,
        True,
    )
    again = await client.cancel_strategy("SOL_USDC", strategy_id=twap.id)
    assert again.status is StrategyStatus.CANCELLED
    assert await client.open_strategies() == []


async def test_cancel_all_strategies_of_a_market(client) -> None:
    for _ in range(2):
        await client.create_twap(
            "SOL_USDC", "Bid", quantity="1", duration_ms=60_000, interval_ms=10_000
        )
    stopped = await client.cancel_all_strategies("SOL_USDC")
    assert [s.status for s in stopped] == [StrategyStatus.CANCELLED] * 2


async def test_a_twap_with_slippage_tolerance_reports_it(client) -> None:
    twap = await client.create_twap(
        "SOL_USDC",
        "Ask",
        quantity="1",
        duration_ms=60_000,
        interval_ms=10_000,
        slippage_tolerance="0.5",
        slippage_tolerance_type="Percent",
    )
    assert twap.slippage_tolerance == Decimal("0.5")


async def test_bad_twaps_are_refused(client) -> None:
    with pytest.raises(InvalidOrderError) as off_step:
        await client.create_twap(
            "SOL_USDC", "Bid", quantity="1.001", duration_ms=3000, interval_ms=1000
        )
    assert off_step.value.field == "quantity"
    with pytest.raises(BackpackError) as refused:
        await client.create_twap("SOL_USDC", "Bid", quantity="1", duration_ms=3000, interval_ms=10)
    assert refused.value.message == (
        "The exchange refused POST /api/v1/strategy (HTTP 400): Interval must be at least 1000 ms"
    )
    assert await client.open_strategies() == []


def test_a_slice_update_on_the_stream_names_its_strategy() -> None:
    from trading.backpack.orderfeed import OrderUpdate

    update = OrderUpdate.from_stream(
        {
            "e": "orderFill",
            "s": "SOL_USDC",
            "S": "Bid",
            "X": "Filled",
            "i": "112000000000000007",
            "q": "1",
            "z": "1",
            "H": 6000000001,
        }
    )
    assert (update.strategy_id, update.trigger_price) == ("6000000001", None)
