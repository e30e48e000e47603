"""PnL and reconciliation from the synced ledger, against the sandbox's own figures: the
equity identity holds to the cent between every pair of equity points, each closed
position's realized PnL is the exchange's, and fills are attributed to the member who sent
them (or to nobody: outside the desk)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async

from tests.factories import UserFactory
from trading.backpack import PositionState
from trading.balances import fetch
from trading.balances.services import balance_snapshots_take
from trading.ledger.selectors import (
    OUTSIDE_LABEL,
    ledger_pnl,
    ledger_reconcile,
    ledger_reconcile_days,
)
from trading.ledger.services import ledger_sync
from trading.models.tickets import OrderTicket

from .scenario import PERP, equity_point, trade, window_closed

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "Desk1SoLanaWithdrawa1Address11111111111111"


async def test_equity_change_less_transfers_is_what_the_ledger_explains(
    exchange, desk, clients
) -> None:
    sub = await desk(1)
    mine, other = clients(1), clients(2)
    points = [await equity_point(mine)]
    await trade(mine, other, "Bid", "2", "150")  # long 2, fee 0.15
    await asyncio.to_thread(exchange.set_mark_price, PERP, "152")
    points.append(await equity_point(mine))
    await asyncio.to_thread(exchange.settle_funding, PERP, "0.0001")  # longs pay 0.0304
    await asyncio.to_thread(exchange.deposit, 1, "USDC", "250")
    points.append(await equity_point(mine))
    await trade(mine, other, "Ask", "3", "149")  # close 2 (-2), short 1
    await asyncio.to_thread(exchange.set_mark_price, PERP, "148.37")
    points.append(await equity_point(mine))
    await mine.request_withdrawal(
        symbol="USDC", blockchain="Solana", address=ADDRESS, quantity="20"
    )  # 20 and a fee of 1
    await trade(mine, other, "Bid", "1", "150.5")  # close the short (-1.5)
    points.append(await equity_point(mine))
    await window_closed()
    await ledger_sync(subaccount=sub, client=mine)

    intervals = await ledger_reconcile(subaccount=sub, points=points)

    assert [r.mismatch for r in intervals] == [0, 0, 0, 0]
    opening, funded, reversed_, closed = intervals
    assert (opening.fees, opening.unrealized_change, opening.equity_change) == (
        D("0.15"),
        D("4"),
        D("3.85"),
    )
    assert (funded.funding, funded.net_transfers) == (D("-0.0304"), D("250"))
    assert reversed_.realized == D("-2")
    assert (closed.realized, closed.net_transfers) == (D("-1.5"), D("-21"))


async def test_each_closed_position_realized_what_the_exchange_says(
    exchange, desk, clients
) -> None:
    sub = await desk(1)
    mine, other = clients(1), clients(2)
    await trade(mine, other, "Bid", "1", "150")
    await trade(mine, other, "Bid", "2", "150.01")  # cost 450.02: a third is no round figure
    await trade(mine, other, "Ask", "1", "151.37")  # partly closed: cost rounded once
    await trade(mine, other, "Ask", "4", "149.01")  # reversed: closes 2, opens short 2
    await trade(mine, other, "Bid", "2", "148")
    await ledger_sync(subaccount=sub, client=mine)

    pnl = await ledger_pnl(subaccount=sub, marks={})
    exchange_closed = await mine.position_history(state=PositionState.CLOSED)

    by_id = sorted(exchange_closed, key=lambda p: int(p.id))
    assert [(c.symbol, c.realized) for c in pnl.closed] == [
        (p.symbol, p.pnl_realized) for p in by_id
    ]
    assert [c.realized for c in pnl.closed] == [D("-0.63"), D("2.02")]
    assert pnl.totals.realized == D("1.39")
    assert pnl.unrealized == {}


async def test_fills_belong_to_the_member_who_sent_them_or_to_outside_the_desk(
    exchange, desk, clients
) -> None:
    sub = await desk(1)
    alice = await sync_to_async(UserFactory)(username="alice")
    await OrderTicket.objects.acreate(
        token="t1", client_id=4242, subaccount=sub, actor=alice, symbol=PERP
    )
    mine, other = clients(1), clients(2)
    await trade(mine, other, "Bid", "2", "150", client_id=4242)  # through the desk
    await trade(mine, other, "Ask", "1", "152")  # sent by something else
    await ledger_sync(subaccount=sub, client=mine)

    pnl = await ledger_pnl(subaccount=sub, marks={PERP: D("151")}, zone="Pacific/Kiritimati")

    by_member = {line.member: line for line in pnl.lines}
    assert set(by_member) == {"alice", OUTSIDE_LABEL}
    assert (by_member["alice"].row.realized, by_member["alice"].row.fees) == (0, D("0.15"))
    assert (by_member[OUTSIDE_LABEL].row.realized, by_member[OUTSIDE_LABEL].row.fees) == (
        D("2"),
        D("0.076"),
    )
    assert pnl.unrealized == {PERP: D("1")}
    assert pnl.net == D("2") - D("0.226") + D("1")
    assert by_member["alice"].day == datetime.now(ZoneInfo("Pacific/Kiritimati")).date()


async def spot(taker, maker, side: str, quantity: str, price: str) -> None:
    other = "Ask" if side == "Bid" else "Bid"
    await maker.place_order("SOL_USDC", other, "Limit", quantity=quantity, price=price)
    await taker.place_order("SOL_USDC", side, "Market", quantity=quantity)


async def test_balance_snapshots_reconcile_with_spot_holdings_and_transfers_of_other_assets(
    exchange, desk, clients
) -> None:
    fetch.accounts_cache.clear()
    fetch.market_cache.clear()
    sub = await desk(1)
    mine, other = clients(1), clients(2)
    await spot(mine, other, "Bid", "1", "150")  # SOL now has a price: 5001 SOL valued
    await balance_snapshots_take()
    await trade(mine, other, "Bid", "2", "150")
    await asyncio.to_thread(exchange.set_mark_price, PERP, "152")
    await asyncio.to_thread(exchange.settle_funding, PERP, "0.0001")
    await asyncio.to_thread(exchange.deposit, 1, "USDC", "250")
    await asyncio.to_thread(exchange.deposit, 1, "SOL", "3")  # worth what SOL is at the close
    await spot(mine, other, "Ask", "2", "155")  # every SOL held is now worth 155
    fetch.market_cache.clear()
    await balance_snapshots_take()
    await mine.request_withdrawal(symbol="SOL", blockchain="Solana", address=ADDRESS, quantity="10")
    await spot(mine, other, "Bid", "1", "149.5")
    fetch.market_cache.clear()
    await balance_snapshots_take()
    await window_closed()
    await ledger_sync(subaccount=sub, client=mine)

    intervals = await ledger_reconcile_days(subaccount=sub, daily=False)
    same_day = await ledger_reconcile_days(subaccount=sub)

    assert len(intervals) == 2
    assert [r.mismatch for r in intervals] == [0, 0]
    assert intervals[0].net_transfers == D("250") + 3 * D("155")
    assert intervals[0].funding == D("-0.0304")
    assert intervals[1].net_transfers < -10 * D("149")  # 10 SOL and the fee, at the close
    assert same_day == [] or len(same_day) == 1  # one day, or two when midnight fell between
