"""The risk limits form: every amount through the strict field; empty means no limit.

It opens with the limits in force (`limits_initial`), so an admin who changes one field
keeps the others; ``shown_member`` says whose limits the fields were loaded with, and a
save for another level is refused rather than writing one level's values onto another.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django import forms

from accounts.fields import StrictDecimalField
from accounts.forms import CodeInput
from trading.risk.limits import ZERO_LEVERAGE, LimitValues, markets_unknown

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
    max_open_orders = StrictDecimalField(
        label="Max open orders",
        required=False,
        max_places=0,
        help_text="0 means no new order (reduce-only orders still pass); empty means no limit.",
    )
    max_leverage = StrictDecimalField(label="Max leverage", required=False, max_places=4)
    allowed_markets = forms.CharField(label="Allowed markets", required=False, max_length=2000)
    daily_loss_limit = StrictDecimalField(label="Daily loss limit", required=False, stored=True)
    reduce_only = forms.BooleanField(required=False)
    reduce_only_reason = forms.CharField(required=False, max_length=200)
    shown_member = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_code = forms.CharField(
        label="Two-factor code",
        max_length=20,
        widget=CodeInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(
        self,
        *args: Any,
        members: list[tuple[int, str]] = (),
        known_markets: frozenset[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """``known_markets`` (the exchange's market symbols) refuses a market it does not
        list; None skips that check (the exchange did not answer)."""
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [("", "Whole subaccount"), *members]
        self.known_markets = known_markets

    def clean_allowed_markets(self) -> str:
        value = self.cleaned_data.get("allowed_markets") or ""
        if self.known_markets is not None:
            unknown = markets_unknown(value, self.known_markets)
            if unknown:
                raise forms.ValidationError(f"The exchange has no market {', '.join(unknown)}.")
        return value

    def clean_max_leverage(self) -> Any:
        value = self.cleaned_data.get("max_leverage")
        if value is not None and value == 0:
            raise forms.ValidationError(ZERO_LEVERAGE)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        member = data.get("member")
        if "shown_member" in self.data and data.get("shown_member", "") != (
            "" if member is None else str(member)
        ):
            self.add_error(
                "member",
                "The fields show the limits of another level: choose it again and wait for "
                "its limits to load before saving.",
            )
        return data

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


def limits_initial(values: LimitValues | None, member: int | None) -> dict[str, Any]:
    """The form's initial data: the limits in force of the subaccount (``member`` None) or
    of one member (``values`` None: unknown, the amounts stay empty). Amounts render through
    the strict field, as the one input format (`trading.formatting.plain`)."""
    shown = "" if member is None else str(member)
    initial: dict[str, Any] = {"member": member, "shown_member": shown}
    if values is not None:
        initial.update(asdict(values))
    return initial
