"""The low-balance thresholds form: rows of (asset, minimum), saved through accounts' service."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django import forms

from accounts.fields import StrictDecimalField
from trading.formatting import plain

ASSET = re.compile(r"^[A-Z0-9]{1,20}$")
EXTRA_ROWS = 3
MAX_ROWS = 40


class ThresholdsForm(forms.Form):
    """One row per existing threshold plus a few empty ones. `cleaned_minimums()` gives
    asset -> minimum; a row with an asset but no minimum removes that asset's threshold.

    `known_assets` (the exchange's asset symbols) refuses a name the exchange does not list,
    unless the row removes a threshold; None skips that check (the exchange did not answer).
    """

    def __init__(
        self,
        *args: Any,
        current: dict[str, Decimal] | None = None,
        known_assets: frozenset[str] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.known_assets = known_assets
        current = current or {}
        posted = 0
        if self.is_bound:
            numbers = [
                int(key.split("_", 1)[1])
                for key in self.data
                if key.startswith("asset_") and key.split("_", 1)[1].isdigit()
            ]
            posted = min(max(numbers, default=-1) + 1, MAX_ROWS)
        count = max(posted, len(current) + EXTRA_ROWS)
        items = sorted(current.items())
        for i in range(min(count, MAX_ROWS)):
            asset, minimum = items[i] if i < len(items) else ("", None)
            self.fields[f"asset_{i}"] = forms.CharField(
                required=False,
                max_length=20,
                initial=asset,
                label="Asset",
                widget=forms.TextInput(attrs={"placeholder": "e.g. USDC", "autocomplete": "off"}),
            )
            self.fields[f"minimum_{i}"] = StrictDecimalField(
                required=False,
                stored=True,
                initial="" if minimum is None else plain(minimum),
                label="Minimum",
                placeholder="e.g. 1000",
            )
        self.row_count = min(count, MAX_ROWS)

    def pairs(self) -> Iterator[tuple[forms.BoundField, forms.BoundField]]:
        """(asset, minimum) bound fields, row by row, for the template."""
        for i in range(self.row_count):
            yield self[f"asset_{i}"], self[f"minimum_{i}"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        seen: dict[str, int] = {}
        minimums: dict[str, Decimal] = {}
        for i in range(self.row_count):
            asset = (data.get(f"asset_{i}") or "").strip().upper()
            typed = str(self.data.get(self.add_prefix(f"minimum_{i}")) or "").strip()
            minimum = data.get(f"minimum_{i}")
            if not asset and not typed:
                continue
            if not asset:
                self.add_error(f"asset_{i}", "Name the asset this minimum is for.")
                continue
            if not ASSET.match(asset):
                self.add_error(f"asset_{i}", "An asset is 1-20 capital letters or digits.")
                continue
            if asset in seen:
                self.add_error(f"asset_{i}", f"{asset} is already on row {seen[asset] + 1}.")
                continue
            seen[asset] = i
            if minimum is None:
                continue  # removes the threshold (or the minimum's own error is shown)
            if self.known_assets is not None and asset not in self.known_assets:
                self.add_error(f"asset_{i}", f"The exchange has no asset {asset}.")
                continue
            minimums[asset] = minimum
        data["minimums"] = minimums
        return data

    def cleaned_minimums(self) -> dict[str, Decimal]:
        """asset -> minimum after `is_valid()`."""
        return dict(self.cleaned_data["minimums"])
