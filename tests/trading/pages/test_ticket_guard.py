"""The default fat-finger guard and the ticket's available balance with its 25/50/75/100 %
buttons, against the still sandbox."""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal

import pytest

from accounts.models import Subaccount
from tests.trading.pages.conftest import HX, client_for_user
from tests.trading.pages.test_ticket import CHECK, SEND, open_orders_on_exchange, rest_order, ticket
from trading.models import RiskLimit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]


async def account_now(desk, index: int = 0):
    async with desk.session() as session:
        client = desk.raw_client(session, index)
        return await client.balances(), await client.collateral()


def shortcuts(html: str) -> dict[str, tuple[str, str]]:
    found = re.findall(r'data-pct="(\d+)" data-field="(\w+)" data-value="([0-9.]+)"', html)
    return {pct: (field, value) for pct, field, value in found}


async def test_without_any_setting_an_order_above_a_tenth_of_equity_asks_for_confirmation(
    desk,
) -> None:
    await Subaccount.objects.filter(pk=desk.main.pk).aupdate(order_confirm_notional=None)
    _balances, collateral = await account_now(desk)
    price = Decimal("100")
    quantity = (collateral.net_equity * Decimal("0.11") / price).quantize(Decimal("0.01"))
    client = await client_for_user(desk.trader)
    data = ticket(desk, price="100", quantity=str(quantity), token="guard-token-1")

    response = await client.post(SEND.format(symbol="SOL_USDC"), data, **HX)

    html = response.content.decode()
    assert "Please confirm this order." in html
    notional = f"{quantity * price:,.2f}"
    assert (
        f"The notional {notional} USDC is above 10% of this subaccount&#x27;s equity "
        f"({collateral.net_equity:,.2f} USDC)."
    ) in html
    assert await open_orders_on_exchange(desk) == []


async def test_an_order_under_the_share_of_equity_goes_through_without_confirmation(desk) -> None:
    await Subaccount.objects.filter(pk=desk.main.pk).aupdate(order_confirm_notional=None)
    client = await client_for_user(desk.trader)
    data = ticket(desk, price="145", quantity="1", token="guard-token-2")

    response = await client.post(SEND.format(symbol="SOL_USDC"), data, **HX)

    assert "Order placed: Buy 1 SOL_USDC @ 145" in response.content.decode()


async def test_the_price_distance_follows_the_subaccount_setting(desk) -> None:
    await Subaccount.objects.filter(pk=desk.main.pk).aupdate(order_confirm_price_pct=Decimal("2"))
    await rest_order(desk, 1, "Ask", "150", "1")
    client = await client_for_user(desk.trader)

    response = await client.post(
        CHECK.format(symbol="SOL_USDC"), ticket(desk, price="154", quantity="0.1"), **HX
    )

    assert "The buy price 154.00 is 2.7% above the best ask 150.00." in response.content.decode()


async def test_a_buy_shows_the_quote_available_and_quantities_for_each_share(desk) -> None:
    balances, _collateral = await account_now(desk)
    usdc = balances["USDC"].available
    client = await client_for_user(desk.trader)

    response = await client.post(
        CHECK.format(symbol="SOL_USDC"), ticket(desk, price="150", quantity=""), **HX
    )

    html = response.content.decode()
    assert f"<span data-available-text>{usdc:,.2f} USDC</span>" in html  # a USDC value
    expected = {
        str(pct): (
            "quantity",
            format((usdc * pct / 100 / Decimal("150")).quantize(Decimal("0.01"), ROUND_FLOOR), "f")
            .rstrip("0")
            .rstrip("."),
        )
        for pct in (25, 50, 75, 100)
    }
    assert shortcuts(html) == expected


async def test_a_sell_shows_the_base_available(desk) -> None:
    balances, _collateral = await account_now(desk)
    sol = balances["SOL"].available
    client = await client_for_user(desk.trader)

    response = await client.post(
        CHECK.format(symbol="SOL_USDC"), ticket(desk, side="Ask", price="150", quantity=""), **HX
    )

    html = response.content.decode()
    assert shortcuts(html)["50"] == (
        "quantity",
        format((sol / 2).quantize(Decimal("0.01"), ROUND_FLOOR), "f").rstrip("0").rstrip("."),
    )


async def test_a_market_buy_on_spot_is_sized_by_quote_quantity(desk) -> None:
    balances, _collateral = await account_now(desk)
    usdc = balances["USDC"].available
    client = await client_for_user(desk.trader)

    response = await client.post(
        CHECK.format(symbol="SOL_USDC"),
        ticket(desk, order_type="Market", price="", quantity="", time_in_force=""),
        **HX,
    )

    assert shortcuts(response.content.decode())["25"] == (
        "quote_quantity",
        format((usdc / 4).quantize(Decimal("0.01"), ROUND_FLOOR), "f").rstrip("0").rstrip("."),
    )


async def test_the_full_quantity_of_a_buy_is_accepted_by_the_exchange(desk) -> None:
    # What the exchange accepts is under test here, not the risk gate's default limits
    # (a quarter of equity per order; tests/trading/risk covers them): "no limit" set.
    await RiskLimit.objects.acreate(subaccount=desk.main)
    client = await client_for_user(desk.trader)
    check = await client.post(
        CHECK.format(symbol="SOL_USDC"), ticket(desk, price="150", quantity=""), **HX
    )
    _field, everything = shortcuts(check.content.decode())["100"]
    data = ticket(desk, price="150", quantity=everything, confirmed="on", token="all-in-token")

    response = await client.post(SEND.format(symbol="SOL_USDC"), data, **HX)

    assert f"Order placed: Buy {everything} SOL_USDC @ 150" in response.content.decode()


async def test_the_pages_first_check_shows_the_available_balance_without_problems(desk) -> None:
    client = await client_for_user(desk.trader)
    empty = ticket(desk, price="", quantity="")
    typed = await client.post(CHECK.format(symbol="SOL_USDC"), empty, **HX)
    assert "form-error" in typed.content.decode()  # what the trader sees once they type

    response = await client.post(CHECK.format(symbol="SOL_USDC"), {**empty, "probe": "1"}, **HX)

    html = response.content.decode()
    assert "data-available-text" in html
    assert "form-error" not in html
