"""Garbage on every route gets a clear 4xx in the error shape: never a 500, never a crash."""

from __future__ import annotations

import pytest

from tests.sandbox.server.api import Api

GARBAGE = [
    {"symbol": "SOL_USDC", "limit": "-1", "offset": "x", "interval": "1y", "startTime": "1e9"},
    {"symbol": "\u2603" * 300, "side": "Both", "orderId": "not-an-id", "clientId": "-5"},
    {"symbol": "", "blockchain": "Narnia", "from": "99999999999999999999999", "to": "-1"},
    {"symbol": "BTC_USDC", "price": "1e999", "reduceOnly": "maybe", "marketType": "MOON"},
    {"symbol": "SOL_USDC", "id": "abc", "sortDirection": "Sideways", "quantity": "NaN"},
]

PUBLIC = [
    "/api/v1/market", "/api/v1/ticker", "/api/v1/tickers", "/api/v1/depth", "/api/v1/klines",
    "/api/v1/trades", "/api/v1/trades/history", "/api/v1/markPrices", "/api/v1/openInterest",
    "/api/v1/fundingRates", "/api/v1/markets", "/api/v1/assets", "/api/v1/securities",
    "/api/v1/collateral",
]  # fmt: skip
PRIVATE_GET = [
    ("/api/v1/capital", "balanceQuery"),
    ("/api/v1/capital/collateral", "collateralQuery"),
    ("/api/v1/account", "accountQuery"),
    ("/api/v1/order", "orderQuery"),
    ("/api/v1/orders", "orderQueryAll"),
    ("/api/v1/position", "positionQuery"),
    ("/api/v1/account/limits/order", "maxOrderQuantity"),
    ("/api/v1/account/limits/withdrawal", "maxWithdrawalQuantity"),
    ("/wapi/v1/history/fills", "fillHistoryQueryAll"),
    ("/wapi/v1/history/orders", "orderHistoryQueryAll"),
    ("/wapi/v1/history/funding", "fundingHistoryQueryAll"),
    ("/wapi/v1/history/settlement", "settlementHistoryQueryAll"),
    ("/wapi/v1/history/position", "positionHistoryQueryAll"),
    ("/wapi/v1/capital/deposits", "depositQueryAll"),
    ("/wapi/v1/capital/deposit/address", "depositAddressQuery"),
    ("/wapi/v1/capital/withdrawals", "withdrawalQueryAll"),
]
PRIVATE_WRITE = [
    ("POST", "/api/v1/order", "orderExecute"),
    ("DELETE", "/api/v1/order", "orderCancel"),
    ("DELETE", "/api/v1/orders", "orderCancelAll"),
    ("POST", "/wapi/v1/capital/withdrawals", "withdraw"),
]
BODIES = [
    {"symbol": {"nested": True}, "quantity": [1, 2]},
    {"symbol": "SOL_USDC", "orderId": True, "clientId": 1.5},
    {"address": 5, "blockchain": None, "quantity": "-3", "symbol": "USDC"},
    {"symbol": "SOL_USDC", "orderType": "Stop", "side": "Bid", "price": "1" * 400},
]


@pytest.mark.parametrize("garbage", GARBAGE)
async def test_public_routes_refuse_garbage_cleanly(api: Api, garbage: dict) -> None:
    for path in PUBLIC:
        response = await api.public(path, garbage)
        assert response.status_code < 500, (path, response.text)


@pytest.mark.parametrize("garbage", GARBAGE)
async def test_private_reads_refuse_garbage_cleanly(api: Api, garbage: dict) -> None:
    before = await api.ledger()
    for path, instruction in PRIVATE_GET:
        response = await api.signed("GET", path, instruction, garbage)
        assert response.status_code < 500, (path, response.text)
    assert await api.ledger() == before


@pytest.mark.parametrize("body", BODIES)
async def test_private_writes_refuse_garbage_cleanly(api: Api, body: dict) -> None:
    before = await api.ledger()
    for method, path, instruction in PRIVATE_WRITE:
        response = await api.signed(method, path, instruction, body)
        assert response.status_code < 500, (path, response.text)
        if response.status_code >= 400:
            assert response.json()["message"]
    assert await api.ledger() == before
