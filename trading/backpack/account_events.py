"""Private account stream frames (``account.orderUpdate``, ``account.positionUpdate``) as the
client's typed events, for a feed that shows each one as it comes.

Unlike ``OrderUpdate`` (the order's whole state, for `OrderFeed`), an event keeps what a
person reads about the change: its kind and time, the market, the side, the quantity and
price, and for a fill the fill's own quantity and price. Every field but the kind may be
missing; a field that is present but not of its type raises ``MalformedResponseError`` naming
the field, like a malformed REST answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .account_types import OrderStatus, Side
from .wire import FieldError, dec_opt, enum_opt, obj_of, parse, text_opt, timestamp_opt

STREAM = "account stream"


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One ``account.orderUpdate`` event: ``orderAccepted``, ``orderFill``, ``orderCancelled``..."""

    event_type: str
    event_time: datetime | None
    symbol: str
    side: Side | None
    order_id: str
    status: OrderStatus | None
    quantity: Decimal | None
    price: Decimal | None
    fill_quantity: Decimal | None
    fill_price: Decimal | None


@dataclass(frozen=True, slots=True)
class PositionEvent:
    """One ``account.positionUpdate`` event: ``positionOpened``, ``positionAdjusted``,
    ``positionClosed``; the net quantity is signed (below zero: short)."""

    event_type: str
    event_time: datetime | None
    symbol: str
    net_quantity: Decimal | None
    entry_price: Decimal | None


AccountEvent = OrderEvent | PositionEvent


def account_event_from_stream(data: Any) -> AccountEvent:
    """An account stream frame as an `OrderEvent` or a `PositionEvent` (by its ``e``)."""
    return parse(STREAM, _account_event, data)


def _account_event(data: Any) -> AccountEvent:
    data = obj_of(data, "(event)")
    kind = text_opt(data, "e")
    if not kind:
        raise FieldError("e", data.get("e"), "an event name")
    if kind.startswith("position"):
        return _position_event(kind, data)
    return _order_event(kind, data)


def _order_event(kind: str, data: dict[str, Any]) -> OrderEvent:
    """``{"e":"orderFill","E":1694688638091000,"s":"SOL_USD","c":123,"S":"Bid","o":"LIMIT",
    "f":"GTC","q":"32123","p":"20","X":"PartiallyFilled","i":"1111343026172067",
    "l":"0.5","L":"20","z":"0.5","T":1694688638089000,"O":"USER"}``"""
    return OrderEvent(
        event_type=kind,
        event_time=timestamp_opt(data, "E"),
        symbol=text_opt(data, "s") or "",
        side=enum_opt(Side, data, "S"),
        order_id=text_opt(data, "i") or "",
        status=enum_opt(OrderStatus, data, "X"),
        quantity=dec_opt(data, "q"),
        price=dec_opt(data, "p"),
        fill_quantity=dec_opt(data, "l"),
        fill_price=dec_opt(data, "L"),
    )


def _position_event(kind: str, data: dict[str, Any]) -> PositionEvent:
    """``{"e":"positionOpened","E":1694687692980000,"s":"SOL_USDC_PERP","q":"-2","B":"95.5",
    "b":"95.6","M":"95.4","l":"140","P":"0","p":"0.2","n":"190.8","i":1111343026172067}``"""
    return PositionEvent(
        event_type=kind,
        event_time=timestamp_opt(data, "E"),
        symbol=text_opt(data, "s") or "",
        net_quantity=dec_opt(data, "q"),
        entry_price=dec_opt(data, "B"),
    )
