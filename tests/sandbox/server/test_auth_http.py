"""Signature checks over HTTP: the vectors accepted by a live server, refusals named."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from sandbox.process import SandboxProcess
from sandbox.seed import DEFAULT_SEED_PATH
from tests.sandbox.server.api import Api
from tests.sandbox.server.test_auth_vectors import REST_VECTORS, VECTORS, WS_VECTORS, _flip_byte
from tests.sandbox.server.wsclient import request

SEED = json.loads(DEFAULT_SEED_PATH.read_text())


@pytest.fixture(scope="module")
def vector_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A sandbox whose subaccounts 100.. hold the vectors' keys."""
    seed = dict(SEED)
    seed["subaccounts"] = SEED["subaccounts"] + [
        {"id": 100 + i, "apiSecret": v["seed_b64"], "balances": {"USDC": "100000", "SOL": "100"}}
        for i, v in enumerate(VECTORS)
    ]
    path = tmp_path_factory.mktemp("seed") / "vectors.json"
    path.write_text(json.dumps(seed))
    with SandboxProcess(seed=path, maker=False) as process:
        yield process


AUTH_REFUSALS = {"INVALID_SIGNATURE", "UNAUTHORIZED"}


@pytest.mark.parametrize("vector", REST_VECTORS, ids=[v["name"] for v in REST_VECTORS])
async def test_recorded_vector_passes_the_live_signature_check(
    vector_sandbox: SandboxProcess, vector: dict[str, Any]
) -> None:
    offset = vector["timestamp"] - int(time.time() * 1000)
    vector_sandbox.set_faults(clock_offset_ms=offset)
    try:
        async with httpx.AsyncClient(base_url=vector_sandbox.api_url) as client:
            url = vector["path"] + ("?" + vector["query_string"] if vector["query_string"] else "")
            headers = dict(vector["headers"])
            if vector["body"] is not None:
                headers["Content-Type"] = "application/json"
            response = await client.request(
                vector["method"], url, content=vector["body"], headers=headers
            )
            Api.checked(response, vector["method"], vector["path"])
            if response.status_code != 200:
                assert response.json()["code"] not in AUTH_REFUSALS, response.text
                assert response.json()["message"] != "Request has expired"
            headers["X-Signature"] = _flip_byte(headers["X-Signature"], 10)
            refused = await client.request(
                vector["method"], url, content=vector["body"], headers=headers
            )
            Api.checked(refused, vector["method"], vector["path"])
            assert refused.json() == {"code": "INVALID_SIGNATURE", "message": "Invalid signature"}
    finally:
        vector_sandbox.clear_faults()


async def test_missing_headers_unknown_key_and_expiry(api: Api, http: httpx.AsyncClient) -> None:
    bare = Api.checked(await http.get("/api/v1/capital"), "GET", "/api/v1/capital")
    assert bare.status_code == 401
    assert bare.json() == {"code": "UNAUTHORIZED", "message": "Missing X-API-Key Header"}
    headers = api.headers("balanceQuery", None)
    headers["X-API-Key"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    unknown = Api.checked(
        await http.get("/api/v1/capital", headers=headers), "GET", "/api/v1/capital"
    )
    assert unknown.json()["code"] == "UNAUTHORIZED"
    assert unknown.json()["message"].startswith("Invalid X-API-Key Header")
    headers = api.headers("balanceQuery", None, timestamp=int(time.time() * 1000) - 10_000)
    expired = Api.checked(
        await http.get("/api/v1/capital", headers=headers), "GET", "/api/v1/capital"
    )
    assert expired.status_code == 401
    assert expired.json() == {"code": "UNAUTHORIZED", "message": "Request has expired"}
    long_window = api.headers(
        "balanceQuery", None, window=60_000, timestamp=int(time.time() * 1000) - 30_000
    )
    assert (await http.get("/api/v1/capital", headers=long_window)).status_code == 200
    wapi = await http.get("/wapi/v1/capital/deposits")
    assert Api.checked(wapi, "GET", "/wapi/v1/capital/deposits").status_code == 401


async def test_wrong_instruction_or_uppercase_boolean_is_an_invalid_signature(
    api: Api, http: httpx.AsyncClient
) -> None:
    headers = api.headers("orderQueryAll", None)
    wrong = Api.checked(
        await http.get("/api/v1/capital", headers=headers), "GET", "/api/v1/capital"
    )
    assert wrong.json() == {"code": "INVALID_SIGNATURE", "message": "Invalid signature"}
    order = {"symbol": "SOL_USDC", "side": "Bid", "orderType": "Limit", "price": "100",
             "quantity": "1", "postOnly": True}  # fmt: skip
    signed_as_text = dict(order, postOnly="True")  # a client that wrote Python's True
    headers = api.headers("orderExecute", signed_as_text)
    headers["Content-Type"] = "application/json"
    response = await http.post("/api/v1/order", content=json.dumps(order), headers=headers)
    assert Api.checked(response, "POST", "/api/v1/order").json()["code"] == "INVALID_SIGNATURE"
    assert await api.open_orders() == []


@pytest.mark.parametrize("vector", WS_VECTORS, ids=[v["name"] for v in WS_VECTORS])
async def test_recorded_ws_subscribe_vector_is_accepted_live(
    vector_sandbox: SandboxProcess, vector: dict[str, Any]
) -> None:
    offset = vector["timestamp"] - int(time.time() * 1000)
    vector_sandbox.set_faults(clock_offset_ms=offset)
    try:
        async with connect(vector_sandbox.ws_url) as ws:
            ack = await request(ws, dict(vector["ws_message"], id=1))
            assert ack == {"id": 1, "result": None}
            forged = dict(vector["ws_message"], id=2)
            forged["signature"] = [
                *forged["signature"][:1],
                _flip_byte(forged["signature"][1], 0),
                *forged["signature"][2:],
            ]
            refused = await request(ws, forged)
            assert refused["error"] == {"code": 4001, "message": "Invalid signature"}
    finally:
        vector_sandbox.clear_faults()


async def test_an_empty_window_header_is_refused_over_http(api: Api) -> None:
    headers = api.headers("balanceQuery", None)
    headers["X-Window"] = ""
    refused = await api.client.get("/api/v1/capital", headers=headers)
    assert refused.status_code == 401
    assert refused.json() == {"code": "UNAUTHORIZED", "message": "Invalid X-Window Header"}
    headers = api.headers("balanceQuery", None)
    del headers["X-Window"]  # absent: the default window, with which it was signed
    assert (await api.client.get("/api/v1/capital", headers=headers)).status_code == 200
