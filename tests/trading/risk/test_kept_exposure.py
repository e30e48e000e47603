"""The gate keeps its exposure read for a moment (trading.risk.exposure): orders sent meanwhile
still count through their reservations, and the desk's own cancels are seen at once (its own
fills too: tests/trading/risk/test_daily_loss.py, a member's own loss)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from tests.trading.risk.test_gate_on_the_sandbox import limits, open_orders_on_exchange, send
from trading.backpack import Side
from trading.exchange import exchange_session
from trading.risk import exposure
from trading.risk.services import risk_gate_admit
from trading.services import order_cancel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]


async def test_orders_sent_while_the_read_is_kept_still_count(desk) -> None:
    await limits(desk, max_position_notional_market=Decimal("400"))
    assert 'data-result="ok"' in await send(desk, n=1)  # 150 of 400; the read is kept
    kept = exposure._kept[desk.main.pk][2]

    assert 'data-result="ok"' in await send(desk, n=2)  # 300 of 400
    html = await send(desk, n=3)  # 450: refused, though the kept read saw no order at all

    assert exposure._kept[desk.main.pk][2] is kept  # the sentinel: no new read was made
    assert kept.exposure.open_orders == 0
    assert "Order refused: max 100.00 USDC more in SOL_USDC" in html
    assert len(await open_orders_on_exchange(desk)) == 2


async def test_a_cancel_frees_its_headroom_at_once(desk) -> None:
    await limits(desk, max_position_notional_market=Decimal("400"))
    assert 'data-result="ok"' in await send(desk, n=1, quantity="2")  # 300 of 400
    [order] = await open_orders_on_exchange(desk)

    await order_cancel(
        actor=desk.trader, subaccount=desk.main, symbol="SOL_USDC", order_id=order.id
    )
    html = await send(desk, n=2, quantity="2")

    assert 'data-result="ok"' in html, html


async def test_a_burst_of_orders_shares_one_exchange_read(desk) -> None:
    await limits(desk, max_position_notional_market=Decimal("10000"))
    routes: list[str] = []
    exchange_session().metrics.add_hook(
        lambda call: routes.append(call.route) if call.label == str(desk.main.pk) else None
    )
    exposure.risk_exposure_forget(subaccount_id=desk.main.pk)

    reservations = await asyncio.gather(
        *(
            risk_gate_admit(
                actor=desk.trader,
                subaccount=desk.main,
                symbol="SOL_USDC",
                side=Side.BID,
                notional=Decimal("150"),
            )
            for _ in range(10)
        )
    )

    assert len(set(reservations)) == 10  # every order passed with its own reservation
    assert sorted(routes) == sorted(set(routes))  # each of the read's three calls once
    assert len(routes) == 3, routes


async def test_a_kept_read_past_the_refresh_age_is_read_again_ahead(desk) -> None:
    exposure.risk_exposure_forget(subaccount_id=desk.main.pk)
    first = await exposure.risk_exposure_current(subaccount=desk.main)
    key = (desk.main.pk, id(asyncio.get_running_loop()))

    exposure.risk_exposure_refresh_ahead(subaccount=desk.main)
    young = key in exposure._reading
    started, session, read = exposure._kept[desk.main.pk]
    exposure._kept[desk.main.pk] = (started - exposure.EXPOSURE_REFRESH_S, session, read)
    exposure.risk_exposure_refresh_ahead(subaccount=desk.main)
    ahead = await exposure._reading[key]

    assert not young  # a read younger than the refresh age starts nothing
    assert ahead is not first
    assert exposure._kept[desk.main.pk][2] is ahead
    assert await exposure.risk_exposure_current(subaccount=desk.main) is ahead
