"""Orders the exchange makes on the desk's behalf are the member's who started them: a TWAP's
slices (they carry only the strategy's id) and the take-profit / stop-loss legs of a desk
order (they carry the parent's id). The open orders name the member in "By", and their fills
count for the member in PnL by member, against the still sandbox."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from tests.dashboard.test_pnl_page import _rows
from tests.trading.pages.conftest import (  # the trading pages' desk on the sandbox
    HX,
    _fast_passwords,
    client_for_user,
    closes_session,
    desk,
    exchange_urls,
)
from trading.backpack import Credentials, Side
from trading.ledger.services import ledger_sync
from trading.models import OrderTicket, RiskLimit
from trading.models.ledger import LedgerEntry
from trading.twap.services import twap_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]
__all__ = ["_fast_passwords", "closes_session", "desk", "exchange_urls"]

D = Decimal
PERP = "SOL_USDC_PERP"
OUTSIDE = 2  # sandbox key of a subaccount not on the desk


async def _outside(desk, symbol: str, side: str, price: str, quantity: str) -> None:
    async with desk.session() as session:
        await desk.raw_client(session, OUTSIDE).place_order(
            symbol, side, "Limit", price=D(price), quantity=D(quantity)
        )


async def _member_rows(desk) -> list[list[str]]:
    await ledger_sync(subaccount=desk.main)
    client = await client_for_user(desk.trader)
    return _rows((await client.get("/trading/pnl/")).content.decode(), "member")


async def test_a_twaps_slices_fill_for_the_member_who_started_it(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    await _outside(desk, "SOL_USDC", "Ask", "150", "10")
    strategy = await twap_start(
        actor=desk.trader,
        subaccount=desk.main,
        symbol="SOL_USDC",
        side=Side.BID,
        quantity=D("2"),
        duration_s=600,
        interval_s=300,
    )
    async with httpx.AsyncClient(base_url=desk.sandbox.api_url) as http:
        await http.post("/_sandbox/strategies/step")
        await http.post("/_sandbox/strategies/step")

    rows = await _member_rows(desk)

    assert [r[0] for r in rows] == ["trader"]
    fills = [e async for e in LedgerEntry.objects.filter(subaccount=desk.main, kind="fill")]
    assert [(f.quantity, f.price) for f in fills] == [(D("1"), D("150"))] * 2
    assert {f.origin for f in fills} == {f"strategy {strategy.id}"}
    ticket = await OrderTicket.objects.aget(strategy_id=strategy.id)
    assert ticket.actor_id == desk.trader.pk


async def test_take_profit_legs_are_the_members_open_orders_and_fills(desk) -> None:
    await _outside(desk, PERP, "Ask", "150", "1")
    client = await client_for_user(desk.trader)
    ticket = {
        "subaccount": str(desk.main.pk),
        "side": "Bid",
        "order_type": "Limit",
        "time_in_force": "GTC",
        "price": "150",
        "quantity": "1",
        "take_profit": "160",
        "stop_loss": "140",
        "token": "tpsl-" + "x" * 20,
    }
    placed = await client.post(f"/trading/market/{PERP}/ticket/", ticket, **HX)
    assert "Order placed: Buy 1 SOL_USDC_PERP @ 150" in placed.content.decode()

    page = (await client.get("/trading/orders/")).content.decode()
    block = page.split(f'id="open-orders-{desk.main.pk}"')[1].split('id="open-orders-')[0]
    assert block.count("data-order-id=") == 2  # the take-profit and stop-loss legs
    assert block.count('<td class="hide-narrow" data-by>trader</td>') == 2

    await _outside(desk, PERP, "Bid", "159", "1")  # what the take-profit sells into
    async with desk.session() as session:  # the last price reaches 160: take-profit fires
        await desk.raw_client(session, 1).place_order(
            PERP, "Ask", "Limit", price=D("160"), quantity=D("1")
        )
    await _outside(desk, PERP, "Bid", "160", "1")
    rows = await _member_rows(desk)

    assert [r[0] for r in rows] == ["trader"]
    fills = [
        e
        async for e in LedgerEntry.objects.filter(subaccount=desk.main, kind="fill").order_by("id")
    ]
    assert [(f.side, f.price) for f in fills] == [("Bid", D("150")), ("Ask", D("159"))]
    assert fills[1].client_id == fills[0].client_id
    assert fills[1].origin == f"order {fills[0].order_id}"
    fees = sum((f.fee for f in fills), D(0)).quantize(D("0.01"))
    assert rows == [["trader", "9.00", f"{fees}", "0.00", f"{D(9) - fees}"]]


async def test_fills_from_before_the_desks_first_ticket_cost_no_order_lookups(desk) -> None:
    # A subaccount that traded for years before it came to the desk: its old fills carry no
    # clientId, and no ticket made their orders; the backfill must not look each order up
    # (the order history's budget is 30 requests a minute).
    await _outside(desk, "SOL_USDC", "Ask", "150", "3")
    key = desk.keys(0)
    credentials = Credentials(api_key=key["api_key"], api_secret=key["api_secret"])
    order = {"symbol": "SOL_USDC", "side": "Bid", "orderType": "Market", "quantity": "1"}
    async with httpx.AsyncClient(base_url=desk.sandbox.api_url) as http:
        for _ in range(3):  # three orders of its own, sent without the desk (no clientId)
            headers = credentials.headers("orderExecute", order, int(time.time() * 1000))
            sent = await http.post("/api/v1/order", json=order, headers=headers)
            assert sent.status_code == 200, sent.text
        ticket = await OrderTicket.objects.acreate(
            token="later", client_id=7, subaccount=desk.main, actor=desk.trader, symbol="SOL_USDC"
        )
        later = ticket.created_at + timedelta(minutes=5)  # the desk came five minutes later
        await OrderTicket.objects.filter(pk=ticket.pk).aupdate(created_at=later)
        await http.delete("/_sandbox/requests")

        await ledger_sync(subaccount=desk.main)

        asked = (await http.get("/_sandbox/requests")).json()
    fills = [e async for e in LedgerEntry.objects.filter(subaccount=desk.main, kind="fill")]
    assert len(fills) == 3 and {(f.client_id, f.origin) for f in fills} == {(None, "")}
    lookups = {route: n for route, n in asked.items() if "order" in route.lower()}
    assert lookups == {}, lookups
