"""Every service that changes something leaves exactly one audit event naming it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import AuditEvent, Role
from tests.accounts.conftest import fresh_totp
from tests.factories import (
    MembershipFactory,
    TOTPDeviceFactory,
    UserFactory,
    WithdrawalAddressFactory,
    keypair_for,
)
from trading.withdrawals import settings_services as withdrawal_settings


@pytest.fixture
def admin(db):
    membership = MembershipFactory(role=Role.ADMIN)
    TOTPDeviceFactory(user=membership.user)
    return membership


def _code(user) -> str:
    return fresh_totp(TOTPDevice.objects.get(user=user))


CASES = {
    "subaccount_key_rotate": lambda m: services.subaccount_key_rotate(
        actor=m.user,
        subaccount=m.subaccount,
        api_public_key=keypair_for(b"k" * 32)[0],
        api_secret=keypair_for(b"k" * 32)[1],
        otp_code=_code(m.user),
        verify=False,
        ip="10.0.0.1",
    ),
    "subaccount_settings": lambda m: services.subaccount_settings_set(
        actor=m.user,
        subaccount=m.subaccount,
        exchange_label="x",
        notes="",
        is_active=False,
        order_confirm_notional=Decimal("10"),
        ip="10.0.0.1",
    ),
    "membership_add": lambda m: services.membership_set(
        actor=m.user,
        subaccount=m.subaccount,
        username=UserFactory().username,
        role="viewer",
        ip="10.0.0.1",
    ),
    "membership_remove": lambda m: services.membership_remove(
        actor=m.user,
        subaccount=m.subaccount,
        ip="10.0.0.1",
        membership_id=MembershipFactory(subaccount=m.subaccount).pk,
    ),
    "withdrawal_address_add": lambda m: withdrawal_settings.withdrawal_address_add(
        actor=m.user,
        subaccount=m.subaccount,
        blockchain="Solana",
        address="9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
        label="",
        otp_code=_code(m.user),
        ip="10.0.0.1",
    ),
    "withdrawal_address_remove": lambda m: withdrawal_settings.withdrawal_address_remove(
        actor=m.user,
        subaccount=m.subaccount,
        otp_code=_code(m.user),
        ip="10.0.0.1",
        address_id=WithdrawalAddressFactory(subaccount=m.subaccount).pk,
    ),
    "withdrawal_policy_set": lambda m: withdrawal_settings.withdrawal_policy_set(
        actor=m.user,
        subaccount=m.subaccount,
        second_admin_required=True,
        daily_limits={"USDC": Decimal("5")},
        otp_code=_code(m.user),
        ip="10.0.0.1",
    ),
    "low_balance_thresholds_set": lambda m: services.low_balance_thresholds_set(
        actor=m.user,
        subaccount=m.subaccount,
        minimums={"SOL": Decimal("1")},
        ip="10.0.0.1",
    ),
}


@pytest.mark.parametrize("action", sorted(CASES))
def test_each_change_writes_one_audit_event(admin, action):
    CASES[action](admin)

    event = AuditEvent.objects.get()
    assert (event.action, event.result, event.actor, event.subaccount, event.ip_address) == (
        action,
        "ok",
        admin.user,
        admin.subaccount,
        "10.0.0.1",
    )


@pytest.mark.parametrize("action", sorted(CASES))
def test_a_trader_is_refused_by_every_admin_service(admin, action):
    trader = MembershipFactory(subaccount=admin.subaccount, role=Role.TRADER)
    TOTPDeviceFactory(user=trader.user)

    with pytest.raises(PermissionDenied):
        CASES[action](trader)

    assert not AuditEvent.objects.filter(result="ok").exists()
