"""A TWAP started from the desk runs as the exchange's strategy after the risk gate admitted
its whole size; over a limit nothing starts; a viewer cannot start one; cancel stops it."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import AuditEvent
from trading.backpack import Side, StrategyStatus
from trading.models import RiskBreach, RiskLimit
from trading.risk.services import RiskRefused
from trading.twap.services import twap_cancel, twap_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

D = Decimal


async def offer(desk, quantity: str = "10") -> None:
    async with desk.session() as session:
        seller = desk.raw_client(session, 1)
        await seller.place_order("SOL_USDC", "Ask", "Limit", quantity=quantity, price="150")


async def running(desk):
    async with desk.session() as session:
        return await desk.raw_client(session, 0).open_strategies()


async def step(desk) -> None:
    async with httpx.AsyncClient(base_url=desk.sandbox.api_url) as http:
        await http.post("/_sandbox/strategies/step")


async def start(desk, actor=None, **changes):
    values = {
        "symbol": "SOL_USDC",
        "side": Side.BID,
        "quantity": D("2"),
        "duration_s": 600,
        "interval_s": 300,
    }
    values.update(changes)
    return await twap_start(actor=actor or desk.trader, subaccount=desk.main, **values)


async def test_a_twap_runs_on_the_exchange_to_completion(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    await offer(desk)
    strategy = await start(desk)
    assert [s.id for s in await running(desk)] == [strategy.id]

    await step(desk)
    await step(desk)

    assert await running(desk) == []
    async with desk.session() as session:
        (done,) = await desk.raw_client(session, 0).strategy_history()
    assert (done.status, done.executed_quantity, done.average_price) == (
        StrategyStatus.COMPLETED,
        D("2"),
        D("150"),
    )
    event = await AuditEvent.objects.filter(action="twap_start").aget()
    assert event.parameters["strategyId"] == strategy.id
    assert D(event.parameters["arrivalPrice"]) == D("150")


async def test_a_twap_over_the_order_limit_does_not_start(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main, max_order_notional=D("200"))
    await offer(desk)
    with pytest.raises(RiskRefused) as refused:
        await start(desk)  # 2 x 150 = 300 USDC
    assert refused.value.limit == "max_order_notional"
    assert await running(desk) == []
    assert (await RiskBreach.objects.aget()).limit == "max_order_notional"


async def test_a_viewer_cannot_start_a_twap(desk) -> None:
    with pytest.raises(PermissionDenied):
        await start(desk, actor=desk.viewer)
    assert await running(desk) == []
    event = await AuditEvent.objects.filter(action="twap_start").aget()
    assert event.result == AuditEvent.Result.DENIED


async def test_cancel_stops_a_running_twap(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    await offer(desk)
    strategy = await start(desk)
    cancelled = await twap_cancel(
        actor=desk.trader, subaccount=desk.main, symbol="SOL_USDC", strategy_id=strategy.id
    )
    assert cancelled.status is StrategyStatus.CANCELLED
    assert await running(desk) == []
    assert await AuditEvent.objects.filter(action="twap_cancel").acount() == 1
