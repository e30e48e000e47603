"""Daily PnL checkpoints: the ledger's PnL fold stored as it stood after each day's last row
(:class:`~trading.models.ledger.PnlCheckpoint`), so a reader folds only what came after
the latest one instead of the whole ledger.

The ledger is folded in ``(occurred_at, id)`` order (the key). A checkpoint holds the fold
after the row ``through``; every row stored when it was written (ids up to ``seen_id``)
sorts at or before ``through``. Rows stored later normally sort after it and are simply
folded on top. One that sorts at or before it (a late fill for a past day, a backfill
reaching further back) makes it stale: :func:`checkpoints_update` deletes every checkpoint
from that row's key on and folds again from the one before. Updating twice writes the same
rows (idempotent); any reader may update (two writers write the same figures).

Usage::

    checkpoints_update(subaccount_id, "UTC")          # after a sync stored rows
    base = checkpoint_base(subaccount_id, "UTC")      # the fold to start from, and the
    base.fold, base.through, base.rows_after          # rows to fold on top of it
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Max, Q

from trading.desk_tickets import OrderRef, TicketOwners, ticket_owners
from trading.ledger.pnl import (
    OUTSIDE,
    ClosedPosition,
    FillEvent,
    FundingEvent,
    Holding,
    PnlFold,
    PnlRow,
)
from trading.models.ledger import LedgerEntry, PnlCheckpoint, PnlReconciliation

log = logging.getLogger(__name__)

Kind = LedgerEntry.Kind
KINDS = (Kind.FILL, Kind.FUNDING)
FIELDS = (
    "id",
    "kind",
    "occurred_at",
    "symbol",
    "side",
    "quantity",
    "price",
    "fee",
    "fee_symbol",
    "client_id",
    "recorded_at",
    "order_id",
    "origin",
)
Key = tuple[datetime, int]


def any_of(pairs: Iterable[tuple[int, dict[str, Any]]]) -> Q:
    """One ``OR`` of per-subaccount conditions (``subaccount_id`` and the lookups given):
    one query for many subaccounts, each with its own bounds. Subaccounts with the same
    bounds share one term (``subaccount_id__in``): the snapshots of one pass share their
    time, and building an ``OR`` of fifty terms costs the overview milliseconds."""
    same: dict[tuple, list[int]] = {}
    for subaccount_id, lookups in pairs:
        same.setdefault(tuple(sorted(lookups.items())), []).append(subaccount_id)
    found = Q(pk__in=[])
    for lookups, ids in same.items():
        found |= (
            Q(subaccount_id__in=ids, **dict(lookups))
            if len(ids) > 1
            else Q(subaccount_id=ids[0], **dict(lookups))
        )
    return found


def latest_many(
    subaccount_ids: Iterable[int], zone: str, untils: Mapping[int, datetime] | None = None
) -> dict[int, Any]:
    """The latest checkpoint in ``zone`` of each subaccount (through at or before its
    ``untils`` entry when given), as `checkpoint_start` picks it, in two queries for all."""
    checkpoints = PnlCheckpoint.objects.order_by().filter(zone=zone)
    if untils is not None:
        checkpoints_upto = checkpoints.filter(
            any_of((s, {"through_at__lte": u}) for s, u in untils.items())
        )
    else:
        checkpoints_upto = checkpoints.filter(subaccount_id__in=list(subaccount_ids))
    latest = dict(
        checkpoints_upto.values("subaccount_id")
        .annotate(at=Max("through_at"))
        .values_list("subaccount_id", "at")
    )
    chosen: dict[int, Any] = {}
    for found in checkpoints.filter(any_of((s, {"through_at": at}) for s, at in latest.items())):
        kept = chosen.get(found.subaccount_id)
        if kept is None or found.through_id > kept.through_id:
            chosen[found.subaccount_id] = found
    return chosen


def _entries(subaccount_id: int) -> Any:
    return LedgerEntry.objects.filter(subaccount_id=subaccount_id, kind__in=KINDS)


def rows_after(
    subaccount_id: int,
    key: Key | None,
    *,
    until: datetime | None = None,
    upto_id: int | None = None,
) -> Iterator[tuple]:
    """The ledger rows (``FIELDS``) sorting after ``key`` (all of them for None), up to
    ``until`` and ``upto_id`` when given, in fold order. One range of the (subaccount, kind,
    time) index: the rows at ``key``'s exact time are sorted out here, not by an ``OR`` the
    database could only answer by reading every row of the subaccount."""
    rows = _entries(subaccount_id)
    if key is not None:
        rows = rows.filter(occurred_at__gte=key[0])
    if until is not None:
        rows = rows.filter(occurred_at__lte=until)
    if upto_id is not None:
        rows = rows.filter(id__lte=upto_id)
    for row in rows.order_by("occurred_at", "id").values_list(*FIELDS).iterator(2000):
        if key is None or (row[2], row[0]) > key:
            yield row


def fill_ref(row: tuple) -> OrderRef:
    """What a ledger row (``FIELDS``) of a fill says of its order."""
    return OrderRef.of_fill(row[11], row[9], row[12])


def members_of(subaccount_id: int, rows: Iterable[tuple] | None = None) -> TicketOwners:
    """The members of the subaccount's tickets by what names them (`trading.desk_tickets`):
    of the fills of ``rows`` (``FIELDS``), or of every ticket."""
    refs = None if rows is None else [fill_ref(r) for r in rows if r[1] == Kind.FILL]
    return ticket_owners(subaccount_id, refs, value="actor__username", fills=True)


def fold_row(fold: PnlFold, row: tuple, members: TicketOwners | None) -> None:
    """Fold one ledger row (``FIELDS``) in; its member (None: everyone outside the desk, for
    a reader of the totals only) by the ticket of its order."""
    _id, kind, at, symbol, side, quantity, price, fee, fee_symbol = row[:9]
    if kind == Kind.FUNDING:
        fold.add(FundingEvent(at, symbol, quantity))
        return
    member = (members.owner(fill_ref(row)) if members is not None else None) or OUTSIDE
    fold.add(FillEvent(at, symbol, side, quantity, price, fee, fee_symbol, member))


def _text(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def _sum(rows: Iterable[PnlRow], start: PnlRow | None = None) -> PnlRow:
    total = PnlRow()
    for row in (start, *rows) if start is not None else rows:
        total.realized += row.realized
        total.fees += row.fees
        total.funding += row.funding
    return total


def state_of(fold: PnlFold, day: date, before: PnlRow) -> dict[str, Any]:
    """What a checkpoint of ``day`` keeps of ``fold``: holdings, that day's lines, the
    positions closed that day, and the totals since the first row (``before``: up to the
    day before), numbers as exact text."""
    zone = fold.zone
    made = _sum((r for k, r in fold.rows.items() if k[0] == day), before)
    return {
        "totals": [str(made.realized), str(made.fees), str(made.funding)],
        "holdings": [
            [symbol, str(h.quantity), str(h.cost), str(h.realized), _text(h.opened_at)]
            for symbol, h in fold.holdings.items()
        ],
        "lines": [
            [symbol, member, str(r.realized), str(r.fees), str(r.funding)]
            for (on, symbol, member), r in fold.rows.items()
            if on == day
        ],
        "closed": [
            [c.symbol, str(c.realized), _text(c.opened_at), _text(c.closed_at)]
            for c in fold.closed
            if c.closed_at.astimezone(zone).date() == day
        ],
    }


def lines_of(day: date, state: Mapping[str, Any]) -> dict[tuple[date, str, str], PnlRow]:
    """The (day, market, member) lines a checkpoint's state keeps."""
    return {
        (day, symbol, member): PnlRow(Decimal(realized), Decimal(fees), Decimal(funding))
        for symbol, member, realized, fees, funding in state["lines"]
    }


