"""The account's order-update stream over a real WebSocket for triggers and strategies:
``triggerPlaced`` with the trigger fields when a stop order waits, ``triggerFailed`` with its
reason when it cannot execute, and every slice of a strategy with its id in ``H``."""

from __future__ import annotations

import httpx
from websockets.asyncio.client import connect

from sandbox.process import SandboxProcess
from tests.sandbox.server.api import Api
from tests.sandbox.server.wsclient import receive, request, subscribe_signature

PERP = "SOL_USDC_PERP"


async def subscribed(ws, sandbox: SandboxProcess) -> None:
    frame = {
        "method": "SUBSCRIBE",
        "params": ["account.orderUpdate"],
        "signature": subscribe_signature(sandbox.keys[1]),
        "id": 1,
    }
    assert (await request(ws, frame))["result"] is None


def kind(name: str):
    return lambda m: m.get("stream") == "account.orderUpdate" and m["data"]["e"] == name


async def test_a_stop_order_streams_trigger_placed_then_trigger_failed(
    sandbox: SandboxProcess, api: Api, http: httpx.AsyncClient
) -> None:
    async with connect(sandbox.ws_url) as ws:
        await subscribed(ws, sandbox)
        placed = await api.place(
            symbol=PERP,
            side="Ask",
            orderType="Market",
            reduceOnly=True,
            triggerPrice="140",
            triggerQuantity="50%",
            triggerBy="MarkPrice",
        )
        update = (await receive(ws, kind("triggerPlaced")))["data"]
        assert (update["i"], update["X"], update["P"], update["B"], update["Y"]) == (
            placed.json()["id"],
            "TriggerPending",
            "140",
            "MarkPrice",
            "50%",
        )
        await http.post("/_sandbox/markPrice", json={"symbol": PERP, "price": "140"})
        failed = (await receive(ws, kind("triggerFailed")))["data"]
        assert (failed["i"], failed["X"], failed["R"]) == (
            placed.json()["id"],
            "TriggerFailed",
            "StopWithoutPosition",
        )


async def test_strategy_slices_carry_the_strategy_id(
    sandbox: SandboxProcess, api: Api, other: Api, http: httpx.AsyncClient
) -> None:
    await other.place(symbol="SOL_USDC", side="Ask", orderType="Limit", price="150", quantity="5")
    async with connect(sandbox.ws_url) as ws:
        await subscribed(ws, sandbox)
        created = await api.signed(
            "POST",
            "/api/v1/strategy",
            "strategyCreate",
            {
                "strategyType": "Scheduled",
                "symbol": "SOL_USDC",
                "side": "Bid",
                "quantity": "2",
                "duration": 600_000,
                "interval": 300_000,
            },
        )
        await http.post("/_sandbox/strategies/step")
        fill = (await receive(ws, kind("orderFill")))["data"]
        assert (fill["H"], fill["l"], fill["L"]) == (int(created.json()["id"]), "1", "150")
