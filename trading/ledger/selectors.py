"""Read models over the ledger: PnL per day / market / member, and the reconciliation of
equity against what the ledger explains (the arithmetic is in :mod:`trading.ledger.pnl`).

Days are calendar days in ``zone`` (UTC unless the team chooses another). Transfers count
in USDC only: a deposit or withdrawal of another asset is left out of the net transfers, so
its value shows in the reconciliation's mismatch rather than vanish.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from asgiref.sync import sync_to_async

from accounts.models import Subaccount
from trading.desk_tickets import OrderRef, TicketOwners, ticket_owners
from trading.ledger.curve import CurvePoint, time_weighted
from trading.ledger.histories import LEDGER_HISTORIES
from trading.ledger.pnl import (
    OUTSIDE,
    ZERO,
    ClosedPosition,
    FillEvent,
    FundingEvent,
    PnlFold,
    PnlRow,
    Reconciliation,
)
from trading.models.balances import BalanceSnapshot
from trading.models.ledger import LedgerCursor, LedgerEntry

Kind = LedgerEntry.Kind
QUOTE = "USDC"
ONE = Decimal(1)
OUTSIDE_LABEL = "outside the desk"


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """A subaccount's equity (USDC plus holdings at mark) at one moment, with the marks it
    was valued at (``{symbol: price}``, perpetual and ``<ASSET>_USDC`` spot markets).

    ``perp_unrealized``, when given, is the exchange's own unrealized PnL of the perpetual
    positions (a balance snapshot keeps it, not the marks), used instead of the ledger's."""

    at: datetime
    equity: Decimal
    marks: Mapping[str, Decimal]
    perp_unrealized: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PnlLine:
    """One (day, market, member) of a subaccount's PnL; ``member`` is a username or
    :data:`OUTSIDE_LABEL`."""

    day: date
    symbol: str
    member: str
    row: PnlRow


@dataclass(frozen=True, slots=True)
class LedgerPnl:
    """A subaccount's PnL from its ledger: the lines, the totals, unrealized at mark, and
    every position it saw open and close (oldest first), with its realized PnL."""

    lines: tuple[PnlLine, ...]
    totals: PnlRow
    unrealized: Mapping[str, Decimal]
    closed: tuple[ClosedPosition, ...]

    @property
    def net(self) -> Decimal:
        """realized - fees + funding + unrealized."""
        return self.totals.net + sum(self.unrealized.values(), ZERO)


def _members(subaccount_id: int) -> TicketOwners:
    return ticket_owners(subaccount_id, value="actor__username", fills=True)


EVENT_FIELDS = (
    "kind",
    "occurred_at",
    "symbol",
    "side",
    "quantity",
    "price",
    "fee",
    "fee_symbol",
    "client_id",
    "order_id",
    "origin",
)


def _entries(subaccount_id: int) -> Iterator[tuple]:
    kinds = (Kind.FILL, Kind.FUNDING, Kind.DEPOSIT, Kind.WITHDRAWAL)
    rows = LedgerEntry.objects.filter(subaccount_id=subaccount_id, kind__in=kinds)
    return rows.order_by("occurred_at", "id").values_list(*EVENT_FIELDS).iterator(2000)


def _event(row: tuple, members: TicketOwners) -> FillEvent | FundingEvent:
    kind, at, symbol, side, quantity, price, fee, fee_symbol, client_id, order_id, origin = row
    if kind == Kind.FUNDING:
        return FundingEvent(at, symbol, quantity)
    member = members.owner(OrderRef.of_fill(order_id, client_id, origin)) or OUTSIDE
    return FillEvent(at, symbol, side, quantity, price, fee, fee_symbol, member)


def _transfer(row: tuple, marks: Mapping[str, Decimal], fold: PnlFold) -> Decimal:
    """A deposit or withdrawal's value in USDC (deposits positive). Another asset than USDC
    counts at ``marks`` (the prices of the point closing its interval; unpriced: nothing)
    and enters or leaves the ledger's holding of it at that price, so what it does to equity
    afterwards is explained as unrealized (or realized, when withdrawn)."""
    kind, at, symbol, _, quantity, _, fee, *_ = row
    moved = quantity if kind == Kind.DEPOSIT else quantity + fee
    if symbol == QUOTE:
        return moved if kind == Kind.DEPOSIT else -moved
    market = f"{symbol}_{QUOTE}"
    price = marks.get(market, ZERO)
    side = "Bid" if kind == Kind.DEPOSIT else "Ask"
    fold.add_fill(FillEvent(at, market, side, moved, price, ZERO, QUOTE))
    return moved * price if kind == Kind.DEPOSIT else -moved * price