def closed_of(state: Mapping[str, Any]) -> list[ClosedPosition]:
    """The positions a checkpoint's state says closed that day, in the order they closed."""
    return [
        ClosedPosition(symbol, Decimal(realized), _moment(opened), _moment(closed))
        for symbol, realized, opened, closed in state["closed"]
    ]


def fold_of(zone: str, day: date, state: Mapping[str, Any]) -> PnlFold:
    """A fold as a checkpoint left it: its holdings, that day's lines and closed
    positions (earlier days' are in their own checkpoints)."""
    fold = PnlFold(zone=ZoneInfo(zone))
    for symbol, quantity, cost, realized, opened in state["holdings"]:
        fold.holdings[symbol] = Holding(
            Decimal(quantity), Decimal(cost), Decimal(realized), _moment(opened)
        )
    fold.rows.update(lines_of(day, state))
    fold.closed.extend(closed_of(state))
    return fold


@dataclass
class Base:
    """Where a reader starts: the fold after ``through`` (None: before the first row),
    with ``folded`` rows in it, from the checkpoint of ``day``."""

    fold: PnlFold
    day: date | None = None
    through: Key | None = None
    folded: int = 0
    seen_id: int = 0
    before: PnlRow = field(default_factory=PnlRow)
    """Realized, fees and funding of every row before the base's day: ``before`` plus the
    fold's totals is the whole ledger's, however many rows are folded on top."""


