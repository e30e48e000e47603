"""Balance snapshots: reading them back as equity sparklines, and thinning old ones.

Snapshots come every ~5 minutes. The 24 h line uses every one; the 7 d line uses every one
of the last 24 h and, before that, each subaccount's first snapshot of every hour (marked
`hourly` when taken), so a week costs ~450 indexed rows per subaccount instead of ~2000.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.db import connections
from django.db.models import CharField
from django.db.models.functions import Cast

from trading.balances.grouped import GroupedRead
from trading.balances.sparkline import Sparkline, draw, micros_of_stored
from trading.models.balances import BalanceSnapshot

DAY = timedelta(hours=24)
WEEK = timedelta(days=7)
KEEP_ALL = timedelta(days=7)
"""Every snapshot is kept this long (the 24 h and 7 d lines)."""
KEEP_HOURLY = timedelta(days=91)
"""After that, each hour's first snapshot (``hourly``) is kept for a quarter; older than
this, each UTC day's first snapshot is kept for ever (the equity curve and the ledger's
daily reconciliation)."""
DRAWN_TTL_S = 60.0

_drawn: dict[int, tuple[float, tuple[Sparkline, Sparkline]]] = {}


def _read_points(ids: list[int], *, now: datetime) -> dict[int, list[tuple[int, Decimal]]]:
    points: dict[int, list[tuple[int, Decimal]]] = {i: [] for i in ids}
    older = BalanceSnapshot.objects.filter(
        subaccount_id__in=ids, hourly=True, taken_at__gte=now - WEEK, taken_at__lt=now - DAY
    )
    recent = BalanceSnapshot.objects.filter(
        subaccount_id__in=ids, taken_at__gte=now - DAY, taken_at__lte=now
    )
    connection = connections[BalanceSnapshot.objects.db]
    zone = connection.timezone  # what a naive stored time means
    with connection.cursor() as cursor:
        for query in (older, recent):
            rows = (
                query.annotate(equity_text=Cast("equity_usdc", CharField()))
                .order_by("subaccount_id", "taken_at")
                .values_list("subaccount_id", "taken_at", "equity_text")
            )
            # The ORM's SQL, read through the plain cursor: the ORM's per-row datetime
            # converter (make it aware, then convert) costs more than the query on ~20,000 rows.
            sql, params = rows.query.sql_with_params()
            cursor.execute(sql, params)
            for subaccount_id, taken_at, equity in cursor.fetchall():
                points[subaccount_id].append((micros_of_stored(taken_at, zone), Decimal(equity)))
    return points


async def equity_points(
    subaccount_ids: Iterable[int], *, now: datetime
) -> dict[int, list[tuple[int, Decimal]]]:
    """(epoch microseconds, equity_usdc) per subaccount, oldest first: the hourly snapshots
    of the last 7 days before the last 24 h, then every snapshot of the last 24 h (two
    indexed reads)."""
    ids = list(subaccount_ids)
    if not ids:
        return {}
    return await sync_to_async(_read_points)(ids, now=now)


async def _draw(ids: list[int], now: datetime) -> dict[int, tuple[Sparkline, Sparkline]]:
    clock = time.monotonic()
    drawn = {}
    for subaccount_id, timed in (await equity_points(ids, now=now)).items():
        lines = (
            draw(timed, label="24 h", start=now - DAY, end=now),
            draw(timed, label="7 d", start=now - WEEK, end=now),
        )
        _drawn[subaccount_id] = (clock, lines)
        drawn[subaccount_id] = lines
    return drawn


# The page's blocks arrive together, one subaccount each: their lines are read and drawn
# together (see `grouped`), with the first block's `now`.
_drawing: GroupedRead[int, tuple[Sparkline, Sparkline]] = GroupedRead(_draw)


async def equity_sparklines(
    subaccount_ids: Iterable[int], *, now: datetime
) -> dict[int, tuple[Sparkline, Sparkline]]:
    """The 24 h and 7 d equity sparklines of each subaccount.

    Drawn lines are kept for a minute (snapshots come every 5); `balance_snapshots_take`
    forgets them in its process, other processes redraw within the minute. Concurrent calls
    (one per block of a page) share their database reads.
    """
    ids = list(subaccount_ids)
    clock = time.monotonic()
    found = {i: hit[1] for i in ids if (hit := _drawn.get(i)) and clock - hit[0] < DRAWN_TTL_S}
    missing = [i for i in ids if i not in found]
    if missing:
        found.update(await _drawing.get(missing, now))
    return found


def sparklines_forget() -> None:
    """Drop the drawn lines (after new snapshots)."""
    _drawn.clear()


def _thin(now: datetime) -> int:
    deleted, _ = BalanceSnapshot.objects.filter(taken_at__lt=now - KEEP_ALL, hourly=False).delete()
    old = (
        BalanceSnapshot.objects.filter(taken_at__lt=now - KEEP_HOURLY)
        .order_by("subaccount_id", "taken_at", "id")
        .values_list("id", "subaccount_id", "taken_at")
    )
    kept: set[tuple[int, date]] = set()
    extra: list[int] = []
    for pk, subaccount_id, taken_at in old.iterator(2000):
        day = (subaccount_id, taken_at.astimezone(UTC).date())
        if day in kept:
            extra.append(pk)
        else:
            kept.add(day)
    for start in range(0, len(extra), 500):
        gone, _ = BalanceSnapshot.objects.filter(pk__in=extra[start : start + 500]).delete()
        deleted += gone
    return deleted


async def balance_snapshots_prune(*, now: datetime) -> int:
    """Thin the snapshots to a falling resolution: every one for 7 days, the first of each
    hour for a quarter, the first of each UTC day for ever; return how many went."""
    return await sync_to_async(_thin)(now)
