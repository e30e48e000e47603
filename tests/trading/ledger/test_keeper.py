"""The ledger keeper: one worker per subaccount (leases), pokes from the account stream,
and a sync stopped when its lease is lost, resumed by the next holder without a doubled or
missing row."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from redis.asyncio import Redis

from tests import services
from tests.waiting import eventually
from trading.ledger.keeper import LedgerKeeper, lease_name
from trading.models.ledger import LedgerEntry
from trading.relay.ownership import RedisOwnership

from .scenario import trade
from .test_sync import exchange_ids, stored_ids

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def redis():
    services.require(services.redis_available(), "Redis is not reachable at 127.0.0.1:6379")
    client = Redis.from_url(services.redis_url())
    yield client
    await client.aclose()


class Namespaced(RedisOwnership):
    """The relay's leases under a prefix of this test's own (the pks restart per test)."""

    def __init__(self, redis: Redis, *, worker_id: str, prefix: str) -> None:
        super().__init__(redis, worker_id=worker_id)
        self.prefix = prefix

    def key(self, name: str) -> str:  # type: ignore[override]
        return f"{self.prefix}{super().key(name)}"


async def test_two_workers_sync_each_subaccount_once(exchange, desk, clients, redis) -> None:
    subs = [await desk(1), await desk(2)]
    await trade(clients(1), clients(2), "Bid", "1", "150")
    prefix = f"test-{secrets.token_hex(4)}:"
    first = LedgerKeeper(ownership=Namespaced(redis, worker_id="w1", prefix=prefix))
    second = LedgerKeeper(ownership=Namespaced(redis, worker_id="w2", prefix=prefix))

    await asyncio.gather(first.catch_up(), second.catch_up())
    await asyncio.gather(first.catch_up(), second.catch_up())

    assert sorted(first.synced + second.synced) == sorted(2 * [s.pk for s in subs])
    for sub in subs:
        assert (sub.pk in first.synced) != (sub.pk in second.synced)  # one holder each
    for index, sub in zip((1, 2), subs, strict=True):
        assert await stored_ids(sub) == await exchange_ids(clients(index))


async def test_a_poke_brings_a_new_fill_in_soon(exchange, desk, clients) -> None:
    sub = await desk(1)
    keeper = LedgerKeeper(every_s=600, poke_delay_s=0.05)
    task = asyncio.create_task(keeper.run())
    try:
        await eventually(lambda: sub.pk in keeper.synced, 10, "the first catch-up")
        await trade(clients(1), clients(2), "Bid", "1", "150")
        fills = LedgerEntry.objects.filter(subaccount=sub, kind="fill")
        assert await fills.acount() == 0  # sentinel: nothing brings it in by itself

        keeper.poke(sub.pk)

        await eventually(lambda: len(keeper.synced) >= 2, 10, "the poked sync")
        assert await fills.acount() == 1
        assert keeper.synced == [sub.pk, sub.pk]  # the poke, not another full round
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_poke_before_the_first_catch_up_is_synced_at_once(exchange, desk, clients) -> None:
    # The relay's keeper makes its first catch-up 30 s after the desk starts: a fill in that
    # time waited for it to reach PnL.
    sub = await desk(1)
    await desk(2)
    await trade(clients(1), clients(2), "Bid", "1", "150")
    keeper = LedgerKeeper(every_s=600, poke_delay_s=0.05)
    task = asyncio.create_task(keeper.run(first_after_s=3600))
    try:
        keeper.poke(sub.pk)

        await eventually(lambda: keeper.synced, 10, "the poked sync")
        fills = LedgerEntry.objects.filter(subaccount=sub, kind="fill")
        assert await fills.acount() == 1
        assert keeper.synced == [sub.pk]  # the poked one only: the catch-up is still due
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class LeaseLostAfter:
    """An ownership that grants ``grants`` claims, then belongs to someone else."""

    def __init__(self, grants: int) -> None:
        self.grants = grants
        self.claims: list[str] = []

    async def claim(self, name: str) -> bool:
        self.claims.append(name)
        return len(self.claims) <= self.grants

    async def release(self, name: str) -> None:
        return None


async def test_a_sync_whose_lease_is_lost_stops_and_the_next_holder_finishes_it(
    exchange, desk, clients
) -> None:
    sub = await desk(1)
    for price in ("150", "151"):
        await trade(clients(1), clients(2), "Bid", "1", price)
    await asyncio.to_thread(exchange.set_faults, latency_ms=150)
    losing = LedgerKeeper(ownership=LeaseLostAfter(grants=1), renew_every_s=0.2)

    try:
        stopped = await losing.sync_one(sub)
    finally:
        await asyncio.to_thread(exchange.clear_faults)
    finished = await LedgerKeeper().sync_one(sub)

    assert stopped is None and losing.synced == []
    assert losing.ownership.claims[:2] == [lease_name(sub.pk)] * 2
    assert finished is not None
    assert await stored_ids(sub) == await exchange_ids(clients(1))
