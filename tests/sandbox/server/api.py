"""A small signed HTTP client for the sandbox tests (real sockets, contract-checked).

Its signer is written here from the spec's rule, separately from the server's check, so a
shared bug cannot make both sides agree. Every answer to an exchange path is validated
against the spec (see ``spec_schema``) before a test sees it.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
from nacl.signing import SigningKey

from tests.sandbox.server.spec_schema import assert_matches_spec


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sign(secret_b64: str, instruction: str, params: Any, timestamp: int, window: int) -> str:
    """Base64 ED25519 signature of the request per the spec's rule."""

    def block(item: dict[str, Any]) -> str:
        pairs = ""
        for key in sorted(item):
            values = item[key] if isinstance(item[key], list) else [item[key]]
            pairs += "".join(f"&{key}={_text(v)}" for v in values if v is not None)
        return f"instruction={instruction}{pairs}"

    if isinstance(params, list):
        head = "&".join(block(item) for item in params)
    else:
        head = block(params or {})
    message = f"{head}&timestamp={timestamp}&window={window}".encode()
    signed = SigningKey(base64.b64decode(secret_b64)).sign(message)
    return base64.b64encode(signed.signature).decode()


class Api:
    """One subaccount's view of the sandbox over HTTP."""

    def __init__(self, client: httpx.AsyncClient, key: dict[str, Any]) -> None:
        self.client = client
        self.api_key = key["api_key"]
        self.api_secret = key["api_secret"]
        self.subaccount = key["subaccount"]
        self.clock_offset_ms = 0

    async def public(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """An unsigned GET, contract-checked."""
        response = await self.client.get(path, params=params)
        self.checked(response, "GET", path)
        return response

    def headers(
        self, instruction: str, params: Any, *, window: int = 5000, timestamp: int | None = None
    ) -> dict[str, str]:
        """Signed headers for one request."""
        ts = timestamp if timestamp is not None else int(time.time() * 1000)
        ts += self.clock_offset_ms
        return {
            "X-API-Key": self.api_key,
            "X-Signature": sign(self.api_secret, instruction, params, ts, window),
            "X-Timestamp": str(ts),
            "X-Window": str(window),
        }

    async def signed(
        self, method: str, path: str, instruction: str, params: Any = None, **kw: Any
    ) -> httpx.Response:
        """A signed request: query for GET, JSON body otherwise; contract-checked."""
        headers = self.headers(instruction, params, **kw)
        if method == "GET":
            query = [
                (k, _text(v))
                for k, value in (params or {}).items()
                for v in (value if isinstance(value, list) else [value])
            ]
            response = await self.client.request(method, path, params=query, headers=headers)
        else:
            body = json.dumps(params if params is not None else {})
            headers["Content-Type"] = "application/json"
            response = await self.client.request(method, path, content=body, headers=headers)
        self.checked(response, method, path)
        return response

    @staticmethod
    def checked(response: httpx.Response, method: str, path: str) -> httpx.Response:
        """Validate against the spec (exchange paths only)."""
        if path.startswith(("/api/", "/wapi/")):
            assert_matches_spec(method, path, response.status_code, response.content)
        return response

    # ------------------------------------------------------------- shortcuts
    async def balances(self) -> dict[str, dict[str, str]]:
        response = await self.signed("GET", "/api/v1/capital", "balanceQuery")
        assert response.status_code == 200, response.text
        return response.json()

    async def open_orders(self, symbol: str | None = None) -> list[dict[str, Any]]:
        params = {"symbol": symbol} if symbol else None
        response = await self.signed("GET", "/api/v1/orders", "orderQueryAll", params)
        assert response.status_code == 200, response.text
        return response.json()

    async def place(self, **order: Any) -> httpx.Response:
        return await self.signed("POST", "/api/v1/order", "orderExecute", order)

    async def ledger(self) -> tuple[Any, Any]:
        """Balances and open orders: what must not change after a refused request."""
        return await self.balances(), await self.open_orders()
