"""Order rules of a market: rounding to tick and step, minimums, price bands.

``validate_order`` is what the order ticket calls as the user types: it returns the values
rounded onto the market's grid plus a list of problems in words a trader understands. The
client calls it before sending, so an order never trips "Quantity decimal too long".

Rounding: quantity always down to ``stepSize`` (never more than asked); price to
``tickSize`` in the trader's favour - a bid rounds down, an ask rounds up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from .account_types import OrderType, Side
from .decimals import parse_decimal
from .errors import InvalidNumberError
from .market_types import Market, OrderBookState


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an order; ``field`` is the ticket field to highlight."""

    field: str
    message: str


@dataclass(frozen=True, slots=True)
class OrderCheck:
    """Result of ``validate_order``: rounded values and the problems found."""

    symbol: str
    side: Side | None
    order_type: OrderType | None
    quantity: Decimal | None
    price: Decimal | None
    quote_quantity: Decimal | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """True when the order can be sent as it stands."""
        return not self.problems

    def first_problem(self) -> Problem | None:
        """The first problem, if any."""
        return self.problems[0] if self.problems else None


def plain(value: Decimal) -> str:
    """A decimal as plain text for the wire: no exponent (``1E+1`` -> ``10``)."""
    return format(value, "f")


_POWER_OF_TEN: dict[Decimal, bool] = {}
# Rounding onto a grid needs the value's digits plus the grid's decimals; the default
# context's 28 digits would make quantize fail for a large value on a fine grid.
_WIDE = Context(prec=80)


def _is_power_of_ten(step: Decimal) -> bool:
    known = _POWER_OF_TEN.get(step)
    if known is None:
        known = _POWER_OF_TEN[step] = step.normalize().as_tuple().digits == (1,)
    return known


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """Round ``value`` down to a multiple of ``step`` (written with ``step``'s decimals)."""
    if not step > 0:
        return value
    if _is_power_of_ten(step):
        return value.quantize(step, ROUND_FLOOR, _WIDE)
    units = _WIDE.divide(value, step).to_integral_value(ROUND_FLOOR, _WIDE)
    return _WIDE.multiply(units, step).quantize(step, context=_WIDE)


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    """Round ``value`` up to a multiple of ``step`` (written with ``step``'s decimals)."""
    if not step > 0:
        return value
    if _is_power_of_ten(step):
        return value.quantize(step, ROUND_CEILING, _WIDE)
    units = _WIDE.divide(value, step).to_integral_value(ROUND_CEILING, _WIDE)
    return _WIDE.multiply(units, step).quantize(step, context=_WIDE)


def round_price(price: Decimal, market: Market, side: Side | str | None = None) -> Decimal:
    """Price onto the tick grid: bids down, asks up, unknown side to the nearest tick."""
    tick = market.tick_size
    if side == Side.BID:
        return floor_to(price, tick)
    if side == Side.ASK:
        return ceil_to(price, tick)
    if not tick > 0:
        return price
    units = _WIDE.divide(price, tick).to_integral_value(ROUND_HALF_EVEN, _WIDE)
    return _WIDE.multiply(units, tick).quantize(tick, context=_WIDE)


def round_quantity(quantity: Decimal, market: Market) -> Decimal:
    """Quantity down onto the step grid."""
    return floor_to(quantity, market.step_size)


def to_decimal_input(value: Any, field: str) -> tuple[Decimal | None, Problem | None]:
    """Read what a user typed (plain text, int or Decimal) as a Decimal, or explain why not
    (``parse_decimal``'s rules; the sign is left to the order's own checks)."""
    try:
        number = parse_decimal(value, field=field, allow_negative=True, required=False)
    except InvalidNumberError as error:
        return None, Problem(field, error.message)
    return number, None


def quick_check(
    market: Market,
    side: Any,
    order_type: Any,
    quantity: Any,
    price: Any,
) -> tuple[Decimal, Decimal | None] | None:
    """The common case, cheaply: Decimal quantity (and price) already on the market's grid
    and inside its limits, on an open market. Returns the values written with the grid's
    decimals, or ``None`` when anything needs ``validate_order``'s full check."""
    if type(quantity) is not Decimal or market.order_book_state != OrderBookState.OPEN:
        return None
    if not isinstance(side, str) or side not in _SIDE_VALUES:
        return None
    step = market.step_size
    try:
        if order_type == "Limit":
            if type(price) is not Decimal or not _is_power_of_ten(market.tick_size):
                return None
            on_tick = price.quantize(market.tick_size, ROUND_FLOOR)
            if on_tick != price or not market.min_price <= on_tick or on_tick <= 0:
                return None
            if market.max_price is not None and on_tick > market.max_price:
                return None
        elif order_type == "Market" and price is None:
            on_tick = None
        else:
            return None
        if not _is_power_of_ten(step):
            return None
        on_step = quantity.quantize(step, ROUND_FLOOR)
    except ArithmeticError:
        return None
    if on_step != quantity or on_step < market.min_quantity or on_step <= 0:
        return None
    if market.max_quantity is not None and on_step > market.max_quantity:
        return None
    return on_step, on_tick


_SIDE_VALUES = frozenset(("Bid", "Ask"))


