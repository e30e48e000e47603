"""A subaccount whose admins never saved a withdrawal policy has the default one: a second
admin approves each address before money may go there."""

from __future__ import annotations

from tests.factories import UserFactory, WithdrawalAddressFactory, WithdrawalPolicyFactory
from trading.withdrawals.selectors import usable_addresses, withdrawal_policy_of


def test_without_a_saved_policy_an_unapproved_address_is_not_usable(db):
    entry = WithdrawalAddressFactory(confirmed_2fa_exempt=True, approved_by=None)

    assert withdrawal_policy_of(subaccount=entry.subaccount).second_admin_required is True
    assert usable_addresses(subaccount=entry.subaccount) == []

    entry.approved_by = UserFactory()
    entry.save()
    assert usable_addresses(subaccount=entry.subaccount) == [entry]


def test_a_saved_policy_without_second_admin_lets_a_confirmed_address_be_used(db):
    entry = WithdrawalAddressFactory(confirmed_2fa_exempt=True, approved_by=None)
    WithdrawalPolicyFactory(subaccount=entry.subaccount, second_admin_required=False)

    assert usable_addresses(subaccount=entry.subaccount) == [entry]
