"""Every number a person types into any form of the project is read strictly.

`test_every_form_is_listed` walks every `Form` class defined in the project's packages: a
new form without an entry in `FORMS` fails the build, and `test_numeric_fields_are_strict`
fails on a numeric field (Django's Decimal/Float/Integer fields, a text input for decimals,
or a field named like an amount) that is not one of `accounts.fields`' strict fields. The
property tests then post arbitrary text (Unicode digits, exponents, separators, huge and
tiny magnitudes) into every strict field of every form: each value is either accepted as
exactly the number typed or refused with a message, and nothing raises.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django import forms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.fields import StrictAssetAmountsField, StrictDecimalField
from accounts.models import Subaccount

PACKAGES = ("accounts", "dashboard", "trading")
SKIP = re.compile(r"\.(migrations|management)\b|^trading\.backpack\b")
AMOUNT_NAME = re.compile(r"price|quantity|amount|minimum|limit|notional|balance|profit|loss")
PLAIN = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
SUBACCOUNTS = [SimpleNamespace(pk=1, name="Main desk")]

# How to build each form of the project with posted `data` (keyword arguments as its view
# passes them), and the other fields it needs to be valid.
FORMS: dict[str, Callable[[dict[str, Any]], forms.BaseForm]] = {}


def _form(path: str, base: dict[str, Any] | None = None, **kwargs: Any) -> None:
    def build(data: dict[str, Any]) -> forms.BaseForm:
        module, name = path.rsplit(".", 1)
        cls = getattr(importlib.import_module(module), name)
        return cls({**(base or {}), **data}, **kwargs)

    FORMS[path] = build


TICKET = {
    "subaccount": "1",
    "side": "Bid",
    "order_type": "Limit",
    "time_in_force": "GTC",
    "token": "t" * 20,
}
_form("trading.forms.TicketForm", TICKET, subaccounts=SUBACCOUNTS)
_form("trading.balances.forms.ThresholdsForm", {"asset_0": "USDC"})
_form("trading.risk.forms.RiskLimitsForm", {"otp_code": "123456"})
_form("trading.withdrawals.forms.WithdrawalRequestForm", {"asset": "USDC", "address_id": "1"})
_form(
    "trading.ladder.forms.LadderForm",
    {"side": "Bid", "distribution": "flat", "count": "10", "from_price": "1", "to_price": "2"},
)
_form("trading.twap.forms.TwapForm", {"side": "Bid", "duration_s": "60", "interval_s": "10"})
_form("trading.exits.forms.ExitForm", {"symbol": "SOL_USDC_PERP", "trigger_price": "140"})
_form("trading.forms.HistoryFilterForm", {"kind": "fills"})
_form(
    "trading.gateway.forms.ScriptKeyForm",
    {"name": "grid bot", "permissions": "read", "days": "30"},
    subaccounts=Subaccount.objects.none(),
)
_form("accounts.forms.SubaccountSettingsForm")
_form("trading.withdrawals.forms.PolicyForm", {"otp_code": "123456"})
_form("accounts.forms.KeyFieldsMixin")
_form("accounts.forms.SubaccountAddForm")
_form("accounts.forms.KeyRotateForm")
_form("accounts.forms.MemberForm")
_form("accounts.forms.OtpCodeForm")
_form("accounts.forms.TeamSettingsForm")
_form("trading.withdrawals.forms.AddressForm")
_form("accounts.forms.TokenForm")
_form("accounts.forms.AuditFilterForm")
_form("accounts.admin.MembershipAdminForm")


def project_forms() -> list[str]:
    """Every Form class defined in the project's packages, as 'module.Name'."""
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if not SKIP.search(info.name):
                importlib.import_module(info.name)
    found: set[str] = set()
    pending = [forms.BaseForm]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in PACKAGES:
            found.add(f"{cls.__module__}.{cls.__name__}")
    return sorted(found)


def test_every_form_is_listed() -> None:
    missing = [path for path in project_forms() if path not in FORMS]

    assert not missing, f"add these forms to FORMS in {__name__}: {missing}"


def sample(path: str) -> forms.BaseForm:
    return FORMS[path]({})


def numeric_fields(form: forms.BaseForm) -> dict[str, forms.Field]:
    """Fields that hold an amount, by type, widget or name."""
    out = {}
    for name, field in form.fields.items():
        django_number = isinstance(field, forms.DecimalField | forms.FloatField)
        integer = isinstance(field, forms.IntegerField)
        decimal_input = field.widget.attrs.get("inputmode") == "decimal"
        if django_number or integer or decimal_input or AMOUNT_NAME.search(name):
            out[name] = field
    return out


@pytest.mark.parametrize("path", sorted(FORMS))
def test_numeric_fields_are_strict(path: str) -> None:
    loose = [
        name
        for name, field in numeric_fields(sample(path)).items()
        if not isinstance(field, StrictDecimalField | StrictAssetAmountsField)
    ]

    assert not loose, f"{path}: use accounts.fields' strict fields for {loose}"


