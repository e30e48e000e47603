"""Rate-limit budgets per API key, declared as data.

The exchange allows each key 2000 requests per minute on standard routes and 30 per minute
on historical ones (klines, trades history, wapi history). Callers wait (bounded) for room
instead of meeting HTTP 429. Budgets live in this process by default; give a Redis URL and
they are shared across processes (fixed one-minute windows, ``INCR`` + ``PEXPIRE`` in one
Lua script).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import RateLimitedError
from .routes import HISTORICAL, STANDARD

PUBLIC_KEY = "public"  # the budget of unsigned requests (public routes), shared by all of them


def _whose(key: str) -> str:
    """Whose budget `key` names, as a refusal says it."""
    return "of unsigned (public) requests" if key == PUBLIC_KEY else "for this key"


@dataclass(frozen=True, slots=True)
class Budget:
    """``limit`` requests per ``period_s`` seconds."""

    limit: int
    period_s: float = 60.0


DEFAULT_BUDGETS: Mapping[str, Budget] = {
    STANDARD: Budget(2000, 60.0),
    HISTORICAL: Budget(30, 60.0),
}


class LocalRateLimiter:
    """Sliding-window budgets in this process, one per (API key, budget name)."""

    def __init__(
        self,
        budgets: Mapping[str, Budget] | None = None,
        *,
        max_wait_s: float = 30.0,
        clock=time.monotonic,
    ) -> None:
        self.budgets = dict(budgets or DEFAULT_BUDGETS)
        self.max_wait_s = max_wait_s
        self.clock = clock
        self._sent: dict[tuple[str, str], deque[float]] = {}
        self._penalty_until: dict[str, float] = {}

    def _window(self, key: str, budget: str) -> deque[float]:
        window = self._sent.get((key, budget))
        if window is None:
            window = self._sent[(key, budget)] = deque()
        return window

    def _prune(self, window: deque[float], period: float, now: float) -> None:
        while window and window[0] <= now - period:
            window.popleft()

    def try_acquire(self, key: str, budget: str = STANDARD) -> bool:
        """Take one request if there is room right now (no waiting); False otherwise."""
        window = self._sent.get((key, budget))
        if window is None:
            return False
        now = self.clock()
        spec = self.budgets[budget]
        if window and window[0] <= now - spec.period_s:
            self._prune(window, spec.period_s, now)
        if len(window) < spec.limit and self._penalty_until.get(key, 0.0) <= now:
            window.append(now)
            return True
        return False

    async def acquire(self, key: str, budget: str = STANDARD) -> None:
        """Take one request from the budget, waiting for room (at most ``max_wait_s``)."""
        spec = self.budgets[budget]
        window = self._window(key, budget)
        deadline = self.clock() + self.max_wait_s
        while True:
            now = self.clock()
            pause = self._penalty_until.get(key, 0.0) - now
            self._prune(window, spec.period_s, now)
            if pause <= 0 and len(window) < spec.limit:
                window.append(now)
                return
            if pause > 0:
                wait = pause
            else:
                wait = max(window[0] + spec.period_s - now, 0.001)
            if now + wait > deadline:
                if pause > 0:
                    message = f"This key is paused after the exchange answered 429 for {wait:.1f}s."
                else:
                    message = (
                        f"The {budget} request budget ({spec.limit} per {spec.period_s:g}s) "
                        f"{_whose(key)} is used up; next slot in {wait:.1f}s."
                    )
                raise RateLimitedError(message, retry_after=wait)
            await asyncio.sleep(wait)

    def penalize(self, key: str, seconds: float) -> None:
        """Hold every request for ``key`` for ``seconds`` (after the exchange said 429)."""
        until = self.clock() + seconds
        self._penalty_until[key] = max(self._penalty_until.get(key, 0.0), until)

    def remaining(self, key: str, budget: str = STANDARD) -> int:
        """Requests left in the current window."""
        spec = self.budgets[budget]
        window = self._window(key, budget)
        self._prune(window, spec.period_s, self.clock())
        return spec.limit - len(window)


_LUA_TAKE = """
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return {0, pause, 1} end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[1])
  return {0, redis.call('PTTL', KEYS[1]), 0}
end
return {1, 0, 0}
"""


class RedisRateLimiter:
    """Fixed-window budgets shared by every process that uses the same Redis."""

    def __init__(
        self,
        redis_url: str,
        budgets: Mapping[str, Budget] | None = None,
        *,
        max_wait_s: float = 30.0,
        prefix: str = "bpx:rl",
        max_connections: int = 20,
    ) -> None:
        import redis.asyncio as redis_asyncio

        self.budgets = dict(budgets or DEFAULT_BUDGETS)
        self.max_wait_s = max_wait_s
        self.prefix = prefix
        # A bounded pool that makes callers wait: redis-py's default pool fails every command
        # issued while 100 others are in flight (MaxConnectionsError) instead of queueing it.
        pool = redis_asyncio.BlockingConnectionPool.from_url(
            redis_url,
            max_connections=max_connections,
            timeout=max_wait_s,
            client_name=f"desk-budget:{socket.gethostname()}:{os.getpid()}",
        )
        self.redis = redis_asyncio.Redis.from_pool(pool)
        self._take = self.redis.register_script(_LUA_TAKE)

    def _key(self, key: str, budget: str) -> str:
        return f"{self.prefix}:{budget}:{key}"

    async def acquire(self, key: str, budget: str = STANDARD) -> None:
        """Take one request from the shared budget, waiting (bounded) for the next window."""
        spec = self.budgets[budget]
        deadline = time.monotonic() + self.max_wait_s
        keys = [self._key(key, budget), f"{self.prefix}:penalty:{key}"]
        args = [int(spec.period_s * 1000), spec.limit]
        while True:
            # One round trip: the 429 pause, then the fixed window's counter.
            ok, wait_ms, paused = await self._take(keys=keys, args=args)
            if ok:
                return
            wait = max(int(wait_ms), 1) / 1000.0
            if time.monotonic() + wait > deadline:
                if paused:
                    message = f"This key is paused after the exchange answered 429 for {wait:.1f}s."
                else:
                    message = (
                        f"The shared {budget} request budget {_whose(key)} is used up; "
                        f"next slot in {wait:.1f}s."
                    )
                raise RateLimitedError(message, retry_after=wait)
            await asyncio.sleep(wait)

    def try_acquire(self, key: str, budget: str = STANDARD) -> bool:
        """Always False: the shared budget needs a round trip (use ``acquire``)."""
        return False

    def penalize(self, key: str, seconds: float) -> None:
        """Hold every process's requests for ``key`` for ``seconds``."""
        task = asyncio.ensure_future(
            self.redis.set(f"{self.prefix}:penalty:{key}", 1, px=max(int(seconds * 1000), 1))
        )
        task.add_done_callback(lambda t: t.exception())

    async def remaining_async(self, key: str, budget: str = STANDARD) -> int:
        """Requests left in the current shared window."""
        used = await self.redis.get(self._key(key, budget))
        return self.budgets[budget].limit - int(used or 0)

    def remaining(self, key: str, budget: str = STANDARD) -> int:
        """Not known without a round trip; use ``remaining_async``."""
        return -1

    async def aclose(self) -> None:
        """Close the Redis connection pool."""
        await self.redis.aclose()
