"""A previewed ladder is sent as ONE batch request after the risk gate admitted it whole;
a ladder that breaks a limit as a whole sends nothing; a child the exchange refuses frees
its headroom while the others stay; a viewer cannot send one."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import AuditEvent
from trading.backpack import Side
from trading.exchange import client_for, exchange_session
from trading.ladder.preview import Distribution, LadderSpec, ladder_preview
from trading.ladder.services import ladder_place
from trading.models import RiskBreach, RiskLimit, RiskReservation
from trading.risk.services import RiskRefused

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

D = Decimal


async def preview_of(desk, **changes):
    values = {
        "symbol": "SOL_USDC",
        "side": Side.BID,
        "from_price": D("149"),
        "to_price": D("140"),
        "count": 10,
        "total_quantity": D("5.5"),
        "distribution": Distribution.INCREASING,
    }
    values.update(changes)
    market = await client_for(desk.main).market(values["symbol"])
    return ladder_preview(spec=LadderSpec(**values), market=market, fee_bps=D("2"))


async def open_orders(desk, index: int = 0):
    async with desk.session() as session:
        return await desk.raw_client(session, index).open_orders()


async def test_a_ladder_goes_out_in_one_request_and_rests_as_previewed(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)  # no limits
    preview = await preview_of(desk)
    sent_before = len(exchange_session().metrics.recent)

    result = await ladder_place(actor=desk.trader, subaccount=desk.main, preview=preview)

    assert result.ok and result.message == "Ladder sent: 10 of 10 orders placed."
    calls = list(exchange_session().metrics.recent)[sent_before:]
    placing = [c.route for c in calls if c.route in ("place_order", "place_orders")]
    assert placing == ["place_orders"]  # one batch request for the whole ladder
    resting = sorted((o.price, o.quantity) for o in await open_orders(desk))
    assert resting == sorted((r.price, r.quantity) for r in preview.rows)
    assert await RiskReservation.objects.filter(placed_at__isnull=True).acount() == 0
    event = await AuditEvent.objects.filter(action="ladder_place").aget()
    assert (event.result, event.actor_name) == (AuditEvent.Result.OK, "trader")


async def test_a_ladder_over_the_limit_as_a_whole_sends_nothing(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main, max_position_notional_market=D("500"))
    preview = await preview_of(desk)  # each child below 500, the whole about 800
    assert all(row.notional < 500 for row in preview.rows)

    with pytest.raises(RiskRefused) as refused:
        await ladder_place(actor=desk.trader, subaccount=desk.main, preview=preview)

    assert refused.value.limit == "max_position_notional_market"
    assert "nothing was sent" in refused.value.message
    assert await open_orders(desk) == []
    assert await RiskReservation.objects.acount() == 0
    breach = await RiskBreach.objects.aget()
    assert breach.limit == "max_position_notional_market"


async def test_children_the_exchange_refuses_free_their_headroom(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    async with desk.session() as session:
        seller = desk.raw_client(session, 1)
        await seller.place_order("SOL_USDC", "Ask", "Limit", quantity="1", price="145")
    preview = await preview_of(desk, post_only=True)  # the children at 145 and above cross

    result = await ladder_place(actor=desk.trader, subaccount=desk.main, preview=preview)

    assert (len(result.placed), len(result.refused)) == (5, 5)
    assert "Order would immediately match and take" in result.refused[0]
    assert {o.price for o in await open_orders(desk)} == {r.price for r in preview.rows[5:]}
    assert await RiskReservation.objects.filter(placed_at__isnull=False).acount() == 5
    assert await RiskReservation.objects.filter(placed_at__isnull=True).acount() == 0


async def test_a_viewer_cannot_send_a_ladder(desk) -> None:
    preview = await preview_of(desk)
    with pytest.raises(PermissionDenied):
        await ladder_place(actor=desk.viewer, subaccount=desk.main, preview=preview)
    assert await open_orders(desk) == []
    event = await AuditEvent.objects.filter(action="ladder_place").aget()
    assert event.result == AuditEvent.Result.DENIED
