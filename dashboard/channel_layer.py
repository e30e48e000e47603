"""The channel layers: embedded (Channels' in-memory layer, swept for expired messages at most
once a second) and scaled (channels_redis over bounded connection pools).

The stock ``InMemoryChannelLayer`` walks every channel and every group on every ``receive``,
so with one consumer waiting per browser socket each delivered message costs O(sockets): with
200 sockets the sweep took about 16% of the dashboard process's CPU in
``tests/bench/bench_relay.py`` (profiled). Messages expire after 60 s and group memberships
after a day; sweeping once a second instead changes when they go by at most that second.
"""

from __future__ import annotations

import time
from typing import Any

from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from redis.asyncio import BlockingConnectionPool

from trading.redis_pools import bounded_pool

SWEEP_EVERY_S = 1.0


class EmbeddedChannelLayer(InMemoryChannelLayer):
    """``InMemoryChannelLayer`` whose expiry sweep runs at most every ``SWEEP_EVERY_S``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._next_sweep = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY_S
        super()._clean_expired()


class ScaledChannelLayer(RedisChannelLayer):
    """channels_redis's layer over bounded, named connection pools (``trading.redis_pools``).

    The stock layer builds a plain ``ConnectionPool`` per host and event loop, which grows by
    one connection per concurrent command and fails past 100: a hundred browsers connecting
    at once exhausted it, and every later browser got ``MaxConnectionsError`` from
    ``group_add`` (issue 19). ``pool_size`` caps the connections per host and event loop;
    callers beyond it wait for one.
    """

    def __init__(self, *args: Any, pool_size: int = 20, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool_size = pool_size

    def create_pool(self, index: int) -> BlockingConnectionPool:
        host = dict(self.hosts[index])
        address = host.pop("address")
        return bounded_pool(address, size=self.pool_size, role="layer", **host)
