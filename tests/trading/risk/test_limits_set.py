"""Setting limits: admins only, a fresh two-factor code, every change audited ("no limit" too)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from accounts.errors import ServiceError
from accounts.models import AuditEvent, Role
from tests.accounts.conftest import fresh_totp
from tests.factories import MembershipFactory, SubaccountFactory, TOTPDeviceFactory, UserFactory
from trading.models import RiskLimit
from trading.risk.limits import LimitValues, risk_limits_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    subaccount = SubaccountFactory(name="Risk desk")
    admin, trader = UserFactory(username="ada"), UserFactory(username="tom")
    MembershipFactory(user=admin, subaccount=subaccount, role=Role.ADMIN)
    MembershipFactory(user=trader, subaccount=subaccount, role=Role.TRADER)
    return subaccount, admin, trader, TOTPDeviceFactory(user=admin)


def test_an_admin_sets_a_members_limits_with_a_fresh_code_and_it_is_audited(team) -> None:
    subaccount, admin, trader, device = team
    values = LimitValues(max_order_notional=Decimal("5000"), allowed_markets="sol_usdc_perp, ")

    risk_limits_set(
        actor=admin,
        subaccount=subaccount,
        member=trader,
        values=values,
        otp_code=fresh_totp(device),
    )

    row = RiskLimit.objects.get(subaccount=subaccount, member=trader)
    assert (row.max_order_notional, row.allowed_markets) == (Decimal("5000"), "SOL_USDC_PERP")
    event = AuditEvent.objects.get(action="risk_limits_set")
    assert event.parameters["member"] == "tom"
    assert event.parameters["limits"]["max_order_notional"] == "5000"
    assert event.parameters["limits"]["max_leverage"] == "no limit"
    assert event.parameters["previous"] is None


def test_no_limit_is_an_audited_choice_that_shows_what_it_replaced(team) -> None:
    subaccount, admin, _trader, device = team
    RiskLimit.objects.create(subaccount=subaccount, max_leverage=Decimal("3"))

    risk_limits_set(
        actor=admin,
        subaccount=subaccount,
        member=None,
        values=LimitValues(),
        otp_code=fresh_totp(device),
    )

    assert RiskLimit.objects.get(subaccount=subaccount, member=None).max_leverage is None
    event = AuditEvent.objects.get(action="risk_limits_set")
    assert event.parameters["member"] == "(subaccount)"
    assert event.parameters["limits"]["max_leverage"] == "no limit"
    assert event.parameters["previous"]["max_leverage"] == "3.0000"


def test_a_wrong_code_is_refused_and_audited_as_denied(team) -> None:
    subaccount, admin, trader, _device = team

    with pytest.raises(ServiceError) as refused:
        risk_limits_set(
            actor=admin,
            subaccount=subaccount,
            member=trader,
            values=LimitValues(),
            otp_code="000000",
        )

    assert refused.value.message == (
        "That two-factor code is not right (or was used already). Type the current code."
    )
    assert not RiskLimit.objects.exists()
    assert AuditEvent.objects.get(action="risk_limits_set").result == "denied"


def test_a_trader_may_not_set_limits(team) -> None:
    subaccount, _admin, trader, _device = team
    TOTPDeviceFactory(user=trader)

    with pytest.raises(PermissionDenied):
        risk_limits_set(
            actor=trader, subaccount=subaccount, member=trader, values=LimitValues(), otp_code="1"
        )


def test_reduce_only_needs_a_reason(team) -> None:
    subaccount, admin, trader, device = team

    with pytest.raises(ServiceError) as refused:
        risk_limits_set(
            actor=admin,
            subaccount=subaccount,
            member=trader,
            values=LimitValues(reduce_only=True),
            otp_code=fresh_totp(device),
        )

    assert refused.value.message == "Say why the member is reduce-only."


def test_saving_limits_never_lifts_the_kill_switch(team) -> None:
    subaccount, admin, _trader, device = team
    RiskLimit.objects.create(
        subaccount=subaccount, reduce_only=True, reduce_only_reason="kill switch: runaway bot"
    )

    with pytest.raises(ServiceError) as refused:
        risk_limits_set(
            actor=admin,
            subaccount=subaccount,
            member=None,
            values=LimitValues(max_order_notional=Decimal("50000")),
            otp_code=fresh_totp(device),
        )

    assert refused.value.message == (
        "The kill switch holds this subaccount reduce-only: saving limits does not lift it. "
        "Keep Reduce only ticked, or lift the kill switch with its own button first."
    )
    row = RiskLimit.objects.get(subaccount=subaccount, member=None)
    assert (row.reduce_only, row.max_order_notional) == (True, None)
    assert not AuditEvent.objects.filter(action="risk_limits_set").exists()
