"""The form a member fills in to issue a script key."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms

from accounts.models import Subaccount

EXPIRY_CHOICES = [
    ("1", "1 day"),
    ("7", "7 days"),
    ("30", "30 days"),
    ("90", "90 days"),
    ("365", "1 year"),
]
PERMISSION_CHOICES = [("read", "Read only"), ("trade", "Read and trade")]
NO_TOKEN = "The form has no token; reload the page before issuing a key."


def new_form_token() -> str:
    """A fresh one-time token for the issue form: the key it issues records it."""
    return secrets.token_urlsafe(18)


class ScriptKeyForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What the script is, e.g. 'grid bot'.")
    subaccounts = forms.ModelMultipleChoiceField(
        queryset=Subaccount.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    permissions = forms.ChoiceField(choices=PERMISSION_CHOICES, initial="read")
    days = forms.TypedChoiceField(
        choices=EXPIRY_CHOICES, coerce=int, initial="30", label="Expires after"
    )
    ip_allowlist = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="IP allow-list",
        help_text="Addresses or networks, one per line; empty: any address.",
    )
    public_key = forms.CharField(
        required=False,
        max_length=100,
        label="Your public key (optional)",
        help_text="Paste the base64 public key of a pair you generated; empty: the desk "
        "generates a pair and shows its secret once.",
    )
    # Not `required`: a hidden field's error would not be shown; `clean` says it instead.
    token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, subaccounts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subaccounts"].queryset = subaccounts
        if not self.is_bound:
            self.fields["token"].initial = new_form_token()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "token" in self.errors or not cleaned.get("token"):
            self.errors.pop("token", None)  # a hidden field's error would not be shown
            self.add_error(None, NO_TOKEN)
        return cleaned
