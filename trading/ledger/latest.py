"""The latest day's reconciliation of one subaccount (what the overview's card shows), from
the PnL checkpoints instead of a fold of the whole ledger.

It is :func:`trading.ledger.selectors.ledger_reconcile_days`'s last interval, from the first
balance snapshot of the latest UTC day with one back to the first of the day before: the
ledger's holdings at the interval's start come from the checkpoint before it plus the rows
after that; then only the interval's rows are folded. A deposit or withdrawal of another
asset than USDC enters the holdings at the price of the point closing its interval (see
``selectors._transfer``), which no checkpoint can know in advance: a subaccount with one
takes the full fold instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from trading.ledger.checkpoints import Key, checkpoint_base, fold_row, rows_after
from trading.ledger.pnl import ZERO, Reconciliation
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
LAST = 2**63 - 1


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


def _other_transfers(subaccount_id: int, until: datetime) -> bool:
    transfers = LedgerEntry.objects.filter(
        subaccount_id=subaccount_id,
        kind__in=(Kind.DEPOSIT, Kind.WITHDRAWAL),
        occurred_at__lte=until,
    )
    return transfers.exclude(symbol=QUOTE).exists()


def _usdc_transfers(subaccount_id: int, start: datetime, end: datetime) -> object:
    rows = LedgerEntry.objects.filter(
        subaccount_id=subaccount_id,
        kind__in=(Kind.DEPOSIT, Kind.WITHDRAWAL),
        symbol=QUOTE,
        occurred_at__gt=start,
        occurred_at__lte=end,
    ).values_list("kind", "quantity", "fee")
    return sum(
        (quantity if kind == Kind.DEPOSIT else -(quantity + fee) for kind, quantity, fee in rows),
        ZERO,
    )


def reconcile_last(subaccount_id: int, zone: str = "UTC") -> Reconciliation | None:
    """The latest daily reconciliation (None: fewer than two days of snapshots), folding
    from the checkpoints of ``zone`` (any zone's holdings are the same)."""
    points = _last_two_days(subaccount_id)
    if points is None:
        return None
    start, end = points
    if _other_transfers(subaccount_id, end.at):
        return _reconcile(subaccount_id, _snapshot_points(subaccount_id, "UTC", True))[-1]
    until: Key = (start.at, LAST)
    base = checkpoint_base(subaccount_id, zone, before=until)
    fold = base.fold
    rows = rows_after(subaccount_id, base.through).filter(occurred_at__lte=end.at)
    interval = []
    for row in rows.iterator(2000):
        if row[2] <= start.at:
            fold_row(fold, row, {})
        else:
            interval.append(row)
    unrealized_before = unrealized_at(fold, start)
    fold.rows.clear()
    fold.closed.clear()
    for row in interval:
        fold_row(fold, row, {})
    made = fold.totals()
    return Reconciliation(
        start=start.at,
        end=end.at,
        equity_change=end.equity - start.equity,
        net_transfers=_usdc_transfers(subaccount_id, start.at, end.at),
        realized=made.realized,
        fees=made.fees,
        funding=made.funding,
        unrealized_change=unrealized_at(fold, end) - unrealized_before,
    )


__all__ = ["reconcile_last"]
