"""The ledger's PnL kept folded in memory between reads, started from the stored daily
checkpoints (:mod:`trading.ledger.checkpoints`): the overview and the PnL page read every
subaccount's PnL every few seconds, and refolding 100,000 fills each time (or once per
process) would cost seconds. Each process keeps, per subaccount, the fold from the latest
checkpoint on, and folds in only the rows stored since.

The fold is exact only when rows arrive in ``(occurred_at, id)`` order. A row stored later
that sorts before the last one folded (a late fill, a backfill reaching further back)
starts again from the checkpoint before it, and a fold that no longer matches the table
(rows deleted, or a fresh database in tests) rebuilds the checkpoints: the number of rows up
to the last folded id must be the number folded, and that row's ``recorded_at`` the one
seen when it was folded.

Right after the team's time zone changed, the new zone has no checkpoints yet (they are built
in the background: `trading.ledger.zones`). Meanwhile a subaccount's fold is *bridged*: its
holdings from another zone's latest checkpoint before today began in the new zone (holdings
and totals are the same in every zone), today's rows folded on top in the new zone. It
answers today's figures exactly; past days' lines (the PnL page) build the zone's
checkpoints first. Once they exist the next read starts from them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from asgiref.sync import sync_to_async
from django.db.models import OuterRef, Subquery

from accounts.models import Subaccount
from accounts.team import team_time_zone
from trading.ledger.checkpoints import (
    FIELDS,
    Key,
    _base_of,
    any_of,
    checkpoint_base,
    checkpoint_start,
    checkpoints_earlier,
    checkpoints_rebuild,
    checkpoints_update,
    closed_of,
    fold_row,
    latest_many,
    lines_of,
    members_of,
    rows_after,
)
from trading.ledger.latest import reconcile_last, reconcile_last_many
from trading.ledger.pnl import ZERO, ClosedPosition, PnlFold, PnlRow, Reconciliation
from trading.ledger.selectors import (
    OUTSIDE_LABEL,
    LedgerPnl,
    PnlLine,
)
from trading.models.balances import BalanceSnapshot
from trading.models.ledger import LedgerEntry, PnlCheckpoint

Kind = LedgerEntry.Kind
KINDS = (Kind.FILL, Kind.FUNDING)


@dataclass
class _Running:
    zone: str
    fold: PnlFold  # from the base checkpoint's day on
    day: date | None = None  # the base checkpoint's day (None: folded from the first row)
    last: Key | None = None  # the last row folded
    top: int = 0  # the largest id folded
    count: int = 0
    top_recorded: datetime | None = None  # of row ``top``: a new database's row differs
    earlier: tuple[dict, list[ClosedPosition]] | None = None  # the days before ``day``
    built: LedgerPnl | None = None  # the lines and totals as of the last fold
    stamp: tuple | None = None  # the ledger_stamps it was last checked against
    bridged: bool = False  # from another zone's checkpoint: only days from ``day`` on


_RUNNING: dict[int, _Running] = {}
_LOCK = threading.Lock()


def _recorded(row_id: int) -> datetime | None:
    found = LedgerEntry.objects.filter(pk=row_id).values_list("recorded_at", flat=True)
    return found.first()


def _still_matches(subaccount_id: int, state: _Running) -> bool:
    folded = LedgerEntry.objects.filter(
        subaccount_id=subaccount_id, kind__in=KINDS, id__lte=state.top
    )
    if folded.count() != state.count:
        return False
    return not state.top or _recorded(state.top) == state.top_recorded


def _fold_in(subaccount_id: int, state: _Running, rows: list[tuple]) -> None:
    # the members of these rows' orders, in one query (the rule: `trading.desk_tickets`)
    members = members_of(subaccount_id, rows) if any(r[1] == Kind.FILL for r in rows) else None
    for row in rows:
        fold_row(state.fold, row, members)
        if row[0] > state.top:
            state.top, state.top_recorded = row[0], row[10]
    state.last = (rows[-1][2], rows[-1][0])
    state.count += len(rows)
    state.built = None


def _has_checkpoints(subaccount_id: int, zone: str) -> bool:
    return PnlCheckpoint.objects.filter(subaccount_id=subaccount_id, zone=zone).exists()


def _other_zone(subaccount_id: int, zone: str) -> str | None:
    """A zone the subaccount has checkpoints in, other than ``zone`` (the latest written)."""
    others = PnlCheckpoint.objects.filter(subaccount_id=subaccount_id).exclude(zone=zone)
    return others.order_by("-through_at").values_list("zone", flat=True).first()


def _bridge(subaccount_id: int, zone: str, other: str) -> _Running:
    """The fold of ``zone`` from ``other``'s latest valid checkpoint before today (in
    ``zone``) began, today's rows folded on top: exact for today on, no line before."""
    where = ZoneInfo(zone)
    today = datetime.now(UTC).astimezone(where).date()
    # a margin before midnight: a zone whose midnight is skipped starts its day a bit later
    begins = datetime.combine(today, time.min, tzinfo=where) - timedelta(hours=3)
    base = checkpoint_base(subaccount_id, other, before=(begins.astimezone(UTC), 0))
    fold = PnlFold(zone=where, holdings=base.fold.holdings)
    state = _Running(zone, fold, today, base.through, base.seen_id, base.folded, bridged=True)
    if base.seen_id:
        state.top_recorded = _recorded(base.seen_id)
    rows = list(rows_after(subaccount_id, base.through))
    if rows:
        _fold_in(subaccount_id, state, rows)
    for key in [k for k in fold.rows if k[0] < today]:
        del fold.rows[key]  # days only partly folded here
    fold.closed[:] = [c for c in fold.closed if c.closed_at.astimezone(where).date() >= today]
    state.earlier = ({}, [])
    _RUNNING[subaccount_id] = state
    return state


