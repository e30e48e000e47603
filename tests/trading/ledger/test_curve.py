"""The equity curve from balance snapshots and the ledger's transfers, per subaccount and for
the team: deposits and withdrawals are taken out (a time-weighted return)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from asgiref.sync import sync_to_async

from tests.factories import SubaccountFactory
from trading.ledger.selectors import equity_curve
from trading.models.balances import BalanceSnapshot
from trading.models.ledger import LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 6, 15, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def snapshot(sub, at, equity: str, sol_price: str | None = None) -> None:
    assets = {"USDC": {"price": "1"}}
    if sol_price is not None:
        assets["SOL"] = {"price": sol_price}
    await BalanceSnapshot.objects.acreate(
        subaccount=sub, taken_at=at, equity_usdc=D(equity), detail={"assets": assets}
    )


async def transfer(sub, kind: str, at, symbol: str, quantity: str, fee: str = "0") -> None:
    await LedgerEntry.objects.acreate(
        subaccount=sub,
        kind=kind,
        exchange_id=f"{kind}-{at.timestamp()}",
        occurred_at=at,
        symbol=symbol,
        quantity=D(quantity),
        fee=D(fee),
    )


async def test_deposits_and_withdrawals_are_taken_out_per_subaccount_and_for_the_team() -> None:
    a = await sync_to_async(SubaccountFactory)(name="A")
    b = await sync_to_async(SubaccountFactory)(name="B")
    await snapshot(a, T0, "1000")
    await snapshot(b, T0, "1000", sol_price="100")
    await transfer(a, "deposit", T0 + HOUR / 2, "USDC", "500")  # A: 1000 -> 1550: +50 made
    await transfer(b, "deposit", T0 + HOUR / 2, "SOL", "2")  # B: 2 SOL worth 200 at t1
    await snapshot(a, T0 + HOUR, "1550")
    await snapshot(b, T0 + HOUR, "1200", sol_price="100")  # nothing made
    await transfer(a, "withdrawal", T0 + HOUR * 1.5, "USDC", "149", fee="1")
    await snapshot(a, T0 + 2 * HOUR, "1395")  # 1550 - 150 = 1400: 5 lost
    await snapshot(b, T0 + 2 * HOUR, "1260", sol_price="130")  # SOL up: 60 made

    alone = await equity_curve(subaccounts=[a])
    team = await equity_curve(subaccounts=[a, b])

    assert [p.flows for p in alone] == [0, D("500"), D("-150")]
    assert [p.index for p in alone] == [
        1,
        D("1.05"),
        D("1.05") * (D("1395") + D("150")) / D("1550"),
    ]
    assert [p.equity for p in team] == [D("2000"), D("2750"), D("2655")]
    assert [p.flows for p in team] == [0, D("700"), D("-150")]
    assert team[1].index == D("1.025")  # (2750 - 700) / 2000
    assert team[2].index == D("1.025") * (D("2655") + D("150")) / D("2750")
