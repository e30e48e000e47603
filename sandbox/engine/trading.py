"""Order entry (mixed into :class:`~sandbox.engine.engine.Engine`).

Price-time priority; Limit / Market; GTC / IOC / FOK; postOnly; quantity or quoteQuantity
market orders; reduceOnly; self-trade prevention (the taker's mode decides); trigger
orders and attached take-profit / stop-loss on perpetuals; maker / taker fees.

Every check runs before the first change, so a refused order changes nothing.  Spot
orders lock what they may spend (bids: quote at the limit price, or the book-walk cost
for a market bid; asks: base); spot fees are taken from what the order receives.
Perpetual orders lock nothing: they must pass the margin check instead.
"""

from __future__ import annotations

from decimal import Decimal

from . import errors
from .errors import EngineError, insufficient_funds, insufficient_margin, invalid_order
from .events import ORDER_UPDATE, Event
from .ledger import Account
from .markets import ZERO, Market
from .matching import STOP_BOOK, STOP_FUNDS, STOP_REDUCE, STOP_STP, MatchingMixin, floor_to_step
from .orders import (
    BID,
    CANCELLED,
    EXPIRED,
    FILLED,
    LIMIT,
    MARKET,
    NEW,
    REJECT_MAKER,
    TRIGGER_PENDING,
    Order,
    order_update_payload,
)
from .triggers import TriggerMixin


