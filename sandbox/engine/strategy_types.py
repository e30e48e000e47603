"""The engine's strategy record, its wire shapes, and the parsing of
``StrategyCreatePayload``.

A ``Scheduled`` strategy (TWAP) splits ``quantity`` into ``duration // interval`` slices,
one due every ``interval`` ms after creation (the last one when ``duration`` ends).  A
slice is an immediate order (Market, or Limit IOC at ``price`` or at the slippage bound)
for an even split of what is left over the slices left; with
``randomizedIntervalQuantity`` each slice but the last is that even split times a factor
drawn uniformly from [``RANDOM_LOW``, ``RANDOM_HIGH``] (rounded down to the step); the
last slice takes all that is left.  What a slice does not fill is carried to the next.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .errors import bad_request, invalid_order
from .markets import ZERO, Market
from .orders import ASK, BID, REJECT_BOTH, REJECT_MAKER, REJECT_TAKER, us_to_iso
from .parsing import check_price, check_quantity, parse_bool, parse_client_id, parse_decimal

SCHEDULED = "Scheduled"
RUNNING = "Running"
COMPLETED = "Completed"
CANCELLED = "Cancelled"
TERMINATED = "Terminated"

RANDOM_LOW = Decimal("0.8")
RANDOM_HIGH = Decimal("1.2")
"""Bounds of a randomised slice, as a fraction of the even split of what is left."""

MIN_INTERVAL_MS = 1_000
MAX_DURATION_MS = 7 * 24 * 3_600_000
MAX_SLICES = 10_000
SLIPPAGE_TYPES = ("TickSize", "Percent")
STRATEGY_TIME_IN_FORCE = ("IOC", "FOK")


def _whole_ms(payload: Mapping[str, Any], key: str) -> int:
    value = payload.get(key)
    if value is None:
        raise bad_request(f"Missing {key}")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise bad_request(f"Invalid {key}: expected a positive number of milliseconds")
    return value


class Strategy:
    """One strategy: its terms, schedule and progress.  Quantities are Decimal."""

    cancel_reason: str | None = None
    client_strategy_id: int | None = None
    price: Decimal | None = None
    slippage_tolerance: Decimal | None = None
    slippage_type: str | None = None

    def __init__(
        self, strategy_id: int, market: Market, subaccount_id: int, side: str, created_us: int
    ) -> None:
        self.id = strategy_id
        self.market = market
        self.symbol = market.symbol
        self.subaccount_id = subaccount_id
        self.side = side
        self.created_us = created_us
        self.start_us = created_us  # moved earlier when a test steps the schedule
        self.status = RUNNING
        self.quantity = ZERO
        self.duration_ms = 0
        self.interval_ms = 0
        self.slices = 1
        self.slices_done = 0
        self.randomized = False
        self.reduce_only = False
        self.stp = REJECT_TAKER
        self.time_in_force = "IOC"
        self.executed_quantity = ZERO
        self.executed_quote_quantity = ZERO
        self.rng = random.Random(strategy_id)

    @property
    def next_due_us(self) -> int:
        """Engine time at which the next slice is due."""
        return self.start_us + (self.slices_done + 1) * self.interval_ms * 1000

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.executed_quantity

    def _common(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "id": str(self.id),
            "strategyType": SCHEDULED,
            "executedQuantity": format(self.executed_quantity, "f"),
            "executedQuoteQuantity": format(self.executed_quote_quantity, "f"),
            "quantity": format(self.quantity, "f"),
            "reduceOnly": self.reduce_only,
            "selfTradePrevention": self.stp,
            "status": self.status,
            "side": self.side,
            "symbol": self.symbol,
            "timeInForce": self.time_in_force,
            "duration": self.duration_ms,
            "interval": self.interval_ms,
            "randomizedIntervalQuantity": self.randomized,
        }
        if self.client_strategy_id is not None:
            wire["clientStrategyId"] = self.client_strategy_id
        if self.slippage_tolerance is not None:
            wire["slippageTolerance"] = format(self.slippage_tolerance, "f")
            wire["slippageToleranceType"] = self.slippage_type
        return wire

    def to_wire(self) -> dict[str, Any]:
        """The spec's ``StrategyType`` (Scheduled): createdAt in ms."""
        wire = self._common()
        wire["createdAt"] = self.created_us // 1000
        return wire

    def to_history_wire(self) -> dict[str, Any]:
        """The spec's ``Strategy`` (strategy history): createdAt as naive ISO."""
        wire = self._common()
        wire["createdAt"] = us_to_iso(self.created_us)
        if self.cancel_reason is not None:
            wire["cancelReason"] = self.cancel_reason
        return wire


