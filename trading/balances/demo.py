"""A week of equity history for the demo, so its sparklines draw from the first page view.

`make demo` starts a fresh sandbox: without this, the 24 h and 7 d lines would say "no
snapshots yet" for the first ten minutes and stay thin for a week. The history ends at each
subaccount's real equity read from the exchange now (a real snapshot is taken first) and
walks back from it: every 5 minutes over the last 24 h and once an hour over the six days
before, as the relay's snapshots would. Generated snapshots say so in their `detail`.

Only for the demo (`manage.py seed_demo_equity`): a subaccount that has any other snapshot
in the last week keeps its history untouched, so running it again adds nothing made up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from trading.balances.services import balance_snapshots_take
from trading.balances.snapshots import DAY, WEEK, sparklines_forget
from trading.models.balances import BalanceSnapshot

CENT = Decimal("0.01")
RECENT_EVERY = timedelta(minutes=5)
OLDER_EVERY = timedelta(hours=1)
STEP_BP = 12
"""Largest move of one 5-minute step, in basis points of the equity (three draws summed)."""
GENERATED = {"generated": "demo history from seed_demo_equity, not read from the exchange"}


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


def _walk_back(name: str, equity: Decimal, moments: list[datetime], now: datetime) -> list:
    """Equity at each of `moments` (newest first), a random walk back from `equity`, the
    same for the same subaccount name."""
    draw = random.Random(f"demo-equity:{name}").randint
    values = []
    value = equity
    previous = now
    for moment in moments:
        scale = 1 if previous - moment <= RECENT_EVERY else 4  # an hour: ~sqrt(12) steps
        move_bp = sum(draw(-STEP_BP, STEP_BP) for _ in range(3)) * scale
        value = max(Decimal(0), value - value * move_bp / 10_000).quantize(CENT)
        values.append(value)
        previous = moment
    return values


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
    snapshot in the last week a generated week ending at that real equity."""
    now = now or timezone.now()
    report = DemoEquityReport()
    taken = await balance_snapshots_take(now=now)
    report.skipped = list(taken.skipped)
    moments = _moments(now)
    firsts = _first_of_hour(moments, now)
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    real = BalanceSnapshot.objects.filter(taken_at=now).select_related("subaccount")
    async for snapshot in real.order_by("subaccount__name"):
        name = snapshot.subaccount.name
        others = BalanceSnapshot.objects.filter(
            subaccount_id=snapshot.subaccount_id, taken_at__gte=now - WEEK, taken_at__lt=now
        )
        if await others.aexists():
            report.kept.append(name)
            continue
        values = _walk_back(name, snapshot.equity_usdc, moments, now)
        rows = [
            BalanceSnapshot(
                subaccount_id=snapshot.subaccount_id,
                taken_at=moment,
                equity_usdc=value,
                hourly=moment in firsts,
                detail=GENERATED,
            )
            for moment, value in zip(moments, values, strict=True)
        ]
        await BalanceSnapshot.objects.abulk_create(rows)
        if any(moment >= this_hour for moment in moments):  # the real one is not the first
            await BalanceSnapshot.objects.filter(pk=snapshot.pk).aupdate(hourly=False)
        report.filled.append(name)
    sparklines_forget()
    return report
