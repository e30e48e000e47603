"""Folding fills into the PnL: the cost of one new fill through ``PnlFold.add_fill``.

Run: ``.venv/bin/python -m tests.bench.bench_ledger``. Prints figures; asserts nothing.
Fills on three perpetuals, both sides, ten members and outside the desk, over 30 days.
Target (issue #14): under 1 ms per fill. The backfill of 100,000 fills against the sandbox
is not measured here yet.
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from trading.ledger.pnl import FillEvent, PnlFold


def make_fills(count: int, seed: int = 7) -> list[FillEvent]:
    rng = random.Random(seed)
    start = datetime(2026, 6, 1, tzinfo=UTC)
    symbols = ["SOL_USDC_PERP", "BTC_USDC_PERP", "ETH_USDC_PERP"]
    members = [f"member{i}" for i in range(10)] + [""]
    fills = []
    for n in range(count):
        price = Decimal(rng.randint(14_000, 16_000)) / 100
        quantity = Decimal(rng.randint(1, 500)) / 100
        fills.append(
            FillEvent(
                start + timedelta(seconds=n * 30 * 86400 // count),
                rng.choice(symbols),
                rng.choice(["Bid", "Ask"]),
                quantity,
                price,
                (price * quantity * Decimal("0.0005")),
                "USDC",
                rng.choice(members),
            )
        )
    return fills


def main() -> None:
    fills = make_fills(100_000)
    fold = PnlFold(zone=UTC)
    start = time.perf_counter()
    for fill in fills:
        fold.add_fill(fill)
    elapsed = time.perf_counter() - start
    print(
        f"fills: {len(fills):,}  rows: {len(fold.rows):,}  closed positions: {len(fold.closed):,}"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"PnlFold.add_fill   {elapsed / len(fills) * 1e6:>10.2f} us per fill  (target < 1000 us)")


if __name__ == "__main__":
    main()
