"""The risk gate's server CPU per order (issue 15.2; target under 1 ms).

Run: ``.venv/bin/python -m tests.bench.bench_risk [orders]``

Measures CPU time of this process (``time.process_time`` around each call, so waiting on the
sandbox or the disk is not counted) and prints p50 and p99 per order for:

- check: the pure `risk_gate_check` with 10 markets of exposure;
- reserve: the database step of the gate (lock the limit rows, read the orders in flight,
  check, insert the reservation: one short transaction);
- settle: after the exchange answered, freeing a refused order's reservation (and expired
  ones), outside the gate;
- admit (kept read): the whole `risk_gate_admit` as orders arrive, using the process's
  exposure read while it is younger than `EXPOSURE_FRESH_S` (a new read when it is older);
- admit (fresh read): the same with the kept read dropped before each order, i.e. the three
  exchange reads (positions, open orders, collateral: signing, HTTP, parsing) and the ledger
  fold every time: the peer the kept read is compared with (the ratio is printed).

On SQLite (the default) the commit's journal writes are this process's CPU too; with
DATABASE_URL set the bench uses a fresh database on that PostgreSQL server instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sandbox.process import SandboxProcess

TARGET_MS = 1.0
ROUNDS = 5


def setup_django(folder: Path, sandbox: SandboxProcess, database: str | None) -> None:
    os.environ["DASHBOARD_STATE_DIR"] = str(folder / "state")
    os.environ["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
    os.environ["BACKPACK_API_URL"] = sandbox.api_url
    os.environ["BACKPACK_WS_URL"] = sandbox.ws_url
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    if database:
        os.environ["DATABASE_URL"] = database
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) of per-order CPU times in ms."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def cpu_ms_each(call, count: int) -> tuple[float, float]:
    samples = []
    for _ in range(ROUNDS * count):
        started = time.process_time()
        call()
        samples.append((time.process_time() - started) * 1000)
    return percentiles(samples)


def show(name: str, figures: tuple[float, float], per: str = "order") -> None:
    p50, p99 = figures
    print(
        f"  {name:22s} p50 {p50 * 1000:8.1f} µs  p99 {p99 * 1000:8.1f} µs CPU per {per}"
        f"  (p50 {p50 / TARGET_MS:.3f} of the 1 ms target)"
    )


def bench_check(count: int) -> float:
    from trading.risk.gate import Exposure, GateOrder, Limits, MarketExposure, risk_gate_check

    limits = Limits(
        max_order_notional=Decimal("50000"),
        max_position_notional_market=Decimal("200000"),
        max_position_notional_total=Decimal("1000000"),
        max_open_orders=200,
        max_leverage=Decimal("5"),
        allowed_markets=frozenset(f"M{i}_USDC_PERP" for i in range(10)),
    )
    exposure = Exposure(
        markets={f"M{i}_USDC_PERP": MarketExposure(Decimal(1000 * i)) for i in range(10)},
        open_orders=20,
        net_equity=Decimal("400000"),
    )
    order = GateOrder(symbol="M3_USDC_PERP", buy=True, notional=Decimal("1500"))
    return cpu_ms_each(
        lambda: risk_gate_check(limits=limits, exposure=exposure, order=order), count
    )


def bench_reserve(sandbox: SandboxProcess, count: int) -> tuple[tuple[float, float], ...]:
    from django.contrib.auth import get_user_model

    from accounts import crypto
    from accounts.models import Membership, Subaccount
    from trading import exchange
    from trading.backpack import Side
    from trading.models import RiskLimit
    from trading.risk import services
    from trading.risk.gate import GateOrder

    key = sandbox.keys[0]
    user = get_user_model().objects.create_user("bench")
    subaccount = Subaccount.objects.create(
        name="Bench",
        api_public_key=key["api_key"],
        api_secret_sealed=crypto.seal(key["api_secret"]),
    )
    Membership.objects.create(user=user, subaccount=subaccount, role="trader")
    RiskLimit.objects.create(subaccount=subaccount, max_open_orders=10**9)

    async def read():
        try:
            return await services.risk_exposure_read(subaccount=subaccount)
        finally:
            await exchange.close_session()

    exposure_read = asyncio.run(read())
    order = GateOrder(symbol="SOL_USDC", buy=True, notional=Decimal("150"))
    check = services._check_and_reserve.func
    settle = services.risk_reservation_settle.func

    reserving: list[float] = []
    settling: list[float] = []
    for _ in range(ROUNDS * count):
        started = time.process_time()
        _result, pk, _stops = check(
            actor=user, subaccount=subaccount, order=order, read=exposure_read
        )
        reserving.append((time.process_time() - started) * 1000)
        started = time.process_time()
        settle(reservation_id=pk, placed=False)
        settling.append((time.process_time() - started) * 1000)

    async def admit_many(n: int, *, fresh: bool) -> list[float]:
        """CPU of each whole admit (its settle is not counted: measured above)."""
        from asgiref.sync import sync_to_async

        from trading.risk.exposure import risk_exposure_forget

        await sync_to_async(lambda: None)()  # start the worker thread outside the timing
        samples = []
        for _ in range(n):
            if fresh:
                risk_exposure_forget(subaccount_id=subaccount.pk)
            started = time.process_time()
            pk = await services.risk_gate_admit(
                actor=user,
                subaccount=subaccount,
                symbol="SOL_USDC",
                side=Side.BID,
                notional=Decimal("150"),
            )
            samples.append((time.process_time() - started) * 1000)
            await services.risk_reservation_settle(reservation_id=pk, placed=False)
        await exchange.close_session()
        return samples

    kept = [ms for _ in range(ROUNDS) for ms in asyncio.run(admit_many(count, fresh=False))]
    # Fewer fresh reads: three requests each, within the key's 2000 requests a minute.
    fresh_n = max(count // 5, 20)
    fresh = [ms for _ in range(ROUNDS) for ms in asyncio.run(admit_many(fresh_n, fresh=True))]
    return (
        percentiles(reserving),
        percentiles(settling),
        percentiles(kept),
        percentiles(fresh),
    )


LEDGER_FILLS = 20_000


def bench_ledger(fills: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """The ledger part of a fresh read on a subaccount with ``fills`` fills: folding it all
    (as every read did before) against the digest kept until the ledger changes."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Subaccount
    from trading.models import LedgerEntry
    from trading.risk import loss

    subaccount = Subaccount.objects.get(name="Bench")
    start = timezone.now() - timedelta(days=2)
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                subaccount=subaccount,
                kind="fill",
                exchange_id=f"SOL_USDC_PERP:{i}:Bid",
                occurred_at=start + timedelta(seconds=i),
                symbol="SOL_USDC_PERP",
                side="Bid" if i % 2 else "Ask",
                quantity=Decimal("0.1"),
                price=Decimal(150 + i % 7),
                fee=Decimal("0.0075"),
                fee_symbol="USDC",
            )
            for i in range(fills)
        ],
        batch_size=2000,
    )
    marks = {"SOL_USDC_PERP": Decimal("151")}

    def cold() -> None:
        loss._digests.clear()
        loss.daily_losses(subaccount=subaccount, marks=marks)

    cold_samples = []
    for _ in range(ROUNDS):
        started = time.process_time()
        cold()
        cold_samples.append((time.process_time() - started) * 1000)
    kept = cpu_ms_each(lambda: loss.daily_losses(subaccount=subaccount, marks=marks), 20)
    return percentiles(cold_samples), kept


