"""Order entry and matching (mixed into :class:`~sandbox.engine.engine.Engine`).

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
from .events import ORDER_UPDATE, POSITION_UPDATE, Event
from .ledger import Account, Position, position_payload
from .markets import ZERO, Market
from .orders import (
    ASK,
    BID,
    CANCELLED,
    EXPIRED,
    FILLED,
    LIMIT,
    MARK_PRICE,
    MARKET,
    NEW,
    PARTIALLY_FILLED,
    REJECT_BOTH,
    REJECT_MAKER,
    REJECT_TAKER,
    TRIGGER_FAILED,
    TRIGGER_PENDING,
    Order,
)

_FMT = format

# why a taker stopped matching
_DONE = 0
_BOOK = 1
_STP = 2
_FUNDS = 3
_REDUCE = 4

_REASONS = {
    "INSUFFICIENT_FUNDS": "InsufficientFunds",
    "INSUFFICIENT_MARGIN": "InsufficientMargin",
    "INVALID_PRICE": "PriceOutOfBounds",
}


def _trade_payload(
    symbol: str,
    now: int,
    price: Decimal,
    quantity: Decimal,
    buyer_id: int,
    seller_id: int,
    trade_id: int,
    buyer_is_maker: bool,
) -> dict:
    """The public ``trade`` stream payload."""
    return {
        "e": "trade",
        "E": now,
        "s": symbol,
        "p": _FMT(price, "f"),
        "q": _FMT(quantity, "f"),
        "b": str(buyer_id),
        "a": str(seller_id),
        "t": trade_id,
        "T": now,
        "m": buyer_is_maker,
    }


def _floor_step(value: Decimal, step: Decimal) -> Decimal:
    if value <= 0:
        return ZERO
    return (value // step) * step


class TradingMixin:
    """Order placement, matching, cancellation and triggers."""

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
                quantity = min(quantity, _floor_step((budget - cost) / price, step))
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
        if order.order_type == LIMIT:
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
        weight = self._weight(symbol)
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
                self._private(order, "orderAccepted")
                self._close(account, order, EXPIRED, "FillOrKill")
                return
        else:
            lock = self._prepare(account, order)
        if not triggered:
            self._accept(account, order)
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
            stop = _BOOK
        self._touched.add(order.symbol)
        if (
            order.quantity is not None
            and order.remaining <= 0
            or (order.quantity is None and stop == _FUNDS and order.executed_quantity)
        ):
            self._close(account, order, FILLED, None)
        elif stop == _BOOK and order.order_type == LIMIT and order.time_in_force == "GTC":
            self._rest(account, order, book)
        elif stop == _STP:
            self._close(account, order, EXPIRED, "SelfTradePrevention")
        elif stop == _REDUCE:
            self._close(account, order, EXPIRED, "ReduceOnlyNotReduced")
        elif stop == _FUNDS:
            self._close(account, order, EXPIRED, "InsufficientFunds")
        elif order.order_type == LIMIT:
            self._close(account, order, EXPIRED, "ImmediateOrCancel")
        else:
            self._close(account, order, EXPIRED, "InsufficientLiquidity")

    def _rest(self, account: Account, order: Order, book) -> None:
        book.add(order)
        account.open_orders[order.id] = order
        self._open_orders[order.id] = order
        if order.market.is_perp and not order.reduce_only:
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
        del self._open_orders[order.id]
        if order.market.is_perp and not order.reduce_only:
            self._add_open_notional(account, order, -order.remaining)

    # ------------------------------------------------------------------ matching
    def _match(self, account: Account, taker: Order, book) -> int:
        market = taker.market
        step = market.step_size
        bid = taker.side == BID
        limit = taker.price if taker.order_type == LIMIT else None
        by_quote = taker.quantity is None
        spot = not market.is_perp
        prices = book.ask_prices if bid else book.bid_prices
        levels = book.asks if bid else book.bids
        accounts = self._accounts
        while True:
            if not by_quote and taker.quantity - taker.executed_quantity <= 0:
                return _DONE
            if not prices:
                return _BOOK
            best = prices[0] if bid else prices[-1]
            if limit is not None and (best > limit if bid else best < limit):
                return _BOOK
            maker = next(iter(levels[best].values()))
            if maker.subaccount_id == taker.subaccount_id:
                stp = taker.stp
                if stp == REJECT_MAKER or stp == REJECT_BOTH:
                    self._unrest(account, maker)
                    self._close(account, maker, EXPIRED, "SelfTradePrevention")
                if stp == REJECT_TAKER or stp == REJECT_BOTH:
                    return _STP
                continue
            maker_account = accounts[maker.subaccount_id]
            quantity = maker.quantity - maker.executed_quantity
            if by_quote:
                budget = taker.quote_quantity - taker.executed_quote_quantity
                quantity = min(quantity, _floor_step(budget / best, step))
                if quantity <= 0:
                    return _FUNDS
            else:
                quantity = min(quantity, taker.quantity - taker.executed_quantity)
            if spot:
                if bid and taker.order_type == MARKET:
                    affordable = _floor_step(taker.locked / best, step)
                    if affordable < quantity:
                        quantity = affordable
                        if quantity <= 0:
                            return _FUNDS
                elif not bid and taker.locked < quantity:
                    quantity = taker.locked
                    if quantity <= 0:
                        return _FUNDS
            else:
                if taker.reduce_only:
                    reducible = self._reducible(account, taker.symbol, taker.side)
                    if reducible <= 0:
                        return _REDUCE
                    quantity = min(quantity, reducible)
                if maker.reduce_only:
                    reducible = self._reducible(maker_account, maker.symbol, maker.side)
                    if reducible <= 0:
                        self._unrest(maker_account, maker)
                        self._close(maker_account, maker, EXPIRED, "ReduceOnlyNotReduced")
                        continue
                    quantity = min(quantity, reducible)
            self._fill(account, taker, maker_account, maker, best, quantity, book)

    def _fill(
        self,
        taker_account: Account,
        taker: Order,
        maker_account: Account,
        maker: Order,
        price: Decimal,
        quantity: Decimal,
        book,
    ) -> None:
        market = taker.market
        now = self._now
        quote = price * quantity
        taker_bid = taker.side == BID
        buyer, seller = (taker, maker) if taker_bid else (maker, taker)
        trade = self._data[market.symbol].record_trade(
            price, quantity, now, not taker_bid, buyer.id, seller.id
        )
        trade_id = trade[0]
        taker.executed_quantity += quantity
        taker.executed_quote_quantity += quote
        maker.executed_quantity += quantity
        maker.executed_quote_quantity += quote
        if market.is_perp and not maker.reduce_only:
            self._add_open_notional(maker_account, maker, -quantity)
        book.reduce(maker, quantity)
        emitting = self._emitting
        for account, order, rate, is_maker in (
            (taker_account, taker, market.taker_fee, False),
            (maker_account, maker, market.maker_fee, True),
        ):
            if market.is_perp:
                fee, fee_symbol = self._settle_perp(account, order, price, quantity, quote, rate)
            else:
                fee, fee_symbol = self._settle_spot(account, order, price, quantity, quote, rate)
            fill = (order, trade_id, quantity, price, is_maker, fee, fee_symbol, now)
            account.fills.append(fill)
            if is_maker:
                if order.quantity - order.executed_quantity <= 0:
                    order.status = FILLED
                    del account.open_orders[order.id]
                    del self._open_orders[order.id]
                else:
                    order.status = PARTIALLY_FILLED
            else:
                order.status = (
                    FILLED
                    if order.quantity is not None and order.remaining <= 0
                    else PARTIALLY_FILLED
                )
            if emitting:
                fill_data = (trade_id, quantity, price, is_maker, fee, fee_symbol)
                build = (order.update_event, "orderFill", now, fill_data, order.snapshot())
                self._batch.append(
                    Event(ORDER_UPDATE, None, order.symbol, order.subaccount_id, build)
                )
        if emitting:
            build = (_trade_payload, market.symbol, now, price, quantity, buyer.id, seller.id)
            self._batch.append(
                Event(
                    self._trade_stream[market.symbol],
                    None,
                    market.symbol,
                    None,
                    build + (trade_id, not taker_bid),
                )
            )
        self._trigger_check.add(market.symbol)
        if maker.status == FILLED and not maker.exits_attached:
            if maker.take_profit_trigger_price is not None or (
                maker.stop_loss_trigger_price is not None
            ):
                self._attach_exits(maker_account, maker)

    def _settle_spot(
        self,
        account: Account,
        order: Order,
        price: Decimal,
        quantity: Decimal,
        quote: Decimal,
        rate: Decimal,
    ) -> tuple[Decimal, str]:
        market = order.market
        base_symbol = market.base_symbol
        quote_symbol = market.quote_symbol
        balances = account.balances
        fees = self._fee_account
        if order.side == BID:
            release = order.price * quantity if order.order_type == LIMIT else quote
            order.locked -= release
            quote_balance = balances[quote_symbol]
            quote_balance.locked -= release
            quote_balance.available += release - quote
            fee = quantity * rate
            account.balance(base_symbol).available += quantity - fee
            fees.balance(base_symbol).available += fee
            return fee, base_symbol
        order.locked -= quantity
        balances[base_symbol].locked -= quantity
        fee = quote * rate
        account.balance(quote_symbol).available += quote - fee
        fees.balance(quote_symbol).available += fee
        return fee, quote_symbol

    def _settle_perp(
        self,
        account: Account,
        order: Order,
        price: Decimal,
        quantity: Decimal,
        quote: Decimal,
        rate: Decimal,
    ) -> tuple[Decimal, str]:
        market = order.market
        symbol = market.symbol
        position = account.positions.get(symbol)
        opened = position is None
        if opened:
            self._last_position_id += 1
            position = account.positions[symbol] = Position(
                self._last_position_id, account.subaccount_id, market
            )
        before = position.net_quantity
        realized = position.apply_fill(quantity if order.side == BID else -quantity, price)
        after = position.net_quantity
        fee = quote * rate
        position.fees_paid += fee
        collateral = self.collateral_symbol
        account.balance(collateral).available += realized - fee
        self._fee_account.balance(collateral).available += fee
        self._open_interest[symbol] += max(after, ZERO) - max(before, ZERO)
        if not after:
            del account.positions[symbol]
            kind = "positionClosed"
        else:
            kind = "positionOpened" if opened or not before else "positionAdjusted"
        if self._emitting:
            mark = self._reference_mark(symbol, price)
            build = (
                position_payload,
                kind,
                self._now,
                mark,
                account.open_bid_quantity.get(symbol, ZERO),
                account.open_ask_quantity.get(symbol, ZERO),
                *position.snapshot(),
            )
            self._batch.append(Event(POSITION_UPDATE, None, symbol, account.subaccount_id, build))
        return fee, collateral

    # ---------------------------------------------------------------- triggers
    def _place_trigger(self, account: Account, order: Order) -> None:
        quantity = order.trigger_quantity if order.quantity is None else order.quantity
        if quantity is None:
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
        self._open_orders[order.id] = order
        self._triggers.setdefault(order.symbol, {})[order.id] = order
        self._trigger_check.add(order.symbol)
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
            symbol = self._trigger_check.pop()
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
                del pending[order.id]
                self._fire(order)

    def _fire(self, order: Order) -> None:
        account = self._accounts[order.subaccount_id]
        del account.open_orders[order.id]
        del self._open_orders[order.id]
        order.triggered_us = self._now
        if order.quantity is None:
            order.quantity = order.trigger_quantity
        order.event_base = None
        order.wire_base = None
        try:
            self._place(account, order, triggered=True)
        except EngineError as error:
            order.status = TRIGGER_FAILED
            order.expiry_reason = _REASONS.get(error.code, "Unknown")
            if error.message == errors.REDUCE_ONLY_NOT_REDUCED:
                order.expiry_reason = "ReduceOnlyNotReduced"
            if self._emitting:
                self._private(order, "triggerFailed")

    # ------------------------------------------------------------------ events
    def _private(self, order: Order, kind: str) -> None:
        build = (order.update_event, kind, self._now, None, order.snapshot())
        self._batch.append(Event(ORDER_UPDATE, None, order.symbol, order.subaccount_id, build))

    def _cancel(self, account: Account, order: Order) -> None:
        if order.status == TRIGGER_PENDING:
            del self._triggers[order.symbol][order.id]
            del account.open_orders[order.id]
            del self._open_orders[order.id]
        else:
            self._unrest(account, order)
        self._close(account, order, CANCELLED, None)
