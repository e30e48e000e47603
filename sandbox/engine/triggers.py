"""Trigger orders on perpetuals (mixed into :class:`~sandbox.engine.engine.Engine`).

A trigger order waits as ``TriggerPending`` off the book until its reference price
(``LastPrice``, ``MarkPrice`` or ``IndexPrice``) reaches ``triggerPrice`` from the side it
was placed on; it then enters the book as a Limit (with ``price``) or Market order.  If it
cannot (margin, reduce-only with no position, ...) it becomes ``TriggerFailed``.
Take-profit / stop-loss prices on an order become reduce-only trigger orders for the
executed quantity once that order is done.
"""

from __future__ import annotations

from decimal import Decimal

from . import errors
from .errors import EngineError
from .ledger import Account
from .markets import ZERO
from .matching import floor_to_step
from .orders import (
    ASK,
    BID,
    EXPIRED,
    LIMIT,
    MARK_PRICE,
    MARKET,
    TRIGGER_FAILED,
    TRIGGER_PENDING,
    Order,
)

_REASONS = {
    "INSUFFICIENT_FUNDS": "InsufficientFunds",
    "INSUFFICIENT_MARGIN": "InsufficientMargin",
    "INVALID_PRICE": "PriceOutOfBounds",
}


class TriggerMixin:
    """Pending triggers, firing, attached take-profit / stop-loss."""

    # ---------------------------------------------------------------- triggers
    def _place_trigger(self, account: Account, order: Order) -> None:
        quantity = order.trigger_quantity if order.quantity is None else order.quantity
        if quantity is None and order.trigger_percent is None:
            raise errors.bad_request("Trigger orders must specify a quantity")
        if order.order_type == LIMIT:
            self._check_band(order.market, order.price)
        reference = self._trigger_reference(order)
        if reference is None:
            order.trigger_above = order.side == BID
        else:
            order.trigger_above = order.trigger_price >= reference
        self._accept(account, order)
        self._pend(account, order)

    def _pend(self, account: Account, order: Order) -> None:
        order.status = TRIGGER_PENDING
        account.open_orders[order.id] = order
        self._triggers.setdefault(order.symbol, {})[order.id] = order
        self._trigger_check[order.symbol] = None
        if self._emitting:
            self._private(order, "triggerPlaced")

    def _trigger_reference(self, order: Order) -> Decimal | None:
        if order.trigger_by == MARK_PRICE:
            return self.mark_price_of(order.symbol)
        if order.trigger_by == "IndexPrice":
            index = self._index_price.get(order.symbol)
            return index if index is not None else self.mark_price_of(order.symbol)
        return self._data[order.symbol].last_price

    def _attach_exits(self, account: Account, parent: Order) -> None:
        """Create the take-profit / stop-loss trigger orders of a (partly) filled order."""
        exit_side = ASK if parent.side == BID else BID
        legs = (
            (
                parent.take_profit_trigger_price,
                parent.take_profit_limit_price,
                parent.take_profit_trigger_by,
                parent.side == BID,
            ),
            (
                parent.stop_loss_trigger_price,
                parent.stop_loss_limit_price,
                parent.stop_loss_trigger_by,
                parent.side == ASK,
            ),
        )
        parent.exits_attached = True
        for trigger_price, limit_price, trigger_by, above in legs:
            if trigger_price is None:
                continue
            child = Order(
                parent.market, parent.subaccount_id, exit_side, LIMIT if limit_price else MARKET
            )
            child.price = limit_price
            child.quantity = parent.executed_quantity
            child.reduce_only = True
            child.time_in_force = "GTC" if limit_price else "IOC"
            child.trigger_price = trigger_price
            child.trigger_by = trigger_by
            child.trigger_above = above
            child.related_order_id = parent.id
            self._accept(account, child)
            self._pend(account, child)

    def _run_triggers(self) -> None:
        """Fire every pending trigger whose price was reached (repeats while firing
        trades move prices)."""
        while self._trigger_check:
            symbol = next(iter(self._trigger_check))
            del self._trigger_check[symbol]
            pending = self._triggers.get(symbol)
            if not pending:
                continue
            fired = []
            for order in pending.values():
                reference = self._trigger_reference(order)
                if reference is None:
                    continue
                if (
                    (reference >= order.trigger_price)
                    if order.trigger_above
                    else (reference <= order.trigger_price)
                ):
                    fired.append(order)
            for order in fired:
                if order.id not in pending:  # expired by an earlier one's fill
                    continue
                del pending[order.id]
                self._fire(order)

    def _fire(self, order: Order) -> None:
        account = self._accounts[order.subaccount_id]
        del account.open_orders[order.id]
        order.triggered_us = self._now
        if order.quantity is None:
            order.quantity = order.trigger_quantity
        if order.quantity is None:  # a percent of the position, as it is now
            position = account.positions.get(order.symbol)
            size = abs(position.net_quantity) if position is not None else ZERO
            order.quantity = floor_to_step(
                size * order.trigger_percent / 100, order.market.step_size
            ).normalize()
        order.event_base = None
        order.wire_base = None
        if order.related_order_id is not None:
            self._cancel_siblings(account, order)
        try:
            if not order.quantity:
                raise errors.invalid_order(errors.STOP_WITHOUT_POSITION)
            self._place(account, order, triggered=True)
        except EngineError as error:
            order.status = TRIGGER_FAILED
            order.expiry_reason = _REASONS.get(error.code, "Unknown")
            if error.message == errors.REDUCE_ONLY_NOT_REDUCED:
                order.expiry_reason = "ReduceOnlyNotReduced"
            elif error.message == errors.STOP_WITHOUT_POSITION:
                order.expiry_reason = "StopWithoutPosition"
            if self._emitting:
                self._private(order, "triggerFailed")

    def _cancel_siblings(self, account: Account, order: Order) -> None:
        """Take-profit and stop-loss of one order are one-cancels-the-other: when one
        fires, the other pending leg is cancelled."""
        pending = self._triggers.get(order.symbol, {})
        siblings = [
            other
            for other in pending.values()
            if other.related_order_id == order.related_order_id
            and other.subaccount_id == order.subaccount_id
        ]
        for other in siblings:
            self._cancel(account, other)

    def _expire_stops(self, account: Account, symbol: str) -> None:
        """The position is closed: its pending reduce-only triggers (take-profit, stop-loss
        on the position) expire with ``StopWithoutPosition``."""
        pending = self._triggers.get(symbol)
        if not pending:
            return
        stops = [
            order
            for order in pending.values()
            if order.subaccount_id == account.subaccount_id and order.reduce_only
        ]
        for order in stops:
            del pending[order.id]
            del account.open_orders[order.id]
            self._close(account, order, EXPIRED, "StopWithoutPosition")
