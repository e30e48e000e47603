"""Team balances for 50 subaccounts: selector + render, cold and warm.

Run: ``.venv/bin/python -m tests.bench.bench_balances [subaccounts]``

Starts a sandbox seeded with N subaccounts (default 50; keys derived from the seed's
``keySeed``), gives three markets a last price (a trade each) and ETH only a book (valued at
its mid), then sets up Django on a temporary SQLite database (migrated) with N Subaccount
rows and a week of 5-minute equity snapshots each (the sparklines' real load). Times, in the
server process, `balances_for_team` + rendering every block and the totals:

- cold: first render of a fresh process (new HTTP pool, market list, every read, first use
  of the templates), median of 3 processes started for it; each first routes a request path
  (loading the URLconf), which a server does before any view runs. The bench process's own
  first render is printed too: it also pays the URLconf import;
- fresh: caches expired, connections warm (what a page load costs after 2 s);
- warm: within the 2 s read cache (what the totals request costs after the blocks).

Prints the medians against the targets (300 ms cold, 30 ms warm) with their ratios, the
machine's load average while measuring, and figures against a named peer:
the same reads done one subaccount after another (no concurrency), on loopback and with
30 ms of latency injected by the sandbox (closer to a remote exchange).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sandbox.process import SandboxProcess
from sandbox.seed import load_seed

TARGET_COLD_MS = 300.0
TARGET_WARM_MS = 30.0
LATENCY_MS = 30
COLD_PROCESSES = 3
COLD_FLAG = "--cold-child"


def write_seed(folder: Path, count: int) -> Path:
    """The default seed's assets and markets with `count` funded subaccounts (ids 1..count)."""
    base = json.loads(Path("sandbox/default_seed.json").read_text())
    base["subaccounts"] = [
        {
            "id": i,
            "label": f"Bench {i:02d}",
            "balances": {"USDC": str(100000 + i), "SOL": str(50 + i), "BTC": "1.5", "ETH": "12"},
        }
        for i in range(1, count + 1)
    ]
    path = folder / "bench_seed.json"
    path.write_text(json.dumps(base, indent=1))
    load_seed(path)  # fail here, plainly, if the file is wrong
    return path


