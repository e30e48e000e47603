"""Who owns an upstream subscription.

Exactly one relay publishes each market's and each subaccount's streams. In the embedded mode
there is one relay, which owns everything. In the scaled mode the owner holds a Redis key with
an expiry and renews it while it lives; a dead worker's keys expire and another takes over.
"""

from __future__ import annotations

from typing import Protocol

from redis.asyncio import Redis

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class Ownership(Protocol):
    async def claim(self, name: str) -> bool:
        """Take or keep `name`; True while this relay owns it."""

    async def release(self, name: str) -> None:
        """Give `name` up so another relay may take it at once."""


class SoleOwnership:
    """The embedded relay: the only one, so it owns every subscription."""

    async def claim(self, name: str) -> bool:
        return True

    async def release(self, name: str) -> None:
        return None


class RedisOwnership:
    """A lease per subscription: SET NX with expiry, renewed by the holder only."""

    def __init__(self, redis: Redis, *, worker_id: str, ttl_ms: int = 5000) -> None:
        self._redis = redis
        self._worker_id = worker_id
        self._ttl_ms = ttl_ms
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    @staticmethod
    def key(name: str) -> str:
        return f"desk:relay:owner:{name}"

    async def claim(self, name: str) -> bool:
        key = self.key(name)
        if await self._redis.set(key, self._worker_id, nx=True, px=self._ttl_ms):
            return True
        return bool(await self._renew(keys=[key], args=[self._worker_id, self._ttl_ms]))

    async def release(self, name: str) -> None:
        await self._release(keys=[self.key(name)], args=[self._worker_id])

    async def owner_of(self, name: str) -> str | None:
        value = await self._redis.get(self.key(name))
        return value.decode() if isinstance(value, bytes) else value
