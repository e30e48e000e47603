"""The fills the market chart marks: only the user's own subaccounts', in the market asked,
newest kept, oldest first, exact decimal strings; the endpoint needs a signed-in user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.test import Client

from accounts.models import Role
from tests.factories import MembershipFactory, SubaccountFactory, UserFactory
from trading.ledger.chart import chart_fills
from trading.models.ledger import LedgerEntry

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def fill(sub, n: int, symbol: str = "SOL_USDC_PERP", side: str = "Bid", price: str = "150.10"):
    return LedgerEntry.objects.create(
        subaccount=sub,
        kind=LedgerEntry.Kind.FILL,
        exchange_id=f"{symbol}:{n}:{side}",
        occurred_at=T0 + timedelta(minutes=n),
        symbol=symbol,
        side=side,
        quantity=D("0.123456789"),
        price=D(price),
    )


def test_only_the_users_subaccounts_in_the_market_oldest_first() -> None:
    user = UserFactory()
    mine, other = SubaccountFactory(name="Desk A"), SubaccountFactory(name="Not mine")
    MembershipFactory(user=user, subaccount=mine, role=Role.VIEWER)
    fill(mine, 2, side="Ask", price="151.00")
    fill(mine, 1)
    fill(mine, 3, symbol="BTC_USDC_PERP")
    fill(other, 4)
    LedgerEntry.objects.create(  # a funding payment is not a fill
        subaccount=mine,
        kind=LedgerEntry.Kind.FUNDING,
        exchange_id="SOL_USDC_PERP:funding",
        occurred_at=T0,
        symbol="SOL_USDC_PERP",
        quantity=D("-0.5"),
    )

    fills = chart_fills(user, "SOL_USDC_PERP")

    assert fills == [
        {
            "time": int((T0 + timedelta(minutes=1)).timestamp()),
            "side": "Bid",
            "price": "150.1",
            "quantity": "0.123456789",
            "subaccount": "Desk A",
        },
        {
            "time": int((T0 + timedelta(minutes=2)).timestamp()),
            "side": "Ask",
            "price": "151",
            "quantity": "0.123456789",
            "subaccount": "Desk A",
        },
    ]


def test_the_newest_are_kept_when_there_are_more_than_the_limit() -> None:
    user = UserFactory()
    sub = SubaccountFactory()
    MembershipFactory(user=user, subaccount=sub, role=Role.TRADER)
    for n in range(5):
        fill(sub, n)
    times = [f["time"] for f in chart_fills(user, "SOL_USDC_PERP", limit=3)]
    assert times == [int((T0 + timedelta(minutes=n)).timestamp()) for n in (2, 3, 4)]


def test_the_endpoint_answers_json_and_needs_sign_in() -> None:
    user = UserFactory()
    sub = SubaccountFactory()
    MembershipFactory(user=user, subaccount=sub, role=Role.VIEWER)
    fill(sub, 1)
    client = Client()
    url = "/trading/market/SOL_USDC_PERP/fills/"
    assert client.get(url).status_code == 302  # to the sign-in page
    client.force_login(user)
    body = client.get(url).json()
    assert body["symbol"] == "SOL_USDC_PERP"
    assert [f["price"] for f in body["fills"]] == ["150.1"]
    assert client.get("/trading/market/not-a-market/fills/").status_code == 404
