"""The running fold gives what a fresh fold of the whole ledger gives: after new rows, after
a row that happened before the last one folded, and after rows were deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from tests.factories import SubaccountFactory
from trading.ledger.running import ledger_pnl_running, ledger_stamps, running_clear
from trading.ledger.selectors import ledger_pnl
from trading.models.ledger import LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)

PERP = "SOL_USDC_PERP"
START = datetime(2026, 6, 1, tzinfo=UTC)
MARKS = {PERP: Decimal("151")}


def _fill(sub, n: int, side: str, price: str, minutes: int) -> None:
    LedgerEntry.objects.create(
        subaccount=sub,
        kind=LedgerEntry.Kind.FILL,
        exchange_id=f"{PERP}:{n}:{side}",
        occurred_at=START + timedelta(minutes=minutes),
        symbol=PERP,
        side=side,
        quantity=Decimal("1"),
        price=Decimal(price),
        fee=Decimal("0.05"),
        fee_symbol="USDC",
    )


async def _same(sub) -> None:
    fresh = await ledger_pnl(subaccount=sub, marks=MARKS)
    running = await ledger_pnl_running(subaccount=sub, marks=MARKS)
    assert running == fresh


async def test_the_running_fold_follows_the_ledger() -> None:
    running_clear()
    sub = await sync_to_async(SubaccountFactory)()
    await sync_to_async(_fill)(sub, 1, "Bid", "150", 0)
    await _same(sub)

    await sync_to_async(_fill)(sub, 2, "Ask", "152", 10)  # later: folded in
    await _same(sub)

    await sync_to_async(_fill)(sub, 3, "Bid", "149", 5)  # between the two: refolded
    await _same(sub)

    await LedgerEntry.objects.filter(exchange_id__startswith=f"{PERP}:2:").adelete()
    await _same(sub)
    assert (await ledger_pnl_running(subaccount=sub, marks=MARKS)).totals.fees == Decimal("0.10")


async def test_an_unchanged_stamp_answers_from_memory_and_a_new_row_changes_it() -> None:
    running_clear()
    sub = await sync_to_async(SubaccountFactory)()
    await sync_to_async(_fill)(sub, 1, "Bid", "150", 0)
    stamp = (await ledger_stamps(subaccounts=[sub]))[sub.pk]
    first = await ledger_pnl_running(subaccount=sub, marks=MARKS, stamp=stamp)

    await sync_to_async(_fill)(sub, 2, "Ask", "152", 10)
    same = await ledger_pnl_running(subaccount=sub, marks=MARKS, stamp=stamp)  # not asked
    stamp = (await ledger_stamps(subaccounts=[sub]))[sub.pk]
    later = await ledger_pnl_running(subaccount=sub, marks=MARKS, stamp=stamp)

    assert same == first
    assert later == await ledger_pnl(subaccount=sub, marks=MARKS)
    assert later.totals.realized == Decimal("2")
