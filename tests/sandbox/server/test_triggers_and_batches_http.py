"""Trigger orders, take-profit / stop-loss on a position, and batch orders over HTTP; every
answer validated against the spec.

Batches follow the spec: the answer to ``POST /api/v1/orders`` is a list of
``BatchCommandOrderResult`` (``operation`` ``Ok`` with the order, or ``Err`` with the error),
one per order in the order sent, so an order the engine refuses answers alone; a batch that
is malformed as a request (a field of the wrong type, an unknown field, empty, too long) is
refused whole with a 400 before any order is entered, as the exchange's API pre-validation
does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from tests.sandbox.server.api import Api

PERP = "SOL_USDC_PERP"


def bid(price: str, quantity: str = "1", **extra: Any) -> dict[str, Any]:
    order = {
        "symbol": "ETH_USDC",
        "side": extra.pop("side", "Bid"),
        "orderType": "Limit",
        "price": price,
        "quantity": quantity,
    }
    order.update(extra)
    return order


async def batch(api: Api, orders: list[dict[str, Any]]) -> httpx.Response:
    return await api.signed("POST", "/api/v1/orders", "orderExecute", orders)


async def position(api: Api) -> Decimal:
    answer = await api.signed("GET", "/api/v1/position", "positionQuery", {"symbol": PERP})
    rows = answer.json()
    return Decimal(rows[0]["netQuantity"]) if rows else Decimal(0)


async def mark(http: httpx.AsyncClient, price: str) -> None:
    answer = await http.post("/_sandbox/markPrice", json={"symbol": PERP, "price": price})
    assert answer.status_code == 200, answer.text


async def open_long(api: Api, other: Api, quantity: str = "2") -> None:
    await other.place(symbol=PERP, side="Ask", orderType="Limit", price="150", quantity=quantity)
    placed = await api.place(symbol=PERP, side="Bid", orderType="Market", quantity=quantity)
    assert placed.json()["status"] == "Filled", placed.text


async def test_batch_answers_each_order_in_order(api: Api) -> None:
    orders = [bid("3000"), bid("3000.001"), bid("2990", clientId=9)]
    answer = await batch(api, orders)
    assert answer.status_code == 200, answer.text
    results = answer.json()
    assert [r["operation"] for r in results] == ["Ok", "Err", "Ok"]
    assert (results[1]["code"], results[1]["message"]) == (
        "INVALID_CLIENT_REQUEST",
        "Price decimal too long",
    )
    assert [r.get("price") for r in results] == ["3000", None, "2990"]
    assert [o["price"] for o in await api.open_orders("ETH_USDC")] == ["3000", "2990"]


async def test_a_malformed_batch_is_refused_whole(api: Api) -> None:
    before = await api.ledger()
    for orders, message in [
        ([bid("3000"), bid("2990", side="Buy")], "expected one of Bid, Ask"),
        ([bid("3000"), bid("2990", colour="red")], "Unknown parameter `colour`"),
        ([bid("3000")] * 51, "A batch holds 1 to 50 orders"),
    ]:
        answer = await batch(api, orders)
        assert answer.status_code == 400, (message, answer.text)
        assert message in answer.json()["message"]
    assert await api.ledger() == before


async def test_a_batch_signed_as_one_order_is_refused(api: Api) -> None:
    orders = [bid("3000"), bid("2990")]
    headers = api.headers("orderExecute", orders[0])
    headers["Content-Type"] = "application/json"
    answer = await api.client.post("/api/v1/orders", json=orders, headers=headers)
    assert answer.status_code == 401
    assert await api.open_orders() == []


async def test_stop_limit_waits_listed_as_pending_and_cancels(api: Api) -> None:
    placed = await api.place(
        symbol=PERP,
        side="Bid",
        orderType="Limit",
        price="161",
        quantity="1",
        triggerPrice="160",
        triggerBy="MarkPrice",
    )
    assert placed.status_code == 200, placed.text
    order = placed.json()
    assert (order["status"], order["triggerPrice"], order["triggerBy"]) == (
        "TriggerPending",
        "160",
        "MarkPrice",
    )
    assert [o["status"] for o in await api.open_orders(PERP)] == ["TriggerPending"]
    cancelled = await api.signed(
        "DELETE", "/api/v1/order", "orderCancel", {"symbol": PERP, "orderId": order["id"]}
    )
    assert cancelled.json()["status"] == "Cancelled"
    assert await api.open_orders(PERP) == []


async def test_stop_market_fires_when_the_mark_crosses(
    api: Api, other: Api, http: httpx.AsyncClient
) -> None:
    await other.place(symbol=PERP, side="Ask", orderType="Limit", price="161", quantity="5")
    await api.place(
        symbol=PERP,
        side="Bid",
        orderType="Market",
        quantity="1",
        triggerPrice="160",
        triggerBy="MarkPrice",
    )
    await mark(http, "159.99")
    assert await position(api) == 0
    await mark(http, "160")
    assert await position(api) == Decimal("1")
    assert await api.open_orders(PERP) == []


async def test_take_profit_on_half_an_open_position(
    api: Api, other: Api, http: httpx.AsyncClient
) -> None:
    await open_long(api, other, "2")
    bids = await other.place(symbol=PERP, side="Bid", orderType="Limit", price="160", quantity="5")
    assert bids.status_code == 200, bids.text
    for trigger in ("170", "140"):  # take-profit on half, stop-loss on the whole
        share = "50%" if trigger == "170" else "100%"
        answer = await api.place(
            symbol=PERP,
            side="Ask",
            orderType="Market",
            reduceOnly=True,
            triggerPrice=trigger,
            triggerQuantity=share,
            triggerBy="MarkPrice",
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["triggerQuantity"] == share
    await mark(http, "170")
    assert await position(api) == Decimal("1")
    (stop_loss,) = await api.open_orders(PERP)
    assert (stop_loss["triggerPrice"], stop_loss["status"]) == ("140", "TriggerPending")


async def test_take_profit_and_stop_loss_attached_to_a_new_order(
    api: Api, other: Api, http: httpx.AsyncClient
) -> None:
    await other.place(symbol=PERP, side="Ask", orderType="Limit", price="150", quantity="2")
    placed = await api.place(
        symbol=PERP,
        side="Bid",
        orderType="Market",
        quantity="2",
        takeProfitTriggerPrice="170",
        takeProfitLimitPrice="169",
        stopLossTriggerPrice="140",
        stopLossTriggerBy="MarkPrice",
    )
    assert placed.json()["takeProfitLimitPrice"] == "169"
    exits = await api.open_orders(PERP)
    assert sorted((o["triggerPrice"], o["orderType"], o["reduceOnly"]) for o in exits) == [
        ("140", "Market", True),
        ("170", "Limit", True),
    ]
    await other.place(symbol=PERP, side="Bid", orderType="Limit", price="139", quantity="5")
    await mark(http, "140")
    assert await position(api) == 0
    assert await api.open_orders(PERP) == []  # the take-profit was cancelled with it
