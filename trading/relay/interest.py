"""Which markets some browser is watching right now.

A market consumer touches its symbol every few seconds while its browser is connected; the relay
subscribes to a market's public streams while its interest is fresh and releases them after it
lapses. Embedded: a dict in the process. Scaled: a Redis sorted set (symbol -> expiry), so any
relay worker sees what browsers on any dashboard process watch.
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis

INTEREST_TTL_S = 30.0
REDIS_KEY = "desk:relay:interest"


class Interest(Protocol):
    async def touch(self, symbol: str, ttl: float = INTEREST_TTL_S) -> None: ...

    async def active(self) -> set[str]: ...


class LocalInterest:
    """Interest of the browsers connected to this process."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}

    async def touch(self, symbol: str, ttl: float = INTEREST_TTL_S) -> None:
        self._expiry[symbol] = self._clock() + ttl

    async def drop(self, symbol: str) -> None:
        self._expiry.pop(symbol, None)

    async def active(self) -> set[str]:
        now = self._clock()
        for symbol in [s for s, until in self._expiry.items() if until <= now]:
            del self._expiry[symbol]
        return set(self._expiry)


class RedisInterest:
    """Interest shared by every dashboard process and relay worker."""

    def __init__(self, redis: Redis, key: str = REDIS_KEY) -> None:
        self._redis = redis
        self._key = key

    async def touch(self, symbol: str, ttl: float = INTEREST_TTL_S) -> None:
        await self._redis.zadd(self._key, {symbol: time.time() + ttl})

    async def drop(self, symbol: str) -> None:
        return None  # other processes may still watch it; expiry decides

    async def active(self) -> set[str]:
        now = time.time()
        await self._redis.zremrangebyscore(self._key, "-inf", now)
        members = await self._redis.zrangebyscore(self._key, now, "+inf")
        return {m.decode() if isinstance(m, bytes) else m for m in members}
