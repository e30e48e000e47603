"""Daily PnL checkpoints: a read that starts from them gives what a full fold of the ledger
gives, to the cent, also after a late fill for a past day rebuilt them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from tests.factories import SubaccountFactory, UserFactory
from trading.ledger.checkpoints import checkpoints_update
from trading.ledger.latest import reconcile_last
from trading.ledger.running import ledger_day_running, ledger_pnl_running, running_clear
from trading.ledger.selectors import ledger_pnl, ledger_reconcile_days
from trading.models.balances import BalanceSnapshot
from trading.models.ledger import LedgerEntry, PnlCheckpoint
from trading.models.tickets import OrderTicket

pytestmark = pytest.mark.django_db(transaction=True)

PERP = "SOL_USDC_PERP"
START = datetime(2026, 6, 1, 8, tzinfo=UTC)
MARKS = {PERP: Decimal("151.37")}


def _fill(sub, n: int, side: str, quantity: str, price: str, at: datetime, client_id=None):
    LedgerEntry.objects.create(
        subaccount=sub,
        kind=LedgerEntry.Kind.FILL,
        exchange_id=f"{PERP}:{n}:{side}",
        occurred_at=at,
        symbol=PERP,
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        fee=(Decimal(quantity) * Decimal(price) * Decimal("0.0005")),
        fee_symbol="USDC",
        client_id=client_id,
    )


def _funding(sub, at: datetime, amount: str) -> None:
    LedgerEntry.objects.create(
        subaccount=sub,
        kind=LedgerEntry.Kind.FUNDING,
        exchange_id=f"{PERP}:{at.isoformat()}",
        occurred_at=at,
        symbol=PERP,
        quantity=Decimal(amount),
    )


def _four_days(sub, trader: str = "checkpoint-trader") -> None:
    name, trader = trader, UserFactory(username=trader)
    token = "" if name == "checkpoint-trader" else f"ticket-{name}"  # one desk, several subs
    OrderTicket.objects.create(subaccount=sub, actor=trader, client_id=77, symbol=PERP, token=token)
    day = timedelta(days=1)
    _fill(sub, 1, "Bid", "2", "150.1", START, client_id=77)
    _fill(sub, 2, "Ask", "0.7", "151.3", START + timedelta(hours=3))
    _funding(sub, START + timedelta(hours=8), "-0.0311")
    _fill(sub, 3, "Ask", "3.3", "149.9", START + day, client_id=77)  # reverses to short
    _fill(sub, 4, "Bid", "1.1", "150.7", START + day + timedelta(hours=2))
    _funding(sub, START + 2 * day, "0.0127")
    _fill(sub, 5, "Bid", "1", "152.2", START + 2 * day + timedelta(hours=1), client_id=77)
    _fill(sub, 6, "Bid", "0.4", "151.9", START + 3 * day)


def _checkpoints(sub) -> list[tuple]:
    rows = PnlCheckpoint.objects.filter(subaccount=sub).order_by("day")
    return list(rows.values_list("day", "through_id", "folded", "state"))


async def _from_checkpoints(sub):
    running_clear()  # a new process: nothing folded in memory
    return await ledger_pnl_running(subaccount=sub, marks=MARKS)


async def test_checkpointed_figures_equal_a_full_fold_of_the_ledger() -> None:
    sub = await sync_to_async(SubaccountFactory)()
    await sync_to_async(_four_days)(sub)

    folded = await sync_to_async(checkpoints_update)(sub.pk, "UTC")
    again = await sync_to_async(checkpoints_update)(sub.pk, "UTC")

    checkpoints = await sync_to_async(_checkpoints)(sub)
    assert (folded, again) == (8, 0)
    assert [c[0] for c in checkpoints] == [(START + timedelta(days=d)).date() for d in range(4)]
    assert [c[2] for c in checkpoints] == [3, 5, 7, 8]
    full = await ledger_pnl(subaccount=sub, marks=MARKS)
    assert await _from_checkpoints(sub) == full
    assert full.closed and full.totals.realized != 0  # the figures compared are not empty


async def test_a_late_fill_for_a_past_day_rebuilds_the_checkpoints_from_that_day() -> None:
    sub = await sync_to_async(SubaccountFactory)()
    await sync_to_async(_four_days)(sub)
    await sync_to_async(checkpoints_update)(sub.pk, "UTC")
    before = await sync_to_async(_checkpoints)(sub)
    await ledger_pnl_running(subaccount=sub, marks=MARKS)  # this process's fold is current

    late_at = START + timedelta(days=1, hours=5)
    await sync_to_async(_fill)(sub, 9, "Ask", "0.9", "153.05", late_at, client_id=77)

    running = await ledger_pnl_running(subaccount=sub, marks=MARKS)  # before the sync
    await sync_to_async(checkpoints_update)(sub.pk, "UTC")  # what the sync does
    after = await sync_to_async(_checkpoints)(sub)
    full = await ledger_pnl(subaccount=sub, marks=MARKS)
    assert running == full
    assert await _from_checkpoints(sub) == full
    assert after[0] == before[0]  # the day before the late fill is kept
    assert [c[2] for c in after] == [3, 6, 8, 9]
    assert after[1][3] != before[1][3]  # its day now holds it
    late_day = late_at.date()
    day = await ledger_day_running(subaccount=sub, day=late_day, marks=MARKS)
    assert day.net == sum((line.row.net for line in full.lines if line.day == late_day), 0)


def _snapshots_and_a_deposit(sub) -> None:
    for days in range(4):
        for hour in (1, 12):
            BalanceSnapshot.objects.create(
                subaccount=sub,
                taken_at=START.replace(hour=hour) + timedelta(days=days),
                equity_usdc=Decimal("1000") + days * 7 + hour,
                detail={"perp": {"pnl_unrealized": str(Decimal("0.31") * (days + hour))}},
            )
    LedgerEntry.objects.create(
        subaccount=sub,
        kind=LedgerEntry.Kind.DEPOSIT,
        exchange_id="d1",
        occurred_at=START + timedelta(days=2, hours=2),
        symbol="USDC",
        quantity=Decimal("250"),
    )


async def test_the_latest_reconciliation_from_checkpoints_is_the_full_folds() -> None:
    sub = await sync_to_async(SubaccountFactory)()
    await sync_to_async(_four_days)(sub)
    await sync_to_async(_snapshots_and_a_deposit)(sub)
    await sync_to_async(checkpoints_update)(sub.pk, "UTC")

    latest = await sync_to_async(reconcile_last)(sub.pk)

    full = await ledger_reconcile_days(subaccount=sub)
    assert latest == full[-1]
    assert (latest.net_transfers, latest.funding) == (Decimal("250"), Decimal("0.0127"))
    assert latest.realized != 0
