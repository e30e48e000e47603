"""The risk limits form: every amount through the strict field; empty means no limit."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.fields import StrictDecimalField
from trading.risk.limits import LimitValues

AMOUNTS = (
    "max_order_notional",
    "max_position_notional_market",
    "max_position_notional_total",
    "max_leverage",
    "daily_loss_limit",
)


class RiskLimitsForm(forms.Form):
    """Limits of the subaccount (member empty) or of one member; a fresh two-factor code."""

    member = forms.TypedChoiceField(coerce=int, choices=(), required=False, empty_value=None)
    max_order_notional = StrictDecimalField(label="Max order notional", required=False, stored=True)
    max_position_notional_market = StrictDecimalField(
        label="Max position per market", required=False, stored=True
    )
    max_position_notional_total = StrictDecimalField(
        label="Max position in total", required=False, stored=True
    )
    max_open_orders = StrictDecimalField(label="Max open orders", required=False, max_places=0)
    max_leverage = StrictDecimalField(label="Max leverage", required=False, max_places=4)
    allowed_markets = forms.CharField(label="Allowed markets", required=False, max_length=2000)
    daily_loss_limit = StrictDecimalField(label="Daily loss limit", required=False, stored=True)
    reduce_only = forms.BooleanField(required=False)
    reduce_only_reason = forms.CharField(required=False, max_length=200)
    otp_code = forms.CharField(label="Two-factor code", max_length=20)

    def __init__(self, *args: Any, members: list[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [("", "Whole subaccount"), *members]

    def values(self) -> LimitValues:
        data = self.cleaned_data
        opens = data.get("max_open_orders")
        return LimitValues(
            **{name: data.get(name) for name in AMOUNTS},
            max_open_orders=int(opens) if opens is not None else None,
            allowed_markets=data.get("allowed_markets") or "",
            reduce_only=bool(data.get("reduce_only")),
            reduce_only_reason=data.get("reduce_only_reason") or "",
        )
