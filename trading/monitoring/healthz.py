"""The checks behind `/healthz`: database, channel layer, exchange reachability.

The exchange check asks `GET /api/v1/time` with a short timeout and keeps the answer for a
few seconds, so a load balancer probing every second does not hammer the exchange.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

EXCHANGE_TIMEOUT_S = 2.0
EXCHANGE_CACHE_S = 10.0
_exchange_cache: dict[str, tuple[float, str]] = {}


def database_check() -> str:
    """ "ok" when the database answers a query, else the error's class name."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "unhealthy"
        return f"error: {type(exc).__name__}"
    return "ok"


async def channel_layer_check(timeout_s: float = 2.0) -> str:
    """ "ok" when a message sent to a fresh channel comes back through the layer."""
    layer = get_channel_layer()
    if layer is None:
        return "error: no channel layer configured"
    try:
        channel = await layer.new_channel("healthz.")
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "healthz.ping", "token": token})
        async with asyncio.timeout(timeout_s):
            message = await layer.receive(channel)
    except Exception as exc:  # noqa: BLE001 - any failure means "unhealthy"
        return f"error: {type(exc).__name__}"
    return "ok" if message.get("token") == token else "error: wrong message"


def exchange_check_forget() -> None:
    """Drop the cached answers of the exchange check, so the next one asks the exchange."""
    _exchange_cache.clear()


async def exchange_check() -> str:
    """ "ok" when the exchange answered its time route lately, else why not (cached)."""
    url = f"{settings.BACKPACK_API_URL}/api/v1/time"
    cached = _exchange_cache.get(url)
    if cached and time.monotonic() - cached[0] < EXCHANGE_CACHE_S:
        return cached[1]
    try:
        async with httpx.AsyncClient(timeout=EXCHANGE_TIMEOUT_S) as client:
            response = await client.get(url)
        result = "ok" if response.status_code == 200 else f"error: HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        result = f"error: {type(exc).__name__}"
    _exchange_cache[url] = (time.monotonic(), result)
    return result
