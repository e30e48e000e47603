"""Stop orders and take-profit / stop-loss limit prices through the order ticket, against the
still sandbox: a stop-limit rests as a trigger order, off the book, and fires into the book
when the mark crosses its trigger; exits carry their limit prices on the wire."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from accounts.models import AuditEvent
from tests.trading.pages.conftest import HX, client_for_user
from tests.trading.pages.test_ticket import SEND, open_orders_on_exchange, rest_order, ticket
from trading.backpack import OrderStatus, routes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

PERP = "SOL_USDC_PERP"


async def mark(desk, price: str) -> None:
    async with httpx.AsyncClient(base_url=desk.sandbox.api_url) as http:
        answer = await http.post("/_sandbox/markPrice", json={"symbol": PERP, "price": price})
        assert answer.status_code == 200, answer.text


async def position(desk) -> Decimal:
    async with desk.session() as session:
        rows = await desk.raw_client(session, 0).positions(PERP)
    return sum((p.net_quantity for p in rows), Decimal(0))


async def test_a_stop_limit_rests_as_a_trigger_order_and_fires_when_the_mark_crosses(desk):
    await rest_order(desk, 1, "Bid", "139.6", "5", symbol=PERP)  # where the stop will sell
    client = await client_for_user(desk.trader)
    data = ticket(
        desk,
        side="Ask",
        order_type="StopLimit",
        price="139.5",
        quantity="1",
        trigger_price="140",
        trigger_by="MarkPrice",
    )

    answer = await client.post(SEND.format(symbol=PERP), data, **HX)

    html = answer.content.decode()
    assert "Order placed: Sell 1 SOL_USDC_PERP @ 139.5 (Stop limit, trigger 140): Trigger" in html
    (resting,) = await open_orders_on_exchange(desk, symbol=PERP)
    assert resting.status is OrderStatus.TRIGGER_PENDING
    assert (resting.trigger_price, resting.price) == (Decimal("140"), Decimal("139.5"))
    assert await position(desk) == 0  # waiting off the book: the bid at 139.6 is untouched
    event = await AuditEvent.objects.filter(action="order_place").aget()
    assert (event.parameters["triggerPrice"], event.parameters["triggerBy"]) == (
        "140.00",
        "MarkPrice",
    )

    await mark(desk, "139.9")

    assert await position(desk) == Decimal("-1")
    assert await open_orders_on_exchange(desk, symbol=PERP) == []


def order_rows(html: str, subaccount) -> list[str]:
    """The rows of `subaccount`'s open-orders table in a page."""
    block = html.split(f'id="open-orders-{subaccount.pk}"')[1].split('id="open-orders-')[0]
    return block.split("data-order-id=")[1:]


async def test_a_waiting_stop_limit_shows_its_size_and_trigger_in_the_tables(desk) -> None:
    client = await client_for_user(desk.trader)
    data = ticket(desk, order_type="StopLimit", price="150", quantity="1", trigger_price="170")
    answer = await client.post(SEND.format(symbol=PERP), data, **HX)
    assert "(Stop limit, trigger 170): TriggerPending" in answer.content.decode()

    orders = (await client.get("/trading/orders/")).content.decode()
    history = await client.get(f"/trading/history/?subaccount={desk.main.pk}&kind=orders")

    (row,) = order_rows(orders, desk.main)
    assert "<td>Stop limit GTC, trigger 170.00</td>" in row
    assert '<td class="num" data-num="quantity:SOL_USDC_PERP">1.00</td>' in row
    assert 'data-quantity="1.00"' in row
    (past,) = history.content.decode().split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert "<td>Stop limit GTC, trigger 170.00</td>" in past
    assert '<td class="num" data-num="quantity:SOL_USDC_PERP">1.00</td>' in past


async def test_a_stop_market_is_checked_before_anything_is_sent(desk) -> None:
    client = await client_for_user(desk.trader)
    data = ticket(desk, side="Ask", order_type="StopMarket", price="", quantity="1")

    answer = await client.post(SEND.format(symbol=PERP), data, **HX)

    assert "A stop order needs its trigger price." in answer.content.decode()
    assert await open_orders_on_exchange(desk, symbol=PERP) == []


async def test_take_profit_and_stop_loss_carry_their_limit_prices(desk) -> None:
    client = await client_for_user(desk.trader)
    data = ticket(
        desk,
        price="150",
        quantity="1",
        take_profit="165",
        take_profit_limit="164.5",
        stop_loss="140.5",
        stop_loss_limit="140",
    )

    answer = await client.post(SEND.format(symbol=PERP), data, **HX)

    assert "Order placed: Buy 1 SOL_USDC_PERP @ 150" in answer.content.decode()
    async with desk.session() as session:
        raw = desk.raw_client(session, 0)
        (order,) = await session.call(
            routes.ORDERS_OPEN, {"symbol": PERP}, credentials=raw.credentials
        )
    assert Decimal(order["takeProfitLimitPrice"]) == Decimal("164.5")
    assert Decimal(order["stopLossLimitPrice"]) == Decimal("140")