def parse_strategy(
    strategy_id: int, market: Market, subaccount_id: int, now_us: int, payload: Mapping[str, Any]
) -> Strategy:
    """A :class:`Strategy` from a ``StrategyCreatePayload``; 400 with Backpack's style of
    message for anything it refuses (nothing is changed)."""
    kind = payload.get("strategyType")
    if kind != SCHEDULED:
        raise bad_request(f"Invalid strategyType: expected {SCHEDULED}")
    side = payload.get("side")
    if side not in (BID, ASK):
        raise bad_request("Invalid side: expected one of Bid, Ask")
    strategy = Strategy(strategy_id, market, subaccount_id, side, now_us)
    raw_quantity = payload.get("quantity")
    if raw_quantity is None:
        raise bad_request("Scheduled strategies must specify a quantity")
    strategy.quantity = parse_decimal(raw_quantity, "quantity")
    check_quantity(market, strategy.quantity)
    strategy.duration_ms = _whole_ms(payload, "duration")
    strategy.interval_ms = _whole_ms(payload, "interval")
    if strategy.interval_ms < MIN_INTERVAL_MS:
        raise bad_request(f"Interval must be at least {MIN_INTERVAL_MS} ms")
    if strategy.duration_ms > MAX_DURATION_MS:
        raise bad_request(f"Duration must be at most {MAX_DURATION_MS} ms")
    if strategy.duration_ms < strategy.interval_ms:
        raise bad_request("Duration must be at least one interval")
    strategy.slices = strategy.duration_ms // strategy.interval_ms
    if strategy.slices > MAX_SLICES:
        raise bad_request(f"A strategy runs at most {MAX_SLICES} intervals")
    if strategy.quantity / strategy.slices < market.min_quantity:
        raise bad_request("Quantity per interval is below the minimum allowed value")
    strategy.randomized = parse_bool(
        payload.get("randomizedIntervalQuantity", False), "randomizedIntervalQuantity"
    )
    strategy.reduce_only = parse_bool(payload.get("reduceOnly", False), "reduceOnly")
    if strategy.reduce_only and not market.is_perp:
        raise invalid_order("Reduce only orders are only supported on perpetual markets")
    if parse_bool(payload.get("postOnly", False), "postOnly"):
        raise invalid_order("Scheduled strategies cannot be post only")
    stp = payload.get("selfTradePrevention", REJECT_TAKER)
    if stp not in (REJECT_TAKER, REJECT_MAKER, REJECT_BOTH):
        raise bad_request("Invalid selfTradePrevention")
    strategy.stp = stp
    time_in_force = payload.get("timeInForce", "IOC")
    if time_in_force not in STRATEGY_TIME_IN_FORCE:
        raise bad_request("Invalid timeInForce: a strategy's orders are IOC or FOK")
    strategy.time_in_force = time_in_force
    if payload.get("clientStrategyId") is not None:
        strategy.client_strategy_id = parse_client_id(payload["clientStrategyId"])
    if payload.get("price") is not None:
        strategy.price = parse_decimal(payload["price"], "price")
        check_price(market, strategy.price)
    tolerance = payload.get("slippageTolerance")
    if tolerance is not None:
        strategy.slippage_tolerance = parse_decimal(tolerance, "slippageTolerance")
        kind = payload.get("slippageToleranceType", "Percent")
        if kind not in SLIPPAGE_TYPES:
            raise bad_request("Invalid slippageToleranceType: expected TickSize or Percent")
        strategy.slippage_type = kind
    elif payload.get("slippageToleranceType") is not None:
        raise bad_request("slippageToleranceType requires a slippageTolerance")
    return strategy