def unrealized_at(fold: PnlFold, point: EquityPoint) -> Decimal:
    found = fold.unrealized(point.marks)
    if point.perp_unrealized is None:
        return sum(found.values(), ZERO)
    spot = sum((v for k, v in found.items() if not k.endswith("_PERP")), ZERO)
    return spot + point.perp_unrealized


def _pnl(subaccount_id: int, zone: str, marks: Mapping[str, Decimal]) -> LedgerPnl:
    fold = PnlFold(zone=ZoneInfo(zone))
    members = _members(subaccount_id)
    for row in _entries(subaccount_id):
        if row[0] in (Kind.FILL, Kind.FUNDING):
            fold.add(_event(row, members))
    lines = tuple(
        PnlLine(day, symbol, member or OUTSIDE_LABEL, row)
        for (day, symbol, member), row in sorted(fold.rows.items())
    )
    return LedgerPnl(lines, fold.totals(), fold.unrealized(marks), tuple(fold.closed))


async def ledger_pnl(
    *, subaccount: Subaccount, marks: Mapping[str, Decimal], zone: str = "UTC"
) -> LedgerPnl:
    """``subaccount``'s PnL per day (in ``zone``), market and member from its ledger, with
    unrealized PnL of what it holds now at ``marks``."""
    return await sync_to_async(_pnl)(subaccount.pk, zone, marks)


def _reconcile(subaccount_id: int, points: Sequence[EquityPoint]) -> list[Reconciliation]:
    fold = PnlFold(zone=ZoneInfo("UTC"))
    members = _members(subaccount_id)
    entries = _entries(subaccount_id)
    pending = next(entries, None)
    found: list[Reconciliation] = []
    previous: EquityPoint | None = None
    unrealized_before = ZERO
    for point in sorted(points, key=lambda p: p.at):
        before = fold.totals()
        transfers = ZERO
        while pending is not None and pending[1] <= point.at:
            if pending[0] in (Kind.DEPOSIT, Kind.WITHDRAWAL):
                transfers += _transfer(pending, point.marks, fold)
            else:
                fold.add(_event(pending, members))
            pending = next(entries, None)
        after = fold.totals()
        unrealized = unrealized_at(fold, point)
        if previous is not None:
            found.append(
                Reconciliation(
                    start=previous.at,
                    end=point.at,
                    equity_change=point.equity - previous.equity,
                    net_transfers=transfers,
                    realized=after.realized - before.realized,
                    fees=after.fees - before.fees,
                    funding=after.funding - before.funding,
                    unrealized_change=unrealized - unrealized_before,
                )
            )
        previous, unrealized_before = point, unrealized
    return found


async def ledger_reconcile(
    *, subaccount: Subaccount, points: Sequence[EquityPoint]
) -> list[Reconciliation]:
    """For each pair of consecutive equity points (a day's first and last, or any two):
    equity change, net USDC transfers and what the ledger explains between them, with the
    mismatch (never hidden: zero only when every cent is explained). Events at a point's
    exact time count before it."""
    return await sync_to_async(_reconcile)(subaccount.pk, points)


def _flows(subaccount_ids: list[int]) -> list[tuple[datetime, int, str, Decimal]]:
    """(time, subaccount, asset, signed quantity) of every transfer, deposits positive."""
    rows = LedgerEntry.objects.filter(
        subaccount_id__in=subaccount_ids, kind__in=(Kind.DEPOSIT, Kind.WITHDRAWAL)
    ).values_list("occurred_at", "subaccount_id", "symbol", "kind", "quantity", "fee")
    return [
        (at, sub, symbol, quantity if kind == Kind.DEPOSIT else -(quantity + fee))
        for at, sub, symbol, kind, quantity, fee in rows
    ]


