"""The overview reads every subaccount at once (a few queries for all): the latest
reconciliation equals each one's own (`reconcile_last`) and the full fold's last day, and the
running folds started together give the full fold's lines, days and unrealized, to the cent:
with checkpoints, without any, with a late fill that made one stale, with a transfer of
another asset than USDC, with one day of snapshots or none."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Subaccount
from tests.factories import SubaccountFactory
from tests.trading.ledger.test_checkpoints import (
    MARKS,
    START,
    _fill,
    _four_days,
    _funding,
    _snapshots_and_a_deposit,
)
from trading.ledger.checkpoints import checkpoints_update
from trading.ledger.latest import reconcile_last, reconcile_last_many
from trading.ledger.running import (
    ledger_days_running,
    ledger_pnls_running,
    ledger_stamps,
    running_clear,
)
from trading.ledger.selectors import ledger_pnl, ledger_reconcile_days
from trading.models.balances import BalanceSnapshot
from trading.models.ledger import LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)


def _desk() -> dict[str, int]:
    """Arrange: six subaccounts, each a different case, the same ledger otherwise."""
    subs = {}
    for name in ("plain", "unchecked", "stale", "sol_deposit", "one_day", "none"):
        sub = SubaccountFactory(name=name)
        subs[name] = sub.pk
        if name != "none":
            _four_days(sub, trader=f"trader-{name}")
        if name not in ("none", "one_day"):
            _snapshots_and_a_deposit(sub)
        if name == "one_day":
            BalanceSnapshot.objects.create(
                subaccount=sub, taken_at=START, equity_usdc=Decimal("1000")
            )
        if name == "sol_deposit":
            LedgerEntry.objects.create(
                subaccount=sub,
                kind=LedgerEntry.Kind.DEPOSIT,
                exchange_id="sol",
                occurred_at=START + timedelta(days=1),
                symbol="SOL",
                quantity=Decimal("1.5"),
            )
        if name != "unchecked":
            checkpoints_update(sub.pk, "UTC")
        if name == "stale":  # stored after the checkpoints, sorting before the last one's
            _fill(sub, 9, "Ask", "0.2", "153.1", START + timedelta(days=2, minutes=20))
            _funding(sub, START + timedelta(days=2, minutes=40), "-0.004")
    return subs


def _counted(ids: list[int]) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as queries:
        found = reconcile_last_many(ids)
    return found, len(queries)


async def test_every_subaccounts_latest_reconciliation_at_once_is_each_ones_own() -> None:
    subs = await sync_to_async(_desk)()
    ids = list(subs.values())

    together, queries = await sync_to_async(_counted)(ids)

    alone = {pk: await sync_to_async(reconcile_last)(pk) for pk in ids}
    assert together == alone
    for name in ("plain", "unchecked", "stale", "sol_deposit"):
        sub = await Subaccount.objects.aget(pk=subs[name])
        assert together[subs[name]] == (await ledger_reconcile_days(subaccount=sub))[-1], name
    assert (together[subs["one_day"]], together[subs["none"]]) == (None, None)
    assert together[subs["stale"]] != together[subs["plain"]]  # the late rows count
    assert queries <= 40  # not a dozen per subaccount (the two odd ones take their own)


async def test_every_subaccounts_running_fold_read_at_once_is_the_full_folds() -> None:
    subs = await sync_to_async(_desk)()
    rows = await sync_to_async(list)(Subaccount.objects.filter(pk__in=subs.values()))
    marks = {s.pk: MARKS for s in rows}
    running_clear()  # a new process: every fold starts from the checkpoints at once

    stamps = await ledger_stamps(subaccounts=rows)
    days = {
        day: await ledger_days_running(subaccounts=rows, day=day, marks=marks, stamps=stamps)
        for day in (START.date() + timedelta(days=n) for n in range(4))
    }
    running_clear()
    pnls = await ledger_pnls_running(subaccounts=rows, marks=marks, stamps=stamps)

    for sub in rows:
        full = await ledger_pnl(subaccount=sub, marks=MARKS)
        assert (pnls[sub.pk].lines, pnls[sub.pk].totals) == (full.lines, full.totals), sub.name
        for day, found in days.items():
            net = sum((line.row.net for line in full.lines if line.day == day), Decimal(0))
            assert (found[sub.pk].net, found[sub.pk].unrealized) == (net, full.unrealized)