def _load(subaccount_id: int, zone: str, before: Key | None = None) -> _Running:
    """The fold from the latest valid checkpoint (before ``before``), with every row after
    it folded in. When there are none in ``zone`` yet: bridged from another zone's while
    they are being built, else they are written first."""
    if before is None:
        base, rows = checkpoint_start(subaccount_id, zone)
        if base.through is None and rows:  # none in this zone yet
            other = _other_zone(subaccount_id, zone)
            if other is not None:
                return _bridge(subaccount_id, zone, other)
            checkpoints_update(subaccount_id, zone)
            base, rows = checkpoint_start(subaccount_id, zone)
    else:
        base = checkpoint_base(subaccount_id, zone, before)
        rows = list(rows_after(subaccount_id, base.through))
    state = _Running(zone, base.fold, base.day, base.through, base.seen_id, base.folded)
    if rows and base.through is not None and (rows[0][2], rows[0][0]) <= base.through:
        state.top_recorded = rows[0][10]  # the row of seen_id, already in the checkpoint
        rows = rows[1:]
    elif base.seen_id:
        state.top_recorded = _recorded(base.seen_id)
    if rows:
        _fold_in(subaccount_id, state, rows)
    _RUNNING[subaccount_id] = state
    return state


def _load_many(ids: list[int], zone: str, stamps: Mapping[int, tuple]) -> None:
    """`_load` of every subaccount of ``ids`` in a few queries for all of them: the latest
    checkpoints, the rows after them, the rows stored since each was written (a late one
    sorting at or before it makes it stale: that subaccount takes `_load`), and the
    ``recorded_at`` of each one's last row. Each fold is current as of ``stamps``."""
    chosen = latest_many(ids, zone)
    alone = [s for s in ids if s not in chosen]  # none in this zone yet: bridge or build
    bases = {s: _base_of(zone, found) for s, found in chosen.items()}
    after: dict[int, list[tuple]] = {s: [] for s in chosen}
    since: dict[int, list[tuple]] = {s: [] for s in chosen}
    entries = LedgerEntry.objects.order_by("subaccount_id", "occurred_at", "id")
    entries = entries.filter(kind__in=KINDS)
    wanted = any_of((s, {"occurred_at__gte": b.through[0]}) for s, b in bases.items() if b.through)
    for row in entries.filter(wanted).values_list("subaccount_id", *FIELDS):
        through = bases[row[0]].through
        if through is not None and (row[3], row[1]) > through:
            after[row[0]].append(row[1:])
    stored = any_of((s, {"id__gte": found.seen_id}) for s, found in chosen.items())
    for row in entries.filter(stored).values_list("subaccount_id", *FIELDS):
        through = bases[row[0]].through
        if through is not None and (row[3], row[1]) <= through:
            since[row[0]].append(row[1:])
    recorded = dict(
        LedgerEntry.objects.filter(
            pk__in=[b.seen_id for b in bases.values() if b.seen_id]
        ).values_list("pk", "recorded_at")
    )
    for s, base in bases.items():
        if any(r[0] > base.seen_id for r in since[s]):  # stale: from the checkpoint before
            alone.append(s)
            continue
        state = _Running(zone, base.fold, base.day, base.through, base.seen_id, base.folded)
        state.top_recorded = since[s][0][10] if since[s] else recorded.get(base.seen_id)
        if after[s]:
            _fold_in(s, state, after[s])
        state.stamp = stamps.get(s)
        _RUNNING[s] = state
    for s in alone:
        _load(s, zone).stamp = stamps.get(s)


