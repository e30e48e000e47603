"""The withdrawal request form: what an admin typed, with the quantity read strictly."""

from __future__ import annotations

from django import forms

from accounts.fields import StrictDecimalField


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
