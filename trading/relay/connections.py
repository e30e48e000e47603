"""What each event loop of a dashboard or relay process shares: its Redis client (scaled mode)
and its fan-out hub. redis.asyncio connections belong to one loop, and so do sockets."""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings
from redis.asyncio import Redis

from trading.redis_pools import bounded_client
from trading.relay.fanout import Hub, Publish, fanout_channel, publisher

_redis_clients: dict[asyncio.AbstractEventLoop, Redis] = {}
_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def redis_client() -> Redis | None:
    """This event loop's Redis client, or None without REDIS_URL (embedded)."""
    if not settings.REDIS_URL:
        return None
    loop = asyncio.get_running_loop()
    client = _redis_clients.get(loop)
    if client is None:
        client = _redis_clients[loop] = bounded_client(
            settings.REDIS_URL, size=settings.REDIS_POOL_SIZE, role="relay"
        )
    return client


def hub() -> Hub:
    """This event loop's browser sockets by group."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = Hub()
    return found


async def hub_ready() -> Hub:
    """The hub, subscribed to the deployment's fragments when there is Redis; raises when Redis
    does not answer (the consumer closes its socket with 4013)."""
    found = hub()
    redis = redis_client()
    if redis is not None:
        await found.subscribed(redis, fanout_channel(settings.REDIS_URL))
    return found


def fragment_publisher() -> Publish:
    """How a relay on this loop hands out fragments (Redis once, or this process's hub)."""
    redis = redis_client()
    channel = fanout_channel(settings.REDIS_URL) if redis is not None else ""
    return publisher(redis, channel, hub)


async def close_hub() -> Any:
    """Stop this loop's subscription (tests)."""
    found = _hubs.pop(asyncio.get_running_loop(), None)
    if found is not None:
        await found.close()