def _curve(subaccount_ids: list[int], since: datetime | None) -> list[CurvePoint]:
    snapshots = BalanceSnapshot.objects.filter(subaccount_id__in=subaccount_ids)
    if since is not None:
        snapshots = snapshots.filter(taken_at__gte=since)
    equity: dict[datetime, Decimal] = {}
    prices: dict[datetime, dict[str, Decimal]] = {}
    for at, value, detail in snapshots.values_list("taken_at", "equity_usdc", "detail"):
        equity[at] = equity.get(at, ZERO) + value
        for asset, figures in (detail or {}).get("assets", {}).items():
            if "price" in figures:
                prices.setdefault(at, {})[asset] = Decimal(figures["price"])
    times = sorted(equity)
    flows = []
    for at, _sub, asset, quantity in _flows(subaccount_ids):
        closing = bisect_left(times, at)
        if closing == len(times):
            continue  # after the last snapshot: the next one will count it
        price = ONE if asset == QUOTE else prices.get(times[closing], {}).get(asset, ZERO)
        flows.append((at, quantity * price))
    return time_weighted(list(equity.items()), flows)


async def equity_curve(
    *, subaccounts: Sequence[Subaccount], since: datetime | None = None
) -> list[CurvePoint]:
    """The time-weighted equity curve of ``subaccounts`` together (one for a subaccount,
    all of them for the team) from their balance snapshots, deposits and withdrawals taken
    out. Snapshots are taken for every subaccount at once, so the team's points add up
    snapshots of the same moment. A transfer of another asset than USDC counts at the price
    of the snapshot that closes its period (unpriced: nothing, so it shows as a gain)."""
    return await sync_to_async(_curve)([s.pk for s in subaccounts], since)


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """How far one history of a subaccount's ledger has been read: rows so far, whether the
    last walk reached the end, and when it last stored a page (None: not begun)."""

    history: str
    rows_read: int
    done: bool
    synced_at: datetime | None


async def ledger_progress(*, subaccount: Subaccount) -> list[SyncProgress]:
    """The backfill's progress, one line per history the ledger keeps (in sync order)."""
    saved = {c.history: c async for c in LedgerCursor.objects.filter(subaccount_id=subaccount.pk)}
    found = []
    for history in LEDGER_HISTORIES:
        cursor = saved.get(history)
        if cursor is None:
            found.append(SyncProgress(history, 0, False, None))
        else:
            found.append(SyncProgress(history, cursor.rows_read, cursor.done, cursor.synced_at))
    return found


def _snapshot_points(subaccount_id: int, zone: str, daily: bool) -> list[EquityPoint]:
    snapshots = BalanceSnapshot.objects.filter(subaccount_id=subaccount_id).order_by("taken_at")
    points: list[EquityPoint] = []
    days: set[date] = set()
    here = ZoneInfo(zone)
    for at, equity, detail in snapshots.values_list("taken_at", "equity_usdc", "detail"):
        if daily:
            day = at.astimezone(here).date()
            if day in days:
                continue
            days.add(day)
        points.append(snapshot_point(at, equity, detail))
    return points


def snapshot_point(at: datetime, equity: Decimal, detail: Mapping | None) -> EquityPoint:
    """The equity point a balance snapshot makes (its spot prices as marks, the exchange's
    unrealized PnL of the perpetuals)."""
    detail = detail or {}
    marks = {
        f"{asset}_{QUOTE}": Decimal(figures["price"])
        for asset, figures in detail.get("assets", {}).items()
        if asset != QUOTE and "price" in figures
    }
    perp = detail.get("perp", {}).get("pnl_unrealized")
    return EquityPoint(at, equity, marks, Decimal(perp) if perp else None)


async def ledger_reconcile_days(
    *, subaccount: Subaccount, zone: str = "UTC", daily: bool = True
) -> list[Reconciliation]:
    """:func:`ledger_reconcile` between the balance snapshots of ``subaccount``: from each
    day's first snapshot (in ``zone``) to the next day's (``daily=False``: between every
    two snapshots). Spot holdings count at the snapshot's prices, perpetuals at the
    exchange's unrealized PnL it kept."""
    points = await sync_to_async(_snapshot_points)(subaccount.pk, zone, daily)
    return await ledger_reconcile(subaccount=subaccount, points=points)


__all__ = [
    "OUTSIDE_LABEL",
    "ledger_reconcile_days",
    "SyncProgress",
    "ledger_progress",
    "equity_curve",
    "EquityPoint",
    "LedgerPnl",
    "PnlLine",
    "ledger_pnl",
    "ledger_reconcile",
    "snapshot_point",
    "unrealized_at",
]