def setup_django(folder: Path, sandbox: SandboxProcess) -> None:
    os.environ["DASHBOARD_STATE_DIR"] = str(folder / "state")
    os.environ["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
    os.environ["BACKPACK_API_URL"] = sandbox.api_url
    os.environ["BACKPACK_WS_URL"] = sandbox.ws_url
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed_rows(sandbox: SandboxProcess, count: int) -> object:
    """Subaccount rows for the sandbox keys, a superuser, a week of snapshots each."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts import crypto
    from accounts.models import LowBalanceThreshold, Subaccount
    from trading.models.balances import BalanceSnapshot

    subs = [
        Subaccount.objects.create(
            name=key["label"],
            api_public_key=key["api_key"],
            api_secret_sealed=crypto.seal(key["api_secret"]),
        )
        for key in sandbox.keys[:count]
    ]
    for sub in subs[::5]:
        LowBalanceThreshold.objects.create(subaccount=sub, asset="USDC", minimum=Decimal(100030))
    now = timezone.now()
    snapshots = [
        BalanceSnapshot(
            subaccount=sub,
            taken_at=now - timedelta(minutes=5 * k + 1),
            equity_usdc=Decimal(1000000 + (k * 7919 + sub.pk) % 5000),
            hourly=k % 12 == 0,
        )
        for sub in subs
        for k in range(7 * 24 * 12)
    ]
    BalanceSnapshot.objects.bulk_create(snapshots, batch_size=5000)
    return get_user_model().objects.create_superuser("bench", password="bench password 123")


async def make_prices(sandbox: SandboxProcess) -> None:
    """SOL, BTC trade once (last price); ETH has only a book (mid)."""
    from trading.backpack import Credentials, ExchangeSession

    session = ExchangeSession(api_url=sandbox.api_url)
    a, b = (
        session.client(Credentials(k["api_key"], k["api_secret"]), label=str(i))
        for i, k in enumerate(sandbox.keys[:2])
    )
    try:
        for symbol, qty, price in (("SOL_USDC", "1", "151.25"), ("BTC_USDC", "0.01", "95100.5")):
            await a.place_order(symbol, "Ask", "Limit", quantity=Decimal(qty), price=Decimal(price))
            await b.place_order(symbol, "Bid", "Limit", quantity=Decimal(qty), price=Decimal(price))
        await a.place_order(
            "ETH_USDC", "Bid", "Limit", quantity=Decimal("1"), price=Decimal("3499")
        )
        await a.place_order(
            "ETH_USDC", "Ask", "Limit", quantity=Decimal("1"), price=Decimal("3501")
        )
    finally:
        await session.aclose()


async def render_page_work(user: object) -> tuple[float, int, str]:
    """Everything the server does for one page: the team selector (with sparklines), every
    subaccount block and the totals block; (ms, subaccounts, html)."""
    from django.template.loader import render_to_string

    from trading.balances.selectors import balances_for_team
    from trading.fragments import balances_html

    started = time.perf_counter()
    team = await balances_for_team(user=user)
    parts = [balances_html(view, view, oob=False) for view in team.subaccounts]
    parts.append(render_to_string("trading/partials/balances_totals.html", {"team": team}))
    html = "".join(parts)
    return (time.perf_counter() - started) * 1000, len(team.subaccounts), html


async def render_totals(user: object) -> float:
    """What the totals request does: the team selector (no sparklines) + the totals block."""
    from django.template.loader import render_to_string

    from trading.balances.selectors import balances_for_team

    started = time.perf_counter()
    team = await balances_for_team(user=user, sparklines=False)
    render_to_string("trading/partials/balances_totals.html", {"team": team})
    return (time.perf_counter() - started) * 1000


async def browser_fill(user: object) -> float:
    """The page as a browser fills it: one request per block plus the totals, all at once
    (each block checks visibility, reads its subaccount and renders itself) (ms)."""
    from django.template.loader import render_to_string

    from accounts.permissions import subaccounts_visible_to
    from trading.balances.selectors import balances_for_team, balances_view_for, visible_subaccounts
    from trading.fragments import balances_html

    subs = await visible_subaccounts(user=user)

    async def block(pk: int) -> str:
        sub = await subaccounts_visible_to(user).filter(pk=pk, is_active=True).afirst()
        return balances_html(sub, await balances_view_for(sub), oob=False)

    async def totals() -> str:
        team = await balances_for_team(user=user, sparklines=False)
        return render_to_string("trading/partials/balances_totals.html", {"team": team})

    started = time.perf_counter()
    await asyncio.gather(totals(), *(block(sub.pk) for sub in subs))
    return (time.perf_counter() - started) * 1000


async def sequential_reads(user: object) -> float:
    """The peer: the same exchange reads, one subaccount after another (ms)."""
    from trading.balances import fetch
    from trading.balances.selectors import visible_subaccounts

    fetch.accounts_cache.clear()
    subs = await visible_subaccounts(user=user)
    started = time.perf_counter()
    for sub in subs:
        await fetch.account_read(sub, fresh=True)
    return (time.perf_counter() - started) * 1000


def forget_everything() -> None:
    from trading.balances import fetch, snapshots

    fetch.accounts_cache.clear()
    fetch.market_cache.clear()
    snapshots.sparklines_forget()


async def concurrent_reads(user: object) -> float:
    """The same exchange reads, all at once (what the selector does), no render (ms)."""
    from trading.balances import fetch
    from trading.balances.selectors import visible_subaccounts

    subs = await visible_subaccounts(user=user)
    started = time.perf_counter()
    await asyncio.gather(*(fetch.account_read(sub, fresh=True) for sub in subs))
    return (time.perf_counter() - started) * 1000


async def measure(user: object, rounds: int, sandbox: SandboxProcess) -> dict:
    from trading.exchange import close_session

    out: dict = {"fresh": [], "warm": [], "totals_warm": [], "totals_fresh": []}
    cold_ms, count, html = await render_page_work(user)
    out["cold"] = cold_ms
    out["count"], out["bytes"] = count, len(html)
    out["errors"] = html.count("Balances could not be read")
    for _ in range(rounds):
        forget_everything()
        out["fresh"].append((await render_page_work(user))[0])
        out["warm"].append((await render_page_work(user))[0])
        forget_everything()
        out["totals_fresh"].append(await render_totals(user))
        out["totals_warm"].append(await render_totals(user))
    out["browser_fresh"] = []
    out["browser_warm"] = []
    for _ in range(3):
        forget_everything()
        out["browser_fresh"].append(await browser_fill(user))
        out["browser_warm"].append(await browser_fill(user))
    out["sequential"] = await sequential_reads(user)
    out["concurrent"] = await concurrent_reads(user)
    # The real exchange is not on loopback: the same with 30 ms added to every answer.
    sandbox.set_faults(latency_ms=LATENCY_MS)
    out["far_fresh"] = []
    for _ in range(3):
        forget_everything()
        out["far_fresh"].append((await render_page_work(user))[0])
    out["far_concurrent"] = await concurrent_reads(user)
    out["far_sequential"] = await sequential_reads(user)
    sandbox.clear_faults()
    await close_session()
    return out


async def first_page(user: object) -> tuple[float, int]:
    """The first page of this process (ms, read errors), then the HTTP pool closed."""
    from trading.exchange import close_session

    ms, _, html = await render_page_work(user)
    await close_session()
    return ms, html.count("Balances could not be read")


def cold_child() -> int:
    """A fresh process started by `main` (which set the environment): route a request path
    as a server does before any view, then time the first page; print it as JSON."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.urls import resolve

    resolve("/trading/balances/")
    user = get_user_model().objects.get(username="bench")
    ms, errors = asyncio.run(first_page(user))
    print(json.dumps({"ms": ms, "errors": errors}))
    return 0


def cold_processes() -> list[float]:
    """First-page times of `COLD_PROCESSES` fresh processes (ms)."""
    times = []
    for _ in range(COLD_PROCESSES):
        done = subprocess.run(
            [sys.executable, "-m", "tests.bench.bench_balances", COLD_FLAG],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"the cold-start process failed:\n{done.stderr[-2000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        if figures["errors"]:
            raise SystemExit(f"the cold-start process saw {figures['errors']} read errors")
        times.append(figures["ms"])
    return times


def ratio(figure: float, target: float) -> str:
    return f"target {target:.0f} ms   ratio {figure / target:.2f}"


def main() -> int:
    if sys.argv[1:] == [COLD_FLAG]:
        return cold_child()
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-balances-") as tmp:
        folder = Path(tmp)
        seed = write_seed(folder, count)
        with SandboxProcess(seed=seed, maker=False) as sandbox:
            setup_django(folder, sandbox)
            asyncio.run(make_prices(sandbox))
            started = time.perf_counter()
            user = seed_rows(sandbox, count)
            setup_s = time.perf_counter() - started
            colds = cold_processes()
            result = asyncio.run(measure(user, rounds=7, sandbox=sandbox))
    load_after = os.getloadavg()
    med = {k: statistics.median(v) for k, v in result.items() if isinstance(v, list)}
    cold, seq = result["cold"], result["sequential"]
    print(f"team balances: {result['count']} subaccounts, {result['bytes'] / 1024:.0f} KiB HTML,")
    print(f"  {result['errors']} read errors, 2016 snapshots each (setup {setup_s:.1f} s)")
    print(f"  medians of {len(result['fresh'])} rounds; ratio = figure / target")
    print(
        "  load average (1, 5, 15 min): "
        f"{' '.join(f'{x:.2f}' for x in load_before)} before, "
        f"{' '.join(f'{x:.2f}' for x in load_after)} after, on {os.cpu_count()} CPUs"
    )
    print("whole page (selector with sparklines + 50 blocks + totals), server time:")
    cold_med = statistics.median(colds)
    print(
        f"  cold (first, new process)       {cold_med:8.1f} ms   {ratio(cold_med, TARGET_COLD_MS)}"
    )
    print(f"    each of {len(colds)} processes: {', '.join(f'{x:.1f}' for x in colds)} ms")
    print(
        f"  first in the bench process      {cold:8.1f} ms   {ratio(cold, TARGET_COLD_MS)}"
        "   (also imports the URLconf)"
    )
    print(f"  fresh (every cache emptied)     {med['fresh']:8.1f} ms")
    warm_page = med["warm"]
    print(
        f"  warm (within the 2 s cache)     {warm_page:8.1f} ms   "
        + ratio(warm_page, TARGET_WARM_MS)
    )
    print("totals request (selector without sparklines + totals block):")
    print(f"  fresh                           {med['totals_fresh']:8.1f} ms")
    warm = med["totals_warm"]
    print(f"  warm                            {warm:8.1f} ms   {ratio(warm, TARGET_WARM_MS)}")
    print("page filled as a browser does it (51 concurrent requests: 50 blocks + totals):")
    print(f"  fresh                           {med['browser_fresh']:8.1f} ms")
    print(f"  warm                            {med['browser_warm']:8.1f} ms")
    conc = result["concurrent"]
    print(
        f"exchange reads alone (2 per subaccount): concurrent {conc:7.1f} ms,"
        f" peer one-after-another {seq:7.1f} ms (ratio {seq / conc:.1f}x)"
    )
    far_fresh, far_conc = med["far_fresh"], result["far_concurrent"]
    far_seq = result["far_sequential"]
    print(f"with {LATENCY_MS} ms added to every exchange answer (a remote exchange):")
    print(f"  whole page fresh                {far_fresh:8.1f} ms   (median of 3)")
    print(
        f"  reads concurrent {far_conc:7.1f} ms, peer one-after-another {far_seq:8.1f} ms"
        f" (ratio {far_seq / far_conc:.1f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
