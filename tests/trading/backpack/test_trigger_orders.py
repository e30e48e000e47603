"""Stop orders, take-profit / stop-loss (on a new order and on an open position) and
batches through the client, against the sandbox exchange over real sockets."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from trading.backpack import OrderStatus, OrderType, Side, TriggerBy
from trading.backpack.errors import InvalidOrderError

from .conftest import credentials_of

PERP = "SOL_USDC_PERP"


async def set_mark(sandbox, price: str) -> None:
    async with httpx.AsyncClient(base_url=sandbox.api_url) as http:
        answer = await http.post("/_sandbox/markPrice", json={"symbol": PERP, "price": price})
        assert answer.status_code == 200, answer.text


async def net_position(client) -> Decimal:
    positions = await client.positions(PERP)
    return positions[0].net_quantity if positions else Decimal(0)


async def test_a_stop_limit_waits_typed_and_cancels(client) -> None:
    order = await client.place_trigger_order(
        PERP,
        Side.BID,
        trigger_price=Decimal("160"),
        quantity=Decimal("1.5"),
        price=Decimal("161"),
        trigger_by=TriggerBy.MARK_PRICE,
    )
    assert order.is_trigger_pending and order.order_type is OrderType.LIMIT
    assert (order.trigger_price, order.trigger_by, order.trigger_quantity) == (
        Decimal("160"),
        TriggerBy.MARK_PRICE,
        Decimal("1.5"),
    )
    (listed,) = await client.open_orders(PERP)
    assert listed.id == order.id and listed.status is OrderStatus.TRIGGER_PENDING
    cancelled = await client.cancel_order(PERP, order_id=order.id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert await client.open_orders(PERP) == []


async def test_a_stop_market_fires_on_the_mark(client, sandbox) -> None:
    other = client.session.client(credentials_of(sandbox, 1), label="Desk B")
    await other.place_order(PERP, "Ask", "Limit", quantity="3", price="161")
    await client.place_trigger_order(
        PERP, "Bid", trigger_price="160", quantity="1", trigger_by="MarkPrice"
    )
    await set_mark(sandbox, "160")
    assert await net_position(client) == Decimal("1")


async def test_a_trigger_off_the_tick_is_refused_before_sending(client) -> None:
    with pytest.raises(InvalidOrderError) as refused:
        await client.place_trigger_order(PERP, "Bid", trigger_price="160.001", quantity="1")
    assert refused.value.field == "triggerPrice"
    assert await client.open_orders(PERP) == []


async def test_position_take_profit_on_half_and_stop_loss_on_all(client, sandbox) -> None:
    other = client.session.client(credentials_of(sandbox, 1), label="Desk B")
    await other.place_order(PERP, "Ask", "Limit", quantity="2", price="150")
    await client.place_order(PERP, "Bid", "Market", quantity="2")
    await other.place_order(PERP, "Bid", "Limit", quantity="5", price="160")
    take_profit = await client.place_position_exit(
        PERP, Side.ASK, trigger_price="165", percent=50, limit_price="160"
    )
    stop_loss = await client.place_position_exit(PERP, Side.ASK, trigger_price="140")
    assert (take_profit.trigger_percent, take_profit.reduce_only) == (Decimal("50"), True)
    assert stop_loss.trigger_percent == Decimal("100")

    await set_mark(sandbox, "165")
    assert await net_position(client) == Decimal("1")
    assert [o.id for o in await client.open_orders(PERP)] == [stop_loss.id]


async def test_position_exit_shares_must_be_a_percent(client) -> None:
    with pytest.raises(InvalidOrderError) as refused:
        await client.place_position_exit(PERP, "Ask", trigger_price="140", percent=150)
    assert refused.value.field == "triggerQuantity"


async def test_take_profit_and_stop_loss_attached_to_a_new_order(client, sandbox) -> None:
    other = client.session.client(credentials_of(sandbox, 1), label="Desk B")
    await other.place_order(PERP, "Ask", "Limit", quantity="2", price="150")
    parent = await client.place_order(
        PERP,
        "Bid",
        "Market",
        quantity="2",
        take_profit_trigger_price=Decimal("170"),
        take_profit_limit_price=Decimal("169"),
        stop_loss_trigger_price=Decimal("140"),
        stop_loss_trigger_by="MarkPrice",
    )
    assert (parent.take_profit_limit_price, parent.stop_loss_trigger_by) == (
        Decimal("169"),
        TriggerBy.MARK_PRICE,
    )
    legs = await client.open_orders(PERP)
    assert {leg.related_order_id for leg in legs} == {parent.id}
    assert sorted(leg.trigger_price for leg in legs) == [Decimal("140"), Decimal("170")]


async def test_a_batch_answers_each_order_typed_stops_included(client) -> None:
    results = await client.place_orders(
        [
            {
                "symbol": "ETH_USDC",
                "side": "Bid",
                "order_type": "Limit",
                "quantity": "1",
                "price": "3000",
            },
            {
                "symbol": PERP,
                "side": "Bid",
                "order_type": "Market",
                "quantity": "1",
                "trigger_price": "160",
                "trigger_by": "MarkPrice",
            },
        ]
    )
    assert [r.status for r in results] == [OrderStatus.NEW, OrderStatus.TRIGGER_PENDING]
    assert results[1].trigger_price == Decimal("160")
    assert len(await client.open_orders()) == 2


def test_a_trigger_update_on_the_stream_carries_its_price() -> None:
    from trading.backpack.orderfeed import OrderUpdate

    update = OrderUpdate.from_stream(
        {
            "e": "triggerPlaced",
            "s": PERP,
            "S": "Ask",
            "X": "TriggerPending",
            "i": "112000000000000007",
            "P": "140",
            "B": "MarkPrice",
            "Y": "50%",
        }
    )
    assert (update.status, update.trigger_price) == (OrderStatus.TRIGGER_PENDING, Decimal("140"))
