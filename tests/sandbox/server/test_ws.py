"""The WebSocket API: public and private streams, sequencing, refusals that keep the line."""

from __future__ import annotations

import json

from websockets.asyncio.client import connect

from sandbox.process import SandboxProcess
from tests.sandbox.server.api import Api
from tests.sandbox.server.wsclient import (
    collect_until,
    frames_before_ack,
    receive,
    request,
    subscribe_signature,
)


async def test_depth_stream_continues_the_rest_snapshot(sandbox: SandboxProcess, api: Api) -> None:
    async with connect(sandbox.ws_url) as ws:
        ack = await request(ws, {"method": "SUBSCRIBE", "params": ["depth.SOL_USDC"], "id": 1})
        assert ack == {"id": 1, "result": None}
        snapshot = (await api.public("/api/v1/depth", {"symbol": "SOL_USDC"})).json()
        last = int(snapshot["lastUpdateId"])
        for price in ("149.00", "148.50", "148.00"):
            placed = await api.place(
                symbol="SOL_USDC", side="Bid", orderType="Limit", price=price, quantity="1"
            )
            assert placed.status_code == 200
        for _ in range(3):
            frame = await receive(ws, lambda m: m.get("stream") == "depth.SOL_USDC")
            data = frame["data"]
            assert data["e"] == "depth" and data["s"] == "SOL_USDC"
            assert data["U"] == last + 1
            assert data["u"] >= data["U"]
            assert data["E"] > 10**15  # microseconds
            last = data["u"]


async def test_book_ticker_trade_and_unsubscribe(
    sandbox: SandboxProcess, api: Api, other: Api
) -> None:
    async with connect(sandbox.ws_url) as ws:
        streams = ["bookTicker.ETH_USDC", "trade.ETH_USDC"]
        assert (await request(ws, {"method": "SUBSCRIBE", "params": streams, "id": "a"}))[
            "result"
        ] is None
        await other.place(
            symbol="ETH_USDC", side="Ask", orderType="Limit", price="3500", quantity="1"
        )
        book = await receive(ws, lambda m: m.get("stream") == "bookTicker.ETH_USDC")
        assert book["data"]["a"] in ("3500", "3500.00")
        await api.place(symbol="ETH_USDC", side="Bid", orderType="Market", quantity="0.5")
        trade = await receive(ws, lambda m: m.get("stream") == "trade.ETH_USDC")
        assert trade["data"]["q"] in ("0.5", "0.5000") and trade["data"]["m"] is False
        await request(ws, {"method": "UNSUBSCRIBE", "params": streams, "id": "b"})
        await api.place(symbol="ETH_USDC", side="Bid", orderType="Market", quantity="0.1")
        sentinel = {"method": "SUBSCRIBE", "params": ["bookTicker.SOL_USDC"], "id": "c"}
        assert await frames_before_ack(ws, sentinel) == []


async def test_private_order_updates_need_a_valid_signature(
    sandbox: SandboxProcess, api: Api
) -> None:
    key = sandbox.keys[1]
    async with connect(sandbox.ws_url) as ws:
        bad = subscribe_signature(sandbox.keys[2])
        bad[0] = key["api_key"]  # someone else's signature on our key
        refused = await request(
            ws,
            {"method": "SUBSCRIBE", "params": ["account.orderUpdate"], "signature": bad, "id": 1},
        )
        assert refused["error"] == {"code": 4001, "message": "Invalid signature"}
        unsigned = await request(
            ws, {"method": "SUBSCRIBE", "params": ["account.orderUpdate"], "id": 2}
        )
        assert unsigned["error"]["code"] == 4001
        frame = {
            "method": "SUBSCRIBE",
            "params": ["account.orderUpdate.SOL_USDC", "account.positionUpdate"],
            "signature": subscribe_signature(key),
            "id": 3,
        }
        assert (await request(ws, frame))["result"] is None
        placed = await api.place(
            symbol="SOL_USDC", side="Bid", orderType="Limit", price="120", quantity="1", clientId=9
        )
        update = await receive(ws, lambda m: m.get("stream") == "account.orderUpdate.SOL_USDC")
        assert update["data"]["e"] == "orderAccepted"
        assert update["data"]["i"] == placed.json()["id"] and update["data"]["c"] == 9


async def test_other_subaccounts_events_are_not_delivered(
    sandbox: SandboxProcess, other: Api
) -> None:
    async with connect(sandbox.ws_url) as ws:
        frame = {
            "method": "SUBSCRIBE",
            "params": ["account.orderUpdate"],
            "signature": subscribe_signature(sandbox.keys[1]),
            "id": 1,
        }
        await request(ws, frame)
        await other.place(
            symbol="SOL_USDC", side="Bid", orderType="Limit", price="120", quantity="1"
        )
        sentinel = {"method": "SUBSCRIBE", "params": ["bookTicker.SOL_USDC"], "id": 2}
        assert await frames_before_ack(ws, sentinel) == []


