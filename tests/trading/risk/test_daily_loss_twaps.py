"""The daily loss stop stops the subaccount's running TWAPs on the exchange too, whether the
ledger keeper's check or an order at the gate finds the loss: the exchange sends a TWAP's
slices past the gate, so a running one kept buying while the subaccount was reduce-only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.utils.html import escape

from accounts.models import AuditEvent, Role
from tests.factories import MembershipFactory, UserFactory
from tests.trading.risk.test_daily_loss import STOP, losing_long
from tests.trading.risk.test_gate_on_the_sandbox import limits, send
from tests.trading.risk.test_kill_switch_twaps import running, step
from trading.backpack import Side
from trading.models import RiskLimit
from trading.risk.exposure import risk_exposure_forget
from trading.risk.loss import loss_day, loss_stop_twaps_stop, risk_loss_watch
from trading.twap.services import twap_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

PERP = "SOL_USDC_PERP"


async def twap_then_a_loss(desk) -> str:
    """Arrange: a daily loss limit of 10 USDC, a TWAP buying 1 SOL perp over 10 minutes,
    then a long of 2 bought at 150 marked down to 140 (a loss of 20.15)."""
    await limits(desk, daily_loss_limit=Decimal("10"))
    strategy_id = await start(desk, desk.trader)
    await losing_long(desk)
    risk_exposure_forget(subaccount_id=desk.main.pk)  # the start's read is not reused
    assert [s.id for s in await running(desk)] == [strategy_id]
    return strategy_id


async def start(desk, actor) -> str:
    """A TWAP of ``actor`` buying 1 SOL perp over 10 minutes, a slice a minute."""
    strategy = await twap_start(
        actor=actor,
        subaccount=desk.main,
        symbol=PERP,
        side=Side.BID,
        quantity=Decimal("1"),
        duration_s=600,
        interval_s=60,
    )
    return strategy.id


async def position(desk) -> Decimal:
    async with desk.session() as session:
        positions = await desk.raw_client(session, 0).positions()
    return sum((p.net_quantity for p in positions if p.symbol == PERP), Decimal(0))


async def test_the_keepers_loss_check_stops_the_running_twap(desk) -> None:
    strategy_id = await twap_then_a_loss(desk)

    await risk_loss_watch(subaccount=desk.main)

    assert await running(desk) == []
    held = await position(desk)
    await step(desk)
    assert await position(desk) == held == Decimal("2")  # no slice bought
    cancel = await AuditEvent.objects.aget(action="twap_cancel")
    assert (cancel.actor_id, cancel.parameters["strategyId"]) == (None, strategy_id)
    assert cancel.parameters["reason"] == "daily loss stop"


async def test_an_order_that_finds_the_loss_stops_the_running_twap(desk) -> None:
    await twap_then_a_loss(desk)

    html = await send(desk, n=1)

    assert escape(STOP) in html
    assert await running(desk) == []


async def test_a_members_loss_stop_stops_only_that_members_twaps(desk) -> None:
    ada = await sync_to_async(UserFactory)(username="ada")
    await sync_to_async(MembershipFactory)(user=ada, subaccount=desk.main, role=Role.TRADER)
    await limits(desk)
    theirs = await start(desk, desk.trader)
    kept = await start(desk, ada)
    await RiskLimit.objects.acreate(  # then the trader's own loss stops the trader
        subaccount=desk.main,
        member=desk.trader,
        daily_loss_limit=Decimal("10"),
        loss_stop_day=await sync_to_async(loss_day)(),
        loss_stop_reason="daily loss limit of trader: today's loss 20.15 USDC passed ...",
    )

    await loss_stop_twaps_stop(subaccount=desk.main)

    assert [s.id for s in await running(desk)] == [kept]
    cancel = await AuditEvent.objects.aget(action="twap_cancel")
    assert cancel.parameters["strategyId"] == theirs
