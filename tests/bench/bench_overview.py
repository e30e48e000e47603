"""The team overview for 50 subaccounts with 100,000 stored fills each: server time, cold and
warm.

Run: ``.venv/bin/python -m tests.bench.bench_overview [subaccounts] [fills]`` (default: 50
subaccounts with 2,000 fills, then with 100,000; seeding 5 million ledger rows into SQLite
and checkpointing them takes minutes).

Starts a sandbox with N funded subaccounts (as bench_balances), sets up Django on a temporary
SQLite database with N Subaccount rows, each with ``fills`` ledger fills on three perpetuals
over 30 days ending now (ten members and outside the desk) and two days of hourly balance
snapshots; then builds each subaccount's daily PnL checkpoints and stores its latest
reconciliation as the ledger's sync does after storing rows (`ledger_folds_update`; timed
and printed apart; the fills of today are in today's checkpoint, so a cold read folds no
row: it reads one checkpoint and one stored reconciliation per subaccount). The process has
imported and rendered once before (a server that has served a request); every cache of
figures is empty for the cold run. Times, in the server process, what `/` does for an htmx
poll of ``#overview-team``:
``overview_for`` (open orders, balances, positions, the ledger's PnL of every subaccount,
the latest reconciliation, the alerts) plus rendering the region:

- cold: the first in this process (every running fold started from the stored checkpoints,
  folding only the rows after the latest);
- warm: again right after (folds current, exchange reads within their 2 s cache);
- fresh: after the exchange reads' caches expired, the folds kept (a poll 5 s later).

Prints medians against the targets (300 ms cold, 30 ms warm) with their ratios.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sandbox.process import SandboxProcess
from tests.bench.bench_balances import forget_everything, make_prices, setup_django, write_seed

TARGET_COLD_MS = 300.0
TARGET_WARM_MS = 30.0
SYMBOLS = ("SOL_USDC_PERP", "BTC_USDC_PERP", "ETH_USDC_PERP")


def seed_rows(sandbox: SandboxProcess, count: int, fills: int) -> object:
    """Subaccounts for the sandbox keys with ``fills`` ledger fills and snapshots each."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts import crypto
    from accounts.models import Subaccount
    from trading.models.balances import BalanceSnapshot
    from trading.models.ledger import LedgerEntry

    now = timezone.now()
    start = now - timedelta(days=30)
    rng = random.Random(7)
    for key in sandbox.keys[:count]:
        sub = Subaccount.objects.create(
            name=key["label"],
            api_public_key=key["api_key"],
            api_secret_sealed=crypto.seal(key["api_secret"]),
        )
        rows = []
        for n in range(fills):
            price = Decimal(rng.randint(14_000, 16_000)) / 100
            quantity = Decimal(rng.randint(1, 500)) / 100
            side = rng.choice(("Bid", "Ask"))
            symbol = rng.choice(SYMBOLS)
            rows.append(
                LedgerEntry(
                    subaccount=sub,
                    kind=LedgerEntry.Kind.FILL,
                    exchange_id=f"{symbol}:{n}:{side}",
                    occurred_at=start + timedelta(seconds=n * 30 * 86400 // fills),
                    symbol=symbol,
                    side=side,
                    quantity=quantity,
                    price=price,
                    fee=(price * quantity * Decimal("0.0005")).quantize(Decimal("1e-8")),
                    fee_symbol="USDC",
                )
            )
        LedgerEntry.objects.bulk_create(rows, batch_size=5000)
        BalanceSnapshot.objects.bulk_create(
            BalanceSnapshot(
                subaccount=sub,
                taken_at=now - timedelta(hours=h, minutes=1),
                equity_usdc=Decimal(1000000 + h),
                hourly=True,
            )
            for h in range(48)
        )
    return get_user_model().objects.create_superuser("bench", password="bench password 123")


async def poll(user: object) -> float:
    """What `/` does for the poll of #overview-team (ms)."""
    from django.template.loader import render_to_string

    from dashboard.overview import overview_for

    started = time.perf_counter()
    overview = await overview_for(user=user)
    render_to_string("home.html#team", {"overview": overview})
    return (time.perf_counter() - started) * 1000


async def measure(user: object) -> dict[str, list[float]]:
    from asgiref.sync import sync_to_async
    from django.contrib.auth import get_user_model

    from trading.exchange import close_session
    from trading.ledger.running import running_clear

    nobody = await sync_to_async(get_user_model().objects.create_user)("nobody", password="x")
    await poll(nobody)  # the server has served a request: code imported, templates loaded
    running_clear()
    forget_everything()
    out: dict[str, list[float]] = {"cold": [await poll(user)], "warm": [], "fresh": []}
    for _ in range(5):
        out["warm"].append(await poll(user))
        forget_everything()
        await asyncio.sleep(2.1)  # the selectors' 2 s read cache
        out["fresh"].append(await poll(user))
    await close_session()
    return out


def checkpoint_all() -> None:
    from accounts.models import Subaccount
    from trading.ledger.latest import ledger_folds_update

    for pk in Subaccount.objects.values_list("pk", flat=True):
        ledger_folds_update(pk, "UTC")


def run(count: int, fills: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seed = write_seed(folder, count)
        with SandboxProcess(seed=seed) as sandbox:
            setup_django(folder, sandbox)
            asyncio.run(make_prices(sandbox))
            started = time.perf_counter()
            user = seed_rows(sandbox, count, fills)
            seeded_s = time.perf_counter() - started
            started = time.perf_counter()
            checkpoint_all()
            checkpointed_s = time.perf_counter() - started
            figures = asyncio.run(measure(user))
    cold, warm = figures["cold"][0], statistics.median(figures["warm"])
    fresh = statistics.median(figures["fresh"])
    print(f"subaccounts: {count}  fills each: {fills:,}  (seeded in {seeded_s:.0f} s)")
    print(f"checkpoints and reconciliations built in {checkpointed_s:.1f} s (what the syncs did)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for name, value, target in (("cold", cold, TARGET_COLD_MS), ("warm", warm, TARGET_WARM_MS)):
        ratio = value / target
        print(f"overview {name:<6} {value:>9.1f} ms  (target {target:.0f} ms, x{ratio:.2f})")
    print(f"overview fresh  {fresh:>9.1f} ms  (exchange reads again, folds kept)")


def main() -> None:
    if len(sys.argv) > 1:
        run(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100_000)
        return
    for count, fills in ((50, 2_000), (50, 100_000)):  # each in its own process and database
        module = "tests.bench.bench_overview"
        subprocess.run([sys.executable, "-m", module, str(count), str(fills)], check=True)


if __name__ == "__main__":
    main()
