"""A week of equity history for the demo, so its sparklines draw from the first page view.

`make demo` starts a fresh sandbox: without this, the 24 h and 7 d lines would say "no
snapshots yet" for the first ten minutes and stay thin for a week. The history ends at each
subaccount's real equity read from the exchange now (a real snapshot is taken first) and
goes back from it: every 5 minutes over the last 24 h and once an hour over the six days
before, as the relay's snapshots would. Generated snapshots say so in their `detail`.

Each generated snapshot is what the exchange's own history says the subaccount was worth
then: the holdings of the real snapshot (a fresh sandbox's seeded balances, which its
capital history dates at the start of its market history) valued at the close of the
market's last candle before that moment, from the exchange's klines, with those prices in
the `detail` as a real snapshot keeps them. So the ledger, marking the same holdings at the
same prices, reconciles with every one of them to the cent; a made-up walk would show its
every move as a mismatch. A moment before the market history (or a sandbox without one)
has no price for a held asset and gets no snapshot; a subaccount holding perpetual
positions, whose past the klines cannot value, gets none either.

Only for the demo (`manage.py seed_demo_equity`): a subaccount that has any other snapshot
in the last week keeps its history untouched, so running it again adds nothing made up.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from trading.balances.services import balance_snapshots_take
from trading.balances.snapshots import DAY, WEEK, sparklines_forget
from trading.balances.valuation import PriceSource, usdc_symbol
from trading.exchange import exchange_session
from trading.failures import EXCHANGE_ERRORS, failure_text
from trading.models.balances import BalanceSnapshot

ZERO = Decimal(0)
RECENT_EVERY = timedelta(minutes=5)
OLDER_EVERY = timedelta(hours=1)
GENERATED = {"generated": "demo history from seed_demo_equity, not read from the exchange"}
Closes = list[tuple[datetime, Decimal]]
"""A market's candle closes by candle end, oldest first."""


