"""Local order book throughput: level updates per second through ``OrderBook.apply``.

Run: ``.venv/bin/python -m tests.bench.bench_book``. Prints figures; asserts nothing.
A realistic stream: 200 price levels per side around a moving mid, deltas of 1-5 levels,
a fifth of them removing a level. Target: >= 500,000 level updates/s.
"""

from __future__ import annotations

import os
import random
import time

from trading.backpack.book import OrderBook


def make_deltas(count: int, seed: int = 7) -> list[tuple[int, int, list, list]]:
    """Pre-built deltas (text prices as they come off the wire)."""
    rng = random.Random(seed)
    deltas = []
    update_id = 1000
    for _ in range(count):
        bids, asks = [], []
        for _ in range(rng.randint(1, 5)):
            tick = rng.randint(1, 200)
            qty = "0" if rng.random() < 0.2 else f"{rng.randint(1, 5000) / 100:.2f}"
            if rng.random() < 0.5:
                bids.append((f"{10000 - tick}.{rng.randint(0, 9)}0", qty))
            else:
                asks.append((f"{10000 + tick}.{rng.randint(0, 9)}0", qty))
        update_id += 1
        deltas.append((update_id, update_id, bids, asks))
    return deltas


def main() -> None:
    """Print level updates/s for the book and a plain-dict peer (no ordering kept)."""
    deltas = make_deltas(200_000)
    levels = sum(len(b) + len(a) for _, _, b, a in deltas)
    book = OrderBook("SOL_USDC")
    snapshot_bids = [(f"{10000 - i}.00", "1") for i in range(1, 201)]
    snapshot_asks = [(f"{10000 + i}.00", "1") for i in range(1, 201)]
    book.load_snapshot(snapshot_bids, snapshot_asks, 1000)
    start = time.perf_counter()
    for first, last, bids, asks in deltas:
        book.apply(first, last, bids, asks)
    elapsed = time.perf_counter() - start
    rate = levels / elapsed

    # Peer: the minimum work - parse and write a dict, no sequence check, no price order.
    from decimal import Decimal

    peer_b: dict = {}
    peer_a: dict = {}
    start = time.perf_counter()
    for _, _, bids, asks in deltas:
        for p, q in bids:
            peer_b[Decimal(p)] = Decimal(q)
        for p, q in asks:
            peer_a[Decimal(p)] = Decimal(q)
    peer = levels / (time.perf_counter() - start)

    start = time.perf_counter()
    for _ in range(10_000):
        book.best_bid()
        book.best_ask()
        book.spread()
    reads = 30_000 / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(1000):
        book.top(10)
        book.checksum(25)
    top_cs = 1000 / (time.perf_counter() - start)

    print(f"deltas: {len(deltas):,}  level updates: {levels:,}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"OrderBook.apply       {rate:>12,.0f} level updates/s  (target >= 500,000)")
    print(
        f"peer: bare dict write {peer:>12,.0f} level updates/s  (ratio book/peer {rate / peer:.2f})"
    )
    print(f"best bid/ask/spread   {reads:>12,.0f} reads/s")
    print(f"top(10)+checksum(25)  {top_cs:>12,.0f} /s")
    print(
        f"book size at end: {len(book)} levels; "
        f"best bid {book.best_bid()}, best ask {book.best_ask()}"
    )


if __name__ == "__main__":
    main()
