from __future__ import annotations

import secrets

import pytest
from redis.asyncio import Redis

from tests import services
from tests.waiting import eventually
from trading.relay.ownership import RedisOwnership


@pytest.fixture
async def redis():
    services.require(services.redis_available(), "Redis is not reachable at 127.0.0.1:6379")
    client = Redis.from_url(services.redis_url())
    yield client
    await client.aclose()


async def test_only_one_worker_owns_a_subscription_and_a_dead_ones_expire(redis):
    name = f"market.TEST_{secrets.token_hex(3).upper()}"
    first = RedisOwnership(redis, worker_id="w1", ttl_ms=300)
    second = RedisOwnership(redis, worker_id="w2", ttl_ms=300)

    assert await first.claim(name)
    assert not await second.claim(name)
    assert await first.claim(name)  # renewal by the holder

    # w1 died: its lease runs out, then w2 gets it
    await eventually(lambda: second.claim(name), within_s=2.0, what="w1's lease ran out")

    assert await second.claim(name)
    assert not await first.claim(name)
    assert await second.owner_of(name) == "w2"


async def test_release_lets_another_worker_take_over_at_once(redis):
    name = f"subaccount.{secrets.randbelow(10**9) + 1}"
    first = RedisOwnership(redis, worker_id="w1", ttl_ms=10_000)
    second = RedisOwnership(redis, worker_id="w2", ttl_ms=10_000)
    assert await first.claim(name)

    await second.release(name)  # not the holder: nothing happens
    assert not await second.claim(name)
    await first.release(name)

    assert await second.claim(name)
    await second.release(name)
