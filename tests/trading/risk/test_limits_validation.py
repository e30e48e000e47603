"""The limits form refuses what cannot be meant, beside the field, keeping what was typed:
a market the exchange does not list (unchecked, with a warning, while the exchange cannot be
read), a max leverage of 0; max open orders 0 is a stated choice (no new orders); and a
daily gain is shown as a gain, never as a negative "used" loss."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.conftest import fresh_totp, verified_client
from tests.trading.risk.test_risk_page import admin, row_html  # noqa: F401
from trading.models import RiskLimit
from trading.risk.gate import Exposure
from trading.risk.selectors import risk_rows_for

pytestmark = pytest.mark.django_db(transaction=True)


def post(desk, admin, **fields):  # noqa: F811
    client = verified_client(admin)
    code = fresh_totp(TOTPDevice.objects.get(user=admin))
    return client.post(
        f"/trading/subaccounts/{desk.main.pk}/risk/limits/",
        {"otp_code": code, **fields},
        follow=True,
    )


def field_errors(html: str, name: str) -> list[str]:
    part = html.split(f'id="id_{name}"', 1)[1].split("<label", 1)[0]
    return re.findall(r'<p class="form-error">(.*?)</p>', part)


def test_an_unknown_market_is_refused_beside_the_field_naming_it(desk, admin) -> None:  # noqa: F811
    response = post(desk, admin, allowed_markets="SOL_USDC, foo_bar, BAZ_USDC")

    html = response.content.decode()
    assert field_errors(html, "allowed_markets") == [
        "The exchange has no market BAZ_USDC, FOO_BAR."
    ]
    assert 'value="SOL_USDC, foo_bar, BAZ_USDC"' in html  # kept as typed
    assert not RiskLimit.objects.exists()


def test_known_markets_are_saved(desk, admin) -> None:  # noqa: F811
    post(desk, admin, allowed_markets="sol_usdc, SOL_USDC_PERP")

    assert RiskLimit.objects.get().allowed_markets == "SOL_USDC,SOL_USDC_PERP"


def test_markets_unchecked_while_the_exchange_cannot_be_read_are_saved_with_a_warning(
    desk,
    admin,  # noqa: F811
    settings,
) -> None:
    settings.BACKPACK_API_URL = "http://127.0.0.1:9"  # nothing listens there

    html = post(desk, admin, allowed_markets="FOO_BAR").content.decode()

    assert RiskLimit.objects.get().allowed_markets == "FOO_BAR"
    assert "The market names were not checked against the exchange:" in html


def test_a_max_leverage_of_zero_is_refused_beside_the_field(desk, admin) -> None:  # noqa: F811
    html = post(desk, admin, max_leverage="0", max_order_notional="500").content.decode()

    assert field_errors(html, "max_leverage") == [
        "A max leverage of 0 would refuse every order that adds risk: type a leverage above "
        "0, or leave it empty for no limit."
    ]
    assert 'value="500"' in html
    assert not RiskLimit.objects.exists()


def test_max_open_orders_zero_is_kept_and_the_page_says_what_it_means(desk, admin) -> None:  # noqa: F811
    html = post(desk, admin, max_open_orders="0").content.decode()

    assert RiskLimit.objects.get().max_open_orders == 0
    assert "0 means no new order (reduce-only orders still pass); empty means no limit." in html


def usage(desk, loss: str):
    (row,) = risk_rows_for(subaccount=desk.main, exposure=Exposure(daily_loss=Decimal(loss)))
    (daily,) = [u for u in row.usages if u.name == "Daily loss"]
    return daily.used, daily.percent


def test_a_gain_today_is_shown_as_a_gain_not_as_a_negative_loss(desk) -> None:
    RiskLimit.objects.create(subaccount=desk.main, daily_loss_limit=Decimal("1000"))

    assert usage(desk, "-1214.45") == ("gain 1,214.45", 0)
    assert usage(desk, "250") == ("250.00", 25)
    assert usage(desk, "0") == ("0.00", 0)