def strict_fields() -> list[tuple[str, str]]:
    return [
        (path, name)
        for path in sorted(FORMS)
        for name, field in sample(path).fields.items()
        if isinstance(field, StrictDecimalField | StrictAssetAmountsField)
    ]


def test_the_walk_finds_the_amount_fields() -> None:
    found = set(strict_fields())

    assert {
        ("trading.forms.TicketForm", "price"),
        ("trading.forms.TicketForm", "quantity"),
        ("trading.forms.TicketForm", "quote_quantity"),
        ("trading.balances.forms.ThresholdsForm", "minimum_0"),
        ("trading.withdrawals.forms.WithdrawalRequestForm", "quantity"),
        ("accounts.forms.SubaccountSettingsForm", "order_confirm_notional"),
        ("accounts.forms.SubaccountSettingsForm", "order_confirm_equity_pct"),
        ("accounts.forms.SubaccountSettingsForm", "order_confirm_price_pct"),
        ("accounts.forms.SubaccountSettingsForm", "low_balance"),
        ("trading.withdrawals.forms.PolicyForm", "daily_limits"),
    } <= found


NON_ASCII_DIGITS = st.characters(categories=["Nd", "No", "Nl"]).filter(lambda c: not c.isascii())
TYPED = st.one_of(
    st.text(
        alphabet=st.one_of(
            st.sampled_from("0123456789.-+eE_,' "), NON_ASCII_DIGITS, st.characters()
        ),
        max_size=30,
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(min_value=0, max_value=Decimal(10) ** 18, places=6).map(lambda d: format(d, "f")),
    st.builds(lambda d, n: f"{d}{'0' * n}", st.integers(1, 9), st.integers(10, 60)),
    st.builds(lambda n: f"0.{'0' * n}7", st.integers(10, 60)),
    st.sampled_from(["NaN", "-Infinity", "1e3", "1E-3", "1_000", "1,5", "١٢", "１２", "", " "]),
)


def post(path: str, name: str, typed: str) -> tuple[forms.BaseForm, Any]:
    field = sample(path).fields[name]
    value = f"USDC {typed}" if isinstance(field, StrictAssetAmountsField) else typed
    form = FORMS[path]({name: value})
    form.is_valid()
    return form, field


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(strict_fields()), TYPED)
def test_every_amount_field_reads_exactly_what_was_typed_or_says_why_not(target, typed) -> None:
    path, name = target
    form, field = post(path, name, typed)

    if name in form.errors:
        assert all(message.strip() for message in form.errors[name])
        return
    cleaned = form.cleaned_data[name]
    text = typed.strip()
    if isinstance(field, StrictAssetAmountsField):
        if not text:
            assert cleaned == {}
            return
        assert len(typed.split()) == 1 and PLAIN.fullmatch(text)
        assert cleaned == {"USDC": Decimal(text)}
        return
    if not text:
        assert cleaned is None and not field.required
        return
    assert PLAIN.fullmatch(text), f"{path}.{name} accepted {typed!r}"
    assert cleaned == Decimal(text)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "1e3",
            "'1e3' has an exponent; write the number out in full, like 1500 rather than 1.5e3.",
        ),
        ("1_000", "'1_000' has an underscore; write only digits and one decimal point."),
        ("١٢", "'١٢' has a digit that is not 0-9; type the number with plain digits."),
        ("NaN", "'NaN' is not a number."),
    ],
)
@pytest.mark.parametrize("target", strict_fields(), ids=lambda t: f"{t[0]}.{t[1]}")
def test_every_amount_field_refuses_what_decimal_would_misread(target, typed, message) -> None:
    path, name = target
    form, field = post(path, name, typed)

    expected = f"Line 1: {message}" if isinstance(field, StrictAssetAmountsField) else message
    assert form.errors[name] == [expected]


def test_the_walk_would_catch_a_loose_number_field() -> None:
    class Loose(forms.Form):
        fee = forms.DecimalField()
        size = forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}))
        daily_limit = forms.CharField()
        note = forms.CharField()

    assert sorted(numeric_fields(Loose())) == ["daily_limit", "fee", "size"]


TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NUMBER_INPUT = re.compile(r"<input\b[^>]*>")


def hand_written_number_inputs() -> list[tuple[str, str]]:
    """(template, name) of every `<input>` written in a template for a number."""
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for tag in NUMBER_INPUT.findall(template.read_text()):
            if 'inputmode="decimal"' in tag or 'type="number"' in tag:
                name = re.search(r'name="([^"]+)"', tag)
                found.append((template.name, name.group(1) if name else "?"))
    return found


def test_every_number_input_in_a_template_posts_to_a_strict_field() -> None:
    strict_names = {name for _path, name in strict_fields()}
    inputs = hand_written_number_inputs()

    assert ("withdrawals.html", "quantity") in inputs  # the walk sees the hand-written inputs
    assert not [tag for tag in inputs if tag[1] not in strict_names]
