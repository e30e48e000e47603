"""The relay keeps the ledger current: a fill on the account stream brings it in soon, and a
dropped stream (fills may have come while it was down) is followed by a catch-up, so the
ledger ends equal to the sandbox's own history, nothing missing or doubled."""

from __future__ import annotations

import asyncio

import pytest

from tests.waiting import eventually
from trading.exchange import close_session
from trading.relay import runtime, worker

from .scenario import trade
from .test_sync import exchange_ids, stored_ids

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def relay_env(exchange, settings, monkeypatch):
    settings.DASHBOARD_RELAY = "embedded"
    settings.REDIS_URL = None
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    monkeypatch.setattr(worker, "LEDGER_FIRST_AFTER_S", 0.0)
    monkeypatch.setattr(worker, "SNAPSHOT_FIRST_AFTER_S", 3600.0)
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield exchange
    await runtime.stop_embedded_relay()
    await close_session()
    channel_layers.backends.clear()


async def test_fills_and_a_dropped_stream_reach_the_ledger_once(relay_env, desk, clients) -> None:
    sub = await desk(1)
    mine, other = clients(1), clients(2)
    relay = await runtime.ensure_embedded_relay()
    keeper = relay.ledger
    await eventually(lambda: sub.pk in relay.accounts, 10, "the account stream")
    await eventually(lambda: keeper.synced == [sub.pk], 10, "the backfill")

    await trade(mine, other, "Bid", "1", "150")
    await eventually(lambda: len(keeper.synced) == 2, 10, "the sync the fill poked")
    assert keeper.reports[sub.pk].stored["fill_history"] == 1

    await asyncio.to_thread(relay_env.set_faults, ws_drop=True)
    await trade(mine, other, "Ask", "1", "151")
    await trade(mine, other, "Bid", "2", "152")
    await eventually(lambda: keeper.stored[sub.pk]["fill_history"] == 3, 15, "the later fills")

    assert await stored_ids(sub) == await exchange_ids(mine)