def postgres_database() -> tuple[str | None, str | None]:
    """With DATABASE_URL set: a fresh database on that server (its URL and the base URL)."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        return None, None
    import psycopg

    name = f"desk_bench_risk_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}")), base


def drop_database(url: str | None, base: str | None) -> None:
    if not url or not base:
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    load = os.getloadavg()[0]
    print(f"risk gate, server CPU per order ({ROUNDS} rounds; load {load:.2f})")
    show("check", bench_check(count * 50))
    database, base = postgres_database()
    with tempfile.TemporaryDirectory() as folder, SandboxProcess(maker=False) as sandbox:
        try:
            setup_django(Path(folder), sandbox, database)
            reserve, settle, admit, fresh = bench_reserve(sandbox, count)
            ledger_cold, ledger_kept = bench_ledger(LEDGER_FILLS)
        finally:
            drop_database(database, base)
    show("reserve", reserve)
    show("settle (after answer)", settle)
    show("admit (kept read)", admit)
    show("admit (fresh read)", fresh)
    print(
        f"  full admit p50: kept read {admit[0] * 1000:.1f} µs vs fresh read "
        f"{fresh[0] * 1000:.1f} µs: {fresh[0] / admit[0]:.1f}x less CPU"
    )
    where = (
        "PostgreSQL (its server's CPU not counted)"
        if database
        else "SQLite (commits in this process)"
    )
    print(f"  (admit includes the three exchange reads' signing, HTTP and parsing; {where})")
    print(f"the ledger part of a fresh read, {LEDGER_FILLS:,} fills (daily loss of every level):")
    show("fold every read", ledger_cold, per="read")
    show("kept until it changes", ledger_kept, per="read")
    print(
        f"  p50: folded {ledger_cold[0]:.1f} ms vs kept {ledger_kept[0]:.2f} ms: "
        f"{ledger_cold[0] / ledger_kept[0]:.0f}x less CPU"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
