"""The order ticket against the still sandbox: checks as the trader types, confirmation,
one order per ticket token, roles, and exchange rejections in a trader's words."""

from __future__ import annotations

import asyncio
from decimal import ROUND_CEILING, Decimal

import pytest

from accounts.models import AuditEvent
from tests.trading.pages.conftest import HX, client_for_user
from trading.models import OrderTicket, RiskLimit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

CHECK = "/trading/market/{symbol}/ticket/check/"
SEND = "/trading/market/{symbol}/ticket/"


def ticket(desk, **fields) -> dict[str, str]:
    data = {
        "subaccount": str(desk.main.pk),
        "side": "Bid",
        "order_type": "Limit",
        "time_in_force": "GTC",
        "price": "150",
        "quantity": "1",
        "token": "token-" + "x" * 20,
    }
    data.update(fields)
    return data


async def open_orders_on_exchange(desk, index: int = 0, symbol: str = "SOL_USDC"):
    async with desk.session() as session:
        return await desk.raw_client(session, index).open_orders(symbol)


async def rest_order(desk, index: int, side: str, price: str, quantity: str, symbol="SOL_USDC"):
    async with desk.session() as session:
        return await desk.raw_client(session, index).place_order(
            symbol, side, "Limit", price=Decimal(price), quantity=Decimal(quantity)
        )


