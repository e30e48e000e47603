"""The risk page: every limit with its usage read from the sandbox, reduce-only members with
the reason, breaches; setting limits with a fresh two-factor code."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, Role
from tests.accounts.conftest import fresh_totp, verified_client
from tests.factories import MembershipFactory, UserFactory
from trading.models import RiskBreach, RiskLimit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin(desk):
    user = UserFactory(username="ada")
    MembershipFactory(user=user, subaccount=desk.main, role=Role.ADMIN)
    return user


def rest_bid(desk) -> None:
    async def place() -> None:
        async with desk.session() as session:
            await desk.raw_client(session, 0).place_order(
                "SOL_USDC", "Bid", "Limit", price=Decimal("150"), quantity=Decimal("1")
            )

    asyncio.run(place())


def row_html(html: str, who: str, limit: str) -> str:
    return html.split(f'data-who="{who}" data-limit="{limit}"', 1)[1].split("</tr>", 1)[0]


def test_the_page_shows_limits_usage_reduce_only_and_breaches(desk, admin) -> None:
    rest_bid(desk)
    RiskLimit.objects.create(
        subaccount=desk.main, max_position_notional_market=Decimal("400"), max_open_orders=4
    )
    RiskLimit.objects.create(
        subaccount=desk.main, member=desk.trader, reduce_only=True, reduce_only_reason="review"
    )
    RiskBreach.objects.create(
        subaccount=desk.main,
        member_name="trader",
        symbol="SOL_USDC",
        limit="max_order_notional",
        message="Order refused: the order's notional 150 USDC is above the order limit of "
        "100 USDC.",
    )

    html = verified_client(admin).get(f"/trading/subaccounts/{desk.main.pk}/risk/").content.decode()

    market = row_html(html, "Whole subaccount", "Position, largest market")
    assert "400" in market and "150" in market and 'data-percent="37"' in market
    assert 'data-percent="25"' in row_html(html, "Whole subaccount", "Open orders")
    assert "no limit" in row_html(html, "Whole subaccount", "Leverage")
    assert '<li data-who="trader">trader: review</li>' in html
    assert "the order&#x27;s notional 150 USDC is above the order limit of 100 USDC." in html


def test_an_admin_sets_limits_with_a_fresh_code(desk, admin) -> None:
    client = verified_client(admin)
    code = fresh_totp(TOTPDevice.objects.get(user=admin))

    response = client.post(
        f"/trading/subaccounts/{desk.main.pk}/risk/limits/",
        {"member": str(desk.trader.pk), "max_order_notional": "2500", "otp_code": code},
    )

    assert response.status_code == 302
    row = RiskLimit.objects.get(subaccount=desk.main, member=desk.trader)
    assert (row.max_order_notional, row.max_leverage) == (Decimal("2500"), None)
    assert AuditEvent.objects.get(action="risk_limits_set").parameters["member"] == "trader"


def test_a_wrong_code_is_shown_on_the_page_and_nothing_changes(desk, admin) -> None:
    response = verified_client(admin).post(
        f"/trading/subaccounts/{desk.main.pk}/risk/limits/",
        {"max_order_notional": "2500", "otp_code": "000000"},
    )

    assert (
        "That two-factor code is not right (or was used already). Type the current code."
        in response.content.decode()
    )
    assert not RiskLimit.objects.exists()


def test_an_amount_in_exponent_notation_is_refused_by_the_strict_field(desk, admin) -> None:
    response = verified_client(admin).post(
        f"/trading/subaccounts/{desk.main.pk}/risk/limits/",
        {"max_order_notional": "1e3", "otp_code": "000000"},
    )

    assert 'class="form-error"' in response.content.decode()
    assert not RiskLimit.objects.exists()
