"""Withdrawal address book and policy: fresh two-factor code, second admin, audit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, Role
from tests.accounts.conftest import fresh_totp, verified_client
from tests.factories import MembershipFactory, WithdrawalAddressFactory, WithdrawalPolicyFactory
from trading.withdrawals.models import WithdrawalAddress, WithdrawalLimit


@pytest.fixture
def admins(db):
    first = MembershipFactory(role=Role.ADMIN)
    second = MembershipFactory(role=Role.ADMIN, subaccount=first.subaccount)
    WithdrawalPolicyFactory(subaccount=first.subaccount, second_admin_required=True)
    return first, second


def _code(user) -> str:
    return fresh_totp(TOTPDevice.objects.get(user=user))


def _url(subaccount_id: int, suffix: str = "") -> str:
    return f"/accounts/subaccounts/{subaccount_id}/withdrawals/{suffix}"


def test_adding_an_address_needs_a_fresh_code(admins):
    first, _ = admins
    client = verified_client(first.user)
    form = {"blockchain": "Solana", "address": "So1DestAddr", "label": "cold"}

    refused = client.post(_url(first.subaccount_id), {**form, "otp_code": "12345x"})
    accepted = client.post(_url(first.subaccount_id), {**form, "otp_code": _code(first.user)})

    assert "That two-factor code is not right" in refused.content.decode()
    assert accepted.status_code == 302
    entry = WithdrawalAddress.objects.get()
    assert (entry.address, entry.added_by, entry.usable) == ("So1DestAddr", first.user, False)
    assert list(
        AuditEvent.objects.filter(action="withdrawal_address_add")
        .order_by("id")
        .values_list("result", flat=True)
    ) == ["denied", "ok"]


def test_an_address_becomes_usable_after_exchange_confirmation_and_a_second_admin(admins):
    first, second = admins
    entry = WithdrawalAddressFactory(
        subaccount=first.subaccount, added_by=first.user, confirmed_2fa_exempt=False
    )
    first_client, second_client = verified_client(first.user), verified_client(second.user)

    first_client.post(
        _url(first.subaccount_id, f"{entry.pk}/confirm/"), {"otp_code": _code(first.user)}
    )
    own_approval = first_client.post(
        _url(first.subaccount_id, f"{entry.pk}/approve/"),
        {"otp_code": _code(first.user)},
        follow=True,
    )
    entry.refresh_from_db()
    usable_before_second_admin = entry.usable
    second_client.post(
        _url(first.subaccount_id, f"{entry.pk}/approve/"), {"otp_code": _code(second.user)}
    )
    entry.refresh_from_db()

    assert "A second admin must approve this address" in own_approval.content.decode()
    assert usable_before_second_admin is False
    assert entry.confirmed_2fa_exempt and entry.approved_by == second.user and entry.usable
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {
        "withdrawal_address_confirm",
        "withdrawal_address_approve",
    }


def test_policy_saves_daily_limits_as_decimals_with_a_fresh_code(admins):
    first, _ = admins
    client = verified_client(first.user)

    response = client.post(
        _url(first.subaccount_id, "policy/"),
        {"daily_limits": "USDC 50000\nBTC 1.5", "otp_code": _code(first.user)},
    )

    assert response.status_code == 302
    limits = dict(WithdrawalLimit.objects.values_list("asset", "daily_limit"))
    assert limits == {"USDC": Decimal("50000"), "BTC": Decimal("1.5")}
    first.subaccount.withdrawal_policy.refresh_from_db()
    assert first.subaccount.withdrawal_policy.second_admin_required is False
    event = AuditEvent.objects.get(action="withdrawal_policy_set")
    assert event.parameters == {
        "second_admin_required": False,
        "daily_limits": {"USDC": "50000", "BTC": "1.5"},
    }


def test_policy_without_a_code_is_refused_and_nothing_changes(admins):
    first, _ = admins

    response = verified_client(first.user).post(
        _url(first.subaccount_id, "policy/"), {"daily_limits": "USDC 1"}
    )

    assert "This field is required." in response.content.decode()
    assert not WithdrawalLimit.objects.exists()


def test_a_negative_limit_is_refused_with_the_line(admins):
    first, _ = admins

    response = verified_client(first.user).post(
        _url(first.subaccount_id, "policy/"),
        {"daily_limits": "USDC -5", "otp_code": _code(first.user)},
    )

    assert (
        "Line 1: &#x27;-5&#x27; is negative; this amount cannot be below zero."
        in response.content.decode()
    )


def test_traders_cannot_see_the_address_book(admins):
    first, _ = admins
    trader = MembershipFactory(role=Role.TRADER, subaccount=first.subaccount)

    assert verified_client(trader.user).get(_url(first.subaccount_id)).status_code == 403


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "USDC 1e6",
            "Line 1: &#x27;1e6&#x27; has an exponent; write the number out in full, like 1500 "
            "rather than 1.5e3.",
        ),
        (
            "USDC 1,000",
            "Line 1: &#x27;1,000&#x27; has a comma; write no thousands separators and use a "
            "point for decimals, like 1234.5.",
        ),
        (
            "USDC １０００",
            "Line 1: &#x27;１０００&#x27; has a digit that is not 0-9; type the number with plain "
            "digits.",
        ),
        ("USDC inf", "Line 1: &#x27;inf&#x27; is not a number."),
    ],
)
def test_a_limit_that_is_not_a_plain_number_is_refused_not_misread(admins, typed, message):
    first, _ = admins

    response = verified_client(first.user).post(
        _url(first.subaccount_id, "policy/"),
        {"daily_limits": typed, "otp_code": _code(first.user)},
    )

    assert message in response.content.decode()
    assert not WithdrawalLimit.objects.exists()
