"""Balance snapshots: reading them back as equity sparklines, and pruning old ones.

Snapshots come every ~5 minutes. The 24 h line uses every one; the 7 d line uses every one
of the last 24 h and, before that, those taken in the first five minutes of each hour (about
one an hour), so a week costs ~450 rows per subaccount instead of ~2000.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q

from trading.balances.sparkline import Sparkline, sparkline
from trading.models.balances import BalanceSnapshot

DAY = timedelta(hours=24)
WEEK = timedelta(days=7)
KEEP = timedelta(days=8)


async def equity_series(
    subaccount_ids: Iterable[int], *, now: datetime
) -> dict[int, list[tuple[datetime, Decimal]]]:
    """(taken_at, equity_usdc) of the last 7 days per subaccount, oldest first."""
    ids = list(subaccount_ids)
    series: dict[int, list[tuple[datetime, Decimal]]] = {i: [] for i in ids}
    if not ids:
        return series
    query = (
        BalanceSnapshot.objects.filter(
            subaccount_id__in=ids, taken_at__gte=now - WEEK, taken_at__lte=now
        )
        .filter(Q(taken_at__gte=now - DAY) | Q(taken_at__minute__lt=5))
        .order_by("subaccount_id", "taken_at")
        .values_list("subaccount_id", "taken_at", "equity_usdc")
    )
    async for subaccount_id, taken_at, equity in query:
        series[subaccount_id].append((taken_at, equity))
    return series


async def equity_sparklines(
    subaccount_ids: Iterable[int], *, now: datetime
) -> dict[int, tuple[Sparkline, Sparkline]]:
    """The 24 h and 7 d equity sparklines of each subaccount."""
    found = await equity_series(subaccount_ids, now=now)
    return {
        subaccount_id: (
            sparkline(points, label="24 h", start=now - DAY, end=now),
            sparkline(points, label="7 d", start=now - WEEK, end=now),
        )
        for subaccount_id, points in found.items()
    }


async def balance_snapshots_prune(*, now: datetime) -> int:
    """Delete snapshots older than 8 days; return how many went."""
    deleted, _ = await BalanceSnapshot.objects.filter(taken_at__lt=now - KEEP).adelete()
    return deleted
