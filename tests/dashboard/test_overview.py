"""The overview page (`/`) against the still sandbox: each of the user's subaccounts with its
value and open orders, and the pages that user's role needs."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.trading.pages.conftest import (  # the trading pages' desk on the sandbox
    HX,
    _fast_passwords,
    client_for_user,
    closes_session,
    desk,
    exchange_urls,
)
from tests.trading.pages.test_ticket import SEND, ticket
from trading.balances.selectors import balances_view_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]
__all__ = ["_fast_passwords", "closes_session", "desk", "exchange_urls"]


def block(html: str, pk: int) -> str:
    found = re.search(
        rf'<article class="overview-subaccount" data-subaccount="{pk}">(.*?)</article>', html, re.S
    )
    assert found, html
    return found.group(1)


async def test_a_trader_sees_each_subaccount_with_value_and_open_orders(desk) -> None:
    client = await client_for_user(desk.trader)
    placed = await client.post(
        SEND.format(symbol="SOL_USDC"), ticket(desk, price="145", token="overview-token"), **HX
    )
    assert "Order placed" in placed.content.decode()
    balances = await balances_view_for(desk.main, fresh=True, sparklines=False)

    html = (await client.get("/")).content.decode()

    main = block(html, desk.main.pk)
    assert "Main desk" in main and "Trader" in main
    assert re.search(r"data-open-orders><a href=\"/trading/orders/\">1</a>", main)
    value = Decimal(re.search(r"data-value>([0-9,.]+) USDC", main).group(1).replace(",", ""))
    assert value == balances.equity_usdc.quantize(Decimal("0.01"))  # as the balances page
    assert "Other desk" in block(html, desk.other.pk)  # the viewer's subaccount too
    assert "Withdrawals" not in html.split('id="overview-pages"')[1]  # not for a trader
    assert (
        '<a href="/trading/markets/">Markets</a> <span class="muted">trade from the order ticket'
        in html
    )
    assert 'ws-connect="/ws/presence/"' in html and 'id="live-status"' in html


async def test_an_admin_is_pointed_at_withdrawals_and_the_audit_log(desk) -> None:
    client = await client_for_user(desk.outsider)  # admin of "Other desk"

    html = (await client.get("/")).content.decode()

    pages = html.split('id="overview-pages"')[1]
    assert '<a href="/trading/withdrawals/">Withdrawals</a>' in pages
    assert '<a href="/accounts/audit/">Audit log</a>' in pages
    assert f'<a href="/trading/subaccounts/{desk.other.pk}/withdrawals/">Withdrawals</a>' in html
    assert "Main desk" not in html


async def test_a_subaccount_that_cannot_be_read_says_so_instead_of_zero(desk, settings) -> None:
    settings.BACKPACK_API_URL = "http://127.0.0.1:9"  # nothing listens there
    client = await client_for_user(desk.viewer)

    html = (await client.get("/")).content.decode()

    main = block(html, desk.main.pk)
    assert "Not read:" in main
    assert "0.00 USDC" not in main
