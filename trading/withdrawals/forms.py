"""Withdrawal forms: the request (quantity read strictly), the address book and the policy."""

from __future__ import annotations

from django import forms

from accounts.fields import StrictAssetAmountsField, StrictDecimalField
from accounts.forms import OtpCodeForm


class WithdrawalRequestForm(forms.Form):
    """Asset, quantity, address and two-factor code of a withdrawal request; the service
    checks the rest (limits, address book, the exchange's maximum)."""

    asset = forms.CharField(max_length=20, required=False)
    quantity = StrictDecimalField(label="Quantity", above_zero=True, stored=True)
    address_id = forms.CharField(max_length=20, required=False)
    otp_code = forms.CharField(max_length=20, required=False)

    def first_error(self) -> tuple[str, str]:
        """(field, message) of the first problem, for the page's one error slot."""
        for name, errors in self.errors.items():
            return name, errors[0]
        return "", ""


class AddressForm(OtpCodeForm):
    blockchain = forms.CharField(max_length=40)
    address = forms.CharField(max_length=200)
    label = forms.CharField(max_length=80, required=False)
    field_order = ["blockchain", "address", "label", "otp_code"]


class PolicyForm(OtpCodeForm):
    second_admin_required = forms.BooleanField(
        label="A second admin approves each new address", required=False
    )
    daily_limits = StrictAssetAmountsField(
        label="Daily withdrawal limits (one 'ASSET LIMIT' per line)",
        what="limit",
        required=False,
    )
    field_order = ["second_admin_required", "daily_limits", "otp_code"]