def _missing(ids: list[int], zone: str) -> list[int]:
    """The subaccounts of ``ids`` this process has no running fold of in ``zone``."""
    return [pk for pk in ids if (state := _RUNNING.get(pk)) is None or state.zone != zone]


def _full(subaccount_id: int, zone: str) -> _Running:
    """A fold holding every day's lines: the zone's checkpoints built first if missing."""
    checkpoints_update(subaccount_id, zone)
    return _load(subaccount_id, zone)


def _current(subaccount_id: int, zone: str) -> _Running:
    state = _RUNNING.get(subaccount_id)
    if state is not None and state.bridged and _has_checkpoints(subaccount_id, zone):
        state = None  # the zone's checkpoints are built: start from them
    if state is not None and state.zone == zone and not _still_matches(subaccount_id, state):
        checkpoints_rebuild(subaccount_id, zone)  # rows deleted, or another database
        state = None
    if state is None or state.zone != zone:
        return _load(subaccount_id, zone)
    rows = list(
        LedgerEntry.objects.filter(subaccount_id=subaccount_id, kind__in=KINDS, id__gt=state.top)
        .order_by("occurred_at", "id")
        .values_list(*FIELDS)
    )
    if rows and state.last is not None and (rows[0][2], rows[0][0]) < state.last:
        if state.bridged:
            return _load(subaccount_id, zone)  # bridged again, from before the late row
        return _load(subaccount_id, zone, before=(rows[0][2], rows[0][0]))  # a late row
    if rows:
        _fold_in(subaccount_id, state, rows)
    return state


def _earlier(subaccount_id: int, state: _Running) -> tuple[dict, list[ClosedPosition]]:
    if state.earlier is None:
        lines: dict = {}
        closed: list[ClosedPosition] = []
        if state.day is not None:
            for day, saved in checkpoints_earlier(subaccount_id, state.zone, state.day):
                lines.update(lines_of(day, saved))
                closed.extend(closed_of(saved))
        state.earlier = (lines, closed)
    return state.earlier


def _built(subaccount_id: int, state: _Running) -> LedgerPnl:
    if state.built is None:
        lines, closed = _earlier(subaccount_id, state)
        every = {**lines, **state.fold.rows}
        total = PnlRow()
        for row in every.values():
            total.realized += row.realized
            total.fees += row.fees
            total.funding += row.funding
        state.built = LedgerPnl(
            tuple(
                PnlLine(day, symbol, member or OUTSIDE_LABEL, PnlRow(r.realized, r.fees, r.funding))
                for (day, symbol, member), r in sorted(every.items())
            ),
            total,
            {},
            (*closed, *state.fold.closed),
        )
    return state.built