def _checkpoints(subaccount_id: int, zone: str) -> Any:
    return PnlCheckpoint.objects.filter(subaccount_id=subaccount_id, zone=zone)


def _before(checkpoints: Any, key: Key) -> Any:
    at, row_id = key
    return checkpoints.filter(Q(through_at__lt=at) | Q(through_at=at, through_id__lt=row_id))


def _latest_valid(subaccount_id: int, zone: str, before: Key | None = None) -> Any:
    """The latest checkpoint sorting before ``before`` that no later-stored row makes
    stale (None: start from the first row)."""
    checkpoints = _checkpoints(subaccount_id, zone).order_by("-through_at", "-through_id")
    if before is not None:
        checkpoints = _before(checkpoints, before)
    found = checkpoints.first()
    while found is not None:
        through = (found.through_at, found.through_id)
        stored_since = _entries(subaccount_id).filter(id__gt=found.seen_id)  # the id index
        late = min(
            (k for k in stored_since.values_list("occurred_at", "id") if k <= through), default=None
        )
        if late is None:
            return found
        found = _before(checkpoints, late).first()
    return None


def checkpoint_base(subaccount_id: int, zone: str, before: Key | None = None) -> Base:
    """The fold to start reading from: the latest valid checkpoint (sorting before
    ``before`` when given), or an empty fold."""
    return _base_of(zone, _latest_valid(subaccount_id, zone, before))


def checkpoint_start(
    subaccount_id: int, zone: str, until: datetime | None = None
) -> tuple[Base, list[tuple]]:
    """The latest valid checkpoint sorting at or before ``until`` (any, when None) and the
    rows (``FIELDS``) to fold on top of it up to ``until``, in two queries when no late row
    made it stale. The rows may start with the one of ``seen_id`` (sorting at or before the
    base: not to be folded again, its ``recorded_at`` is the one to remember)."""
    checkpoints = _checkpoints(subaccount_id, zone).order_by("-through_at", "-through_id")
    if until is not None:
        checkpoints = checkpoints.filter(through_at__lte=until)
    found = checkpoints.first()
    base = _base_of(zone, found)
    found_rows = list(rows_after(subaccount_id, base.through, until=until))
    if found is not None:
        # rows stored since it was written (the id index) that sort at or before it: late
        stored_since = _entries(subaccount_id).filter(id__gte=found.seen_id)
        if until is not None:
            stored_since = stored_since.filter(occurred_at__lte=until)
        earlier = [
            r
            for r in stored_since.order_by("occurred_at", "id").values_list(*FIELDS)
            if (r[2], r[0]) <= base.through
        ]
        late = [r for r in earlier if r[0] > base.seen_id]
        if late:  # stale: start from the checkpoint before the late row
            base = checkpoint_base(subaccount_id, zone, before=(late[0][2], late[0][0]))
            return base, list(rows_after(subaccount_id, base.through, until=until))
        found_rows = earlier + found_rows  # the row of seen_id first, when it is there
    return base, found_rows


