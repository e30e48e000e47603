"""A running TWAP keeps what it has still to execute counted by the risk gate however long it
runs (the gate's own reservations are forgotten a minute after the order was placed): past
that minute it still blocks an order that would break a limit together with it, shrinks as
it executes, and stops counting when it is cancelled or seen finished."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F

from tests.trading.pages.conftest import HX, client_for_user
from tests.trading.twap.test_twap_on_the_sandbox import offer, start, step
from trading.backpack import Side
from trading.models import RiskLimit, RiskReservation
from trading.risk import exposure
from trading.risk.services import RiskRefused, risk_gate_admit, risk_reservation_settle
from trading.twap.services import twap_cancel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

D = Decimal
SOL = "SOL_USDC"


async def minutes_pass(desk, seconds: int = 61) -> None:
    """As if `seconds` had gone by since every reservation was made (and the kept read)."""
    gone = timedelta(seconds=seconds)
    await RiskReservation.objects.aupdate(
        created_at=F("created_at") - gone, placed_at=F("placed_at") - gone
    )
    exposure.risk_exposure_forget(subaccount_id=desk.main.pk)


async def buy(desk, notional: str) -> int | None:
    """Through the gate, as every order path goes (then freed again, nothing is sent)."""
    reservation = await risk_gate_admit(
        actor=desk.trader, subaccount=desk.main, symbol=SOL, side=Side.BID, notional=D(notional)
    )
    await risk_reservation_settle(reservation_id=reservation, placed=False)
    return reservation


async def test_a_twap_past_the_reservation_lifetime_still_blocks_an_order(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main, max_position_notional_market=D("500"))
    await offer(desk)
    strategy = await start(desk, duration_s=600, interval_s=300)  # 2 x 150 = 300 USDC
    await minutes_pass(desk)

    with pytest.raises(RiskRefused) as refused:
        await buy(desk, "225")  # 300 + 225 > 500

    assert refused.value.limit == "max_position_notional_market"
    assert await buy(desk, "150")  # 300 + 150 fits
    await twap_cancel(actor=desk.trader, subaccount=desk.main, symbol=SOL, strategy_id=strategy.id)
    assert await buy(desk, "225")  # cancelled: its remaining quantity no longer counts
    assert await RiskReservation.objects.acount() == 0


async def test_a_twap_just_started_counts_once(desk) -> None:
    # Its reservation is young, placed after the kept read began, and a running strategy's:
    # each of the gate's three reads of reservations in flight would find it.
    await RiskLimit.objects.acreate(subaccount=desk.main, max_position_notional_market=D("500"))
    await offer(desk)
    await start(desk, duration_s=600, interval_s=300)  # 2 x 150 = 300 USDC

    assert await buy(desk, "195")  # 300 + 195 fits; counted twice it would not

    with pytest.raises(RiskRefused) as refused:
        await buy(desk, "205")  # 300 + 205 > 500
    assert refused.value.limit == "max_position_notional_market"


async def test_the_reservation_follows_what_the_exchange_says_is_left(desk, monkeypatch) -> None:
    monkeypatch.setattr("trading.twap.selectors.TEAM_TWAPS_CACHE_S", 0.0)  # each poll reads
    await RiskLimit.objects.acreate(subaccount=desk.main, max_position_notional_market=D("500"))
    await offer(desk)
    await start(desk, duration_s=600, interval_s=300)
    client = await client_for_user(desk.viewer)

    await step(desk)  # one slice of two: 1 left
    await client.get("/trading/orders/twaps/", **HX)  # a member watches the team's TWAPs
    await minutes_pass(desk)

    (held,) = [r async for r in RiskReservation.objects.all()]
    assert held.notional == D("150")
    assert await buy(desk, "300")  # 150 left + 300 fits (the spot buy is no position)

    await step(desk)  # done
    await client.get("/trading/orders/twaps/", **HX)

    assert await RiskReservation.objects.acount() == 0
