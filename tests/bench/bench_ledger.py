"""Folding fills into the PnL, and backfilling a subaccount's fills from the sandbox.

Run: ``.venv/bin/python -m tests.bench.bench_ledger [fills]`` (default 100,000). Prints
figures; asserts nothing.

- fold: the cost of one new fill through ``PnlFold.add_fill`` (fills on three perpetuals,
  both sides, ten members and outside the desk, over 30 days). Target (issue #14): under
  1 ms per fill.
- backfill: a sandbox keeping ``fills`` rows per history (``--history-limit``; it keeps
  20,000 by default) and without its own rate limits; one subaccount takes ``fills`` fills
  (a maker rests batches of 50 orders of 0.01 SOL-PERP, the subaccount's market order
  sweeps 1,000 of them at a time, sides alternating). Then the client walks the whole fill
  history with ``walk_history`` (pages of 1,000) inside the historical budget (30 requests
  a minute per key, a sliding window): wall time, requests, rows, and the floor the budget
  sets (100 pages: 30 now, 30 after a minute, ... the last 10 after three minutes).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sandbox.process import SandboxProcess
from tests.trading.backpack.conftest import credentials_of
from trading.backpack import ExchangeSession, HistoryCursor, walk_history
from trading.backpack.history import MAX_PAGE
from trading.backpack.ratelimit import Budget
from trading.backpack.routes import HISTORICAL, STANDARD
from trading.ledger.pnl import FillEvent, PnlFold

SWEEP = 1000  # resting orders one market order takes
BATCH = 50  # orders per batch request (the exchange's most)


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


async def _make_fills(sandbox: SandboxProcess, count: int) -> float:
    """``count`` fills for sandbox subaccount 1 (the taker); seconds it took."""
    started = time.perf_counter()
    budgets = {STANDARD: Budget(10**9), HISTORICAL: Budget(30)}
    async with ExchangeSession(api_url=sandbox.api_url, budgets=budgets) as session:
        maker = session.client(credentials_of(sandbox, 0), label="maker")
        taker = session.client(credentials_of(sandbox, 1), label="taker")
        made, rounds = 0, 0
        while made < count:
            take = min(SWEEP, count - made)
            side = "Bid" if rounds % 2 == 0 else "Ask"
            resting = "Ask" if side == "Bid" else "Bid"
            order = {"symbol": "SOL_USDC_PERP", "side": resting, "order_type": "Limit"}
            order |= {"quantity": "0.01", "price": "150"}
            batches = [[order] * min(BATCH, take - n) for n in range(0, take, BATCH)]
            for found in await asyncio.gather(*(maker.place_orders(b) for b in batches)):
                errors = [r for r in found if isinstance(r, Exception)]
                if errors:
                    raise errors[0]
            quantity = Decimal("0.01") * take
            await taker.place_order("SOL_USDC_PERP", side, "Market", quantity=str(quantity))
            made += take
            rounds += 1
    return time.perf_counter() - started


async def _backfill(sandbox: SandboxProcess) -> tuple[float, int, int]:
    """Walk subaccount 1's whole fill history: (seconds, requests, rows)."""
    async with ExchangeSession(api_url=sandbox.api_url) as session:  # the real budgets
        client = session.client(credentials_of(sandbox, 1), label="backfill")
        started = time.perf_counter()
        pages = rows = 0
        async for page in walk_history(client, HistoryCursor.start("fill_history")):
            pages += 1
            rows += len(page.rows)
        return time.perf_counter() - started, pages, rows


def backfill(count: int) -> None:
    with SandboxProcess(rate_standard=0, rate_historical=30, history_limit=count + 1) as sandbox:
        made_s = asyncio.run(_make_fills(sandbox, count))
        wall_s, requests, rows = asyncio.run(_backfill(sandbox))
    pages = -(-count // MAX_PAGE) + 1  # the last page is the one that comes back short
    floor_s = 60.0 * ((pages - 1) // 30)
    print(f"backfill: {count:,} fills made in {made_s:.0f} s (sandbox keeps {count + 1:,} rows)")
    print(
        f"backfill  {wall_s:>9.1f} s wall  {requests} requests  {rows:,} rows  "
        f"(budget 30/min: floor {floor_s:.0f} s for {pages} pages, x{wall_s / floor_s:.2f})"
        if floor_s
        else f"backfill  {wall_s:>9.1f} s wall  {requests} requests  {rows:,} rows"
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
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
    backfill(count)


if __name__ == "__main__":
    main()
