"""The risk page: every limit with its usage read from the sandbox, reduce-only members with
the reason, breaches; setting limits with a fresh two-factor code."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, Role
from tests.accounts.conftest import fresh_totp, verified_client
from tests.factories import MembershipFactory, UserFactory
from trading.models import RiskBreach, RiskLimit
from trading.risk.services import risk_default_limits

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


class FormFields(HTMLParser):
    """What a browser would send from the form ``form_id`` of a page, as it was rendered."""

    def __init__(self, html: str, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.select = form_id, False, ""
        self.values: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif not self.inside:
            return
        elif tag == "input" and a.get("type") in ("checkbox", "radio"):
            if "checked" in a:
                self.values[a["name"] or ""] = a.get("value") or "on"
        elif tag == "input":
            self.values[a["name"] or ""] = a.get("value") or ""
        elif tag == "select":
            self.select = a["name"] or ""
            self.values[self.select] = ""
        elif tag == "option" and "selected" in a:
            self.values[self.select] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def limits_form(client, desk, query: str = "") -> dict[str, str]:
    page = client.get(f"/trading/subaccounts/{desk.main.pk}/risk/{query}").content.decode()
    return FormFields(page, "risk-limits-form").values


def stored_limits() -> RiskLimit:
    """The limits of the tester's demo: stored, the subaccount reduce-only by the kill switch."""
    return RiskLimit(
        max_order_notional=Decimal("10000"),
        max_position_notional_market=Decimal("400.500000000000000000"),
        max_position_notional_total=Decimal("939072"),
        max_open_orders=4,
        max_leverage=Decimal("3.0000"),
        allowed_markets="SOL_USDC",
        daily_loss_limit=Decimal("234768.25"),
        reduce_only=True,
        reduce_only_reason="kill switch: runaway bot",
    )


def test_the_limits_form_opens_with_the_limits_in_force(desk, admin) -> None:
    row = stored_limits()
    row.subaccount = desk.main
    row.save()

    fields = limits_form(verified_client(admin), desk)

    assert {name: fields[name] for name in fields if name not in ("csrfmiddlewaretoken",)} == {
        "member": "",
        "shown_member": "",
        "max_order_notional": "10000",
        "max_position_notional_market": "400.5",
        "max_position_notional_total": "939072",
        "max_open_orders": "4",
        "max_leverage": "3",
        "allowed_markets": "SOL_USDC",
        "daily_loss_limit": "234768.25",
        "reduce_only": "on",
        "reduce_only_reason": "kill switch: runaway bot",
        "otp_code": "",
    }


def test_changing_one_limit_keeps_the_others_and_the_kill_switch(desk, admin) -> None:
    row = stored_limits()
    row.subaccount = desk.main
    row.save()
    client = verified_client(admin)
    fields = limits_form(client, desk)
    fields.update(
        max_order_notional="50000",
        max_leverage="5",
        otp_code=fresh_totp(TOTPDevice.objects.get(user=admin)),
    )

    response = client.post(f"/trading/subaccounts/{desk.main.pk}/risk/limits/", fields)

    assert response.status_code == 302
    row = RiskLimit.objects.get(subaccount=desk.main, member=None)
    assert (row.max_order_notional, row.max_leverage) == (Decimal("50000"), Decimal("5"))
    assert (
        row.max_position_notional_market,
        row.max_position_notional_total,
        row.max_open_orders,
        row.allowed_markets,
        row.daily_loss_limit,
    ) == (Decimal("400.5"), Decimal("939072"), 4, "SOL_USDC", Decimal("234768.25"))
    assert (row.reduce_only, row.reduce_only_reason) == (True, "kill switch: runaway bot")


def test_without_stored_limits_the_form_opens_with_the_defaults_of_the_equity(desk, admin) -> None:
    async def equity() -> Decimal:
        async with desk.session() as session:
            return (await desk.raw_client(session, 0).collateral()).net_equity

    defaults = risk_default_limits(asyncio.run(equity()))

    fields = limits_form(verified_client(admin), desk)

    cents = Decimal("0.01")
    assert Decimal(fields["max_order_notional"]) == defaults["max_order_notional"].quantize(
        cents, rounding="ROUND_DOWN"
    )
    assert Decimal(fields["daily_loss_limit"]) == defaults["daily_loss_limit"].quantize(
        cents, rounding="ROUND_DOWN"
    )
    assert (fields["max_open_orders"], fields["max_leverage"]) == ("50", "3")
    assert "," not in fields["max_position_notional_total"]
    assert "reduce_only" not in fields


def test_a_members_form_opens_with_that_members_own_limits(desk, admin) -> None:
    RiskLimit.objects.create(subaccount=desk.main, max_order_notional=Decimal("9000"))
    RiskLimit.objects.create(
        subaccount=desk.main,
        member=desk.trader,
        max_order_notional=Decimal("2500.00"),
        reduce_only=True,
        reduce_only_reason="review",
    )
    client = verified_client(admin)

    page = client.get(
        f"/trading/subaccounts/{desk.main.pk}/risk/?member={desk.trader.pk}",
        headers={"HX-Request": "true"},
    ).content.decode()

    assert page.lstrip().startswith('<form method="post"')  # the form alone, for htmx
    fields = FormFields(page, "risk-limits-form").values
    assert (fields["member"], fields["shown_member"]) == (str(desk.trader.pk),) * 2
    assert (fields["max_order_notional"], fields["max_leverage"]) == ("2500", "")
    assert (fields["reduce_only"], fields["reduce_only_reason"]) == ("on", "review")


def test_saving_limits_for_another_level_than_the_fields_show_is_refused(desk, admin) -> None:
    RiskLimit.objects.create(subaccount=desk.main, max_order_notional=Decimal("9000"))
    client = verified_client(admin)
    fields = limits_form(client, desk)
    fields.update(
        member=str(desk.trader.pk), otp_code=fresh_totp(TOTPDevice.objects.get(user=admin))
    )

    response = client.post(f"/trading/subaccounts/{desk.main.pk}/risk/limits/", fields)

    assert response.status_code == 200
    assert "The fields show the limits of another level" in response.content.decode()
    assert not RiskLimit.objects.filter(member=desk.trader).exists()


def test_unticking_reduce_only_does_not_lift_the_kill_switch(desk, admin) -> None:
    row = stored_limits()
    row.subaccount = desk.main
    row.save()
    client = verified_client(admin)
    fields = limits_form(client, desk)
    del fields["reduce_only"]
    fields.update(
        max_order_notional="50000", otp_code=fresh_totp(TOTPDevice.objects.get(user=admin))
    )

    response = client.post(f"/trading/subaccounts/{desk.main.pk}/risk/limits/", fields)

    html = response.content.decode()
    assert (
        "The kill switch holds this subaccount reduce-only: saving limits does not lift it. "
        "Keep Reduce only ticked, or lift the kill switch with its own button first."
    ) in html
    kept = FormFields(html, "risk-limits-form").values
    assert (kept["max_order_notional"], kept["otp_code"]) == ("50000", "")
    row = RiskLimit.objects.get(subaccount=desk.main, member=None)
    assert (row.reduce_only, row.max_order_notional) == (True, Decimal("10000"))
