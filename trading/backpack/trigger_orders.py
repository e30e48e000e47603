"""Trigger orders: stop-market and stop-limit, and take-profit / stop-loss on an open
position (mixed into ``BackpackClient``).

A trigger order waits off the book (status ``TriggerPending``, listed among open orders,
cancelled like any order) until its reference price (``TriggerBy``: last, mark or index
price) reaches ``triggerPrice``; then it enters the book as a market order, or as a limit
order at ``price``. Its size goes as ``triggerQuantity``: an amount, or, for an exit from
an open position, a percent of the position when it fires (``"50%"``, reduce-only).
Take-profit / stop-loss attached to a new order are ``place_order``'s
``take_profit_*`` / ``stop_loss_*`` arguments.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from .decimals import parse_decimal
from .errors import InvalidOrderError
from .order_types import Order, OrderType, Side, TriggerBy

if TYPE_CHECKING:
    from .orders import OrderMethods

    _Base = OrderMethods
else:
    _Base = object

HUNDRED = Decimal(100)


def percent_text(percent: Decimal | str | int) -> str:
    """``triggerQuantity`` as a percent: ``Decimal("50")`` → ``"50%"`` (0 < percent ≤ 100)."""
    number = parse_decimal(percent, field="triggerQuantity")
    if number is None or not 0 < number <= HUNDRED:
        raise InvalidOrderError(
            "A share of the position is a percent above 0 and at most 100.",
            field="triggerQuantity",
        )
    return format(number.normalize(), "f") + "%"


class TriggerMethods(_Base):
    """Stop orders and position exits; sent through ``OrderMethods.send_order``."""

    async def place_trigger_order(
        self,
        symbol: str,
        side: Side | str,
        *,
        trigger_price: Decimal | str,
        quantity: Decimal | str,
        price: Decimal | str | None = None,
        trigger_by: TriggerBy | str = TriggerBy.LAST_PRICE,
        reduce_only: bool | None = None,
        client_id: int | None = None,
        validate: bool = True,
    ) -> Order:
        """``POST /api/v1/order``: a stop-market order (no ``price``) or a stop-limit order
        (``price``) that waits until ``trigger_by`` reaches ``trigger_price``.

        Quantity, price and trigger price are checked against the market's step and tick
        first (``InvalidOrderError`` naming the field); the quantity goes as
        ``triggerQuantity``. Placed exactly once (reconciled by ``clientId``)."""
        order_type = OrderType.MARKET if price is None else OrderType.LIMIT
        body = await self.order_params(
            symbol,
            side,
            order_type,
            quantity=quantity,
            price=price,
            client_id=client_id,
            validate=validate,
            trigger_price=await self._on_tick(symbol, trigger_price, validate),
            trigger_by=str(trigger_by),
            reduce_only=reduce_only,
        )
        body["triggerQuantity"] = body.pop("quantity")
        return await self.send_order(body)

    async def place_position_exit(
        self,
        symbol: str,
        exit_side: Side | str,
        *,
        trigger_price: Decimal | str,
        percent: Decimal | str | int = HUNDRED,
        limit_price: Decimal | str | None = None,
        trigger_by: TriggerBy | str = TriggerBy.MARK_PRICE,
        client_id: int | None = None,
        validate: bool = True,
    ) -> Order:
        """A take-profit or stop-loss on the open position: a reduce-only trigger order on
        ``exit_side`` (``Ask`` closes a long) for ``percent`` of the position as it is when
        the trigger fires (100: all of it); a market order, or a limit at
        ``limit_price``. It expires (``StopWithoutPosition``) when the position closes.

        Move one by cancelling it and placing another; remove it with ``cancel_order``."""
        order_type = OrderType.MARKET if limit_price is None else OrderType.LIMIT
        share = percent_text(percent)
        body = await self.order_params(
            symbol,
            exit_side,
            order_type,
            price=limit_price,
            client_id=client_id,
            validate=False,
            trigger_price=await self._on_tick(symbol, trigger_price, validate),
            trigger_by=str(trigger_by),
            reduce_only=True,
        )
        if validate and limit_price is not None:
            body["price"] = await self._on_tick(symbol, limit_price, True, field="price")
        body["triggerQuantity"] = share
        return await self.send_order(body)

    async def _on_tick(
        self, symbol: str, value: Decimal | str, validate: bool, *, field: str = "triggerPrice"
    ) -> Decimal:
        """A price read strictly and, with ``validate``, checked on the market's tick."""
        price = parse_decimal(value, field=field)
        if price is None or price <= 0:
            raise InvalidOrderError(f"{field} must be a positive price.", field=field)
        if validate:
            markets = self.session.markets
            market = markets.fresh(symbol) or await markets.get(symbol)
            if price % market.tick_size:
                raise InvalidOrderError(
                    f"{field} {price} is not on the tick size {market.tick_size}.",
                    field=field,
                )
        return price
