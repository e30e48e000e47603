from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.waiting import eventually
from trading.backpack.book import OrderBook
from trading.relay.coalesce import Coalescer

GROUP = "market.SOL_USDC"


async def test_a_burst_reaches_the_browser_as_its_latest_state_only():
    sent: list[tuple[str, dict]] = []

    async def send(group, message):
        sent.append((group, message))

    coalescer = Coalescer(send, rate=4)  # a window of 250 ms: a burst of 200 fits in it
    task = asyncio.create_task(coalescer.run())
    try:
        for n in range(200):
            coalescer.offer(GROUP, "book", {"seq": n})
            await asyncio.sleep(0)  # the publisher runs between two offers
        await eventually(lambda: sent, 1.0, "the burst's message")
    finally:
        task.cancel()

    assert sent == [(GROUP, {"seq": 199})]
    assert coalescer.coalesced == 199


async def test_offers_after_a_window_closed_open_the_next_one():
    sent: list[tuple[str, dict]] = []

    async def send(group, message):
        sent.append((group, message))

    coalescer = Coalescer(send, rate=20)
    task = asyncio.create_task(coalescer.run())
    try:
        coalescer.offer(GROUP, "book", {"seq": 1})
        await eventually(lambda: len(sent) == 1, 1.0, "the first window's message")
        opened = time.monotonic()
        coalescer.offer(GROUP, "book", {"seq": 2})
        await eventually(lambda: len(sent) == 2, 1.0, "the second window's message")
        waited = time.monotonic() - opened
    finally:
        task.cancel()

    assert sent == [(GROUP, {"seq": 1}), (GROUP, {"seq": 2})]
    assert waited >= coalescer.window_s * 0.9  # sent when its window closed, not at once


async def test_groups_and_kinds_do_not_hide_each_other():
    sent: list[tuple[str, dict]] = []

    async def send(group, message):
        sent.append((group, message))

    coalescer = Coalescer(send, rate=10)
    task = asyncio.create_task(coalescer.run())
    try:
        coalescer.offer(GROUP, "book", {"v": "book"})
        coalescer.offer(GROUP, "trades", {"v": "trades"})
        coalescer.offer("market.BTC_USDC", "book", {"v": "btc"})
        await eventually(lambda: len(sent) == 3, 1.0, "three messages")
    finally:
        task.cancel()

    assert sorted((g, m["v"]) for g, m in sent) == [
        ("market.BTC_USDC", "btc"),
        ("market.SOL_USDC", "book"),
        ("market.SOL_USDC", "trades"),
    ]


# -- the book through the coalescer: only states the exchange had at a window's end --------

PRICES = [Decimal(p) for p in ("99", "99.5", "100")] + [Decimal(p) for p in ("101", "101.5")]
Update = tuple[str, Decimal, Decimal]  # side ("b"/"a"), price, quantity (0 removes)
updates = st.tuples(
    st.sampled_from(["b", "a"]),
    st.sampled_from(PRICES),
    st.sampled_from([Decimal(0), Decimal(0), Decimal("1.5"), Decimal(3)]),
)


def _state(book: OrderBook) -> dict[str, list[list[str]]]:
    bids, asks = book.top(50)
    return {
        "bids": [[str(p), str(q)] for p, q in bids],
        "asks": [[str(p), str(q)] for p, q in asks],
    }


def _exchange_state(levels: dict[str, dict[Decimal, Decimal]]) -> dict[str, list[list[str]]]:
    """The exchange's own book (a plain model, independent of OrderBook), shown the same way."""
    bids = sorted(levels["b"].items(), reverse=True)
    asks = sorted(levels["a"].items())
    return {
        "bids": [[str(p), str(q)] for p, q in bids],
        "asks": [[str(p), str(q)] for p, q in asks],
    }


async def _publish(windows: list[list[Update]]) -> tuple[list[dict], list[dict], list[dict], bool]:
    """Feed each window's depth updates to a book, offering it after every update; returns what
    was published, the exchange's state at each window's end, its state after every update,
    and whether every window's updates fitted inside it."""
    sent: list[dict] = []

    async def send(group, message):
        sent.append(message)

    coalescer = Coalescer(send, rate=20)
    task = asyncio.create_task(coalescer.run())
    book = OrderBook("SOL_USDC")
    book.load_snapshot([["100", "1"]], [["101", "1"]], last_update_id=1)
    exchange = {"b": {Decimal(100): Decimal(1)}, "a": {Decimal(101): Decimal(1)}}
    update_id, ends, during, fitted = 1, [], [], True
    try:
        for window in windows:
            started = time.monotonic()
            for side, price, quantity in window:
                update_id += 1
                level = [[str(price), str(quantity)]]
                book.apply(
                    update_id, update_id, level if side == "b" else [], level if side == "a" else []
                )
                if quantity:
                    exchange[side][price] = quantity
                else:
                    exchange[side].pop(price, None)
                during.append(_exchange_state(exchange))
                coalescer.offer(GROUP, "book", lambda: _state(book))
                await asyncio.sleep(0)  # the publisher runs between two updates
            fitted &= time.monotonic() - started < coalescer.window_s
            ends.append(_exchange_state(exchange))
            await eventually(lambda: len(sent) == len(ends), 2.0, "the window's message")
    finally:
        task.cancel()
    return sent, ends, during, fitted


@settings(max_examples=30, deadline=None)
@given(windows=st.lists(st.lists(updates, min_size=1, max_size=25), min_size=1, max_size=3))
def test_a_window_of_depth_updates_publishes_only_the_state_at_its_end(windows) -> None:
    sent, ends, _, fitted = asyncio.run(_publish(windows))
    assume(fitted)  # a machine too busy to keep a burst inside one window proves nothing

    assert sent == ends


async def test_a_side_emptied_and_refilled_inside_a_window_never_reaches_a_browser_empty():
    burst = [("b", Decimal(100), Decimal(0)), ("b", Decimal("99.5"), Decimal(2))]

    sent, ends, during, _ = await _publish([burst])

    assert during[0] == {"bids": [], "asks": [["101", "1"]]}  # the sentinel: it was empty
    assert sent == ends == [{"bids": [["99.5", "2"]], "asks": [["101", "1"]]}]
