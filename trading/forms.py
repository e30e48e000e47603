"""The order ticket's form: what the trader typed, parsed strictly.

`TicketForm` reads the amounts strictly (`StrictDecimalField`: plain digits, one decimal
point; anything else is refused with a message quoting what was typed, and the exact value
typed is kept, so later messages quote it too). Checking the order against the market (the
review, the fee estimate, the fat-finger rule) is the ticket's domain, `trading.ticket`.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from typing import Any

from django import forms

from accounts.fields import StrictDecimalField
from trading.backpack import Market
from trading.ticket import BestPrices, ConfirmGuard, Ticket, TicketReview, review_ticket

# Older import paths of the domain's objects (kept for callers outside the ticket).
__all__ = ["BestPrices", "HistoryFilterForm", "Ticket", "TicketForm", "new_ticket_token"]

SIDE_CHOICES = [("Bid", "Buy"), ("Ask", "Sell")]
TYPE_CHOICES = [
    ("Limit", "Limit"),
    ("Market", "Market"),
    ("StopMarket", "Stop market"),
    ("StopLimit", "Stop limit"),
]
TRIGGER_BY_CHOICES = [("LastPrice", "Last price"), ("MarkPrice", "Mark price")]
TIF_CHOICES = [("GTC", "GTC"), ("IOC", "IOC"), ("FOK", "FOK")]


def new_ticket_token() -> str:
    """A fresh one-time token for an order ticket form."""
    return secrets.token_urlsafe(18)


class TicketForm(forms.Form):
    """The order ticket. Amounts are exact Decimals here; `review_ticket` checks them against
    the market (sign, grid, minimums, which fields the order type takes): see
    `trading.ticket.review_ticket`."""

    subaccount = forms.TypedChoiceField(coerce=int, choices=())
    side = forms.ChoiceField(choices=SIDE_CHOICES, initial="Bid")
    order_type = forms.ChoiceField(choices=TYPE_CHOICES, initial="Limit")
    price = StrictDecimalField(label="Price", required=False)
    quantity = StrictDecimalField(label="Quantity", required=False)
    quote_quantity = StrictDecimalField(label="Quote quantity", required=False)
    time_in_force = forms.ChoiceField(choices=TIF_CHOICES, initial="GTC", required=False)
    post_only = forms.BooleanField(required=False)
    reduce_only = forms.BooleanField(required=False)
    take_profit = StrictDecimalField(label="Take-profit trigger", required=False)
    take_profit_limit = StrictDecimalField(label="Take-profit limit price", required=False)
    stop_loss = StrictDecimalField(label="Stop-loss trigger", required=False)
    stop_loss_limit = StrictDecimalField(label="Stop-loss limit price", required=False)
    trigger_price = StrictDecimalField(label="Trigger price", required=False)
    trigger_by = forms.ChoiceField(choices=TRIGGER_BY_CHOICES, initial="LastPrice", required=False)
    token = forms.CharField(max_length=64, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, subaccounts: list[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subaccount"].choices = [(s.pk, s.name) for s in subaccounts]
        self.fields["subaccount"].error_messages["invalid_choice"] = (
            "You may not trade on the subaccount picked (it needs the trader role there, which "
            "you may have lost since the page loaded): pick one you may trade on, or ask an "
            "admin for the role."
        )
        self.fields["token"].error_messages["required"] = (
            "The ticket has no token; reload the page before sending an order."
        )

    def review(
        self,
        market: Market,
        *,
        prices: BestPrices,
        taker_fee_bps: Decimal | None,
        confirm_notional: Decimal | None,
        guard: ConfirmGuard | None = None,
    ) -> TicketReview:
        """The domain's check of what was typed (call after `is_valid()`)."""
        return review_ticket(
            self.cleaned_data,
            market,
            prices=prices,
            taker_fee_bps=taker_fee_bps,
            confirm_notional=confirm_notional,
            guard=guard,
        )


MARKET_SYMBOL = re.compile(r"^[A-Z0-9]{1,20}(_[A-Z0-9]{1,20}){1,3}$")


class HistoryFilterForm(forms.Form):
    """The history page's filters, from the query string: what to show and in which market
    (empty: every market). A filter not understood is named by `notices`, never dropped in
    silence."""

    kind = forms.ChoiceField(
        label="Show", choices=[("fills", "Fills"), ("orders", "Orders")], required=False
    )
    symbol = forms.CharField(label="Market", required=False, max_length=200)

    def clean_symbol(self) -> str:
        typed = self.cleaned_data.get("symbol", "")
        symbol = typed.strip().upper()
        if symbol and not MARKET_SYMBOL.match(symbol):
            raise forms.ValidationError(
                f"“{typed}” is not a market symbol (such as SOL_USDC or SOL_USDC_PERP)."
            )
        return symbol

    def filters(self) -> tuple[str, str]:
        """The kind ("fills" or "orders") and market ("": every market) to show: those asked
        for, or, for one not understood, the default (fills, every market)."""
        self.is_valid()
        data = self.cleaned_data
        return data.get("kind") or "fills", data.get("symbol") or ""

    def notices(self) -> list[str]:
        """One sentence per filter not understood, saying what is shown instead."""
        kind, _ = self.filters()
        out = []
        if "kind" in self.errors:
            typed = self.data.get("kind", "")
            out.append(f"Show: “{typed}” is not fills or orders; showing fills instead.")
        if "symbol" in self.errors:
            reason = " ".join(self.errors["symbol"])
            out.append(f"Market filter not understood: {reason} Showing {kind} of every market.")
        return out
