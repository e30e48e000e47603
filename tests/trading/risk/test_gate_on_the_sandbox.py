"""Every limit refuses through the ticket with its message and nothing reaches the exchange;
reduce-only orders and closes pass at the limit; defaults guard a subaccount without limits."""

from __future__ import annotations

from decimal import Decimal
from html import escape

import pytest

from accounts.models import AuditEvent
from tests.trading.pages.conftest import HX, client_for_user
from trading.models import RiskBreach, RiskLimit, RiskReservation
from trading.risk.exposure import risk_exposure_forget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

SEND = "/trading/market/{symbol}/ticket/"
PERP = "SOL_USDC_PERP"


def ticket(desk, n: int = 0, **fields) -> dict[str, str]:
    data = {
        "subaccount": str(desk.main.pk),
        "side": "Bid",
        "order_type": "Limit",
        "time_in_force": "GTC",
        "price": "150",
        "quantity": "1",
        "confirmed": "on",
        "token": f"risk-token-{n}-" + "x" * 16,
    }
    data.update(fields)
    return data


async def send(desk, symbol: str = "SOL_USDC", n: int = 0, **fields) -> str:
    client = await client_for_user(desk.trader)
    response = await client.post(SEND.format(symbol=symbol), ticket(desk, n, **fields), **HX)
    return response.content.decode()


async def open_orders_on_exchange(desk, symbol: str | None = None):
    async with desk.session() as session:
        return await desk.raw_client(session, 0).open_orders(symbol)


async def limits(desk, member=None, **values) -> RiskLimit:
    """Arrange: the subaccount's row with no limit but `values` (a member row when given)."""
    if member is not None:
        await RiskLimit.objects.acreate(subaccount=desk.main)
    return await RiskLimit.objects.acreate(subaccount=desk.main, member=member, **values)


async def assert_refused(desk, html: str, message: str, limit: str) -> None:
    assert 'data-result="error"' in html
    assert escape(message) in html, html
    assert await open_orders_on_exchange(desk) == []
    breach = await RiskBreach.objects.aget()
    assert (breach.limit, breach.member_name, breach.message) == (limit, "trader", message)
    event = await AuditEvent.objects.filter(action="order_place").afirst()
    assert (event.result, event.detail) == ("denied", message)
    # the refused ticket as it was typed, and where it came from, beside the gate's figures
    assert (event.ip_address, event.parameters["quantity"]) == ("127.0.0.1", "1.00")
    assert event.parameters["limit"] == limit
    assert await RiskReservation.objects.acount() == 0


async def test_order_notional_limit(desk) -> None:
    await limits(desk, max_order_notional=Decimal("100"))

    html = await send(desk)

    await assert_refused(
        desk,
        html,
        "Order refused: the order's notional 150.00 USDC is above the order limit of 100.00 USDC.",
        "max_order_notional",
    )


async def test_position_limit_per_market_counts_open_orders(desk) -> None:
    await limits(desk, max_position_notional_market=Decimal("400"))
    assert 'data-result="ok"' in await send(desk, n=1, quantity="2")

    html = await send(desk, n=2)

    message = (
        "Order refused: max 100.00 USDC more in SOL_USDC (position limit per market 400.00 USDC)."
    )
    assert message in html
    assert [o.quantity for o in await open_orders_on_exchange(desk)] == [Decimal("2")]
    assert await RiskBreach.objects.filter(limit="max_position_notional_market").aexists()


async def test_position_limit_per_market_counts_stops_waiting_for_their_trigger(desk) -> None:
    # a stop-market carries no price and its size as triggerQuantity: once on the exchange it
    # still opens a position when it fires, so it uses the limit's headroom at its trigger
    await limits(desk, max_position_notional_market=Decimal("400"))
    stop = {"order_type": "StopMarket", "price": "", "trigger_price": "160", "quantity": "2"}
    assert 'data-result="ok"' in await send(desk, "SOL_USDC_PERP", n=1, **stop)
    risk_exposure_forget(subaccount_id=desk.main.pk)  # a later order reads the exchange anew

    html = await send(desk, "SOL_USDC_PERP", n=2)

    message = (
        "Order refused: max 80.00 USDC more in SOL_USDC_PERP (position limit per market "
        "400.00 USDC)."
    )
    assert message in html
    (waiting,) = await open_orders_on_exchange(desk)
    assert (waiting.trigger_quantity, waiting.trigger_price) == (Decimal("2"), Decimal("160"))


async def test_total_position_limit(desk) -> None:
    await limits(desk, max_position_notional_total=Decimal("400"))
    assert 'data-result="ok"' in await send(desk, n=1, quantity="2")

    html = await send(desk, "ETH_USDC", n=2, price="3000", quantity="0.1")

    assert (
        "Order refused: max 100.00 USDC more in all markets (total position limit 400.00 USDC)."
        in html
    )
    assert [o.symbol for o in await open_orders_on_exchange(desk)] == ["SOL_USDC"]