def validate_order(
    market: Market,
    *,
    side: Side | str | None,
    order_type: OrderType | str | None,
    quantity: Any = None,
    price: Any = None,
    quote_quantity: Any = None,
    reference_price: Decimal | None = None,
) -> OrderCheck:
    """Check an order against ``market``'s rules; return rounded values and problems.

    ``reference_price`` (last or mark price) enables the price band check. Problems name the
    field and say what is wrong, e.g. "quantity 1.234 is not a multiple of the step 0.01
    for SOL_USDC".
    """
    problems: list[Problem] = []
    sym = market.symbol
    side_v = _enum(Side, side, "side", problems)
    type_v = _enum(OrderType, order_type, "orderType", problems)
    qty, bad = to_decimal_input(quantity, "quantity")
    if bad:
        problems.append(bad)
    px, bad = to_decimal_input(price, "price")
    if bad:
        problems.append(bad)
    quote, bad = to_decimal_input(quote_quantity, "quoteQuantity")
    if bad:
        problems.append(bad)

    if market.order_book_state not in (OrderBookState.OPEN, OrderBookState.LIMIT_ONLY):
        if market.order_book_state != OrderBookState.POST_ONLY or type_v != OrderType.LIMIT:
            problems.append(
                Problem("symbol", f"{sym} is {market.order_book_state.value}: no new orders.")
            )
    if market.order_book_state == OrderBookState.LIMIT_ONLY and type_v == OrderType.MARKET:
        problems.append(Problem("orderType", f"{sym} accepts only limit orders now."))

    rounded_qty = None
    if qty is not None:
        rounded_qty = _on_grid(round_quantity, qty, market, "quantity", problems)
    if qty is not None and rounded_qty is not None:
        if qty <= 0:
            problems.append(Problem("quantity", f"quantity must be above zero, got {plain(qty)}."))
        elif rounded_qty <= 0:  # less than one step: rounding would give no order at all
            smallest = max(market.step_size, market.min_quantity)
            problems.append(
                Problem(
                    "quantity",
                    f"quantity {plain(qty)} is less than the step {plain(market.step_size)} "
                    f"for {sym}; the smallest order is {plain(smallest)}.",
                )
            )
        elif rounded_qty != qty:
            problems.append(
                Problem(
                    "quantity",
                    f"quantity {plain(qty)} is not a multiple of the step "
                    f"{plain(market.step_size)} for {sym}; use {plain(rounded_qty)}.",
                )
            )
        if rounded_qty > 0 and rounded_qty < market.min_quantity:
            problems.append(
                Problem(
                    "quantity",
                    f"quantity {plain(rounded_qty)} is below the minimum "
                    f"{plain(market.min_quantity)} for {sym}.",
                )
            )
        if market.max_quantity is not None and rounded_qty > market.max_quantity:
            problems.append(
                Problem(
                    "quantity",
                    f"quantity {plain(rounded_qty)} is above the maximum "
                    f"{plain(market.max_quantity)} for {sym}.",
                )
            )
    elif quote is None and type_v is not None and not _has(problems, "quantity"):
        problems.append(Problem("quantity", "quantity is required."))
    if quote is not None and quote <= 0:
        problems.append(Problem("quoteQuantity", "quoteQuantity must be above zero."))

    rounded_px = None
    if type_v == OrderType.LIMIT and px is None and not _has(problems, "price"):
        problems.append(Problem("price", "price is required for a limit order."))
    if px is not None:
        rounded_px = _on_grid(round_price, px, market, "price", problems, side_v)
    if px is not None and rounded_px is not None:
        if px <= 0:
            problems.append(Problem("price", f"price must be above zero, got {plain(px)}."))
        else:
            if rounded_px != px:
                problems.append(
                    Problem(
                        "price",
                        f"price {plain(px)} is not a multiple of the tick "
                        f"{plain(market.tick_size)} for {sym}; use {plain(rounded_px)}.",
                    )
                )
            problems.extend(_price_limits(market, rounded_px, reference_price))
    return OrderCheck(sym, side_v, type_v, rounded_qty, rounded_px, quote, tuple(problems))


def _price_limits(market: Market, px: Decimal, reference: Decimal | None) -> list[Problem]:
    out: list[Problem] = []
    sym = market.symbol
    if px < market.min_price:
        out.append(
            Problem("price", f"price {plain(px)} is below the minimum {plain(market.min_price)}.")
        )
    if market.max_price is not None and px > market.max_price:
        out.append(
            Problem("price", f"price {plain(px)} is above the maximum {plain(market.max_price)}.")
        )
    if reference is not None and reference > 0:
        if market.max_multiplier is not None and px > reference * market.max_multiplier:
            out.append(
                Problem(
                    "price",
                    f"price {plain(px)} is more than {plain(market.max_multiplier)}x the last "
                    f"price {plain(reference)} of {sym} (price band).",
                )
            )
        if market.min_multiplier is not None and px < reference * market.min_multiplier:
            out.append(
                Problem(
                    "price",
                    f"price {plain(px)} is less than {plain(market.min_multiplier)}x the last "
                    f"price {plain(reference)} of {sym} (price band).",
                )
            )
    return out


def _on_grid(
    rounder: Any, value: Decimal, market: Market, field: str, problems: list[Problem], *side: Any
) -> Decimal | None:
    """``rounder(value, market)``, or a problem when the value cannot be put on the grid."""
    try:
        return rounder(value, market, *side)
    except ArithmeticError:
        problems.append(
            Problem(field, f"{field} {plain(value)} is too large for {market.symbol}'s grid.")
        )
        return None


def _enum(cls: Any, value: Any, field: str, problems: list[Problem]) -> Any:
    if value is None or value == "":
        problems.append(Problem(field, f"{field} is required."))
        return None
    member = cls._value2member_map_.get(value) if isinstance(value, str) else None
    if member is None:
        known = ", ".join(m.value for m in cls.__members__.values())
        problems.append(Problem(field, f"{field} '{value}' is not one of {known}."))
        return None
    return member


def _has(problems: list[Problem], field: str) -> bool:
    return any(p.field == field for p in problems)
