"""Strategies over HTTP: a scheduled (TWAP) strategy is created, runs on the server's own
schedule (or stepped by the control route), completes, is cancelled, shows in history;
every answer validates against the spec; bad input gets the exchange's error shape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from sandbox.process import SandboxProcess
from tests.sandbox.server.api import Api
from tests.waiting import eventually

TWAP = {
    "strategyType": "Scheduled",
    "symbol": "SOL_USDC",
    "side": "Bid",
    "quantity": "3",
    "duration": 3000,
    "interval": 1000,
}


async def create(api: Api, **changes: Any) -> httpx.Response:
    return await api.signed("POST", "/api/v1/strategy", "strategyCreate", {**TWAP, **changes})


async def offer(other: Api, quantity: str = "10", price: str = "150") -> None:
    placed = await other.place(
        symbol="SOL_USDC", side="Ask", orderType="Limit", price=price, quantity=quantity
    )
    assert placed.status_code == 200, placed.text


async def step(http: httpx.AsyncClient) -> int:
    answer = await http.post("/_sandbox/strategies/step")
    return answer.json()["slices"]


async def history(api: Api, **params: Any) -> httpx.Response:
    return await api.signed(
        "GET", "/wapi/v1/history/strategies", "strategyHistoryQueryAll", params or None
    )


async def test_a_stepped_twap_fills_its_slices_and_lands_in_history(
    api: Api, other: Api, http: httpx.AsyncClient
) -> None:
    await offer(other)
    created = await create(api, clientStrategyId=42)
    assert created.status_code == 200, created.text
    strategy = created.json()
    assert (strategy["status"], strategy["duration"], strategy["interval"]) == (
        "Running",
        3000,
        1000,
    )
    listed = await api.signed("GET", "/api/v1/strategies", "strategyQueryAll")
    assert [s["id"] for s in listed.json()] == [strategy["id"]]

    assert await step(http) == 1
    one = await api.signed(
        "GET", "/api/v1/strategy", "strategyQuery", {"symbol": "SOL_USDC", "clientStrategyId": 42}
    )
    assert one.json()["executedQuantity"] == "1"
    assert await step(http) == 1
    assert await step(http) == 1

    gone = await api.signed(
        "GET",
        "/api/v1/strategy",
        "strategyQuery",
        {"symbol": "SOL_USDC", "strategyId": strategy["id"]},
    )
    assert (gone.status_code, gone.json()["code"]) == (404, "RESOURCE_NOT_FOUND")
    page = await history(api, symbol="SOL_USDC")
    assert page.headers["X-Total"] == "1"
    (done,) = page.json()
    assert (done["status"], done["executedQuantity"], done["executedQuoteQuantity"]) == (
        "Completed",
        "3",
        "450",
    )
    orders = await api.signed("GET", "/wapi/v1/history/orders", "orderHistoryQueryAll")
    assert [o["strategyId"] for o in orders.json()] == [strategy["id"]] * 3
    fills = (await api.signed("GET", "/wapi/v1/history/fills", "fillHistoryQueryAll")).json()
    fees = sum((Decimal(f["fee"]) for f in fills), Decimal(0))
    assert {f["feeSymbol"] for f in fills} == {"SOL"}
    assert Decimal((await api.balances())["SOL"]["available"]) == Decimal("5003") - fees


async def test_the_server_runs_a_twap_on_its_own_clock(api: Api, other: Api) -> None:
    await offer(other)
    strategy = (await create(api, quantity="2", duration=2000)).json()

    def finished() -> bool:  # the open-strategies route: the history one is rate-limited
        headers = api.headers("strategyQueryAll", None)
        answer = httpx.get(str(api.client.base_url) + "/api/v1/strategies", headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json() == []

    await eventually(finished, within_s=6, what="the TWAP completed by itself")
    (done,) = (await history(api)).json()
    assert (done["id"], done["executedQuantity"]) == (strategy["id"], "2")


async def test_cancel_one_and_cancel_all(api: Api, other: Api, http: httpx.AsyncClient) -> None:
    await offer(other)
    first = (await create(api, duration=600_000, interval=60_000)).json()
    await create(api, duration=600_000, interval=60_000)
    await step(http)
    cancelled = await api.signed(
        "DELETE",
        "/api/v1/strategy",
        "strategyCancel",
        {"symbol": "SOL_USDC", "strategyId": first["id"]},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["executedQuantity"]) == (
        "Cancelled",
        "0.3",
    )
    rest = await api.signed(
        "DELETE", "/api/v1/strategies", "strategyCancelAll", {"symbol": "SOL_USDC"}
    )
    assert [s["status"] for s in rest.json()] == ["Cancelled"]
    assert (await api.signed("GET", "/api/v1/strategies", "strategyQueryAll")).json() == []
    assert await step(http) == 0
    assert [s["status"] for s in (await history(api)).json()] == ["Cancelled", "Cancelled"]


async def test_bad_strategies_answer_the_exchange_error_and_start_nothing(api: Api) -> None:
    cases = [
        ({"duration": "3000"}, "Invalid parameter `duration`: expected an integer"),
        (
            {"quantity": 3},
            "Invalid parameter `quantity`: expected a decimal string, got the number 3",
        ),
        ({"interval": 10}, "Interval must be at least 1000 ms"),
        ({"symbol": "NOPE_USDC"}, "Market not found"),
        ({"color": "red"}, "Unknown parameter `color`"),
    ]
    for changes, message in cases:
        answer = await create(api, **changes)
        assert answer.status_code == 400, (changes, answer.text)
        assert answer.json()["message"] == message, changes
    assert (await api.signed("GET", "/api/v1/strategies", "strategyQueryAll")).json() == []


async def test_a_strategy_signed_as_an_order_is_refused(api: Api, sandbox: SandboxProcess) -> None:
    headers = api.headers("orderExecute", TWAP)
    headers["Content-Type"] = "application/json"
    answer = await api.client.post("/api/v1/strategy", json=TWAP, headers=headers)
    assert answer.status_code == 401
    assert (await api.signed("GET", "/api/v1/strategies", "strategyQueryAll")).json() == []
