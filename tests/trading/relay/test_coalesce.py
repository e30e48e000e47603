from __future__ import annotations

import asyncio

from trading.relay.coalesce import Coalescer


async def test_a_burst_reaches_the_browser_as_its_latest_state_only():
    sent: list[tuple[str, dict]] = []

    async def send(group, message):
        sent.append((group, message))

    coalescer = Coalescer(send, rate=10)
    task = asyncio.create_task(coalescer.run())
    try:
        for n in range(500):
            coalescer.offer("market.SOL_USDC", "book", {"seq": n})
        await asyncio.sleep(0.35)
    finally:
        task.cancel()

    book = [m["seq"] for g, m in sent if g == "market.SOL_USDC"]
    assert book[-1] == 499
    assert len(book) <= 4  # first flush at once, then at most 10 a second


async def test_groups_and_kinds_do_not_hide_each_other():
    sent: list[tuple[str, dict]] = []

    async def send(group, message):
        sent.append((group, message))

    coalescer = Coalescer(send, rate=10)
    task = asyncio.create_task(coalescer.run())
    try:
        coalescer.offer("market.SOL_USDC", "book", {"v": "book"})
        coalescer.offer("market.SOL_USDC", "trades", {"v": "trades"})
        coalescer.offer("market.BTC_USDC", "book", {"v": "btc"})
        await asyncio.sleep(0.05)
    finally:
        task.cancel()

    assert sorted((g, m["v"]) for g, m in sent) == [
        ("market.BTC_USDC", "btc"),
        ("market.SOL_USDC", "book"),
        ("market.SOL_USDC", "trades"),
    ]
