"""The one formatting rule for every number the desk shows: pages, fragments, CSV and alerts.

    price(value, market)     the market's tick decimals                 "150.10"
    quantity(value, market)  the market's step decimals                 "0.50"
    usdc(value)              thousands separators, two decimals         "12,345.60"
                             (`signed`: a gain or a loss, "+12,345.60")
    percent(fraction)        a ratio as a percentage (margin included)  "+1.23%", "4.50%"
    plain(value)             a stored setting or a typed amount, never
                             a trailing zero nor an exponent            "1000", "0.5"
    full(value, places)      an amount that moves (a withdrawal): every
                             decimal it has, at least `places`, grouped "10.000000001", "125.50"
    fixed(value, places)     the rule underneath: exactly `places`
                             decimals, half-up, optionally grouped      "1,234.50"
                             (`down`: a maximum, never shown above what it is)

A CSV writes fees as charged, to the last decimal (`plain`): fees are added up from a CSV, and
a sum of fees rounded to the cent would not reconcile with the exchange's.

Every function takes a ``Decimal`` (or ``None``, shown as a dash) and never goes through a
float or exponent notation. Domain code (services, alerts, forms) may use these for the words it
writes; this module imports nothing of Django or of the desk around it, so the accounts app can
use it too. Templates reach the same functions through ``{% load numbers %}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol

DASH = "–"
USDC_PLACES = 2
PERCENT_PLACES = 2

_STEPS = {places: Decimal(1).scaleb(-places) for places in range(0, 19)}


class HasSteps(Protocol):
    """A market as the rule needs it (``trading.backpack.Market`` has both)."""

    tick_size: Decimal
    step_size: Decimal


def places_of(step: Decimal | None) -> int:
    """How many decimals a tick or step size has (0.01 -> 2, 1 -> 0, 10 -> 0)."""
    if step is None or not step.is_finite() or step <= 0:
        return 2
    exponent = step.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def price_places(market: HasSteps) -> int:
    return places_of(market.tick_size)


def quantity_places(market: HasSteps) -> int:
    return places_of(market.step_size)


def as_decimal(value: Any) -> Decimal | None:
    """`value` (Decimal, int or text) as a finite Decimal, or None when it is not one."""
    if type(value) is Decimal:  # the common case first: the order book renders 50 times a second
        return value if value.is_finite() else None
    if value is None or value == "" or isinstance(value, bool | float):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def fixed(
    value: Decimal | None,
    places: int,
    *,
    grouped: bool = False,
    empty: str = DASH,
    down: bool = False,
) -> str:
    """Exactly `places` decimals, half-up; thousands grouped with commas when `grouped`.

    `down`: rounded toward zero instead, for a figure that is a maximum (what can be
    withdrawn, what a limit leaves): typed back as shown, it is never refused as too much."""
    number = as_decimal(value)
    if number is None:
        return empty
    # No clamping for the usual places (the relay formats the book's 160 figures up to 50
    # times a second).
    step = _STEPS.get(places) or _STEPS[max(0, min(int(places), 18))]
    try:
        number = number.quantize(step, rounding=ROUND_DOWN if down else ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the context holds: show it unrounded
        pass
    if number.is_zero():
        number = abs(number)  # no "-0.00"
    return f"{number:,f}" if grouped else f"{number:f}"


def plain(value: Decimal | None, *, empty: str = DASH) -> str:
    """Without trailing zeros after the point and never an exponent: 1000.000 -> "1000",
    1E+3 -> "1000", 0.50 -> "0.5"; zero of either sign is "0"."""
    number = as_decimal(value)
    if number is None:
        return empty
    if number.is_zero():
        return "0"
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def full(value: Decimal | None, places: int, *, empty: str = DASH) -> str:
    """An amount that moves (a withdrawal's quantity), grouped, with every decimal it has and
    at least `places` (the asset's display places): 125.5 -> "125.50", 10.000000001000 ->
    "10.000000001". Nothing of what is sent is rounded away."""
    number = as_decimal(value)
    if number is None:
        return empty
    exponent = number.normalize().as_tuple().exponent
    own = max(0, -exponent) if isinstance(exponent, int) else 0
    return fixed(number, max(places, own), grouped=True, empty=empty)


def price(value: Decimal | None, market: HasSteps, *, empty: str = DASH) -> str:
    """A price with the market's tick decimals."""
    return fixed(value, price_places(market), empty=empty)


def quantity(value: Decimal | None, market: HasSteps, *, empty: str = DASH) -> str:
    """A quantity with the market's step decimals."""
    return fixed(value, quantity_places(market), empty=empty)


def usdc(value: Decimal | None, *, signed: bool = False, empty: str = DASH) -> str:
    """A value in USDC: thousands separators and two decimals ("12,345.60"); `signed` for a
    gain or a loss, which says its sign as its percentage does ("+12,345.60", "-3.10")."""
    text = fixed(value, USDC_PLACES, grouped=True, empty=empty)
    number = as_decimal(value)
    if signed and number is not None and number > 0 and text != "0.00":
        return f"+{text}"
    return text


def percent(
    fraction: Decimal | None,
    places: int = PERCENT_PLACES,
    *,
    signed: bool = True,
    empty: str = DASH,
) -> str:
    """A ratio as a percentage: 0.0123 -> "+1.23%" (signed) or "1.23%"."""
    number = as_decimal(fraction)
    if number is None:
        return empty
    text = fixed(number * 100, places)
    sign = "+" if signed and number > 0 else ""
    return f"{sign}{text}%"


def utc_time(value: datetime | int | None, *, with_date: bool = False) -> str:
    """A UTC time (datetime, epoch ms or µs) as HH:MM:SS (optionally with the date)."""
    if value is None:
        return DASH
    if isinstance(value, int):
        seconds = value / 1_000_000 if value > 10**14 else value / 1000
        value = datetime.fromtimestamp(seconds, UTC)
    pattern = "%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S"
    return value.astimezone(UTC).strftime(pattern)
