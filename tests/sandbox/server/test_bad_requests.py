"""Bad requests get their proper error, never a 500, and leave the ledger unchanged."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.sandbox.server.api import Api

GOOD = {"symbol": "SOL_USDC", "side": "Bid", "orderType": "Limit", "price": "140", "quantity": "1"}


@pytest.mark.parametrize(
    ("change", "status", "code", "message"),
    [
        ({"quantity": "1.001"}, 400, "INVALID_CLIENT_REQUEST", "Quantity decimal too long"),
        ({"price": "140.001"}, 400, "INVALID_CLIENT_REQUEST", "Price decimal too long"),
        ({"price": "-5"}, 400, "INVALID_PRICE", "Invalid parameter `price`: price is negative"),
        (
            {"quantity": "-1"},
            400,
            "INVALID_QUANTITY",
            "Invalid parameter `quantity`: quantity is negative",
        ),
        ({"symbol": "DOGE_USDC"}, 400, "INVALID_MARKET", None),
        ({"side": "Buy"}, 400, "INVALID_CLIENT_REQUEST", "Invalid parameter `side`"),
        ({"quantity": True}, 400, "INVALID_CLIENT_REQUEST", "Invalid parameter `quantity`"),
        ({"clientId": "seven"}, 400, "INVALID_CLIENT_REQUEST", "Invalid parameter `clientId`"),
        ({"clientId": 2**32}, 400, "INVALID_CLIENT_REQUEST", "Invalid parameter `clientId`"),
        ({"price": "abc"}, 400, "INVALID_CLIENT_REQUEST", "is not a decimal"),
        ({"price": "NaN"}, 400, "INVALID_CLIENT_REQUEST", "is not a finite number"),
        ({"quantity": "90000"}, 400, "INSUFFICIENT_FUNDS", None),
        ({"postOnly": "yes"}, 400, "INVALID_CLIENT_REQUEST", "Invalid parameter `postOnly`"),
        ({"bogus": 1}, 400, "INVALID_CLIENT_REQUEST", "Unknown parameter `bogus`"),
    ],
)
async def test_bad_order_is_refused_and_ledger_unchanged(
    api: Api, change: dict, status: int, code: str, message: str | None
) -> None:
    before = await api.ledger()
    refused = await api.place(**{**GOOD, **change})
    assert refused.status_code == status, refused.text
    assert refused.json()["code"] == code
    if message is not None:
        assert message in refused.json()["message"]
    assert await api.ledger() == before


async def test_missing_field_is_named(api: Api) -> None:
    order = dict(GOOD)
    del order["side"]
    refused = await api.place(**order)
    assert refused.status_code == 400
    assert refused.json()["message"] == "Missing required parameter `side`"


async def _raw_post(api: Api, body: bytes, instruction_params: object) -> httpx.Response:
    headers = api.headers("orderExecute", instruction_params)
    headers["Content-Type"] = "application/json"
    response = await api.client.post("/api/v1/order", content=body, headers=headers)
    return Api.checked(response, "POST", "/api/v1/order")


async def test_malformed_json_is_refused(api: Api) -> None:
    before = await api.ledger()
    refused = await _raw_post(api, b'{"symbol": "SOL_USDC", ', {})
    assert refused.status_code == 400
    assert refused.json() == {"code": "INVALID_CLIENT_REQUEST", "message": "Invalid JSON body"}
    not_object = await _raw_post(api, b"[1, 2]", [])
    assert not_object.status_code == 400
    assert await api.ledger() == before


async def test_huge_body_is_refused(api: Api) -> None:
    before = await api.ledger()
    huge = json.dumps({**GOOD, "padding": "x" * 400_000}).encode()
    refused = await _raw_post(api, huge, {})
    assert refused.status_code == 400
    assert refused.json()["message"] == "Request body too large"
    assert await api.ledger() == before


async def test_batch_with_one_malformed_order_places_nothing(api: Api) -> None:
    before = await api.ledger()
    batch = [GOOD, {**GOOD, "quantity": "lots"}]
    refused = await api.signed("POST", "/api/v1/orders", "orderExecute", batch)
    assert refused.status_code == 400
    assert "`quantity`" in refused.json()["message"]
    assert await api.ledger() == before


async def test_cancel_needs_exactly_one_reference(api: Api) -> None:
    neither = await api.signed("DELETE", "/api/v1/order", "orderCancel", {"symbol": "SOL_USDC"})
    assert neither.status_code == 400
    assert neither.json()["message"] == "One of `orderId` or `clientId` must be specified"
    both = await api.signed(
        "DELETE",
        "/api/v1/order",
        "orderCancel",
        {"symbol": "SOL_USDC", "orderId": "1", "clientId": 1},
    )
    assert both.status_code == 400
    unknown = await api.signed(
        "DELETE", "/api/v1/order", "orderCancel", {"symbol": "SOL_USDC", "orderId": "123"}
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "RESOURCE_NOT_FOUND"


async def test_bad_query_parameters_on_private_routes(api: Api) -> None:
    limit = await api.signed(
        "GET", "/wapi/v1/history/fills", "fillHistoryQueryAll", {"limit": "many"}
    )
    assert limit.status_code == 400 and "`limit`" in limit.json()["message"]
    side = await api.signed(
        "GET",
        "/api/v1/account/limits/order",
        "maxOrderQuantity",
        {"symbol": "SOL_USDC", "side": "Up"},
    )
    assert side.status_code == 400 and "`side`" in side.json()["message"]