@dataclass
class DemoEquityReport:
    """Subaccounts given a generated week, and those that kept the history they had."""

    filled: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable summary, one line per fact."""
        out = []
        if self.filled:
            out.append(f"generated a week of equity snapshots for {', '.join(self.filled)}")
        if self.kept:
            out.append(f"kept the equity snapshots already there for {', '.join(self.kept)}")
        out += [f"no equity history for {name}: {reason}" for name, reason in self.skipped]
        return out


def _moments(now: datetime) -> list[datetime]:
    """The generated snapshots' times, newest first (never `now`: the real one is there)."""
    recent = [now - RECENT_EVERY * k for k in range(1, DAY // RECENT_EVERY + 1)]
    older_count = (WEEK - DAY) // OLDER_EVERY
    older = [now - DAY - OLDER_EVERY * k for k in range(1, older_count)]
    return recent + older


async def _closes(symbol: str, now: datetime) -> Closes:
    """``symbol``'s candle closes up to ``now``: 15-minute candles over the week, 1-minute
    ones over the last day (historical budget: two requests)."""
    client = exchange_session().client()
    closes: Closes = []
    for interval, since in (("15m", now - WEEK - OLDER_EVERY), ("1m", now - DAY - RECENT_EVERY)):
        for kline in await client.klines(symbol, interval, int(since.timestamp())):
            if kline.close is not None and kline.end <= now:
                closes.append((kline.end, kline.close))
    closes.sort(key=lambda close: close[0])
    return closes


def _price_at(closes: Closes, moment: datetime) -> Decimal | None:
    """The close of the last candle ended at or before ``moment`` (None: none had)."""
    found = bisect_right(closes, moment, key=lambda close: close[0])
    return closes[found - 1][1] if found else None


def _holdings(detail: Mapping) -> tuple[dict[str, dict], dict[str, dict]] | str:
    """A real snapshot's assets at par and those priced by a market (each asset's figures
    as the snapshot keeps them), or why its past cannot be priced."""
    perp = detail.get("perp", {}).get("pnl_unrealized")
    if perp and Decimal(perp) != 0:
        return "it holds perpetual positions, whose past the market history cannot value"
    fixed: dict[str, dict] = {}
    moving: dict[str, dict] = {}
    for asset, figures in detail.get("assets", {}).items():
        if "price" not in figures:
            continue  # unvalued in the real snapshot too: left out of its equity alike
        if figures.get("price_source") == PriceSource.PAR:
            fixed[asset] = figures
        else:
            moving[asset] = figures
    return fixed, moving


def _snapshot_at(
    moment: datetime,
    fixed: Mapping[str, dict],
    moving: Mapping[str, dict],
    closes: Mapping[str, Closes],
) -> tuple[Decimal, dict] | None:
    """Equity and `detail` at ``moment`` (None: a held asset has no price then)."""
    assets = dict(fixed)
    equity = sum((Decimal(figures["value_usdc"]) for figures in fixed.values()), ZERO)
    for asset, figures in moving.items():
        price = _price_at(closes[usdc_symbol(asset)], moment)
        if price is None:
            return None
        quantity = sum(Decimal(figures[k]) for k in ("available", "locked", "staked"))
        value = quantity * price
        assets[asset] = figures | {
            "price": format(price, "f"),
            "price_source": PriceSource.LAST.value,
            "value_usdc": format(value, "f"),
        }
        equity += value
    return equity, {**GENERATED, "assets": assets}


def _first_of_hour(moments: list[datetime], now: datetime) -> set[datetime]:
    """The earliest generated moment of each clock hour (the 7-day line reads those)."""
    firsts: dict[datetime, datetime] = {}
    for moment in moments:
        hour = moment.replace(minute=0, second=0, microsecond=0)
        if moment < firsts.get(hour, now):
            firsts[hour] = moment
    return set(firsts.values())


async def demo_equity_history_fill(*, now: datetime | None = None) -> DemoEquityReport:
    """Take a real snapshot of every active subaccount, then give each one that has no other
    snapshot in the last week a generated week ending at that real equity: its holdings now
    at the exchange's past prices (see the module doc)."""
    now = now or timezone.now()
    report = DemoEquityReport()
    taken = await balance_snapshots_take(now=now)
    report.skipped = list(taken.skipped)
    moments = _moments(now)
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    closes: dict[str, Closes] = {}
    real = BalanceSnapshot.objects.filter(taken_at=now).select_related("subaccount")
    async for snapshot in real.order_by("subaccount__name"):
        name = snapshot.subaccount.name
        others = BalanceSnapshot.objects.filter(
            subaccount_id=snapshot.subaccount_id, taken_at__gte=now - WEEK, taken_at__lt=now
        )
        if await others.aexists():
            report.kept.append(name)
            continue
        holdings = _holdings(snapshot.detail)
        if isinstance(holdings, str):
            report.skipped.append((name, holdings))
            continue
        fixed, moving = holdings
        try:
            for symbol in sorted({usdc_symbol(a) for a in moving} - set(closes)):
                closes[symbol] = await _closes(symbol, now)
        except EXCHANGE_ERRORS as exc:
            report.skipped.append((name, failure_text(exc)))
            continue
        made = [(m, _snapshot_at(m, fixed, moving, closes)) for m in moments]
        week = [(moment, found) for moment, found in made if found is not None]
        if not week:
            markets = ", ".join(sorted(usdc_symbol(a) for a in moving))
            report.skipped.append((name, f"the exchange has no market history of {markets}"))
            continue
        firsts = _first_of_hour([moment for moment, _ in week], now)
        rows = [
            BalanceSnapshot(
                subaccount_id=snapshot.subaccount_id,
                taken_at=moment,
                equity_usdc=equity,
                hourly=moment in firsts,
                detail=detail,
            )
            for moment, (equity, detail) in week
        ]
        await BalanceSnapshot.objects.abulk_create(rows)
        if any(moment >= this_hour for moment, _ in week):  # the real one is not the first
            await BalanceSnapshot.objects.filter(pk=snapshot.pk).aupdate(hourly=False)
        report.filled.append(name)
    sparklines_forget()
    return report
