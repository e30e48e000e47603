"""Withdrawal forms: the request (quantity read strictly), the address book and the policy."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from accounts.fields import StrictAssetAmountsField, StrictDecimalField
from accounts.forms import OtpCodeForm
from trading.withdrawals.addresses import BLOCKCHAINS


class WithdrawalRequestForm(forms.Form):
    """Asset, quantity, address and two-factor code of a withdrawal request; the service
    checks the rest (limits, address book, the exchange's maximum)."""

    asset = forms.CharField(max_length=20)
    quantity = StrictDecimalField(label="Quantity", above_zero=True, stored=True)
    address_id = forms.CharField(max_length=20)
    otp_code = forms.CharField(max_length=20)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, words in (
            ("asset", "Choose the asset to withdraw."),
            ("address_id", "Choose an address from the address book."),
            ("otp_code", "Type the two-factor code from your app."),
        ):
            self.fields[name].error_messages.update(required=words, max_length=words)

    def clean_asset(self) -> str:
        asset = self.cleaned_data["asset"].strip().upper()
        if not asset.isalnum():
            raise forms.ValidationError("Choose the asset to withdraw.")
        return asset

    def clean_address_id(self) -> str:
        address_id = self.cleaned_data["address_id"].strip()
        if not (address_id.isascii() and address_id.isdigit()):
            raise forms.ValidationError("Choose an address from the address book.")
        return address_id

    def problems(self) -> dict[str, str]:
        """Every problem at once, by the field it is shown beside (the address select's
        slot is "address", as the service names it)."""
        slot = {"address_id": "address", NON_FIELD_ERRORS: "form"}
        return {slot.get(name, name): " ".join(errors) for name, errors in self.errors.items()}


class AddressForm(OtpCodeForm):
    """A new address of the book: the blockchain chosen among the exchange's, the address
    checked in its format by the service (`withdrawal_address_add`)."""

    blockchain = forms.ChoiceField(
        choices=[("", "Choose a blockchain")] + [(name, name) for name in BLOCKCHAINS],
        error_messages={
            "required": "Choose the blockchain of the address.",
            "invalid_choice": "Choose one of the exchange's blockchains (Solana, Ethereum, "
            "Bitcoin, ...).",
        },
    )
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
