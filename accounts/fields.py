"""The project's form fields for numbers: every amount a person types goes through the
exchange client's one parser (`trading.backpack.decimals.parse_decimal`).

Django's `DecimalField` reads what `Decimal()` reads (exponents, underscores, other scripts'
digits), so no project form uses it: `tests/dashboard/test_number_fields.py` walks every form
and fails on a numeric field that is not one of these.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection

from trading.backpack.decimals import MAX_INTEGER_DIGITS, MAX_PLACES, parse_decimal, shown
from trading.backpack.errors import InvalidNumberError
from trading.formatting import plain

ASSET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
SQLITE_DIGITS = 15  # Django reads a SQLite decimal column back through a 15-digit float


def storable_digits() -> int | None:
    """Significant digits the database keeps exactly in a decimal column (None: all of the
    column's 36). A value the embedded SQLite would round is refused, not stored misread."""
    return SQLITE_DIGITS if connection.vendor == "sqlite" else None


def _widget(attrs: dict[str, Any] | None = None) -> forms.TextInput:
    # Never type="number": browsers read and rewrite its value by the reader's locale.
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})


class StrictDecimalField(forms.Field):
    """A money amount typed as plain digits with at most one decimal point.

    ``allow_negative`` lets a leading minus through; ``above_zero`` refuses zero too;
    ``stored`` (the value goes into a database column) refuses more significant digits than
    the database keeps exactly. The cleaned value is the exact `Decimal` typed (or None when
    empty and not required).
    """

    default_error_messages = {"required": "A number is required here."}

    def __init__(
        self,
        *,
        allow_negative: bool = False,
        above_zero: bool = False,
        max_integer_digits: int = MAX_INTEGER_DIGITS,
        max_places: int = MAX_PLACES,
        stored: bool = False,
        placeholder: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.stored = stored
        self.allow_negative = allow_negative
        self.above_zero = above_zero
        self.max_integer_digits = max_integer_digits
        self.max_places = max_places
        attrs = {"placeholder": placeholder} if placeholder else None
        kwargs.setdefault("widget", _widget(attrs))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        return strict_decimal(
            value,
            allow_negative=self.allow_negative,
            max_integer_digits=self.max_integer_digits,
            max_places=self.max_places,
            max_significant=storable_digits() if self.stored else None,
        )

    def validate(self, value: Decimal | None) -> None:
        super().validate(value)
        if self.above_zero and value is not None and value <= 0:
            raise ValidationError(
                f"{shown(format(value, 'f'))} must be above zero.", code="not_positive"
            )

    def prepare_value(self, value: Any) -> Any:
        # A stored setting reads as typed: 1000, never 1000.000000000000000000.
        return plain(value) if isinstance(value, Decimal) else value


def strict_decimal(value: Any, **rules: Any) -> Decimal:
    """`parse_decimal` for a form: its refusal as a `ValidationError` (the reason, which
    quotes what was typed, without a field name: the form shows the label)."""
    try:
        number = parse_decimal(value, field="value", **rules)
    except InvalidNumberError as error:
        raise ValidationError(error.reason, code=error.kind) from None
    assert number is not None
    return number


class StrictAssetAmountsField(forms.CharField):
    """Lines of 'ASSET AMOUNT' (e.g. 'USDC 1000') cleaned into asset -> `Decimal`, each
    amount read by the strict parser (and storable exactly: see `storable_digits`). ``what``
    names the amount in messages ("minimum"). A message names the line at fault."""

    def __init__(self, *, what: str, **kwargs: Any) -> None:
        self.what = what
        self.known_assets: frozenset[str] | None = None  # the form sets it when it knows them
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> dict[str, Decimal]:
        text = super().clean(value)
        return parse_asset_amounts(text or "", what=self.what, known_assets=self.known_assets)


def parse_asset_amounts(
    text: str, *, what: str, known_assets: frozenset[str] | None = None
) -> dict[str, Decimal]:
    """Parse lines of 'ASSET AMOUNT' into asset -> Decimal (zero or more).

    The asset and the amount are separated by spaces, a colon or a comma after the asset;
    a comma inside the amount is refused (it could be a decimal comma or a thousands
    separator). Raises `ValidationError` with one message per line at fault, naming it, so
    every bad line is reported at once.
    """
    result: dict[str, Decimal] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            parsed = _asset_amount(line, what=what, known_assets=known_assets)
        except ValidationError as error:
            problems.append(f"Line {number}: {error.messages[0]}")
            continue
        if parsed is None:
            continue
        asset, amount = parsed
        if asset in result:
            problems.append(f"Line {number}: {asset} is listed twice.")
            continue
        result[asset] = amount
    if problems:
        raise ValidationError(problems)
    return result


def _asset_amount(
    line: str, *, what: str, known_assets: frozenset[str] | None
) -> tuple[str, Decimal] | None:
    """One line's asset and amount (None for a blank line), or `ValidationError` saying what
    is wrong with it (without the line's number)."""
    words = line.split()
    if not words:
        return None
    if len(words) == 1 and ":" in words[0]:
        words = words[0].split(":", 1)
    elif len(words) == 3 and words[1] in (":", ","):
        words = [words[0], words[2]]
    elif words[0][-1:] in (":", ","):
        words[0] = words[0][:-1]
    if len(words) != 2:
        raise ValidationError(f"write the asset and the {what}, e.g. 'USDC 1000'.")
    asset, raw = words[0].upper(), words[1]
    if not set(asset) <= ASSET_CHARS or len(asset) > 20:
        raise ValidationError(f"{shown(words[0])} is not an asset symbol.")
    amount = strict_decimal(raw, max_significant=storable_digits())
    if known_assets is not None and asset not in known_assets:
        raise ValidationError(f"the exchange has no asset {asset}.")
    return asset, amount


def format_asset_amounts(amounts: dict[str, Decimal]) -> str:
    """The inverse of `parse_asset_amounts`, for a form's initial text."""
    return "\n".join(f"{asset} {plain(amount)}" for asset, amount in amounts.items())
