"""The TWAP form: every number read strictly (`StrictDecimalField`; durations as whole
seconds), within the bounds the exchange's strategy takes."""

from __future__ import annotations

from django import forms

from accounts.fields import StrictDecimalField
from accounts.forms import form_problems
from trading.backpack import Side

MIN_INTERVAL_S = 1
MAX_DURATION_S = 7 * 24 * 3600


class TwapForm(forms.Form):
    """Side, size, duration and interval in seconds, randomise, reduce-only, slippage."""

    side = forms.ChoiceField(choices=[(Side.BID.value, "Buy"), (Side.ASK.value, "Sell")])
    quantity = StrictDecimalField(label="Size", above_zero=True)
    duration_s = StrictDecimalField(label="Duration (s)", max_places=0, max_integer_digits=7)
    interval_s = StrictDecimalField(label="Interval (s)", max_places=0, max_integer_digits=7)
    randomized = forms.BooleanField(required=False, label="Randomise slice sizes")
    reduce_only = forms.BooleanField(required=False, label="Reduce only")
    slippage_percent = StrictDecimalField(
        label="Slippage tolerance (%)", required=False, above_zero=True
    )

    def clean(self) -> dict:
        data = super().clean()
        duration, interval = data.get("duration_s"), data.get("interval_s")
        if duration is None or interval is None:
            return data
        if interval < MIN_INTERVAL_S:
            self.add_error("interval_s", f"At least {MIN_INTERVAL_S} s.")
        elif duration > MAX_DURATION_S:
            self.add_error("duration_s", f"At most {MAX_DURATION_S} s (7 days).")
        elif duration < interval:
            self.add_error("duration_s", "At least one interval.")
        return data

    def arguments(self) -> dict:
        """The checked form as `twap_start`'s keyword arguments (after `is_valid()`)."""
        data = self.cleaned_data
        return {
            "side": Side(data["side"]),
            "quantity": data["quantity"],
            "duration_s": int(data["duration_s"]),
            "interval_s": int(data["interval_s"]),
            "randomized": data["randomized"],
            "reduce_only": data["reduce_only"],
            "slippage_percent": data["slippage_percent"],
        }

    def problems(self) -> list[str]:
        """Each field's problem as one line ("Size: A number is required here.")."""
        return form_problems(self)
