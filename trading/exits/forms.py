"""The take-profit / stop-loss form of a position card: every number read strictly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from accounts.fields import StrictDecimalField
from accounts.forms import form_problems

SYMBOL_PATTERN = r"^[A-Z0-9]{1,20}_[A-Z0-9]{1,20}(_PERP)?$"
# The exchange's order ids are whole numbers (a u64 sent as a string): anything else names no
# order, and is refused here instead of being sent to be refused there.
ORDER_ID_PATTERN = r"^[0-9]{1,20}$"
MOVE_WHICH = "Say which exit to move: its order id is a whole number."
REMOVE_WHICH = "Say which exit to remove: its order id is a whole number."


class ExitForm(forms.Form):
    """Set or move one exit: where it triggers, how much of the position it closes (percent,
    all of it when empty) and, optionally, the limit price it closes at (at market when
    empty). `order_id` names the exit being moved."""

    symbol = forms.RegexField(regex=SYMBOL_PATTERN, max_length=48, widget=forms.HiddenInput)
    trigger_price = StrictDecimalField(label="Trigger price", above_zero=True)
    percent = StrictDecimalField(label="Share of the position (%)", required=False)
    limit_price = StrictDecimalField(label="Limit price", required=False, above_zero=True)
    order_id = forms.RegexField(regex=ORDER_ID_PATTERN, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["order_id"].error_messages["invalid"] = MOVE_WHICH
        self.fields["symbol"].error_messages["invalid"] = "Say which market's position."
        self.fields["symbol"].error_messages["required"] = "Say which market's position."

    def clean_percent(self) -> Decimal | None:
        percent = self.cleaned_data.get("percent")
        if percent is not None and not Decimal(0) < percent <= Decimal(100):
            raise forms.ValidationError(
                "More than 0 and at most 100: the percent of the position it closes."
            )
        return percent

    def problems(self) -> list[str]:
        """Each field's problem as one line ("Trigger price: A number is required here.")."""
        return form_problems(self)
