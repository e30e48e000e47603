"""The ladder form: every number read strictly (`StrictDecimalField`, the count too: a whole
number), the count and the distribution within what the preview accepts."""

from __future__ import annotations

from django import forms

from accounts.fields import StrictDecimalField
from accounts.forms import form_problems
from trading.backpack import Side
from trading.ladder.preview import MAX_ORDERS, MIN_ORDERS, Distribution, LadderSpec


class LadderForm(forms.Form):
    """From price, to price, count, distribution, total size; side and post-only."""

    side = forms.ChoiceField(choices=[(Side.BID.value, "Buy"), (Side.ASK.value, "Sell")])
    from_price = StrictDecimalField(label="From price")
    to_price = StrictDecimalField(label="To price")
    count = StrictDecimalField(label="Orders", max_places=0, max_integer_digits=3)
    distribution = forms.ChoiceField(
        choices=[(d.value, d.value.capitalize()) for d in Distribution], initial="flat"
    )
    total_quantity = StrictDecimalField(label="Total size")
    post_only = forms.BooleanField(required=False, label="Post only")

    def clean_count(self) -> int:
        count = self.cleaned_data["count"]
        if not MIN_ORDERS <= count <= MAX_ORDERS:
            raise forms.ValidationError(f"A ladder has {MIN_ORDERS} to {MAX_ORDERS} orders.")
        return int(count)

    def spec(self, symbol: str) -> LadderSpec:
        """The checked form as a `LadderSpec` (call after `is_valid()`)."""
        data = self.cleaned_data
        return LadderSpec(
            symbol=symbol,
            side=Side(data["side"]),
            from_price=data["from_price"],
            to_price=data["to_price"],
            count=data["count"],
            total_quantity=data["total_quantity"],
            distribution=Distribution(data["distribution"]),
            post_only=data["post_only"],
        )

    def problems(self) -> list[str]:
        """Each field's problem as one line ("From price: Enter a number.")."""
        return form_problems(self)