async def test_check_shows_rounding_messages_for_off_grid_values(desk) -> None:
    client = await client_for_user(desk.trader)

    response = await client.post(
        CHECK.format(symbol="SOL_USDC"), ticket(desk, price="150.005", quantity="1.234"), **HX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Quantity 1.234 is not a multiple of the step 0.01 for SOL_USDC; use 1.23." in html
    assert "Price 150.005 is not a multiple of the tick 0.01 for SOL_USDC; use 150.00." in html
    assert "data-rounded-price>150.00<" in html
    assert "data-rounded-quantity>1.23<" in html


async def test_check_shows_notional_and_the_accounts_taker_fee(desk) -> None:
    client = await client_for_user(desk.trader)
    async with desk.session() as session:
        account = await desk.raw_client(session, 0).account()
    fee = Decimal("300") * account.spot_taker_fee / Decimal(10000)

    response = await client.post(
        CHECK.format(symbol="SOL_USDC"), ticket(desk, price="150", quantity="2"), **HX
    )

    html = response.content.decode()
    assert "data-notional>300.00 USDC" in html
    assert f"≤ {fee.quantize(Decimal('0.01'), rounding=ROUND_CEILING)} USDC" in html
    assert "the account&#x27;s taker rate" in html
    assert "data-problem" not in html


async def test_check_refuses_quantity_and_quote_quantity_together(desk) -> None:
    client = await client_for_user(desk.trader)

    response = await client.post(
        CHECK.format(symbol="SOL_USDC"),
        ticket(desk, order_type="Market", quantity="1", quote_quantity="100"),
        **HX,
    )

    assert "Give either the quantity or the quote quantity, not both." in response.content.decode()


async def test_triggers_are_refused_on_a_spot_market(desk) -> None:
    client = await client_for_user(desk.trader)

    response = await client.post(
        CHECK.format(symbol="SOL_USDC"), ticket(desk, take_profit="170"), **HX
    )

    assert "A take-profit trigger applies to perpetual markets only." in response.content.decode()


async def test_a_limit_order_is_placed_and_audited(desk) -> None:
    client = await client_for_user(desk.trader)

    response = await client.post(SEND.format(symbol="SOL_USDC"), ticket(desk), **HX)

    html = response.content.decode()
    assert 'data-result="ok"' in html, html
    assert "Order placed: Buy 1 SOL_USDC @ 150" in html
    orders = await open_orders_on_exchange(desk)
    assert [(o.side.value, o.price, o.quantity) for o in orders] == [
        ("Bid", Decimal("150"), Decimal("1"))
    ]
    assert f'data-order-id="{orders[0].id}"' in html  # the outcome names the order
    # The open orders region arrives once, from the order update through the relay
    # (tests/trading/relay/test_relay_live.py), not a second time with the answer.
    assert f'id="open-orders-{desk.main.pk}"' not in html
    assert 'id="ticket-token"' in html  # a fresh token for the next order
    event = await AuditEvent.objects.filter(action="order_place").afirst()
    assert event.result == "ok" and event.parameters["price"] == "150.00"


async def test_two_submits_of_one_ticket_make_one_order(desk) -> None:
    client = await client_for_user(desk.trader)
    data = ticket(desk, token="double-click-token-1")

    first = await client.post(SEND.format(symbol="SOL_USDC"), data, **HX)
    second = await client.post(SEND.format(symbol="SOL_USDC"), data, **HX)

    assert "Order placed" in first.content.decode()
    assert "Already sent once (not sent again)" in second.content.decode()
    orders = await open_orders_on_exchange(desk)
    assert len(orders) == 1
    record = await OrderTicket.objects.aget(token="double-click-token-1")
    assert orders[0].client_id == record.client_id


async def test_concurrent_submits_of_one_ticket_make_one_order(desk) -> None:
    client = await client_for_user(desk.trader)
    data = ticket(desk, token="double-click-token-2")

    responses = await asyncio.gather(
        client.post(SEND.format(symbol="SOL_USDC"), data, **HX),
        client.post(SEND.format(symbol="SOL_USDC"), data, **HX),
    )

    texts = sorted(r.content.decode() for r in responses)
    assert sum("Already sent once" in t for t in texts) == 1
    assert len(await open_orders_on_exchange(desk)) == 1


async def test_an_order_above_the_notional_limit_asks_for_confirmation(desk) -> None:
    client = await client_for_user(desk.trader)
    data = ticket(desk, price="150", quantity="40", token="big-order-token")  # 6000 > 5000

    asked = await client.post(SEND.format(symbol="SOL_USDC"), data, **HX)

    html = asked.content.decode()
    assert "Please confirm this order." in html
    assert "above this subaccount&#x27;s confirmation limit of 5000 USDC" in html
    assert await open_orders_on_exchange(desk) == []

    confirmed = await client.post(SEND.format(symbol="SOL_USDC"), {**data, "confirmed": "on"}, **HX)

    html = confirmed.content.decode()
    assert "Order placed" in html
    assert "Needs confirmation" not in html  # the answer replaces the question under the ticket
    assert len(await open_orders_on_exchange(desk)) == 1


async def test_the_confirm_button_is_not_the_tickets_default_button(desk) -> None:
    """Enter in a ticket field submits the form through its first submit button: the
    confirmation's button is not one, and only its own click sends "confirmed"."""
    client = await client_for_user(desk.trader)
    data = ticket(desk, price="150", quantity="40", token="big-order-token")

    asked = await client.post(SEND.format(symbol="SOL_USDC"), data, **HX)

    html = asked.content.decode()
    assert '<button type="button" class="primary confirm-order"' in html
    assert 'type="submit"' not in html
    assert """hx-vals='{"confirmed": "on"}'""" in html


async def test_a_price_far_through_the_book_asks_for_confirmation(desk) -> None:
    await rest_order(desk, 1, "Ask", "150", "1")
    client = await client_for_user(desk.trader)

    response = await client.post(
        CHECK.format(symbol="SOL_USDC"), ticket(desk, price="160", quantity="0.1"), **HX
    )

    assert "The buy price 160.00 is 6.7% above the best ask 150.00." in response.content.decode()


async def test_an_exchange_rejection_is_shown_in_a_traders_words(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)  # "no limit": the exchange decides
    client = await client_for_user(desk.trader)
    data = ticket(desk, price="150", quantity="90000", confirmed="on", token="too-big-token")

    response = await client.post(SEND.format(symbol="SOL_USDC"), data, **HX)

    html = response.content.decode()
    assert 'data-result="error"' in html
    assert "Order not placed: Insufficient funds or margin" in html
    assert "Reduce the quantity, free locked funds, or deposit more." in html
    assert await open_orders_on_exchange(desk) == []
    event = await AuditEvent.objects.filter(action="order_place").afirst()
    assert event.result == "failed"


async def test_a_viewer_gets_no_ticket_and_cannot_post_one(desk) -> None:
    client = await client_for_user(desk.viewer)

    page = await client.get("/trading/market/SOL_USDC/")
    refused_htmx = await client.post(SEND.format(symbol="SOL_USDC"), ticket(desk), **HX)
    refused_plain = await client.post(SEND.format(symbol="SOL_USDC"), ticket(desk))

    assert 'id="ticket-form"' not in page.content.decode()
    assert "You have view access only" in page.content.decode()
    assert "needs the trader role" in refused_htmx.content.decode()
    assert 'id="ticket-result"' in refused_htmx.content.decode()
    assert refused_plain.status_code == 403
    assert await open_orders_on_exchange(desk) == []


async def test_a_trader_cannot_send_on_a_subaccount_they_only_view(desk) -> None:
    client = await client_for_user(desk.trader)

    response = await client.post(
        SEND.format(symbol="SOL_USDC"), ticket(desk, subaccount=str(desk.other.pk)), **HX
    )

    assert (
        "You may not trade on the subaccount picked (it needs the trader role there, which "
        "you may have lost since the page loaded)" in response.content.decode()
    )
    assert await open_orders_on_exchange(desk, index=1) == []


async def test_a_perpetual_order_carries_take_profit_and_stop_loss(desk) -> None:
    from trading.backpack import routes

    client = await client_for_user(desk.trader)
    data = ticket(desk, price="150", quantity="1", take_profit="165", stop_loss="140.5")

    response = await client.post(SEND.format(symbol="SOL_USDC_PERP"), data, **HX)

    assert "Order placed: Buy 1 SOL_USDC_PERP @ 150" in response.content.decode()
    async with desk.session() as session:
        raw = desk.raw_client(session, 0)
        orders = await session.call(
            routes.ORDERS_OPEN, {"symbol": "SOL_USDC_PERP"}, credentials=raw.credentials
        )
    assert len(orders) == 1
    assert Decimal(orders[0]["takeProfitTriggerPrice"]) == Decimal("165")
    assert Decimal(orders[0]["stopLossTriggerPrice"]) == Decimal("140.5")


async def test_triggers_on_the_wrong_side_are_explained(desk) -> None:
    client = await client_for_user(desk.trader)

    response = await client.post(
        CHECK.format(symbol="SOL_USDC_PERP"),
        ticket(desk, price="150", take_profit="140", stop_loss="155"),
        **HX,
    )

    html = response.content.decode()
    assert "The take-profit trigger must be above 150.00." in html
    assert "The stop-loss trigger must be below 150.00." in html


async def test_a_market_order_by_quote_quantity_fills_against_the_book(desk) -> None:
    await rest_order(desk, 1, "Ask", "150", "5")
    client = await client_for_user(desk.trader)
    data = ticket(desk, order_type="Market", price="", quantity="", quote_quantity="300")

    checked = await client.post(CHECK.format(symbol="SOL_USDC"), data, **HX)
    sent = await client.post(SEND.format(symbol="SOL_USDC"), data, **HX)

    assert "data-notional>300.00 USDC" in checked.content.decode()
    html = sent.content.decode()
    assert "(Market): Filled, filled 2, id" in html, html
    async with desk.session() as session:
        resting = await desk.raw_client(session, 1).open_orders("SOL_USDC")
    assert [o.executed_quantity for o in resting] == [Decimal("2")]  # the maker's ask


async def test_a_ticket_token_cannot_be_reused_by_someone_else(desk) -> None:
    from asgiref.sync import sync_to_async

    from accounts.models import Role
    from tests.factories import MembershipFactory, UserFactory

    colleague = await sync_to_async(UserFactory)(username="colleague")
    await sync_to_async(MembershipFactory)(user=colleague, subaccount=desk.main, role=Role.TRADER)
    data = ticket(desk, token="shared-token-0001")
    await (await client_for_user(desk.trader)).post(SEND.format(symbol="SOL_USDC"), data, **HX)

    response = await (await client_for_user(colleague)).post(
        SEND.format(symbol="SOL_USDC"), data, **HX
    )

    assert "This ticket was already used; reload the page" in response.content.decode()
    assert len(await open_orders_on_exchange(desk)) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"price": "1.5e2"},
            "Price: &#x27;1.5e2&#x27; has an exponent; write the number out in full, like 1500 "
            "rather than 1.5e3.",
        ),
        (
            {"quantity": "1,5"},
            "Quantity: &#x27;1,5&#x27; has a comma; write no thousands separators and use a "
            "point for decimals, like 1234.5.",
        ),
        (
            {"quantity": "١"},
            "Quantity: &#x27;١&#x27; has a digit that is not 0-9; type the number with plain "
            "digits.",
        ),
        ({"price": "NaN"}, "Price: &#x27;NaN&#x27; is not a number."),
        (
            {"price": "9" * 40},
            "Price: &#x27;99999999999999999999999…&#x27; is too large: at most 18 digits "
            "before the decimal point.",
        ),
        (
            {"order_type": "Market", "quantity": "1", "price": "150"},
            "A market order takes no price; clear the price or choose Limit.",
        ),
        (
            {"quote_quantity": "300"},
            "A limit order takes no quote quantity; give the quantity, or choose Market.",
        ),
        (
            {"order_type": "Market", "price": "", "quantity": "1", "post_only": "on"},
            "Post-only applies to limit orders only.",
        ),
    ],
)
async def test_a_ticket_with_a_misread_number_or_an_ignored_field_is_explained_and_never_sent(
    desk, fields, message
) -> None:
    client = await client_for_user(desk.trader)
    data = ticket(desk, **fields)

    checked = await client.post(CHECK.format(symbol="SOL_USDC"), data, **HX)
    sent = await client.post(SEND.format(symbol="SOL_USDC"), data, **HX)

    assert checked.status_code == sent.status_code == 200
    assert message in checked.content.decode()
    assert message in sent.content.decode()
    assert await open_orders_on_exchange(desk) == []
    assert not await AuditEvent.objects.filter(action="order_place").aexists()
