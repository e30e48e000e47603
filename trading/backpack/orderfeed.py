"""Live order state of one subaccount: the ``account.orderUpdate`` stream, healed by REST.

``OrderFeed`` keeps the latest known state of every order it has seen. Stream events update
it as they come; after each WebSocket outage it asks REST for the open orders and the order
history and fills in whatever the stream missed, so no order change is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .account_types import Order, OrderStatus, Side
from .errors import BackpackError
from .wire import FieldError, dec_opt, enum, int_opt, text, text_opt

if TYPE_CHECKING:
    from .client import BackpackClient
    from .streams import Outage, StreamClient

logger = logging.getLogger("trading.backpack.orders")


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """The latest known state of one order (from the stream or from REST)."""

    order_id: str
    symbol: str
    side: Side
    status: OrderStatus
    client_id: int | None
    price: Decimal | None
    quantity: Decimal | None
    executed_quantity: Decimal | None
    event: str
    source: str
    trigger_price: Decimal | None = None
    strategy_id: str | None = None
    """The strategy (TWAP) the order is a slice of (``H`` on the stream)."""

    @classmethod
    def from_stream(cls, data: dict[str, Any]) -> OrderUpdate:
        """Parse ``{"e":"orderAccepted","E":1694687692980000,"s":"SOL_USD","c":123,"S":"Bid",
        "o":"LIMIT","f":"GTC","q":"32123","p":"20","X":"New","i":"1111343026172067",
        "z":"0","T":1694687692989999,"O":"USER"}`` (a trigger order adds ``"P":"21"``, a
        strategy's slice ``"H":6023471188``)."""
        strategy = data.get("H")
        return cls(
            order_id=text(data, "i"),
            symbol=text(data, "s"),
            side=enum(Side, data, "S"),
            status=enum(OrderStatus, data, "X"),
            client_id=int_opt(data, "c"),
            price=dec_opt(data, "p"),
            quantity=dec_opt(data, "q"),
            executed_quantity=dec_opt(data, "z"),
            event=text_opt(data, "e") or "",
            source="stream",
            trigger_price=dec_opt(data, "P"),
            strategy_id=None if strategy is None else str(strategy),
        )

    @classmethod
    def from_order(cls, order: Order) -> OrderUpdate:
        """The same view built from a REST ``Order``."""
        return cls(
            order_id=order.id,
            symbol=order.symbol,
            side=order.side,
            status=order.status,
            client_id=order.client_id,
            price=order.price,
            quantity=order.quantity,
            executed_quantity=order.executed_quantity,
            event="rest",
            source="rest",
            trigger_price=order.trigger_price,
            strategy_id=order.strategy_id,
        )


class OrderFeed:
    """Latest state of every order of ``client``'s subaccount (optionally one ``symbol``)."""

    def __init__(
        self,
        client: BackpackClient,
        streams: StreamClient,
        *,
        symbol: str | None = None,
        on_update: Callable[[OrderUpdate], None] | None = None,
        history_limit: int = 1000,
    ) -> None:
        self.client = client
        self.streams = streams
        self.symbol = symbol
        self.on_update = on_update
        self.history_limit = history_limit
        self.orders: dict[str, OrderUpdate] = {}
        self.reconciliations = 0
        self.reconciled = asyncio.Event()
        self.stream_name = f"account.orderUpdate.{symbol}" if symbol else "account.orderUpdate"

    async def start(self) -> None:
        """Subscribe the private order stream (signed) and listen for outages."""
        self.streams.add_outage_listener(self._on_outage)
        await self.streams.subscribe(self.stream_name, self._on_event)

    def _on_event(self, data: dict[str, Any]) -> None:
        try:
            update = OrderUpdate.from_stream(data)
        except (FieldError, TypeError, ValueError):
            logger.warning("unreadable order update: %r", data)
            return
        self._store(update)

    def _store(self, update: OrderUpdate) -> None:
        current = self.orders.get(update.order_id)
        if current is not None and current.status.is_final and not update.status.is_final:
            return  # a late, older event must not reopen a finished order
        self.orders[update.order_id] = update
        if self.on_update is not None:
            self.on_update(update)

    async def reconcile(self) -> int:
        """Fetch open orders and order history; store every change the stream missed.

        Returns the number of orders whose state changed."""
        changed = 0
        try:
            current = await self.client.open_orders(self.symbol)
            history = await self.client.order_history(symbol=self.symbol, limit=self.history_limit)
        except BackpackError as error:
            logger.warning("order reconciliation failed: %s", error)
            return 0
        for order in [*history, *current]:
            known = self.orders.get(order.id)
            if known is None or known.status != order.status:
                self._store(OrderUpdate.from_order(order))
                changed += 1
        self.reconciliations += 1
        self.reconciled.set()
        return changed

    async def _on_outage(self, outage: Outage) -> None:
        logger.info("order stream was down %.2fs; reconciling", outage.duration_s)
        self.reconciled.clear()
        await self.reconcile()
