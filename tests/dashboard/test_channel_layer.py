"""The embedded channel layer: messages flow as in Channels' in-memory layer, and expired ones
are still swept (at most a second late)."""

from __future__ import annotations

import asyncio

from dashboard.channel_layer import SWEEP_EVERY_S, EmbeddedChannelLayer


async def test_group_messages_reach_every_member_in_order() -> None:
    layer = EmbeddedChannelLayer()
    members = [await layer.new_channel() for _ in range(3)]
    for channel in members:
        await layer.group_add("market.SOL_USDC", channel)
    for n in range(2):
        await layer.group_send("market.SOL_USDC", {"type": "push", "n": n})
    received = [[(await layer.receive(c))["n"] for _ in range(2)] for c in members]
    assert received == [[0, 1]] * 3


async def test_an_expired_message_is_swept_and_its_channel_leaves_its_groups() -> None:
    layer = EmbeddedChannelLayer(expiry=0.05)
    gone, alive = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("subaccount.1", gone)
    await layer.send(gone, {"type": "push", "n": 1})
    await asyncio.sleep(max(0.1, SWEEP_EVERY_S))
    await layer.send(alive, {"type": "push", "n": 2})
    assert (await layer.receive(alive))["n"] == 2  # a receive sweeps
    assert gone not in layer.channels
    assert gone not in layer.groups.get("subaccount.1", {})