def _state(subaccount_id: int, zone: str, stamp: tuple | None) -> _Running:
    state = _RUNNING.get(subaccount_id)
    if stamp is None or state is None or state.stamp != stamp or state.zone != zone:
        state = _current(subaccount_id, zone)
        state.stamp = stamp
    return state


def _pnl(
    subaccount_id: int, zone: str, marks: Mapping[str, Decimal], stamp: tuple | None
) -> LedgerPnl:
    with _LOCK:
        state = _state(subaccount_id, zone, stamp)
        if state.bridged:  # every day's lines: the zone's checkpoints are needed
            state = _full(subaccount_id, zone)
            state.stamp = stamp
        return replace(_built(subaccount_id, state), unrealized=state.fold.unrealized(marks))


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


@dataclass(frozen=True, slots=True)
class DayPnl:
    """One day of a subaccount's PnL (realized - fees + funding) and its unrealized PnL
    now at mark, per market."""

    day: date
    net: Decimal
    unrealized: Mapping[str, Decimal]


def _day(
    subaccount_id: int, zone: str, day: date, marks: Mapping[str, Decimal], stamp: tuple | None
) -> DayPnl:
    with _LOCK:
        state = _state(subaccount_id, zone, stamp)
        if state.bridged and state.day is not None and day < state.day:
            state = _full(subaccount_id, zone)  # a day before the bridge
            state.stamp = stamp
        rows = state.fold.rows.items()
        net = sum((r.net for (on, _, _), r in rows if on == day), ZERO)
        if state.day is not None and day < state.day:  # a day the checkpoints hold
            lines, _ = _earlier(subaccount_id, state)
            net = sum((r.net for (on, _, _), r in lines.items() if on == day), ZERO)
        return DayPnl(day, net, state.fold.unrealized(marks))


async def ledger_day_running(
    *,
    subaccount: Subaccount,
    day: date,
    marks: Mapping[str, Decimal],
    zone: str = "UTC",
    stamp: tuple | None = None,
) -> DayPnl:
    """``subaccount``'s PnL of ``day`` (in ``zone``) and unrealized at ``marks``, from the
    running fold without building the lines of every day (the overview's figures)."""
    return await sync_to_async(_day)(subaccount.pk, zone, day, marks, stamp)


def _days(
    ids: list[int],
    zone: str,
    day: date,
    marks: Mapping[int, Mapping[str, Decimal]],
    stamps: Mapping[int, tuple],
) -> dict[int, DayPnl]:
    with _LOCK:
        missing = _missing(ids, zone)
        if missing and stamps:
            _load_many(missing, zone, stamps)
    return {pk: _day(pk, zone, day, marks[pk], stamps.get(pk)) for pk in ids}


async def ledger_days_running(
    *,
    subaccounts: list[Subaccount],
    day: date,
    marks: Mapping[int, Mapping[str, Decimal]],
    zone: str = "UTC",
    stamps: Mapping[int, tuple] | None = None,
) -> dict[int, DayPnl]:
    """:func:`ledger_day_running` of every subaccount (``marks`` and ``stamps`` by its id),
    in one hop to the database thread for all of them."""
    ids = [s.pk for s in subaccounts]
    return await sync_to_async(_days)(ids, zone, day, marks, stamps or {})


def _pnls(
    ids: list[int],
    zone: str,
    marks: Mapping[int, Mapping[str, Decimal]],
    stamps: Mapping[int, tuple],
) -> dict[int, LedgerPnl]:
    with _LOCK:
        missing = _missing(ids, zone)
        if missing and stamps:
            _load_many(missing, zone, stamps)
    return {pk: _pnl(pk, zone, marks[pk], stamps.get(pk)) for pk in ids}