def _base_of(zone: str, found: Any) -> Base:
    if found is None:
        return Base(PnlFold(zone=ZoneInfo(zone)))
    fold = fold_of(zone, found.day, found.state)
    realized, fees, funding = (Decimal(v) for v in found.state["totals"])
    day_made = fold.totals()  # the base's day, in the fold already
    return Base(
        fold,
        found.day,
        (found.through_at, found.through_id),
        found.folded,
        found.seen_id,
        PnlRow(realized - day_made.realized, fees - day_made.fees, funding - day_made.funding),
    )


def checkpoints_earlier(subaccount_id: int, zone: str, day: date) -> list[tuple[date, Any]]:
    """The (day, state) of every checkpoint before ``day``, oldest first: the lines and
    closed positions of the days a base does not hold."""
    rows = _checkpoints(subaccount_id, zone).filter(day__lt=day).order_by("day")
    return list(rows.values_list("day", "state"))


def _last_id(subaccount_id: int) -> int:
    found = _entries(subaccount_id).order_by("-id").values_list("id", flat=True).first()
    return found or 0


def checkpoints_update(subaccount_id: int, zone: str = "UTC") -> int:
    """Bring the subaccount's checkpoints in ``zone`` up to its ledger: fold the rows
    stored since the latest valid checkpoint and write one checkpoint per day they reach
    (today's too, as it stands). Returns the rows folded (0: nothing new)."""
    seen = _last_id(subaccount_id)
    latest = _checkpoints(subaccount_id, zone).order_by("-through_at", "-through_id").first()
    if latest is not None and latest.seen_id >= seen:
        return 0
    base = checkpoint_base(subaccount_id, zone)
    fold, folded = base.fold, base.folded
    wanted = rows_after(subaccount_id, base.through, upto_id=seen)
    members = members_of(subaccount_id)
    written: list[PnlCheckpoint] = []
    day: date | None = base.day
    before = base.before  # the totals of the days before ``day``
    last: tuple | None = None
    count = 0

    def write() -> None:
        nonlocal before
        assert day is not None and last is not None
        state = state_of(fold, day, before)
        before = PnlRow(*(Decimal(v) for v in state["totals"]))
        written.append(
            PnlCheckpoint(
                subaccount_id=subaccount_id,
                zone=zone,
                day=day,
                through_at=last[2],
                through_id=last[0],
                seen_id=seen,
                folded=folded + count,
                state=state,
            )
        )
        for key in [k for k in fold.rows if k[0] == day]:
            del fold.rows[key]  # kept in the checkpoint: the fold stays one day small
        fold.closed.clear()

    for row in wanted:
        on = row[2].astimezone(fold.zone).date()
        if last is not None and on != day:
            write()
        elif last is None and on != day and base.day is not None:
            before = _sum(fold.rows.values(), before)  # the base's day is complete
        fold_row(fold, row, members)
        day, last = on, row
        count += 1
    if last is None:
        return 0
    write()
    first = written[0]
    try:
        with transaction.atomic():
            stale = _checkpoints(subaccount_id, zone)
            if base.through is not None:  # everything after the base is written again
                at, row_id = base.through
                upto = Q(through_at__lt=at) | Q(through_at=at, through_id__lte=row_id)
                kept = stale.filter(upto, day__lt=first.day)
                stale = stale.exclude(pk__in=kept.values("pk"))
            stale.delete()
            PnlCheckpoint.objects.bulk_create(written)
    except IntegrityError:  # another worker wrote the same checkpoints meanwhile
        log.info("PnL checkpoints of subaccount %s written by another worker", subaccount_id)
    return count


def checkpoints_rebuild(subaccount_id: int, zone: str = "UTC") -> int:
    """Forget the subaccount's checkpoints and fold its whole ledger again (rows were
    deleted, which no checkpoint can see), and its stored reconciliations with them."""
    PnlCheckpoint.objects.filter(subaccount_id=subaccount_id).delete()
    PnlReconciliation.objects.filter(subaccount_id=subaccount_id).delete()
    return checkpoints_update(subaccount_id, zone)


__all__ = [
    "Base",
    "any_of",
    "checkpoint_base",
    "checkpoint_start",
    "checkpoints_earlier",
    "checkpoints_rebuild",
    "checkpoints_update",
    "closed_of",
    "fill_ref",
    "fold_of",
    "fold_row",
    "latest_many",
    "lines_of",
    "members_of",
    "rows_after",
    "state_of",
]
