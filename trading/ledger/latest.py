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

from trading.ledger.checkpoints import checkpoint_base, fold_row, rows_after
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


def _usdc_transfers(subaccount_id: int, start: datetime, end: datetime) -> Decimal:
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


def _at(subaccount_id: int, zone: str, point: EquityPoint) -> tuple[PnlRow, Decimal]:
    """The ledger's totals since its first row and its unrealized PnL at ``point``, events
    at the point's exact time counting before it: the checkpoint before it, and only the
    rows between."""
    base = checkpoint_base(subaccount_id, zone, before=(point.at, LAST))
    rows = rows_after(subaccount_id, base.through).filter(occurred_at__lte=point.at)
    for row in rows.iterator(2000):
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
    if _other_transfers(subaccount_id, end.at):
        return _reconcile(subaccount_id, _snapshot_points(subaccount_id, "UTC", True))[-1]
    before, unrealized_before = _at(subaccount_id, zone, start)
    after, unrealized_after = _at(subaccount_id, zone, end)
    return Reconciliation(
        start=start.at,
        end=end.at,
        equity_change=end.equity - start.equity,
        net_transfers=_usdc_transfers(subaccount_id, start.at, end.at),
        realized=after.realized - before.realized,
        fees=after.fees - before.fees,
        funding=after.funding - before.funding,
        unrealized_change=unrealized_after - unrealized_before,
    )


__all__ = ["reconcile_last"]