async def test_bad_frames_get_error_frames_and_the_connection_stays(
    sandbox: SandboxProcess, api: Api
) -> None:
    async with connect(sandbox.ws_url) as ws:
        await ws.send("not json")
        assert (await receive(ws, lambda m: "error" in m))["error"]["code"] == 4000
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["depth.NOPE_USDC"]}))
        error = await receive(ws, lambda m: "error" in m)
        assert error == {
            "id": None,
            "error": {"code": 4006, "message": "Invalid market: NOPE_USDC"},
        }
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["weird.stream.x.y"]}))
        assert (await receive(ws, lambda m: "error" in m))["error"]["code"] == 4006
        await ws.send(json.dumps({"method": "LIST", "params": []}))
        assert (await receive(ws, lambda m: "error" in m))["error"]["code"] == 4000
        await ws.send(json.dumps([1, 2, 3]))
        assert (await receive(ws, lambda m: "error" in m))["error"]["code"] == 4000
        too_many = {"method": "SUBSCRIBE", "params": ["trade.SOL_USDC"] * 201}
        await ws.send(json.dumps(too_many))
        error = await receive(ws, lambda m: "error" in m)
        assert error["error"]["message"] == "Too many streams: at most 200 at once"
        ack = await request(ws, {"method": "SUBSCRIBE", "params": ["trade.SOL_USDC"], "id": 5})
        assert ack == {"id": 5, "result": None}


async def test_aggregated_depth_merges_updates(sandbox: SandboxProcess, api: Api) -> None:
    async with connect(sandbox.ws_url) as ws:
        await request(ws, {"method": "SUBSCRIBE", "params": ["depth.200ms.BTC_USDC"], "id": 1})
        start = int(
            (await api.public("/api/v1/depth", {"symbol": "BTC_USDC"})).json()["lastUpdateId"]
        )
        for price in ("90000.0", "90000.0", "89990.0"):
            await api.place(
                symbol="BTC_USDC", side="Bid", orderType="Limit", price=price, quantity="0.01"
            )
        received = await collect_until(
            ws, lambda f: bool(f) and f[-1].get("data", {}).get("u", 0) >= start + 3
        )
        frames = [f for f in received if f.get("stream") == "depth.200ms.BTC_USDC"]
        assert frames, "no aggregated depth frame"
        assert frames[0]["data"]["U"] == start + 1
        assert frames[-1]["data"]["u"] == start + 3
        bids = {p: q for f in frames for p, q in f["data"]["b"]}
        assert set(bids) == {"90000", "89990"} or set(bids) == {"90000.0", "89990.0"}


async def test_stream_names_for_every_public_kind_are_accepted(sandbox: SandboxProcess) -> None:
    streams = [
        "bookTicker.SOL_USDC", "depth.SOL_USDC", "depth.600ms.SOL_USDC", "depth.1000ms.SOL_USDC",
        "kline.1m.SOL_USDC", "trade.SOL_USDC", "ticker.SOL_USDC", "markPrice.SOL_USDC_PERP",
        "openInterest.SOL_USDC_PERP",
    ]  # fmt: skip
    async with connect(sandbox.ws_url) as ws:
        assert await request(ws, {"method": "SUBSCRIBE", "params": streams, "id": 1}) == {
            "id": 1,
            "result": None,
        }


async def test_server_keeps_serving_after_a_client_vanishes(
    sandbox: SandboxProcess, api: Api
) -> None:
    ws = await connect(sandbox.ws_url)
    await request(ws, {"method": "SUBSCRIBE", "params": ["depth.SOL_USDC"], "id": 1})
    async with connect(sandbox.ws_url) as watching:
        await request(watching, {"method": "SUBSCRIBE", "params": ["depth.SOL_USDC"], "id": 3})
        ws.transport.abort()
        placed = await api.place(
            symbol="SOL_USDC", side="Bid", orderType="Limit", price="130", quantity="1"
        )
        # The sentinel: the update reached the client still there, so its publishing went
        # past the vanished one (noticed by then or not).
        await receive(watching, lambda m: m.get("stream") == "depth.SOL_USDC")
    assert placed.status_code == 200
    async with connect(sandbox.ws_url) as again:
        assert (
            await request(again, {"method": "SUBSCRIBE", "params": ["depth.SOL_USDC"], "id": 2})
        )["id"] == 2


async def test_periodic_streams_and_position_snapshot(
    sandbox: SandboxProcess, api: Api, other: Api
) -> None:
    await other.place(
        symbol="SOL_USDC_PERP", side="Ask", orderType="Limit", price="150", quantity="2"
    )
    await api.place(symbol="SOL_USDC_PERP", side="Bid", orderType="Market", quantity="2")
    async with connect(sandbox.ws_url) as ws:
        streams = ["ticker.SOL_USDC_PERP", "kline.1m.SOL_USDC_PERP", "markPrice.SOL_USDC_PERP"]
        await request(ws, {"method": "SUBSCRIBE", "params": streams, "id": 1})
        await api.place(
            symbol="SOL_USDC_PERP", side="Bid", orderType="Limit", price="149", quantity="1"
        )
        await other.place(symbol="SOL_USDC_PERP", side="Ask", orderType="Market", quantity="1")
        wanted = set(streams)
        received = await collect_until(ws, lambda f: wanted <= {x.get("stream") for x in f})
        seen = {f["stream"]: f["data"] for f in received if "stream" in f}
        assert seen["ticker.SOL_USDC_PERP"]["e"] == "ticker"
        assert seen["kline.1m.SOL_USDC_PERP"]["e"] == "kline"
        assert seen["markPrice.SOL_USDC_PERP"]["e"] == "markPrice"
        frame = {
            "method": "SUBSCRIBE",
            "params": ["account.positionUpdate.SOL_USDC_PERP"],
            "signature": subscribe_signature(sandbox.keys[1]),
        }
        await ws.send(json.dumps(frame))
        snapshot = await receive(
            ws, lambda m: m.get("stream") == "account.positionUpdate.SOL_USDC_PERP"
        )
        assert "e" not in snapshot["data"]
        assert snapshot["data"]["s"] == "SOL_USDC_PERP" and snapshot["data"]["q"] == "3"
