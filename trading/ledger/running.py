"""The ledger's PnL kept folded in memory between reads: the overview and the PnL page
read every subaccount's PnL every few seconds, and refolding 100,000 fills each time would
cost seconds. Each process keeps, per subaccount, the fold of the fills and funding payments
it has seen, and folds in only the rows stored since.

The fold is exact only when rows arrive in time order. A row stored later that happened
before the last one folded (a backfill reaching further back) refolds from the start, and
so does a fold that no longer matches the table (rows deleted, or a fresh database in
tests): the number of rows up to the last folded id must be the number folded, and that
row's ``recorded_at`` the one seen when it was folded.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from asgiref.sync import sync_to_async
from django.db.models import Count, Max

from accounts.models import Subaccount
from trading.ledger.pnl import OUTSIDE, FillEvent, FundingEvent, PnlFold, PnlRow, Reconciliation
from trading.ledger.selectors import (
    EVENT_FIELDS,
    OUTSIDE_LABEL,
    LedgerPnl,
    PnlLine,
    ledger_reconcile_days,
)
from trading.models.balances import BalanceSnapshot
from trading.models.ledger import LedgerEntry
from trading.models.tickets import OrderTicket

Kind = LedgerEntry.Kind
KINDS = (Kind.FILL, Kind.FUNDING)
FIELDS = ("id", *EVENT_FIELDS)


@dataclass
class _Running:
    zone: str
    fold: PnlFold
    last_id: int = 0
    last_at: datetime | None = None
    count: int = 0
    last_recorded: datetime | None = None  # of row last_id: a new database's row differs
    members: dict[int, str] = field(default_factory=dict)
    built: LedgerPnl | None = None  # the lines and totals as of the last fold
    stamp: tuple | None = None  # the ledger_stamps it was last checked against


_RUNNING: dict[int, _Running] = {}
_LOCK = threading.Lock()


def _rows(subaccount_id: int, after_id: int) -> list[tuple]:
    rows = LedgerEntry.objects.filter(subaccount_id=subaccount_id, kind__in=KINDS, id__gt=after_id)
    return list(rows.order_by("occurred_at", "id").values_list(*FIELDS))


def _members(subaccount_id: int, client_ids: set[int]) -> dict[int, str]:
    tickets = OrderTicket.objects.filter(
        subaccount_id=subaccount_id, actor__isnull=False, client_id__in=client_ids
    )
    return dict(tickets.values_list("client_id", "actor__username"))


def _still_matches(subaccount_id: int, state: _Running) -> bool:
    folded = LedgerEntry.objects.filter(
        subaccount_id=subaccount_id, kind__in=KINDS, id__lte=state.last_id
    )
    if folded.count() != state.count:
        return False
    if not state.last_id:
        return True
    last = LedgerEntry.objects.filter(pk=state.last_id).values_list("recorded_at", flat=True)
    return last.first() == state.last_recorded


def _fold_in(subaccount_id: int, state: _Running, rows: list[tuple]) -> None:
    wanted = {r[9] for r in rows if r[9] is not None} - set(state.members)
    if wanted:
        state.members.update(_members(subaccount_id, wanted))
    for row_id, kind, at, symbol, side, quantity, price, fee, fee_symbol, client_id in rows:
        if kind == Kind.FUNDING:
            state.fold.add(FundingEvent(at, symbol, quantity))
        else:
            member = state.members.get(client_id, OUTSIDE) if client_id is not None else OUTSIDE
            state.fold.add(FillEvent(at, symbol, side, quantity, price, fee, fee_symbol, member))
        state.last_id = max(state.last_id, row_id)
        state.last_at = at
    state.count += len(rows)
    state.built = None
    state.last_recorded = (
        LedgerEntry.objects.filter(pk=state.last_id).values_list("recorded_at", flat=True).first()
    )


def _current(subaccount_id: int, zone: str) -> _Running:
    state = _RUNNING.get(subaccount_id)
    if state is not None and (state.zone != zone or not _still_matches(subaccount_id, state)):
        state = None
    rows = _rows(subaccount_id, state.last_id if state else 0)
    if state is not None and rows and state.last_at is not None and rows[0][2] < state.last_at:
        state = None  # an older row arrived late: refold in time order
        rows = _rows(subaccount_id, 0)
    if state is None:
        state = _RUNNING[subaccount_id] = _Running(zone, PnlFold(zone=ZoneInfo(zone)))
    if rows:
        _fold_in(subaccount_id, state, rows)
    return state


def _pnl(
    subaccount_id: int, zone: str, marks: Mapping[str, Decimal], stamp: tuple | None
) -> LedgerPnl:
    with _LOCK:
        state = _RUNNING.get(subaccount_id)
        if stamp is None or state is None or state.stamp != stamp or state.zone != zone:
            state = _current(subaccount_id, zone)
            state.stamp = stamp
        fold = state.fold
        if state.built is None:
            lines = tuple(
                PnlLine(day, symbol, member or OUTSIDE_LABEL, PnlRow(r.realized, r.fees, r.funding))
                for (day, symbol, member), r in sorted(fold.rows.items())
            )
            state.built = LedgerPnl(lines, fold.totals(), {}, tuple(fold.closed))
        return replace(state.built, unrealized=fold.unrealized(marks))


async def ledger_pnl_running(
    *,
    subaccount: Subaccount,
    marks: Mapping[str, Decimal],
    zone: str = "UTC",
    stamp: tuple | None = None,
) -> LedgerPnl:
    """:func:`trading.ledger.selectors.ledger_pnl`, from this process's running fold of
    ``subaccount`` (only the rows stored since the last read are folded in; with an
    unchanged ``stamp`` from :func:`ledger_stamps`, no query at all)."""
    return await sync_to_async(_pnl)(subaccount.pk, zone, marks, stamp)


_MISMATCH: dict[int, tuple[tuple, Reconciliation | None]] = {}


def _stamps(subaccount_ids: list[int]) -> dict[int, tuple]:
    entries = (
        LedgerEntry.objects.filter(subaccount_id__in=subaccount_ids)
        .values("subaccount_id")
        .annotate(last=Max("id"), count=Count("id"), recorded=Max("recorded_at"))
    )
    found = {e["subaccount_id"]: (e["last"], e["count"], e["recorded"]) for e in entries}
    snapshots = (
        BalanceSnapshot.objects.filter(subaccount_id__in=subaccount_ids)
        .values("subaccount_id")
        .annotate(last=Max("id"))
    )
    last_snapshot = {s["subaccount_id"]: s["last"] for s in snapshots}
    return {pk: (*found.get(pk, (None, 0, None)), last_snapshot.get(pk)) for pk in subaccount_ids}


async def ledger_stamps(*, subaccounts: list[Subaccount]) -> dict[int, tuple]:
    """What changes when a subaccount's ledger or snapshots change (last ids, row count, last
    recorded time), for all of ``subaccounts`` in two queries: a read given an unchanged
    stamp answers from memory without asking the database again."""
    return await sync_to_async(_stamps)([s.pk for s in subaccounts])


async def ledger_reconcile_last(
    *, subaccount: Subaccount, stamp: tuple | None = None
) -> Reconciliation | None:
    """The latest day of :func:`trading.ledger.selectors.ledger_reconcile_days` (None: fewer
    than two days of snapshots), recomputed only when the ledger or the snapshots changed
    (``stamp`` from :func:`ledger_stamps`, read here when not given)."""
    if stamp is None:
        stamp = (await ledger_stamps(subaccounts=[subaccount]))[subaccount.pk]
    found = _MISMATCH.get(subaccount.pk)
    if found is not None and found[0] == stamp:
        return found[1]
    days = await ledger_reconcile_days(subaccount=subaccount)
    last = days[-1] if days else None
    _MISMATCH[subaccount.pk] = (stamp, last)
    return last


def running_clear() -> None:
    """Forget every running fold and reconciliation (tests, benchmarks' cold runs)."""
    with _LOCK:
        _RUNNING.clear()
        _MISMATCH.clear()


__all__ = ["ledger_pnl_running", "ledger_reconcile_last", "ledger_stamps", "running_clear"]
