"""A ticket older than the 30 days its token is kept for still names its order's member: the
desk forgets the token (a resubmit of it places a new order), not who sent the order. An
order resting on the book for more than 30 days is still the member's in "By", its fills
still count for the member in PnL by member when the ledger is folded again (a new team time
zone builds its checkpoints from the first fill) and in the member's own exposure and daily
loss. Against the still sandbox, through the desk's own ticket form."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

import trading.services
from tests.accounts.conftest import fresh_code_for
from tests.dashboard.test_pnl_page import _rows
from tests.trading.pages.conftest import (  # the trading pages' desk on the sandbox
    HX,
    _fast_passwords,
    client_for_user,
    closes_session,
    desk,
    exchange_urls,
)
from tests.trading.test_exchange_made_orders import _outside
from trading.ledger.running import running_clear
from trading.ledger.services import ledger_sync
from trading.ledger.zones import team_zone_set, zone_builds_wait
from trading.models import OrderTicket
from trading.risk.loss import ledger_digest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]
__all__ = ["_fast_passwords", "closes_session", "desk", "exchange_urls"]

D = Decimal
PERP = "SOL_USDC_PERP"
BY_TRADER = '<td class="hide-narrow" data-by>trader</td>'


async def _send(client, desk, price: str, token: str) -> None:
    ticket = {
        "subaccount": str(desk.main.pk),
        "side": "Bid",
        "order_type": "Limit",
        "time_in_force": "GTC",
        "price": price,
        "quantity": "1",
        "token": token + "-" + "x" * 20,
    }
    placed = await client.post(f"/trading/market/{PERP}/ticket/", ticket, **HX)
    assert f"Order placed: Buy 1 {PERP} @ {price}" in placed.content.decode()


async def _open_by_trader(client, desk) -> int:
    page = (await client.get("/trading/orders/")).content.decode()
    block = page.split(f'id="open-orders-{desk.main.pk}"')[1].split('id="open-orders-')[0]
    return block.count(BY_TRADER)


async def _members(client) -> list[str]:
    running_clear()  # this process's folds are the test's, not what a new process reads
    return [r[0] for r in _rows((await client.get("/trading/pnl/")).content.decode(), "member")]


async def test_orders_sent_more_than_30_days_ago_stay_the_members(desk, monkeypatch) -> None:
    client = await client_for_user(desk.trader)
    await _outside(desk, PERP, "Ask", "150", "1")
    await _send(client, desk, "150", "filled")  # a long of 1, the trader's
    await _send(client, desk, "140", "resting")  # rests on the book
    await ledger_sync(subaccount=desk.main)
    assert (await _members(client), await _open_by_trader(client, desk)) == (["trader"], 1)
    long_ago = timezone.now() - trading.services.TICKETS_KEPT - timedelta(days=1)
    await OrderTicket.objects.all().aupdate(created_at=long_ago)
    # the next ticket forgets the old ones (every 100th does; this test's every one)
    monkeypatch.setattr(trading.services, "TICKETS_CLEANUP_EVERY", 1)

    await _send(client, desk, "141", "today")
    code = await sync_to_async(fresh_code_for)(desk.outsider)
    await sync_to_async(team_zone_set)(actor=desk.outsider, zone="Asia/Tokyo", otp_code=code)
    assert await sync_to_async(zone_builds_wait)(timeout=60)

    assert await _open_by_trader(client, desk) == 2  # the order resting for 31 days too
    assert await _members(client) == ["trader"]  # folded again in the new zone
    digest = await sync_to_async(ledger_digest)(subaccount=desk.main)
    assert digest.positions_of(desk.trader.pk) == {PERP: D(1)}  # the member's own exposure
    tokens = OrderTicket.objects.order_by("pk").values_list("token", flat=True)
    assert [t async for t in tokens] == [None, None, "today-" + "x" * 20]  # forgotten, kept
