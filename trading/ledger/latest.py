"""The latest day's reconciliation of one subaccount (what the overview's card shows), from
the PnL checkpoints instead of a fold of the whole ledger.

It is :func:`trading.ledger.selectors.ledger_reconcile_days`'s last interval, from the first
balance snapshot of the latest UTC day with one back to the first of the day before. The
ledger's totals and holdings at each end come from the checkpoint before it (which keeps the
totals since the first row) plus the few rows after that. A deposit or withdrawal of another
asset than USDC enters the holdings at the price of the point closing its interval (see
``selectors._transfer``), which no checkpoint can know in advance: a subaccount with one
takes the full fold instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from django.db.models import Max, Min

from trading.ledger.checkpoints import (
    FIELDS,
    Base,
    _base_of,
    any_of,
    checkpoint_start,
    checkpoints_update,
    fold_row,
    latest_many,
)
from trading.ledger.pnl import ZERO, PnlRow, Reconciliation
from trading.ledger.reconciled import (
    Figures,
    ledger_last_ids,
    reconciled_many,
    reconciled_store,
)
from trading.ledger.selectors import (
    EquityPoint,
    _reconcile,
    _snapshot_points,
    snapshot_point,
    unrealized_at,
)
from trading.models.balances import BalanceSnapshot
from trading.models.ledger import LedgerEntry

Kind = LedgerEntry.Kind
QUOTE = "USDC"
CHUNK = 100


def _first_of_day(subaccount_id: int, at: datetime) -> EquityPoint:
    start = datetime.combine(at.astimezone(UTC).date(), time(), tzinfo=UTC)
    first = (
        BalanceSnapshot.objects.filter(subaccount_id=subaccount_id, taken_at__gte=start)
        .order_by("taken_at")
        .values_list("taken_at", "equity_usdc", "detail")
        .first()
    )
    assert first is not None  # the snapshot at ``at`` is one
    return snapshot_point(*first)


def _last_two_days(subaccount_id: int) -> tuple[EquityPoint, EquityPoint] | None:
    snapshots = BalanceSnapshot.objects.filter(subaccount_id=subaccount_id)
    last = snapshots.order_by("-taken_at").values_list("taken_at", flat=True).first()
    if last is None:
        return None
    end = _first_of_day(subaccount_id, last)
    day_start = datetime.combine(end.at.astimezone(UTC).date(), time(), tzinfo=UTC)
    before = snapshots.filter(taken_at__lt=day_start).order_by("-taken_at")
    previous = before.values_list("taken_at", flat=True).first()
    if previous is None:
        return None
    return _first_of_day(subaccount_id, previous), end


def _transfers(subaccount_id: int, start: datetime, end: datetime) -> Decimal | None:
    """Net USDC transfers after ``start`` up to ``end`` (None: a transfer of another asset
    up to ``end``, which only the full fold can value)."""
    rows = LedgerEntry.objects.filter(
        subaccount_id=subaccount_id,
        kind__in=(Kind.DEPOSIT, Kind.WITHDRAWAL),
        occurred_at__lte=end,
    ).values_list("occurred_at", "symbol", "kind", "quantity", "fee")
    net = ZERO
    for at, symbol, kind, quantity, fee in rows:
        if symbol != QUOTE:
            return None
        if at > start:
            net += quantity if kind == Kind.DEPOSIT else -(quantity + fee)
    return net


def _at(subaccount_id: int, zone: str, point: EquityPoint) -> tuple[PnlRow, Decimal]:
    """The ledger's totals since its first row and its unrealized PnL at ``point``, events
    at the point's exact time counting before it: the checkpoint before it, and only the
    rows between."""
    base, rows = checkpoint_start(subaccount_id, zone, until=point.at)
    for row in rows:
        if base.through is None or (row[2], row[0]) > base.through:
            fold_row(base.fold, row, None)
    made = base.fold.totals()
    total = PnlRow(
        base.before.realized + made.realized,
        base.before.fees + made.fees,
        base.before.funding + made.funding,
    )
    return total, unrealized_at(base.fold, point)


def reconcile_last(subaccount_id: int, zone: str = "UTC") -> Reconciliation | None:
    """The latest daily reconciliation (None: fewer than two days of snapshots), from the
    checkpoints of ``zone`` (any zone's holdings and totals are the same)."""
    points = _last_two_days(subaccount_id)
    if points is None:
        return None
    start, end = points
    transfers = _transfers(subaccount_id, start.at, end.at)
    if transfers is None:
        return _reconcile(subaccount_id, _snapshot_points(subaccount_id, "UTC", True))[-1]
    before, unrealized_before = _at(subaccount_id, zone, start)
    after, unrealized_after = _at(subaccount_id, zone, end)
    return Reconciliation(
        start=start.at,
        end=end.at,
        equity_change=end.equity - start.equity,
        net_transfers=transfers,
        realized=after.realized - before.realized,
        fees=after.fees - before.fees,
        funding=after.funding - before.funding,
        unrealized_change=unrealized_after - unrealized_before,
    )


def _day_start(at: datetime) -> datetime:
    return datetime.combine(at.astimezone(UTC).date(), time(), tzinfo=UTC)


def _points_many(ids: list[int]) -> dict[int, tuple[EquityPoint, EquityPoint]]:
    """`_last_two_days` of every subaccount of ``ids``, in five queries for all of them."""
    snapshots = BalanceSnapshot.objects.order_by()
    last = dict(
        snapshots.filter(subaccount_id__in=ids)
        .values("subaccount_id")
        .annotate(at=Max("taken_at"))
        .values_list("subaccount_id", "at")
    )
    if not last:
        return {}
    end_day = {s: _day_start(at) for s, at in last.items()}
    previous = dict(
        snapshots.filter(any_of((s, {"taken_at__lt": d}) for s, d in end_day.items()))
        .values("subaccount_id")
        .annotate(at=Max("taken_at"))
        .values_list("subaccount_id", "at")
    )
    start_day = {s: _day_start(at) for s, at in previous.items()}

    def first(days: dict[int, datetime]) -> dict[int, datetime]:
        return dict(
            snapshots.filter(any_of((s, {"taken_at__gte": d}) for s, d in days.items()))
            .values("subaccount_id")
            .annotate(at=Min("taken_at"))
            .values_list("subaccount_id", "at")
        )

    starts, ends = first(start_day), first({s: end_day[s] for s in start_day})
    wanted = [(s, at) for s, at in (*starts.items(), *ends.items())]
    rows = snapshots.filter(any_of((s, {"taken_at": at}) for s, at in wanted)).values_list(
        "subaccount_id", "taken_at", "equity_usdc", "detail"
    )
    points: dict[tuple[int, datetime], EquityPoint] = {}
    for s, at, equity, detail in rows.order_by("id"):
        points.setdefault((s, at), snapshot_point(at, equity, detail))
    return {s: (points[(s, starts[s])], points[(s, ends[s])]) for s in starts if s in ends}


def _transfers_many(
    ids: list[int], ends: dict[int, tuple[datetime, datetime]]
) -> dict[int, Decimal | None]:
    """`_transfers` of every subaccount (``ends``: its interval), in one query."""
    found: dict[int, Decimal | None] = {s: ZERO for s in ends}
    rows = LedgerEntry.objects.filter(
        any_of((s, {"occurred_at__lte": end}) for s, (_, end) in ends.items()),
        kind__in=(Kind.DEPOSIT, Kind.WITHDRAWAL),
    ).values_list("subaccount_id", "occurred_at", "symbol", "kind", "quantity", "fee")
    for s, at, symbol, kind, quantity, fee in rows:
        net = found[s]
        if net is None:
            continue
        if symbol != QUOTE:
            found[s] = None
        elif at > ends[s][0]:
            found[s] = net + (quantity if kind == Kind.DEPOSIT else -(quantity + fee))
    return found


def _bases_many(zone: str, untils: dict[int, datetime]) -> dict[int, tuple[Base, int | None]]:
    """Each subaccount's latest checkpoint in ``zone`` through at or before its ``until``
    (as `checkpoint_start` picks it), with its ``seen_id`` (None: no checkpoint)."""
    chosen = latest_many(untils, zone, untils)
    out: dict[int, tuple[Base, int | None]] = {}
    for s in untils:
        found = chosen.get(s)
        out[s] = (_base_of(zone, found), found.seen_id if found is not None else None)
    return out


def reconcile_last_many(subaccount_ids: Iterable[int], zone: str = "UTC") -> dict[int, Any]:
    """`reconcile_last` of every subaccount of ``subaccount_ids`` (see `_reconcile_many`), a
    hundred subaccounts per round (an ``OR`` of each one's condition stays small)."""
    ids = list(subaccount_ids)
    found: dict[int, Any] = {}
    for first in range(0, len(ids), CHUNK):
        found.update(_reconcile_many(ids[first : first + CHUNK], zone))
    return found


def _reconcile_many(subaccount_ids: list[int], zone: str, alone: bool = True) -> dict[int, Any]:
    """`reconcile_last` of every subaccount of ``subaccount_ids`` in a dozen queries for all
    of them instead of a dozen each: the snapshot points, the transfers, the stored figures
    of each interval still valid (`trading.ledger.reconciled`), and for the others the
    checkpoints before each point and the rows after them, each read once for every
    subaccount (then stored). A subaccount that needs more (a transfer of another asset
    than USDC, a checkpoint a late row made stale) takes `reconcile_last` (None with
    ``alone`` false, the sync's call: nothing is stored for it, and the stored ones still
    valid are marked as checked up to now)."""
    ids = list(subaccount_ids)
    found: dict[int, Any] = dict.fromkeys(ids)
    points = _points_many(ids)
    if not points:
        return found
    seen = ledger_last_ids(list(points))  # before any row is read: none folded is above it
    transfers = _transfers_many(ids, {s: (a.at, b.at) for s, (a, b) in points.items()})
    apart = {s for s, net in transfers.items() if net is None}
    intervals = {s: (a.at, b.at) for s, (a, b) in points.items() if s not in apart}
    figures = reconciled_many(intervals, None if alone else seen)
    wanted = {s: points[s] for s in intervals if s not in figures}
    computed = _figures_many(wanted, zone, apart)
    reconciled_store(computed, intervals, seen)
    figures.update(computed)
    for s, made in figures.items():
        start, end = points[s]
        found[s] = Reconciliation(
            start=start.at,
            end=end.at,
            equity_change=end.equity - start.equity,
            net_transfers=transfers[s] or ZERO,
            realized=made.realized,
            fees=made.fees,
            funding=made.funding,
            unrealized_change=made.unrealized_change,
        )
    for s in apart & set(points) if alone else ():
        found[s] = reconcile_last(s, zone)
    return found


def _figures_many(
    ready: dict[int, tuple[EquityPoint, EquityPoint]], zone: str, alone: set[int]
) -> dict[int, Figures]:
    """The ledger's part of each interval of ``ready``, from the checkpoints before each
    point and the rows after them; a subaccount whose checkpoint a late row made stale is
    added to ``alone`` instead."""
    if not ready:
        return {}
    starts = _bases_many(zone, {s: a.at for s, (a, _) in ready.items()})
    ends = _bases_many(zone, {s: b.at for s, (_, b) in ready.items()})
    # the rows after each base up to its point (two short ranges: the rows between the two
    # bases are in the later one's checkpoint, never folded), and the rows stored after
    # each base's checkpoint (a late one sorting at or before it makes it stale)
    since: list[tuple[int, dict[str, Any]]] = []
    for s, (start, end) in ready.items():
        for (base, _), point in ((starts[s], start), (ends[s], end)):
            since.append((s, _range(base, point)))
    rows: dict[int, list[tuple]] = {s: [] for s in ready}
    entries = LedgerEntry.objects.filter(any_of(since), kind__in=(Kind.FILL, Kind.FUNDING))
    for row in entries.order_by("subaccount_id", "occurred_at", "id").values_list(
        "subaccount_id", *FIELDS
    ):
        rows[row[0]].append(row[1:])
    seen = {
        s: min(x for x in (starts[s][1], ends[s][1]) if x is not None)
        for s in ready
        if starts[s][1] is not None or ends[s][1] is not None
    }
    late = LedgerEntry.objects.filter(
        any_of((s, {"id__gt": v, "occurred_at__lte": ready[s][1].at}) for s, v in seen.items()),
        kind__in=(Kind.FILL, Kind.FUNDING),
    ).values_list("subaccount_id", "occurred_at", "id")
    for s, at, row_id in late:
        for base, seen_id in (starts[s], ends[s]):
            if (
                base.through is not None
                and row_id > (seen_id or 0)
                and (at, row_id) <= base.through
            ):
                alone.add(s)
    computed: dict[int, Figures] = {}
    for s, (start, end) in ready.items():
        if s in alone:
            continue
        before, unrealized_before = _fold_to(starts[s][0], rows[s], start)
        after, unrealized_after = _fold_to(ends[s][0], rows[s], end)
        computed[s] = Figures(
            realized=after.realized - before.realized,
            fees=after.fees - before.fees,
            funding=after.funding - before.funding,
            unrealized_change=unrealized_after - unrealized_before,
        )
    return computed


def ledger_folds_update(subaccount_id: int, zone: str = "UTC") -> int:
    """What a sync that stored fills or funding payments does after them: the checkpoints
    in ``zone`` brought up to the ledger (`checkpoints_update`), then the latest
    reconciliation stored (computed only when the stored one is missing or stale; not for
    a subaccount with a transfer of another asset than USDC, which only the full fold
    values), so the overview of a process that has just started reads both. Returns the
    rows folded."""
    folded = checkpoints_update(subaccount_id, zone)
    _reconcile_many([subaccount_id], zone, alone=False)  # never a fold of the whole ledger
    return folded


def _range(base: Base, point: EquityPoint) -> dict[str, Any]:
    """The lookups of the rows `_fold_to` needs of ``base`` up to ``point`` (those at the
    base's own time too: which of them sort after it is decided by their ids)."""
    lookups: dict[str, Any] = {"occurred_at__lte": point.at}
    if base.through is not None:
        lookups["occurred_at__gte"] = base.through[0]
    return lookups


def _fold_to(base: Base, rows: list[tuple], point: EquityPoint) -> tuple[PnlRow, Decimal]:
    """`_at` from a base and the rows read for it (only those after it up to the point)."""
    for row in rows:
        if row[2] > point.at:
            break
        if base.through is None or (row[2], row[0]) > base.through:
            fold_row(base.fold, row, None)
    made = base.fold.totals()
    total = PnlRow(
        base.before.realized + made.realized,
        base.before.fees + made.fees,
        base.before.funding + made.funding,
    )
    return total, unrealized_at(base.fold, point)


__all__ = ["ledger_folds_update", "reconcile_last", "reconcile_last_many"]
