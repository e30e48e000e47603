"""Typed orders: sides, types, statuses and the ``Order`` returned by order routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .decimals import is_plain
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
    to_datetime,
)

ZERO = Decimal(0)


class Side(TolerantEnum):
    """Order side."""

    BID = "Bid"
    ASK = "Ask"


class OrderType(TolerantEnum):
    """Order type."""

    MARKET = "Market"
    LIMIT = "Limit"


class OrderStatus(TolerantEnum):
    """Order state."""

    NEW = "New"
    PARTIALLY_FILLED = "PartiallyFilled"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"
    TRIGGER_PENDING = "TriggerPending"
    TRIGGER_FAILED = "TriggerFailed"

    @property
    def is_final(self) -> bool:
        """True once the order can no longer change."""
        return self in _FINAL


_FINAL = {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}


class TimeInForce(TolerantEnum):
    """How long an order is good for."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class TriggerBy(TolerantEnum):
    """The reference price a trigger order watches."""

    LAST_PRICE = "LastPrice"
    MARK_PRICE = "MarkPrice"
    INDEX_PRICE = "IndexPrice"


class SelfTradePrevention(TolerantEnum):
    """What happens when the account would trade with itself."""

    REJECT_TAKER = "RejectTaker"
    REJECT_MAKER = "RejectMaker"
    REJECT_BOTH = "RejectBoth"


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the exchange reports it (open, from history, or just placed)."""

    id: str
    symbol: str
    side: Side
    order_type: OrderType
    status: OrderStatus
    price: Decimal | None
    quantity: Decimal | None
    executed_quantity: Decimal
    executed_quote_quantity: Decimal
    quote_quantity: Decimal | None
    client_id: int | None
    time_in_force: TimeInForce | None
    post_only: bool
    reduce_only: bool
    self_trade_prevention: SelfTradePrevention | None
    created_at: datetime | None
    expiry_reason: str | None = None
    trigger_price: Decimal | None = None
    take_profit_trigger_price: Decimal | None = None
    stop_loss_trigger_price: Decimal | None = None
    trigger_by: TriggerBy | None = None
    trigger_quantity: Decimal | None = None
    trigger_percent: Decimal | None = None
    """``triggerQuantity`` given as a percent (``"50%"``) of the position when it fires."""
    take_profit_limit_price: Decimal | None = None
    take_profit_trigger_by: TriggerBy | None = None
    stop_loss_limit_price: Decimal | None = None
    stop_loss_trigger_by: TriggerBy | None = None
    triggered_at: datetime | None = None
    related_order_id: str | None = None
    """The order a take-profit / stop-loss leg belongs to."""
    strategy_id: str | None = None
    """The strategy (TWAP) this order is a slice of."""

    @property
    def is_trigger_pending(self) -> bool:
        """Waiting off the book for its trigger price."""
        return self.status == OrderStatus.TRIGGER_PENDING

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Order:
        """Parse ``{"id":"1111343026172067","clientId":42,"symbol":"SOL_USDC","side":"Bid",
        "orderType":"Limit","status":"New","price":"95.50","quantity":"0.25",
        "executedQuantity":"0","executedQuoteQuantity":"0","timeInForce":"GTC",
        "postOnly":true,"selfTradePrevention":"RejectTaker","createdAt":1750000000003}``.

        A fast path handles the well-formed answer; anything unusual goes through the
        checked path, which names the offending field."""
        try:
            return _order_fast(cls, o)
        except Exception:  # noqa: BLE001 - the checked path below explains the problem
            return _order_checked(cls, o)


_SIDES = Side._value2member_map_
_TYPES = OrderType._value2member_map_
_STATUSES = OrderStatus._value2member_map_
_TIFS = TimeInForce._value2member_map_
_STPS = SelfTradePrevention._value2member_map_


def _d(value: Any) -> Decimal | None:
    if value is None:
        return None
    if type(value) is not str or not is_plain(value):
        raise TypeError("not a plain decimal")
    return Decimal(value)


def _order_fast(cls: type[Order], o: dict[str, Any]) -> Order:
    get = o.get
    order_id = o["id"]
    if type(order_id) is not str:
        order_id = str(int(order_id))
    client_id = get("clientId")
    if client_id is not None and type(client_id) is not int:
        client_id = int(client_id)
    created = get("createdAt")
    if type(created) is int and created < 10**14:
        created_at = datetime.fromtimestamp(created / 1000, UTC)
    else:
        created_at = None if created is None else to_datetime(created, "createdAt")
    post_only = get("postOnly", False)
    reduce_only = get("reduceOnly", False)
    if type(post_only) is not bool or type(reduce_only) is not bool:
        raise TypeError("not a boolean")
    tif = get("timeInForce")
    stp = get("selfTradePrevention")
    expiry = get("expiryReason")
    if expiry is not None and type(expiry) is not str:
        raise TypeError("not text")
    symbol = o["symbol"]
    if type(symbol) is not str:
        raise TypeError("not text")
    price = get("price")
    quantity = get("quantity")
    done = get("executedQuantity")
    done_quote = get("executedQuoteQuantity")
    quote = get("quoteQuantity")
    trigger = get("triggerPrice")
    take_profit = get("takeProfitTriggerPrice")
    stop_loss = get("stopLossTriggerPrice")
    extras = (
        _trigger_fields(o)
        if trigger is not None
        or take_profit is not None
        or stop_loss is not None
        or "strategyId" in o
        or "relatedOrderId" in o
        else _NO_EXTRAS
    )
    return cls(
        order_id,
        symbol,
        _SIDES[o["side"]],
        _TYPES[o["orderType"]],
        _STATUSES[o["status"]],
        None if price is None else _d(price),
        None if quantity is None else _d(quantity),
        ZERO if done is None or done == "0" else _d(done),
        ZERO if done_quote is None or done_quote == "0" else _d(done_quote),
        None if quote is None else _d(quote),
        client_id,
        None if tif is None else _TIFS[tif],
        post_only,
        reduce_only,
        None if stp is None else _STPS[stp],
        created_at,
        expiry,
        None if trigger is None else _d(trigger),
        None if take_profit is None else _d(take_profit),
        None if stop_loss is None else _d(stop_loss),
        **extras,
    )


def _order_checked(cls: type[Order], o: dict[str, Any]) -> Order:
    return cls(
        id=text(o, "id"),
        symbol=text(o, "symbol"),
        side=enum(Side, o, "side"),
        order_type=enum(OrderType, o, "orderType"),
        status=enum(OrderStatus, o, "status"),
        price=dec_opt(o, "price"),
        quantity=dec_opt(o, "quantity"),
        executed_quantity=dec_opt(o, "executedQuantity") or ZERO,
        executed_quote_quantity=dec_opt(o, "executedQuoteQuantity") or ZERO,
        quote_quantity=dec_opt(o, "quoteQuantity"),
        client_id=int_opt(o, "clientId"),
        time_in_force=enum_opt(TimeInForce, o, "timeInForce"),
        post_only=boolean(o, "postOnly", False),
        reduce_only=boolean(o, "reduceOnly", False),
        self_trade_prevention=enum_opt(SelfTradePrevention, o, "selfTradePrevention"),
        created_at=timestamp_opt(o, "createdAt"),
        expiry_reason=text_opt(o, "expiryReason"),
        trigger_price=dec_opt(o, "triggerPrice"),
        take_profit_trigger_price=dec_opt(o, "takeProfitTriggerPrice"),
        stop_loss_trigger_price=dec_opt(o, "stopLossTriggerPrice"),
        **_trigger_fields(o),
    )


_NO_EXTRAS: dict[str, Any] = {}


def _trigger_fields(o: dict[str, Any]) -> dict[str, Any]:
    """The trigger, take-profit / stop-loss and strategy fields of an order, checked:
    ``{"triggerPrice":"160","triggerBy":"MarkPrice","triggerQuantity":"50%",
    "takeProfitLimitPrice":"169","stopLossTriggerBy":"LastPrice","triggeredAt":1750000000003,
    "relatedOrderId":"112000000000000002","strategyId":"6000000001"}``."""
    quantity = o.get("triggerQuantity")
    percent = None
    if isinstance(quantity, str) and quantity.endswith("%"):
        percent = dec_opt({"triggerQuantity": quantity[:-1]}, "triggerQuantity")
        amount = None
    else:
        amount = dec_opt(o, "triggerQuantity")
    related = o.get("relatedOrderId")
    strategy = o.get("strategyId")
    return {
        "trigger_by": enum_opt(TriggerBy, o, "triggerBy"),
        "trigger_quantity": amount,
        "trigger_percent": percent,
        "take_profit_limit_price": dec_opt(o, "takeProfitLimitPrice"),
        "take_profit_trigger_by": enum_opt(TriggerBy, o, "takeProfitTriggerBy"),
        "stop_loss_limit_price": dec_opt(o, "stopLossLimitPrice"),
        "stop_loss_trigger_by": enum_opt(TriggerBy, o, "stopLossTriggerBy"),
        "triggered_at": timestamp_opt(o, "triggeredAt"),
        "related_order_id": None if related is None else str(related),
        "strategy_id": None if strategy is None else str(strategy),
    }
