"""The TWAP form: every number read strictly (`StrictDecimalField`; durations as whole
seconds), within the bounds the exchange's strategy takes.

The slippage tolerance (percent of the best opposite price) sets each slice's limit price.
The spec gives it no bound, but the market's price filter does (``maxMultiplier`` /
``minMultiplier`` of the mark price): a tolerance beyond it makes the exchange refuse the
first slice and terminate the TWAP (``PriceOutOfBounds``). So a buy may take at most
(maxMultiplier - 1) x 100 %, a sell (1 - minMultiplier) x 100 %, and never more than
`MAX_SLIPPAGE_PERCENT` (a sell's price would reach zero)."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from accounts.fields import StrictDecimalField
from accounts.forms import form_problems
from trading.backpack import Market, Side
from trading.formatting import plain

MIN_INTERVAL_S = 1
MAX_DURATION_S = 7 * 24 * 3600
MAX_SLIPPAGE_PERCENT = Decimal(100)


def slippage_bound(market: Market | None, side: Side) -> tuple[Decimal, str]:
    """The largest slippage tolerance (percent) a TWAP on ``market`` may take, and why."""
    bound, why = MAX_SLIPPAGE_PERCENT, ""
    if market is None:
        return bound, why
    if side == Side.BID and market.max_multiplier is not None:
        band = (market.max_multiplier - 1) * 100
        word, multiplier = "more", market.max_multiplier
    elif side == Side.ASK and market.min_multiplier is not None:
        band = (1 - market.min_multiplier) * 100
        word, multiplier = "less", market.min_multiplier
    else:
        return bound, why
    if 0 < band < bound:
        trade = "buy" if side == Side.BID else "sell"
        bound = band
        why = (
            f" on {market.symbol} for a {trade}: the exchange refuses a slice's price {word} "
            f"than {plain(multiplier)}x the mark price (its price band)"
        )
    return bound, why


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

    def __init__(self, *args, market: Market | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.market = market

    def clean(self) -> dict:
        data = super().clean()
        self._check_slippage(data)
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

    def _check_slippage(self, data: dict) -> None:
        slippage, side = data.get("slippage_percent"), data.get("side")
        if slippage is None or side is None:
            return
        bound, why = slippage_bound(self.market, Side(side))
        if slippage > bound:
            self.add_error("slippage_percent", f"At most {plain(bound)}{why}.")

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
