"""Forms: parse what people type, with one clear message per mistake."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.fields import (
    StrictAssetAmountsField,
    StrictDecimalField,
    format_asset_amounts,
    parse_asset_amounts,
)
from accounts.keys import KeyCheckError, key_pair_parse
from accounts.models import Role

__all__ = ["format_asset_amounts", "parse_asset_amounts"]  # used by the views


def form_problems(form: forms.Form) -> list[str]:
    """Each field's problem as one line, named by the label the page shows beside the field
    (Django's own for a field without one: "Distribution", never "distribution"):
    "From price: Enter a number."; a problem of a hidden field (no label on the page) or of
    the whole form as it is."""
    return [
        f"{form[name].label}: {' '.join(errors)}"
        if name in form.fields and not form[name].is_hidden
        else " ".join(errors)
        for name, errors in form.errors.items()
    ]


class CodeInput(forms.TextInput):
    """A two-factor code field that comes back empty on a refused form: a code is used once."""

    def format_value(self, value: Any) -> str | None:
        return None


def fresh_code_field(why: str) -> forms.CharField:
    """The two-factor code a key, money or limit change asks for (`accounts.fresh_code`).
    Not required by the form: the service refuses a missing code as a wrong one, beside this
    field, and audits the refusal."""
    return forms.CharField(
        label="Two-factor code",
        help_text=why,
        max_length=20,
        required=False,
        widget=CodeInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class KeyFieldsMixin(forms.Form):
    """The keypair fields; the secret is never rendered back into the page."""

    api_public_key = forms.CharField(
        label="API key (public, base64)",
        max_length=200,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    api_secret = forms.CharField(
        label="API secret (base64)",
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("api_public_key") and data.get("api_secret"):
            try:
                key_pair_parse(api_public_key=data["api_public_key"], api_secret=data["api_secret"])
            except KeyCheckError as exc:
                self.add_error(exc.field, exc.message)
        return data


class SubaccountAddForm(KeyFieldsMixin):
    name = forms.CharField(max_length=80)
    exchange_label = forms.CharField(label="Label on the exchange", max_length=80, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    otp_code = fresh_code_field("Needed to add a subaccount: its key trades and withdraws.")
    field_order = ["name", "exchange_label", "api_public_key", "api_secret", "notes", "otp_code"]


class KeyRotateForm(KeyFieldsMixin):
    otp_code = fresh_code_field("Needed to replace the key: it trades and withdraws.")


class SubaccountSettingsForm(forms.Form):
    exchange_label = forms.CharField(label="Label on the exchange", max_length=80, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    is_active = forms.BooleanField(label="Active", required=False)
    order_confirm_notional = StrictDecimalField(
        label="Ask for confirmation above this order notional",
        required=False,
        above_zero=True,
        stored=True,
    )
    order_confirm_equity_pct = StrictDecimalField(
        label="Ask for confirmation above this share of the subaccount's equity (%)",
        above_zero=True,
        max_integer_digits=5,
        max_places=4,
        error_messages={
            "required": "The fat-finger guard cannot be removed: give a share of equity "
            "(10 is the default)."
        },
    )
    order_confirm_price_pct = StrictDecimalField(
        label="Ask for confirmation for a limit price this far through the book (%)",
        above_zero=True,
        max_integer_digits=5,
        max_places=4,
        error_messages={
            "required": "The fat-finger guard cannot be removed: give a price distance "
            "(5 is the default)."
        },
    )
    low_balance = StrictAssetAmountsField(
        label="Warn when a balance falls below (one 'ASSET MINIMUM' per line)",
        what="minimum",
        required=False,
    )

    def __init__(self, *args: Any, known_assets: frozenset[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["low_balance"].known_assets = known_assets


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices)
    otp_code = forms.CharField(
        label="Two-factor code",
        help_text="Needed to make someone an admin: admins approve addresses and withdrawals.",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class TeamSettingsForm(forms.Form):
    """The team's time zone (its name checked by `accounts.team.zone_parse`, whose message
    says what to type) and the fresh code changing it takes."""

    time_zone = forms.CharField(label="Time zone", max_length=64, required=False)
    otp_code = fresh_code_field(
        "Needed to change the zone: the daily loss limits, the withdrawal limits and the PnL "
        "days start at its midnight."
    )


class OtpCodeForm(forms.Form):
    otp_code = forms.CharField(
        label="Two-factor code",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class TokenForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app (or a backup code)",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


UNREADABLE_DATE = "The date could not be read: type it as YYYY-MM-DD, e.g. 2026-01-31."


class AuditFilterForm(forms.Form):
    subaccount = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    actor = forms.CharField(max_length=150, required=False)
    action = forms.ChoiceField(required=False)
    date_from = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": UNREADABLE_DATE},
    )
    date_to = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": UNREADABLE_DATE},
    )

    def __init__(self, *args, subaccounts=(), actions=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subaccount"].choices = [("", "All")] + [(s.pk, s.name) for s in subaccounts]
        self.fields["action"].choices = [("", "All")] + [(a, a) for a in actions]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        for name in ("date_from", "date_to"):
            if self.has_error(name, "invalid"):  # not read as a date: a date box would drop it
                self.fields[name].widget.input_type = "text"
                self.fields[name].widget.attrs.pop("type", None)
        return data

    def problems(self) -> list[str]:
        """Each filter's problem as one line ("Date from: The date could not be read...")."""
        return form_problems(self)
