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

from datetime import UTC, datetime, time
from decimal import Decimal

from trading.ledger.checkpoints import checkpoint_start, fold_row
from trading.ledger.pnl import ZERO, PnlRow, Reconciliation
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
            fold_row(base.fold, row, {})
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


__all__ = ["reconcile_last"]