class TradingMixin(MatchingMixin, TriggerMixin):
    """Order placement, cancellation; matching and triggers come from the mixins."""

    # ------------------------------------------------------------ pre-trade checks
    def _check_band(self, market: Market, price: Decimal) -> None:
        if market.max_multiplier is None and market.min_multiplier is None:
            return
        reference = self.mark_price_of(market.symbol)
        if reference is None:
            return
        if market.max_multiplier is not None and price > reference * market.max_multiplier:
            raise errors.invalid_price(errors.PRICE_OUT_OF_BAND)
        if market.min_multiplier is not None and price < reference * market.min_multiplier:
            raise errors.invalid_price(errors.PRICE_OUT_OF_BAND)

    def _check_book_state(self, state: str, order: Order) -> None:
        if state in ("Closed", "CancelOnly"):
            raise EngineError(400, "TRADING_PAUSED", f"Market is {state}: no new orders")
        if state == "LimitOnly" and order.order_type == MARKET:
            raise EngineError(400, "TRADING_PAUSED", "Market accepts limit orders only")
        if state == "PostOnly" and not order.post_only:
            raise EngineError(400, "TRADING_PAUSED", "Market accepts post only orders only")

    def _walk(self, order: Order) -> tuple[Decimal, Decimal, Decimal | None]:
        """Simulate matching ``order`` (ignoring funds): (base fillable, quote cost, worst
        price).  Stops where self-trade prevention would stop the taker."""
        book = self._books[order.symbol]
        limit = order.price if order.order_type == LIMIT else None
        want = order.remaining if order.quantity is not None else None
        budget = order.quote_quantity
        step = order.market.step_size
        base = ZERO
        cost = ZERO
        worst = None
        bid = order.side == BID
        for maker in book.makers(order.side):
            price = maker.price
            if limit is not None and (price > limit if bid else price < limit):
                break
            if maker.subaccount_id == order.subaccount_id:
                if order.stp == REJECT_MAKER:
                    continue
                break
            quantity = maker.remaining
            if want is not None:
                quantity = min(quantity, want - base)
            else:
                quantity = min(quantity, floor_to_step((budget - cost) / price, step))
            if quantity <= 0:
                break
            base += quantity
            cost += quantity * price
            worst = price
            if want is not None and base >= want:
                break
        return base, cost, worst

    def _reducible(self, account: Account, symbol: str, side: str) -> Decimal:
        """How much an order on ``side`` can reduce the account's position."""
        position = account.positions.get(symbol)
        if position is None:
            return ZERO
        net = position.net_quantity
        if side == BID:
            return -net if net < 0 else ZERO
        return net if net > 0 else ZERO

    def _prepare(self, account: Account, order: Order) -> Decimal:
        """Every account-dependent check; returns the spot amount to lock.  Raises
        EngineError and changes nothing."""
        market = order.market
        book = self._books[order.symbol]
        state = self._markets[order.symbol].order_book_state
        if state != "Open":
            self._check_book_state(state, order)
        if order.order_type == LIMIT:
            if market.max_multiplier is not None or market.min_multiplier is not None:
                self._check_band(market, order.price)
            if order.post_only and book.crosses(order.side, order.price):
                raise invalid_order(errors.POST_ONLY_WOULD_TAKE)
        if order.reduce_only:
            if self._reducible(account, order.symbol, order.side) <= 0:
                raise invalid_order(errors.REDUCE_ONLY_NOT_REDUCED)
            return ZERO
        if market.is_perp:
            self._check_order_margin(account, order)
            return ZERO
        # spot: what the order must lock
        if order.side == BID:
            if order.order_type == LIMIT:
                lock = order.price * order.quantity
            elif order.quote_quantity is not None:
                lock = order.quote_quantity
            else:
                lock = self._walk(order)[1]
            symbol = market.quote_symbol
        else:
            if order.quantity is not None:
                lock = order.quantity
            else:
                lock = self._walk(order)[0]
            symbol = market.base_symbol
        balance = account.balances.get(symbol)
        if lock and (balance is None or balance.available < lock):
            raise insufficient_funds()
        weight = self._weights.get(symbol)
        if weight and lock and self._has_perp_exposure(account):
            if self._equity_available(account) < lock * weight * self._asset_price(symbol):
                raise insufficient_margin()
        return lock

    def _check_order_margin(self, account: Account, order: Order) -> None:
        market = order.market
        if order.order_type == LIMIT:
            price = order.price
            quantity = order.quantity
        else:
            base, cost, worst = self._walk(order)
            mark = self.mark_price_of(order.symbol)
            price = max(p for p in (worst, mark, ZERO) if p is not None)
            quantity = order.quantity if order.quantity is not None else base
        if market.open_interest_limit is not None:
            growth = quantity - self._reducible(account, order.symbol, order.side)
            if growth > 0 and (
                self._open_interest[order.symbol] + growth > market.open_interest_limit
            ):
                raise EngineError(400, "POSITION_LIMIT", errors.OPEN_INTEREST_LIMIT)
        if not self._order_margin_ok(account, order.symbol, order.side, price * quantity):
            raise insufficient_margin()

    # ---------------------------------------------------------------- placement
    def _accept(self, account: Account, order: Order) -> None:
        self._last_order_id += 1
        order.id = self._last_order_id
        order.created_us = self._now
        account.orders.append(order)

    def _place(self, account: Account, order: Order, *, triggered: bool = False) -> None:
        """Check, accept, match, then rest or expire ``order``."""
        if order.trigger_price is not None and not triggered:
            self._place_trigger(account, order)
            return
        if order.time_in_force == "FOK":
            lock = self._prepare(account, order)
            fillable = self._walk(order)[0]
            if order.quantity is not None and fillable < order.remaining:
                if not triggered:
                    self._accept(account, order)
                if self._emitting:
                    self._private(order, "orderAccepted")
                self._close(account, order, EXPIRED, "FillOrKill")
                return
        else:
            lock = self._prepare(account, order)
        if not triggered:  # self._accept(account, order), inlined: every order passes here
            self._last_order_id = order.id = self._last_order_id + 1
            order.created_us = self._now
            account.orders.append(order)
        order.status = NEW
        market = order.market
        if lock:
            symbol = market.quote_symbol if order.side == BID else market.base_symbol
            balance = account.balances[symbol]
            balance.available -= lock
            balance.locked += lock
            order.locked = lock
            order.locked_symbol = symbol
        if self._emitting:
            self._private(order, "orderAccepted")
        book = self._books[order.symbol]
        if order.order_type == MARKET or book.crosses(order.side, order.price):
            stop = self._match(account, order, book)
        else:
            stop = STOP_BOOK
        self._touched.add(order.symbol)
        if (
            order.quantity is not None
            and order.quantity <= order.executed_quantity
            or (order.quantity is None and stop == STOP_FUNDS and order.executed_quantity)
        ):
            self._close(account, order, FILLED, None)
        elif stop == STOP_BOOK and order.order_type == LIMIT and order.time_in_force == "GTC":
            self._rest(account, order, book)
        elif stop == STOP_STP:
            self._close(account, order, EXPIRED, "SelfTradePrevention")
        elif stop == STOP_REDUCE:
            self._close(account, order, EXPIRED, "ReduceOnlyNotReduced")
        elif stop == STOP_FUNDS:
            self._close(account, order, EXPIRED, "InsufficientFunds")
        elif order.order_type == LIMIT:
            self._close(account, order, EXPIRED, "ImmediateOrCancel")
        else:
            self._close(account, order, EXPIRED, "InsufficientLiquidity")

    def _rest(self, account: Account, order: Order, book) -> None:
        book.add(order)
        account.open_orders[order.id] = order
        if order.market.is_perp:
            if order.reduce_only:
                account.reduce_only_orders[order.id] = order
            else:
                self._add_open_notional(account, order, order.remaining)

    def _add_open_notional(self, account: Account, order: Order, quantity: Decimal) -> None:
        """Track (or, with negative ``quantity``, untrack) a resting perp order's exposure."""
        symbol = order.symbol
        if order.side == BID:
            quantities, notionals = account.open_bid_quantity, account.open_bid_notional
        else:
            quantities, notionals = account.open_ask_quantity, account.open_ask_notional
        left = quantities.get(symbol, ZERO) + quantity
        if left:
            quantities[symbol] = left
            notionals[symbol] = notionals.get(symbol, ZERO) + quantity * order.price
        else:
            quantities.pop(symbol, None)
            notionals.pop(symbol, None)

    def _close(self, account: Account, order: Order, status: str, reason: str | None) -> None:
        """Finish an order that is not (or no longer) resting: release its lock."""
        order.status = status
        order.expiry_reason = reason
        if order.locked:
            balance = account.balances[order.locked_symbol]
            balance.locked -= order.locked
            balance.available += order.locked
            order.locked = ZERO
        if status == EXPIRED and self._emitting:
            self._private(order, "orderExpired")
        elif status == CANCELLED and self._emitting:
            self._private(order, "orderCancelled")
        if (
            order.executed_quantity
            and not order.exits_attached
            and (
                order.take_profit_trigger_price is not None
                or order.stop_loss_trigger_price is not None
            )
        ):
            self._attach_exits(account, order)

    def _unrest(self, account: Account, order: Order) -> None:
        """Take a resting order off the book and out of the open-order indexes."""
        self._books[order.symbol].remove(order)
        self._touched.add(order.symbol)
        del account.open_orders[order.id]
        if order.market.is_perp:
            if order.reduce_only:
                del account.reduce_only_orders[order.id]
            else:
                self._add_open_notional(account, order, -order.remaining)

    # ------------------------------------------------------------------ events
    def _private(self, order: Order, kind: str) -> None:
        build = (  # one flat tuple: the payload is built only if read
            order_update_payload,
            order,
            kind,
            self._now,
            order.status,
            order.executed_quantity,
            order.executed_quote_quantity,
            order.expiry_reason,
        )
        self._batch.append(Event(ORDER_UPDATE, None, order.symbol, order.subaccount_id, build))

    def _cancel(self, account: Account, order: Order) -> None:
        if order.status == TRIGGER_PENDING:
            del self._triggers[order.symbol][order.id]
            del account.open_orders[order.id]
        else:
            self._unrest(account, order)
        self._close(account, order, CANCELLED, None)
