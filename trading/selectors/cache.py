"""A short in-process cache for exchange reads, keyed per exchange URL.

It keeps the order ticket's as-you-type checks, the candle chart and the team pages' polls
from spending the exchange's rate budget (klines draw on the 30/minute historical budget).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from django.conf import settings

T = TypeVar("T")

_cache: dict[tuple[Any, ...], tuple[float, Any]] = {}


async def cached(key: tuple[Any, ...], ttl: float, load: Callable[[], Awaitable[T]]) -> T:
    """`load()` at most once per `ttl` seconds per key (and per exchange URL)."""
    full_key = (settings.BACKPACK_API_URL, *key)
    now = time.monotonic()
    hit = _cache.get(full_key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = await load()
    _cache[full_key] = (now + ttl, value)
    return value


def cache_clear() -> None:
    """Forget every cached read (tests; after an order the ticket's prices refresh anyway)."""
    _cache.clear()