async def test_open_orders_limit(desk) -> None:
    await limits(desk, max_open_orders=1)
    assert 'data-result="ok"' in await send(desk, n=1)

    html = await send(desk, n=2)

    assert "Order refused: 1 open order already, the limit is 1." in html
    assert len(await open_orders_on_exchange(desk)) == 1


async def test_leverage_limit(desk) -> None:
    async with desk.session() as session:
        equity = (await desk.raw_client(session, 0).collateral()).net_equity
    await limits(desk, max_leverage=Decimal("0.0001"))

    html = await send(desk, quantity="10")

    assert "Order refused: max " in html
    assert "USDC more before the leverage limit of 0.0001x on " in html
    assert f"{equity.quantize(Decimal('0.01')):,f} USDC net equity." in html
    assert await open_orders_on_exchange(desk) == []


async def test_allowed_markets(desk) -> None:
    await limits(desk, allowed_markets="BTC_USDC")

    html = await send(desk)

    await assert_refused(
        desk,
        html,
        "Order refused: SOL_USDC is not an allowed market (allowed: BTC_USDC).",
        "allowed_markets",
    )


async def test_a_members_own_limit_is_stricter_than_the_subaccounts(desk) -> None:
    await limits(desk, member=desk.trader, reduce_only=True, reduce_only_reason="desk review")

    html = await send(desk)

    await assert_refused(
        desk,
        html,
        "Order refused: reduce-only mode (desk review): only orders that reduce risk.",
        "reduce_only",
    )


async def open_long(desk, quantity: str = "2") -> None:
    async with desk.session() as session:
        maker = desk.raw_client(session, 1)
        await maker.place_order(PERP, "Ask", "Limit", price=Decimal("150"), quantity=Decimal("5"))
        await maker.place_order(PERP, "Bid", "Limit", price=Decimal("149"), quantity=Decimal("5"))
        await desk.raw_client(session, 0).place_order(
            PERP, "Bid", "Market", quantity=Decimal(quantity)
        )


async def test_reduce_only_orders_and_closes_pass_at_the_limit(desk) -> None:
    await open_long(desk)
    await limits(
        desk,
        max_order_notional=Decimal("0"),
        max_position_notional_market=Decimal("0"),
        max_position_notional_total=Decimal("0"),
        max_open_orders=0,
        max_leverage=Decimal("0"),
        allowed_markets="BTC_USDC",
        reduce_only=True,
        reduce_only_reason="at the limit",
    )
    assert "reduce-only mode (at the limit)" in await send(desk, PERP, n=1, price="160")

    html = await send(desk, PERP, n=2, side="Ask", price="155", quantity="1", reduce_only="on")
    assert 'data-result="ok"' in html, html
    client = await client_for_user(desk.trader)
    response = await client.post(
        f"/trading/subaccounts/{desk.main.pk}/positions/close/", {"symbol": PERP}, **HX
    )

    assert response.status_code == 200
    async with desk.session() as session:
        positions = await desk.raw_client(session, 0).positions()
    assert [p.net_quantity for p in positions if p.symbol == PERP and p.net_quantity] == []


async def test_a_subaccount_without_limits_gets_defaults_from_its_equity(desk) -> None:
    async with desk.session() as session:
        equity = (await desk.raw_client(session, 0).collateral()).net_equity

    assert 'data-result="ok"' in await send(desk)

    row = await RiskLimit.objects.aget(subaccount=desk.main, member=None)
    assert row.max_order_notional == equity * Decimal("0.25")
    assert row.max_leverage == Decimal("3")
    assert row.max_open_orders == 50
    event = await AuditEvent.objects.aget(action="risk_limits_default")
    assert event.parameters["net_equity"] == format(equity, "f")


async def test_the_ticket_check_shows_the_headroom_before_sending(desk) -> None:
    await limits(desk, max_position_notional_market=Decimal("400"))
    assert 'data-result="ok"' in await send(desk, n=1)
    client = await client_for_user(desk.trader)

    response = await client.post("/trading/market/SOL_USDC/ticket/check/", ticket(desk, n=2), **HX)

    assert (
        '<p class="muted" data-headroom>Headroom: max 250.00 USDC more to buy in SOL_USDC.</p>'
        in response.content.decode()
    )


async def test_the_ticket_check_says_when_the_member_is_reduce_only(desk) -> None:
    await limits(desk, member=desk.trader, reduce_only=True, reduce_only_reason="desk review")
    client = await client_for_user(desk.trader)

    response = await client.post("/trading/market/SOL_USDC/ticket/check/", ticket(desk), **HX)

    assert (
        "Reduce-only (desk review): only orders that reduce risk will pass."
        in response.content.decode()
    )
