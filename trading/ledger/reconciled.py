"""The overview's daily reconciliations, stored (:class:`~trading.models.ledger.PnlReconciliation`):
the ledger's part of each subaccount's latest interval between two balance snapshots
(realized, fees, funding, unrealized change), so a process that has just started reads it
instead of folding the rows of the day again; an interval changes once a day.

A stored one is used only for the same two snapshots and only while no fill or funding
payment was stored since it was computed (ids above its ``seen_id``) up to the interval's
end: such a late row makes it stale, and the reader computes it again and writes it over.
Rows deleted from the ledger are seen by no id: the rebuild that follows them
(`trading.ledger.checkpoints.checkpoints_rebuild`) deletes the subaccount's stored ones
with its checkpoints.

Usage (by `trading.ledger.latest`)::

    seen = ledger_last_ids(ids)                  # first, before anything is folded
    kept = reconciled_many(intervals)            # {subaccount: Figures} still valid
    reconciled_store(computed, intervals, seen)  # the ones computed now
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery

from accounts.models import Subaccount
from trading.ledger.checkpoints import any_of
from trading.models.ledger import LedgerEntry, PnlReconciliation

log = logging.getLogger(__name__)

Kind = LedgerEntry.Kind
Interval = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class Figures:
    """The ledger's part of one interval's reconciliation."""

    realized: Decimal
    fees: Decimal
    funding: Decimal
    unrealized_change: Decimal


def ledger_last_ids(subaccount_ids: list[int]) -> dict[int, int]:
    """The largest ledger id of each subaccount (0: none), in one query of index look-ups;
    read before the rows a stored result is computed from, so none of them is above it."""
    last = LedgerEntry.objects.filter(subaccount_id=OuterRef("pk")).order_by("-id")
    rows = Subaccount.objects.filter(pk__in=subaccount_ids).annotate(
        last=Subquery(last.values("id")[:1])
    )
    found = dict(rows.values_list("pk", "last"))
    return {s: found.get(s) or 0 for s in subaccount_ids}


def reconciled_many(
    intervals: Mapping[int, Interval], seen: Mapping[int, int] | None = None
) -> dict[int, Figures]:
    """The stored figures of each subaccount's interval that are still valid, in two
    queries for all of them. With ``seen`` (`ledger_last_ids`, read before), a valid one's
    ``seen_id`` is moved up to it (the sync, after storing rows): the next check reads only
    the rows stored after, not every row of the day since it was computed."""
    if not intervals:
        return {}
    stored = PnlReconciliation.objects.filter(
        any_of((s, {"start_at": a, "end_at": b}) for s, (a, b) in intervals.items())
    ).values_list("subaccount_id", "start_at", "end_at", "seen_id", "figures")
    found: dict[int, tuple[int, Figures]] = {}
    for s, start, end, seen_id, figures in stored:
        if (start, end) == intervals[s]:
            found[s] = (seen_id, Figures(*(Decimal(figures[k]) for k in _NAMES)))
    if not found:
        return {}
    late = LedgerEntry.objects.filter(
        any_of(
            (s, {"id__gt": seen, "occurred_at__lte": intervals[s][1]})
            for s, (seen, _) in found.items()
        ),
        kind__in=(Kind.FILL, Kind.FUNDING),
    )
    stale = set(late.values_list("subaccount_id", flat=True).distinct())
    valid = {s: figures for s, (_, figures) in found.items() if s not in stale}
    for s in valid if seen is not None else ():
        if seen[s] > found[s][0]:
            start, end = intervals[s]
            PnlReconciliation.objects.filter(subaccount_id=s, start_at=start, end_at=end).update(
                seen_id=seen[s]
            )
    return valid


_NAMES = ("realized", "fees", "funding", "unrealized_change")


def reconciled_store(
    computed: Mapping[int, Figures], intervals: Mapping[int, Interval], seen: Mapping[int, int]
) -> None:
    """Write the figures computed now (``seen``: `ledger_last_ids` read before them) over
    any stored for the same interval."""
    rows = [
        PnlReconciliation(
            subaccount_id=s,
            start_at=intervals[s][0],
            end_at=intervals[s][1],
            seen_id=seen[s],
            figures={k: str(getattr(figures, k)) for k in _NAMES},
        )
        for s, figures in computed.items()
    ]
    if not rows:
        return
    try:
        with transaction.atomic():
            PnlReconciliation.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["subaccount", "start_at", "end_at"],
                update_fields=["seen_id", "figures", "written_at"],
            )
    except IntegrityError:  # a subaccount deleted meanwhile: the next read writes the rest
        log.info("stored reconciliations not written: a subaccount was deleted")


__all__ = ["Figures", "ledger_last_ids", "reconciled_many", "reconciled_store"]
