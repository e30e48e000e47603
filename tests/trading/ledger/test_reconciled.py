"""The overview's latest reconciliation, stored (`trading.ledger.reconciled`): a process that
has just started reads each subaccount's stored figures instead of folding its rows again;
a fill or funding payment stored since, up to the interval's end, makes them stale (computed
again and written over, to the cent); a row after the interval's end does not; a rebuild of
the checkpoints forgets them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from accounts.models import Subaccount
from tests.factories import SubaccountFactory
from tests.trading.ledger.test_checkpoints import (
    START,
    _fill,
    _four_days,
    _funding,
    _snapshots_and_a_deposit,
)
from trading.ledger.checkpoints import checkpoints_rebuild, checkpoints_update
from trading.ledger.latest import ledger_folds_update, reconcile_last_many
from trading.ledger.selectors import ledger_reconcile_days
from trading.models.ledger import LedgerEntry, PnlCheckpoint, PnlReconciliation

pytestmark = pytest.mark.django_db(transaction=True)

SENTINEL = "12345.678"


def _desk() -> tuple[int, int]:
    """Arrange: two subaccounts with four days of fills, snapshots and checkpoints."""
    ids = []
    for name in ("one", "two"):
        sub = SubaccountFactory(name=name)
        _four_days(sub, trader=f"trader-{name}")
        _snapshots_and_a_deposit(sub)
        checkpoints_update(sub.pk, "UTC")
        ids.append(sub.pk)
    return ids[0], ids[1]


def _marked(pk: int) -> None:
    """The stored realized of ``pk`` made a sentinel: a read returning it read the store."""
    row = PnlReconciliation.objects.get(subaccount_id=pk)
    row.figures = {**row.figures, "realized": SENTINEL}
    row.save()


def _stored() -> dict[int, tuple]:
    rows = PnlReconciliation.objects.values_list("subaccount_id", "end_at", "seen_id", "figures")
    return {s: (end, seen, figures) for s, end, seen, figures in rows}


async def _full(pk: int):
    sub = await Subaccount.objects.aget(pk=pk)
    return (await ledger_reconcile_days(subaccount=sub))[-1]


async def test_the_stored_figures_are_read_back_exactly_and_used() -> None:
    one, two = await sync_to_async(_desk)()

    first = await sync_to_async(reconcile_last_many)([one, two])
    stored = await sync_to_async(_stored)()
    again = await sync_to_async(reconcile_last_many)([one, two])
    await sync_to_async(_marked)(one)
    marked = await sync_to_async(reconcile_last_many)([one, two])

    assert first == again == {one: await _full(one), two: await _full(two)}
    assert stored[one][0] == first[one].end and stored[one][2]["realized"] == str(
        first[one].realized
    )
    assert marked[one].realized == Decimal(SENTINEL)  # read from the store, not folded
    assert marked[two] == first[two]


async def test_a_late_fill_in_a_stored_interval_makes_it_stale() -> None:
    one, two = await sync_to_async(_desk)()
    first = await sync_to_async(reconcile_last_many)([one, two])
    await sync_to_async(_marked)(one)
    await sync_to_async(_marked)(two)
    seen = (await sync_to_async(_stored)())[one][1]

    sub = await Subaccount.objects.aget(pk=one)
    late_at = START + timedelta(days=2, hours=4)  # inside the latest interval
    await sync_to_async(_fill)(sub, 9, "Ask", "0.6", "153.4", late_at)
    await sync_to_async(_funding)(sub, START + timedelta(days=2, hours=5), "-0.0042")
    after = await sync_to_async(reconcile_last_many)([one, two])

    assert after[one] == await _full(one)  # computed again, with the late rows
    assert after[one] != first[one] and after[one].realized != Decimal(SENTINEL)
    assert after[two].realized == Decimal(SENTINEL)  # the other one's still valid
    stored = await sync_to_async(_stored)()
    assert stored[one][1] > seen and stored[one][2]["realized"] == str(after[one].realized)
    assert await sync_to_async(reconcile_last_many)([one]) == {one: after[one]}


async def test_a_row_after_the_interval_leaves_it_and_a_rebuild_forgets_it() -> None:
    one, two = await sync_to_async(_desk)()
    await sync_to_async(reconcile_last_many)([one, two])
    await sync_to_async(_marked)(one)

    sub = await Subaccount.objects.aget(pk=one)
    await sync_to_async(_fill)(sub, 10, "Bid", "0.3", "150.2", START + timedelta(days=3, hours=2))
    kept = await sync_to_async(reconcile_last_many)([one])
    await sync_to_async(checkpoints_rebuild)(one, "UTC")
    rebuilt = await sync_to_async(reconcile_last_many)([one])

    assert kept[one].realized == Decimal(SENTINEL)  # today's fill is after the interval
    assert rebuilt[one] == await _full(one)


def _synced() -> tuple[int, int, int]:
    """Arrange and act: two subaccounts' rows stored, then what a sync does after them."""
    plain, sol = SubaccountFactory(name="plain"), SubaccountFactory(name="sol")
    for sub in (plain, sol):
        _four_days(sub, trader=f"trader-{sub.name}")
        _snapshots_and_a_deposit(sub)
    LedgerEntry.objects.create(
        subaccount=sol,
        kind=LedgerEntry.Kind.DEPOSIT,
        exchange_id="sol",
        occurred_at=START + timedelta(days=1),
        symbol="SOL",
        quantity=Decimal("1.5"),
    )
    folded = ledger_folds_update(plain.pk, "UTC")
    ledger_folds_update(sol.pk, "UTC")
    return plain.pk, sol.pk, folded


async def test_what_a_sync_does_after_storing_rows_stores_the_latest_reconciliation() -> None:
    plain, sol, folded = await sync_to_async(_synced)()

    stored = await sync_to_async(_stored)()
    checkpoints = await PnlCheckpoint.objects.filter(subaccount_id=plain).acount()
    assert (folded, checkpoints) == (8, 4)
    full = await _full(plain)
    assert stored[plain][0] == full.end
    assert stored[plain][2] == {
        "realized": str(full.realized),
        "fees": str(full.fees),
        "funding": str(full.funding),
        "unrealized_change": str(full.unrealized_change),
    }
    assert sol not in stored  # a SOL deposit: only the full fold values it, on a read
    assert (await sync_to_async(reconcile_last_many)([sol]))[sol] == await _full(sol)


async def test_the_sync_marks_a_still_valid_one_checked_up_to_its_last_row() -> None:
    one, two = await sync_to_async(_desk)()
    await sync_to_async(reconcile_last_many)([one, two])
    await sync_to_async(_marked)(one)
    seen = (await sync_to_async(_stored)())[one][1]
    sub = await Subaccount.objects.aget(pk=one)
    await sync_to_async(_fill)(sub, 11, "Ask", "0.2", "151.1", START + timedelta(days=3, hours=3))

    await sync_to_async(ledger_folds_update)(one, "UTC")  # the sync stored a row of today

    stored = (await sync_to_async(_stored)())[one]
    last = await LedgerEntry.objects.filter(subaccount_id=one).order_by("-id").afirst()
    assert stored[1] == last.pk > seen  # checked up to the row just stored
    assert stored[2]["realized"] == SENTINEL  # not computed again
    await sync_to_async(_fill)(sub, 12, "Bid", "0.5", "150.9", START + timedelta(days=2, hours=6))
    after = await sync_to_async(reconcile_last_many)([one])
    assert after[one] == await _full(one)  # a late row after the mark still makes it stale