async def ledger_pnls_running(
    *,
    subaccounts: list[Subaccount],
    marks: Mapping[int, Mapping[str, Decimal]],
    zone: str = "UTC",
    stamps: Mapping[int, tuple] | None = None,
) -> dict[int, LedgerPnl]:
    """:func:`ledger_pnl_running` of every subaccount, in one hop to the database thread."""
    ids = [s.pk for s in subaccounts]
    return await sync_to_async(_pnls)(ids, zone, marks, stamps or {})


_MISMATCH: dict[int, tuple[tuple, Reconciliation | None]] = {}


def _last(model: type, field_name: str, subaccount: str = "subaccount") -> Subquery:
    rows = model.objects.filter(**{subaccount: OuterRef("pk")}).order_by("-id")
    return Subquery(rows.values(field_name)[:1])


def _stamps(subaccount_ids: list[int]) -> dict[int, tuple]:
    rows = Subaccount.objects.filter(pk__in=subaccount_ids).annotate(
        last=_last(LedgerEntry, "id"),
        recorded=_last(LedgerEntry, "recorded_at"),
        snapshot=_last(BalanceSnapshot, "id"),
    )
    found = {
        pk: (last, recorded, snapshot)
        for pk, last, recorded, snapshot in rows.values_list("pk", "last", "recorded", "snapshot")
    }
    return {pk: found.get(pk, (None, None, None)) for pk in subaccount_ids}


async def ledger_stamps(*, subaccounts: list[Subaccount]) -> dict[int, tuple]:
    """What changes when a subaccount's ledger or snapshots change (its last row's id and
    recorded time, its last snapshot's id), for all of ``subaccounts`` in one query of
    index look-ups: a read given an unchanged stamp answers from memory without asking the
    database again."""
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
    last = await sync_to_async(_reconcile_last)(subaccount.pk)
    _MISMATCH[subaccount.pk] = (stamp, last)
    return last


async def ledger_reconcile_many(
    *, subaccounts: list[Subaccount], stamps: Mapping[int, tuple]
) -> dict[int, Reconciliation | None]:
    """`ledger_reconcile_last` of every subaccount (``stamps`` from :func:`ledger_stamps`):
    those whose stamp changed are recomputed together, in a few queries for all of them."""
    found: dict[int, Reconciliation | None] = {}
    missing: list[int] = []
    for sub in subaccounts:
        kept = _MISMATCH.get(sub.pk)
        if kept is not None and kept[0] == stamps[sub.pk]:
            found[sub.pk] = kept[1]
        else:
            missing.append(sub.pk)
    if missing:
        computed = await sync_to_async(_reconcile_many)(missing)
        for pk in missing:
            _MISMATCH[pk] = (stamps[pk], computed[pk])
            found[pk] = computed[pk]
    return found


def _reconcile_many(subaccount_ids: list[int]) -> dict[int, Reconciliation | None]:
    zone = team_time_zone()
    with_zone = set(
        PnlCheckpoint.objects.filter(subaccount_id__in=subaccount_ids, zone=zone)
        .values_list("subaccount_id", flat=True)
        .distinct()
    )
    found = reconcile_last_many([s for s in subaccount_ids if s in with_zone], zone)
    for s in subaccount_ids:
        if s not in with_zone:
            found[s] = _reconcile_last(s)  # while the zone's checkpoints are being built
    return found


def _reconcile_last(subaccount_id: int) -> Reconciliation | None:
    # any zone's checkpoints give the same holdings and totals: the team's, or while they
    # are being built another zone's, never a fold of the whole ledger
    zone = team_time_zone()
    if not _has_checkpoints(subaccount_id, zone):
        zone = _other_zone(subaccount_id, zone) or zone
    return reconcile_last(subaccount_id, zone)


def running_clear() -> None:
    """Forget every running fold and reconciliation (tests, benchmarks' cold runs)."""
    with _LOCK:
        _RUNNING.clear()
        _MISMATCH.clear()


__all__ = [
    "DayPnl",
    "ledger_day_running",
    "ledger_days_running",
    "ledger_pnl_running",
    "ledger_pnls_running",
    "ledger_reconcile_last",
    "ledger_reconcile_many",
    "ledger_stamps",
    "running_clear",
]
