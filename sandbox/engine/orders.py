"""The engine's order record and its wire shapes (REST ``OrderType`` / ``Order``, the
``account.orderUpdate`` stream payload)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .markets import ZERO, Market

BID = "Bid"
ASK = "Ask"
LIMIT = "Limit"
MARKET = "Market"

NEW = "New"
PARTIALLY_FILLED = "PartiallyFilled"
FILLED = "Filled"
CANCELLED = "Cancelled"
EXPIRED = "Expired"
TRIGGER_PENDING = "TriggerPending"
TRIGGER_FAILED = "TriggerFailed"
CLOSED_STATUSES = frozenset({FILLED, CANCELLED, EXPIRED, TRIGGER_FAILED})

REJECT_TAKER = "RejectTaker"
REJECT_MAKER = "RejectMaker"
REJECT_BOTH = "RejectBoth"

LAST_PRICE = "LastPrice"
MARK_PRICE = "MarkPrice"
INDEX_PRICE = "IndexPrice"

_FMT = format


def us_to_iso(us: int) -> str:
    """Microseconds since the epoch as the spec's naive ISO datetime (UTC)."""
    moment = datetime.fromtimestamp(us / 1_000_000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


class Order:
    """One order, resting, pending a trigger, or finished.  Quantities are Decimal.

    ``locked`` is what the order still holds of the subaccount's spot balance
    (``locked_symbol``): quote at the limit price for bids, base for asks; perpetual
    orders lock nothing (they are covered by margin instead).
    """

    # Rarely set fields are class-level defaults (an instance stores only what it sets:
    # creating an order is the hottest path of the engine).
    time_in_force = "GTC"
    price: Decimal | None = None
    quantity: Decimal | None = None
    quote_quantity: Decimal | None = None
    post_only = False
    reduce_only = False
    stp = REJECT_TAKER
    client_id: int | None = None
    expiry_reason: str | None = None
    locked = ZERO
    locked_symbol: str | None = None
    trigger_price: Decimal | None = None
    trigger_by: str | None = None
    trigger_quantity: Decimal | None = None
    trigger_percent: Decimal | None = None  # triggerQuantity "N%": of the position at firing
    trigger_above = False
    triggered_us: int | None = None
    take_profit_trigger_price: Decimal | None = None
    take_profit_limit_price: Decimal | None = None
    take_profit_trigger_by: str | None = None
    stop_loss_trigger_price: Decimal | None = None
    stop_loss_limit_price: Decimal | None = None
    stop_loss_trigger_by: str | None = None
    related_order_id: int | None = None
    strategy_id: int | None = None
    exits_attached = False
    # the order-update / REST fields that never change, built on first use
    event_base: dict[str, Any] | None = None
    wire_base: dict[str, Any] | None = None
    wired = False  # to_wire answered once (a second answer caches ``wire_base``)

    def __init__(self, market: Market, subaccount_id: int, side: str, order_type: str) -> None:
        self.id = 0
        self.subaccount_id = subaccount_id
        self.market = market
        self.symbol = market.symbol
        self.side = side
        self.order_type = order_type
        self.created_us = 0
        self.status = NEW
        self.executed_quantity = ZERO
        self.executed_quote_quantity = ZERO

    @property
    def remaining(self) -> Decimal:
        """Base quantity still to fill (zero for quote-quantity market orders)."""
        if self.quantity is None:
            return ZERO
        return self.quantity - self.executed_quantity

    @property
    def is_open(self) -> bool:
        """Resting on the book or waiting for its trigger."""
        return self.status not in CLOSED_STATUSES

    def __repr__(self) -> str:
        return (
            f"Order({self.id}, sub={self.subaccount_id}, {self.symbol} {self.side} "
            f"{self.order_type} {self.quantity}@{self.price} {self.status})"
        )

    # ------------------------------------------------------------------ wire shapes
    def _trigger_fields(self, wire: dict[str, Any]) -> None:
        if self.trigger_price is not None:
            wire["triggerPrice"] = _FMT(self.trigger_price, "f")
            wire["triggerBy"] = self.trigger_by
            if self.trigger_quantity is not None:
                wire["triggerQuantity"] = _FMT(self.trigger_quantity, "f")
            elif self.trigger_percent is not None:
                wire["triggerQuantity"] = _FMT(self.trigger_percent, "f") + "%"
        if self.take_profit_trigger_price is not None:
            wire["takeProfitTriggerPrice"] = _FMT(self.take_profit_trigger_price, "f")
            wire["takeProfitTriggerBy"] = self.take_profit_trigger_by
            if self.take_profit_limit_price is not None:
                wire["takeProfitLimitPrice"] = _FMT(self.take_profit_limit_price, "f")
        if self.stop_loss_trigger_price is not None:
            wire["stopLossTriggerPrice"] = _FMT(self.stop_loss_trigger_price, "f")
            wire["stopLossTriggerBy"] = self.stop_loss_trigger_by
            if self.stop_loss_limit_price is not None:
                wire["stopLossLimitPrice"] = _FMT(self.stop_loss_limit_price, "f")
        if self.triggered_us is not None:
            wire["triggeredAt"] = self.triggered_us // 1000
        if self.related_order_id is not None:
            wire["relatedOrderId"] = str(self.related_order_id)
        if self.strategy_id is not None:
            wire["strategyId"] = str(self.strategy_id)

    def _wire_base(self, cache: bool = True) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "orderType": self.order_type,
            "id": str(self.id),
            "createdAt": self.created_us // 1000,
            "executedQuantity": "0",
            "executedQuoteQuantity": "0",
            "reduceOnly": self.reduce_only,
            "selfTradePrevention": self.stp,
            "side": self.side,
            "status": self.status,
            "symbol": self.symbol,
            "timeInForce": self.time_in_force,
        }
        if self.client_id is not None:
            wire["clientId"] = self.client_id
        if self.quantity is not None:
            wire["quantity"] = _FMT(self.quantity, "f")
        if self.order_type == LIMIT:
            wire["price"] = _FMT(self.price, "f")
            wire["postOnly"] = self.post_only
        elif self.quote_quantity is not None:
            wire["quoteQuantity"] = _FMT(self.quote_quantity, "f")
        if (  # the common order has none of these: skip the call
            self.trigger_price is not None
            or self.take_profit_trigger_price is not None
            or self.stop_loss_trigger_price is not None
            or self.triggered_us is not None
            or self.related_order_id is not None
            or self.strategy_id is not None
        ):
            self._trigger_fields(wire)
        if cache:
            self.wire_base = wire
        return wire

    def to_wire(self) -> dict[str, Any]:
        """The spec's ``OrderType`` (``POST/GET/DELETE /api/v1/order``): createdAt in ms."""
        base = self.wire_base
        if base is not None:
            wire = dict(base)
        elif self.wired:
            wire = dict(self._wire_base())
        else:  # the first answer (the order's placement): no copy of a cached base
            self.wired = True
            wire = self._wire_base(cache=False)
        if self.executed_quantity:
            wire["executedQuantity"] = _FMT(self.executed_quantity, "f")
            wire["executedQuoteQuantity"] = _FMT(self.executed_quote_quantity, "f")
        wire["status"] = self.status
        return wire

    def to_history_wire(self) -> dict[str, Any]:
        """The spec's ``Order`` (``GET /wapi/v1/history/orders``): createdAt as ISO."""
        wire = self.to_wire()
        wire["createdAt"] = us_to_iso(self.created_us)
        wire["postOnly"] = self.post_only
        if self.expiry_reason is not None:
            wire["expiryReason"] = self.expiry_reason
        return wire

    def _event_base(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "s": self.symbol,
            "S": self.side,
            "o": "LIMIT" if self.order_type == LIMIT else "MARKET",
            "f": self.time_in_force,
            "i": str(self.id),
            "V": self.stp,
            "O": "USER",
            "y": self.post_only,
        }
        if self.client_id is not None:
            data["c"] = self.client_id
        if self.quantity is not None:
            data["q"] = _FMT(self.quantity, "f")
        if self.quote_quantity is not None:
            data["Q"] = _FMT(self.quote_quantity, "f")
        if self.price is not None and self.order_type == LIMIT:
            data["p"] = _FMT(self.price, "f")
        if self.trigger_price is not None:
            data["P"] = _FMT(self.trigger_price, "f")
            data["B"] = self.trigger_by
            if self.trigger_percent is not None and self.quantity is None:
                data["Y"] = _FMT(self.trigger_percent, "f") + "%"
            else:
                data["Y"] = _FMT(self.trigger_quantity or self.quantity or ZERO, "f")
        if self.take_profit_trigger_price is not None:
            data["a"] = _FMT(self.take_profit_trigger_price, "f")
            data["d"] = self.take_profit_trigger_by
            if self.take_profit_limit_price is not None:
                data["j"] = _FMT(self.take_profit_limit_price, "f")
        if self.stop_loss_trigger_price is not None:
            data["b"] = _FMT(self.stop_loss_trigger_price, "f")
            data["g"] = self.stop_loss_trigger_by
            if self.stop_loss_limit_price is not None:
                data["k"] = _FMT(self.stop_loss_limit_price, "f")
        if self.related_order_id is not None:
            data["I"] = str(self.related_order_id)
        if self.strategy_id is not None:
            data["H"] = self.strategy_id
        self.event_base = data
        return data

    def snapshot(self) -> tuple[str, Decimal, Decimal, str | None]:
        """The mutable fields an order update shows: (status, executed, executed quote,
        expiry reason)."""
        return (
            self.status,
            self.executed_quantity,
            self.executed_quote_quantity,
            self.expiry_reason,
        )

    def update_event(
        self,
        kind: str,
        now_us: int,
        fill: tuple[int, Decimal, Decimal, bool, Decimal, str] | None = None,
        snapshot: tuple[str, Decimal, Decimal, str | None] | None = None,
    ) -> dict[str, Any]:
        """The ``account.orderUpdate`` payload; ``fill`` is (tradeId, quantity, price,
        isMaker, fee, feeSymbol) for ``orderFill``; ``snapshot`` (from :meth:`snapshot`)
        the order's state at the time of the event, else its current state."""
        status, executed, executed_quote, reason = snapshot or self.snapshot()
        data = dict(self.event_base or self._event_base())
        data["e"] = kind
        data["E"] = now_us
        data["X"] = status
        if executed:
            data["z"] = _FMT(executed, "f")
            data["Z"] = _FMT(executed_quote, "f")
        else:
            data["z"] = data["Z"] = "0"
        data["T"] = now_us
        if kind == "orderExpired" or kind == "triggerFailed":
            data["R"] = reason or "Unknown"
        if fill is not None:
            trade_id, quantity, price, is_maker, fee, fee_symbol = fill
            data["t"] = trade_id
            data["l"] = _FMT(quantity, "f")
            data["L"] = _FMT(price, "f")
            data["m"] = is_maker
            data["n"] = _FMT(fee, "f")
            data["N"] = fee_symbol
        return data


def order_update_payload(
    order: Order,
    kind: str,
    now_us: int,
    status: str,
    executed: Decimal,
    executed_quote: Decimal,
    reason: str | None,
) -> dict[str, Any]:
    """:meth:`Order.update_event` from the order's state at the time of the event, passed
    flat: the engine's lazy event keeps one tuple of arguments, not three."""
    return order.update_event(kind, now_us, None, (status, executed, executed_quote, reason))


def order_fill_payload(
    order: Order,
    now_us: int,
    status: str,
    executed: Decimal,
    executed_quote: Decimal,
    trade_id: int,
    quantity: Decimal,
    price: Decimal,
    is_maker: bool,
    fee: Decimal,
    fee_symbol: str,
) -> dict[str, Any]:
    """The ``orderFill`` update (:meth:`Order.update_event`), its arguments passed flat."""
    fill = (trade_id, quantity, price, is_maker, fee, fee_symbol)
    return order.update_event("orderFill", now_us, fill, (status, executed, executed_quote, None))
