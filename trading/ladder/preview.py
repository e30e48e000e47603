"""The preview of a ladder: from price, to price, count, size distribution, total size →
the children's prices on the tick, sizes on the step, notional and estimated fee.

Pure: given the market's rules it computes everything and refuses with a message that says
what to change. Prices run evenly from ``from_price`` to ``to_price`` (both included), each
rounded away from the book's other side (bids down, asks up), so no child is more aggressive
than asked. Sizes follow weights: flat (all equal), increasing or decreasing (1, 2, … n from
``from_price`` to ``to_price``, or the reverse); each is rounded down to the step and what
rounding left over (less than a step per child) goes to the heaviest child, so the sizes add
up to the total exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from trading.backpack import Market, Side
from trading.backpack.rules import floor_to, round_price

MIN_ORDERS = 2
MAX_ORDERS = 50
"""At most one batch request: the exchange takes 50 orders per ``POST /api/v1/orders``."""
BPS = Decimal(10_000)
ZERO = Decimal(0)


class Distribution(StrEnum):
    """How the total size is spread over the children, from ``from_price`` to ``to_price``."""

    FLAT = "flat"
    INCREASING = "increasing"
    DECREASING = "decreasing"


class LadderError(ValueError):
    """The ladder cannot be built as asked; the message says what to change."""


@dataclass(frozen=True)
class LadderSpec:
    """What the trader asked for."""

    symbol: str
    side: Side
    from_price: Decimal
    to_price: Decimal
    count: int
    total_quantity: Decimal
    distribution: Distribution = Distribution.FLAT
    post_only: bool = False


@dataclass(frozen=True)
class LadderRow:
    """One child order."""

    price: Decimal
    quantity: Decimal
    notional: Decimal
    fee: Decimal


@dataclass(frozen=True)
class LadderPreview:
    """The children and their totals."""

    spec: LadderSpec
    rows: tuple[LadderRow, ...]
    total_quantity: Decimal
    total_notional: Decimal
    total_fee: Decimal

    @property
    def average_price(self) -> Decimal:
        """Size-weighted average price of the children."""
        return self.total_notional / self.total_quantity


def _weights(distribution: Distribution, count: int) -> list[int]:
    if distribution == Distribution.FLAT:
        return [1] * count
    rising = list(range(1, count + 1))
    return rising if distribution == Distribution.INCREASING else rising[::-1]


def _prices(spec: LadderSpec, market: Market) -> list[Decimal]:
    gap = (spec.to_price - spec.from_price) / (spec.count - 1)
    prices = [round_price(spec.from_price + gap * i, market, spec.side) for i in range(spec.count)]
    if len(set(prices)) != len(prices):
        raise LadderError(
            f"{spec.count} orders do not fit between {spec.from_price} and {spec.to_price} on a "
            f"tick of {market.tick_size}: use fewer orders or a wider range."
        )
    if min(prices) < market.min_price or (
        market.max_price is not None and max(prices) > market.max_price
    ):
        raise LadderError(f"The range leaves {spec.symbol}'s allowed prices.")
    return prices


def _sizes(spec: LadderSpec, market: Market) -> list[Decimal]:
    weights = _weights(spec.distribution, spec.count)
    whole = sum(weights)
    sizes = [floor_to(spec.total_quantity * w / whole, market.step_size) for w in weights]
    heaviest = max(range(spec.count), key=lambda i: (weights[i], -i))
    sizes[heaviest] += spec.total_quantity - sum(sizes)
    if min(sizes) < market.min_quantity:
        raise LadderError(
            f"Each order must be at least {market.min_quantity} {market.base_symbol}: the "
            f"smallest would be {min(sizes)}; use fewer orders or a larger total size."
        )
    if market.max_quantity is not None and max(sizes) > market.max_quantity:
        raise LadderError(
            f"The largest order would be above the market's maximum {market.max_quantity}."
        )
    return sizes


def ladder_preview(*, spec: LadderSpec, market: Market, fee_bps: Decimal) -> LadderPreview:
    """The children of ``spec`` on ``market``'s grid, with the fee at ``fee_bps``.

    Raises `LadderError` when the count, range or size cannot make a valid ladder."""
    if not MIN_ORDERS <= spec.count <= MAX_ORDERS:
        raise LadderError(f"A ladder has {MIN_ORDERS} to {MAX_ORDERS} orders.")
    if spec.from_price <= 0 or spec.to_price <= 0 or spec.from_price == spec.to_price:
        raise LadderError("Give two different positive prices for the ends of the ladder.")
    if spec.total_quantity <= 0 or spec.total_quantity % market.step_size:
        raise LadderError(f"The total size must be positive and on the step of {market.step_size}.")
    prices = _prices(spec, market)
    sizes = _sizes(spec, market)
    rate = fee_bps / BPS
    rows = tuple(
        LadderRow(price=p, quantity=q, notional=p * q, fee=p * q * rate)
        for p, q in zip(prices, sizes, strict=True)
    )
    notional = sum((row.notional for row in rows), ZERO)
    return LadderPreview(
        spec=spec,
        rows=rows,
        total_quantity=sum(sizes, ZERO),
        total_notional=notional,
        total_fee=sum((row.fee for row in rows), ZERO),
    )
