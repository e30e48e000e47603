"""Fault injection: each fault does what a client must survive, and nothing is on by default."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from sandbox.process import SandboxProcess
from tests.sandbox.server.api import Api
from tests.sandbox.server.wsclient import receive, request

ORDER = {"symbol": "SOL_USDC", "side": "Bid", "orderType": "Limit", "price": "140", "quantity": "1"}


async def test_no_fault_is_on_by_default(api: Api, sandbox: SandboxProcess) -> None:
    faults = sandbox.set_faults()
    assert faults["latency_ms"] == 0 and faults["error_rate"] == 0 and faults["burst_429"] == 0
    assert faults["lose_order_responses"] == 0 and faults["clock_offset_ms"] == 0


async def test_latency_delays_answers(api: Api, sandbox: SandboxProcess) -> None:
    sandbox.set_faults(latency_ms=300)
    started = time.monotonic()
    await api.public("/api/v1/status")
    assert time.monotonic() - started >= 0.3


async def test_error_share_answers_500_without_executing(api: Api, sandbox: SandboxProcess) -> None:
    before = await api.ledger()
    sandbox.set_faults(error_rate=1.0)
    failed = await api.place(**ORDER)
    assert failed.status_code == 500
    assert failed.json() == {"code": "SERVER_ERROR", "message": "Internal server error"}
    sandbox.clear_faults()
    assert await api.ledger() == before


async def test_429_burst_then_normal(api: Api, sandbox: SandboxProcess) -> None:
    sandbox.set_faults(burst_429=2)
    statuses = [(await api.public("/api/v1/ping")).status_code for _ in range(3)]
    assert statuses == [429, 429, 200]


async def test_lost_response_closes_the_connection_but_the_order_exists(
    api: Api, sandbox: SandboxProcess
) -> None:
    sandbox.set_faults(lose_order_responses=1)
    with pytest.raises(httpx.RemoteProtocolError) as lost:
        await api.place(**ORDER, clientId=4242)
    assert "without sending a response" in str(lost.value)
    open_orders = await api.open_orders("SOL_USDC")
    assert [o["clientId"] for o in open_orders] == [4242]
    again = await api.place(**ORDER, clientId=4243)
    assert again.status_code == 200


async def test_lost_response_as_504(api: Api, sandbox: SandboxProcess) -> None:
    sandbox.set_faults(lose_order_responses=1, lost_response="504")
    lost = await api.place(**ORDER, clientId=5)
    assert lost.status_code == 504 and lost.json()["code"] == "TIMEOUT"
    assert [o["clientId"] for o in await api.open_orders()] == [5]


async def test_clock_offset_moves_server_time_and_expiry(api: Api, sandbox: SandboxProcess) -> None:
    sandbox.set_faults(clock_offset_ms=120_000)
    server_ms = int((await api.public("/api/v1/time")).text)
    assert server_ms - time.time() * 1000 > 110_000
    expired = await api.signed("GET", "/api/v1/capital", "balanceQuery")
    assert expired.json()["message"] == "Request has expired"
    api.clock_offset_ms = 120_000
    assert (await api.signed("GET", "/api/v1/capital", "balanceQuery")).status_code == 200


async def test_bad_fault_setting_is_named(sandbox: SandboxProcess) -> None:
    with pytest.raises(Exception) as refused:
        sandbox.set_faults(error_rate=2)
    assert "400" in str(refused.value)
    async with httpx.AsyncClient(base_url=sandbox.api_url) as client:
        answer = await client.post("/_sandbox/faults", json={"nonsense": 1})
    assert answer.status_code == 400
    assert answer.json()["message"] == "unknown fault 'nonsense'"


async def test_dropped_websockets(sandbox: SandboxProcess) -> None:
    async with connect(sandbox.ws_url) as ws:
        await request(ws, {"method": "SUBSCRIBE", "params": ["trade.SOL_USDC"], "id": 1})
        sandbox.set_faults(ws_drop=True)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 2)
    sandbox.set_faults(ws_drop_every_s=0.3)
    async with connect(sandbox.ws_url) as ws:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 2)


async def test_depth_gap_skips_update_ids(sandbox: SandboxProcess, api: Api) -> None:
    async with connect(sandbox.ws_url) as ws:
        await request(ws, {"method": "SUBSCRIBE", "params": ["depth.SOL_USDC"], "id": 1})
        await api.place(**ORDER)
        first = await receive(ws, lambda m: m.get("stream") == "depth.SOL_USDC")
        sandbox.set_faults(depth_gap=1)
        await api.place(**dict(ORDER, price="139"))
        await api.place(**dict(ORDER, price="138"))
        after = await receive(ws, lambda m: m.get("stream") == "depth.SOL_USDC")
        assert after["data"]["U"] > first["data"]["u"] + 1


def test_rate_limits_and_faults_from_the_command_line(sandbox_factory) -> None:  # noqa: ANN001
    process = sandbox_factory(rate_standard=5, rate_historical=2, faults={"latency_ms": 120})
    assert process.set_faults()["latency_ms"] == 120  # set by --faults at start
    desk = {"X-API-Key": process.keys[0]["api_key"]}
    with httpx.Client(base_url=process.api_url, headers=desk) as client:
        started = time.monotonic()
        assert client.get("/api/v1/status").status_code == 200
        assert time.monotonic() - started >= 0.12
        process.clear_faults()
        params = {"symbol": "SOL_USDC", "interval": "1m", "startTime": "0"}
        history = [client.get("/api/v1/klines", params=params).status_code for _ in range(2)]
        assert history == [200, 200]
        limited = Api.checked(client.get("/api/v1/klines", params=params), "GET", "/api/v1/klines")
        assert limited.status_code == 429
        assert limited.json() == {"code": "TOO_MANY_REQUESTS", "message": "Too many requests"}
        assert int(limited.headers["Retry-After"]) >= 1
        standard = [client.get("/api/v1/status").status_code for _ in range(5)]
        assert standard == [200, 200, 200, 200, 429]  # 5 per minute incl. the first status
        other_desk = client.get("/api/v1/status", headers={"X-API-Key": process.keys[1]["api_key"]})
        assert other_desk.status_code == 200  # budgets are per API key


def test_a_sandbox_failing_every_request_still_starts(sandbox_factory) -> None:  # noqa: ANN001
    process = sandbox_factory(faults={"error_rate": 1.0})
    with httpx.Client(base_url=process.api_url) as client:
        answer = Api.checked(client.get("/api/v1/markets"), "GET", "/api/v1/markets")
    assert answer.status_code == 500
    assert process.keys and process.clear_faults()["error_rate"] == 0
