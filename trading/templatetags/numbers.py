"""`{% load numbers %}`: the template side of `trading.formatting`, the one rule for numbers.

    {{ value|price:market }}     the market's tick decimals
    {{ value|quantity:market }}  the market's step decimals
    {{ value|usdc }}             "12,345.60"; `usdc_signed` for a gain or loss, "+12,345.60"
    {{ value|percent }}          a fraction as "4.50%" (no sign); `percent_signed` for "+4.50%"
    {{ value|plain }}            a stored setting without trailing zeros ("1000", never "1E+3")
    {{ value|fixed:places }}     exactly `places` decimals, thousands grouped
    {{ value|utc_datetime }}     a time in UTC with its date, "2026-01-02 03:04:05" (the
                                 template writes the "UTC" label beside it)

Each filter shows "" for a missing value (the template says what to show instead).
"""

from __future__ import annotations

from typing import Any

from django import template

from trading import formatting

register = template.Library()


@register.filter
def fixed(value: Any, places: Any = 2) -> str:
    """`Decimal("1234.5")|fixed:2` -> "1,234.50"; None or a non-number -> ""."""
    try:
        places = int(places)
    except (TypeError, ValueError):
        return ""
    return formatting.fixed(value, places, grouped=True, empty="")


@register.filter
def price(value: Any, market: Any) -> str:
    return formatting.price(value, market, empty="")


@register.filter
def quantity(value: Any, market: Any) -> str:
    return formatting.quantity(value, market, empty="")


@register.filter
def usdc(value: Any) -> str:
    return formatting.usdc(value, empty="")


@register.filter
def usdc_signed(value: Any) -> str:
    return formatting.usdc(value, signed=True, empty="")


@register.filter
def percent(value: Any, places: Any = formatting.PERCENT_PLACES) -> str:
    return formatting.percent(value, int(places), signed=False, empty="")


@register.filter
def percent_signed(value: Any, places: Any = formatting.PERCENT_PLACES) -> str:
    return formatting.percent(value, int(places), empty="")


@register.filter
def plain(value: Any) -> str:
    return formatting.plain(value, empty="")


@register.filter
def utc_datetime(value: Any) -> str:
    return "" if value is None else formatting.utc_time(value, with_date=True)
