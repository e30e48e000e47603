"""Typed strategies (the exchange's ``Scheduled`` strategy, a TWAP): status, type, the
slippage tolerance and the ``Strategy`` the strategy routes return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .order_types import SelfTradePrevention, Side, TimeInForce
from .wire import (
    TolerantEnum,
    boolean,
    dec_opt,
    enum,
    enum_opt,
    int_opt,
    text,
    text_opt,
    timestamp_opt,
)

ZERO = Decimal(0)


class StrategyStatus(TolerantEnum):
    """Where a strategy stands."""

    RUNNING = "Running"
    COMPLETED = "Completed"
    CANCELLED = "Cancelled"
    TERMINATED = "Terminated"

    @property
    def is_final(self) -> bool:
        """True once the strategy sends no more orders."""
        return self is not StrategyStatus.RUNNING


class StrategyType(TolerantEnum):
    """Kinds of strategy the exchange runs."""

    SCHEDULED = "Scheduled"


class SlippageToleranceType(TolerantEnum):
    """How ``slippage_tolerance`` is counted: ticks, or percent of the best price."""

    TICK_SIZE = "TickSize"
    PERCENT = "Percent"


@dataclass(frozen=True, slots=True)
class Strategy:
    """A strategy as the exchange reports it (running, or from history)."""

    id: str
    symbol: str
    side: Side
    strategy_type: StrategyType
    status: StrategyStatus
    quantity: Decimal | None
    executed_quantity: Decimal
    executed_quote_quantity: Decimal
    duration_ms: int
    interval_ms: int
    randomized_interval_quantity: bool
    reduce_only: bool
    time_in_force: TimeInForce | None
    self_trade_prevention: SelfTradePrevention | None
    created_at: datetime | None
    client_strategy_id: int | None = None
    slippage_tolerance: Decimal | None = None
    slippage_tolerance_type: SlippageToleranceType | None = None
    cancel_reason: str | None = None

    @property
    def remaining_quantity(self) -> Decimal | None:
        """Quantity still to execute (``None`` when the quantity is not reported)."""
        if self.quantity is None:
            return None
        return self.quantity - self.executed_quantity

    @property
    def average_price(self) -> Decimal | None:
        """Average execution price so far (``None`` before the first fill)."""
        if not self.executed_quantity:
            return None
        return self.executed_quote_quantity / self.executed_quantity

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Strategy:
        """Parse ``{"id":"6000000001","strategyType":"Scheduled","symbol":"SOL_USDC",
        "side":"Bid","status":"Running","quantity":"3","executedQuantity":"1",
        "executedQuoteQuantity":"150","duration":3000,"interval":1000,
        "randomizedIntervalQuantity":false,"reduceOnly":false,"timeInForce":"IOC",
        "selfTradePrevention":"RejectTaker","createdAt":1750000000003}`` (history rows carry
        ``createdAt`` as an ISO datetime and may carry ``cancelReason``)."""
        return cls(
            id=text(o, "id"),
            symbol=text(o, "symbol"),
            side=enum(Side, o, "side"),
            strategy_type=enum(StrategyType, o, "strategyType"),
            status=enum(StrategyStatus, o, "status"),
            quantity=dec_opt(o, "quantity"),
            executed_quantity=dec_opt(o, "executedQuantity") or ZERO,
            executed_quote_quantity=dec_opt(o, "executedQuoteQuantity") or ZERO,
            duration_ms=int_opt(o, "duration") or 0,
            interval_ms=int_opt(o, "interval") or 0,
            randomized_interval_quantity=boolean(o, "randomizedIntervalQuantity", False),
            reduce_only=boolean(o, "reduceOnly", False),
            time_in_force=enum_opt(TimeInForce, o, "timeInForce"),
            self_trade_prevention=enum_opt(SelfTradePrevention, o, "selfTradePrevention"),
            created_at=timestamp_opt(o, "createdAt"),
            client_strategy_id=int_opt(o, "clientStrategyId"),
            slippage_tolerance=dec_opt(o, "slippageTolerance"),
            slippage_tolerance_type=enum_opt(SlippageToleranceType, o, "slippageToleranceType"),
            cancel_reason=text_opt(o, "cancelReason"),
        )
